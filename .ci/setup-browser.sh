# Sourced by .ci/run: what the TLS and portal tests use. core/trust changes the real system
# trust store (Debian's ca-certificates) and NSS databases (certutil from libnss3-tools),
# and restores them; core/portal drives headless Chromium. Installed only when missing.
browser_missing() {
	local need=()
	command -v update-ca-certificates >/dev/null || need+=(ca-certificates)
	command -v certutil >/dev/null || need+=(libnss3-tools)
	command -v chromium >/dev/null || need+=(chromium)
	echo "${need[@]}"
}

browser_install() {
	local need
	need=$(browser_missing)
	[ -n "$need" ] || return 0
	echo "installing $need"
	# shellcheck disable=SC2086 # one word per package
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
}

browser_install
chromium --version 2>/dev/null || true
