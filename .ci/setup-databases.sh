# Sourced by .ci/run: the PostgreSQL and Redis servers the core/dbdump tests start in
# temporary folders of their own. Only the packages are installed; their system services
# stay stopped (a policy-rc.d refuses them while apt runs, unless one is already there).
databases_missing() {
	local need=()
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
	command -v redis-server >/dev/null || need+=(redis-server)
	echo "${need[@]}"
}

databases_install() {
	local need policy=/usr/sbin/policy-rc.d added=
	need=$(databases_missing)
	[ -n "$need" ] || return 0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
	fi
	echo "installing $need (services not started)"
	# shellcheck disable=SC2086 # one word per package
	local rc=0
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || rc=$?
	[ -z "$added" ] || rm -f "$policy"
	return $rc
}

databases_install
ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed 's/^/PostgreSQL server: /' || true
redis-server --version 2>/dev/null || true
