# Sourced by .ci/run: a Docker engine for the k3d tests, and the stand-in node images they
# run (no registry can be reached, so the images k3d needs are built locally). An engine
# that already answers is used as it is and left running; one started here is stopped by
# the cleanup this registers. Without an engine the k3d tests skip and say why.
docker_log=${TMPDIR:-/tmp}/lab-ci-dockerd.log
docker_pid=

docker_answers() { timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

stop_ci_dockerd() {
	[ -n "$docker_pid" ] || return 0
	kill "$docker_pid" 2>/dev/null || true
	# dockerd stops its containers first; give it a bounded time.
	for _ in $(seq 1 30); do kill -0 "$docker_pid" 2>/dev/null || break; sleep 1; done
	kill -9 "$docker_pid" 2>/dev/null || true
	docker_pid=
}

# capfit_flags prints dockerd's runtime flags for a sandbox whose capability bounding set
# lacks some capabilities: k3d runs its nodes privileged, which runc cannot set up there.
capfit_flags() {
	local last have full
	last=$(cat /proc/sys/kernel/cap_last_cap)
	have=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
	full=$(((1 << (last + 1)) - 1))
	[ "$have" -eq "$full" ] && return 0
	local shim=${XDG_CACHE_HOME:-$HOME/.cache}/lab/k3dstandin/capfit-runc
	mkdir -p "$(dirname "$shim")"
	(cd tools/k3dstandin && GOWORK=off CGO_ENABLED=0 go build -trimpath -o "$shim" ./capfit) >&2
	echo "--add-runtime capfit=$shim --default-runtime capfit"
}

if ! docker_answers; then
	if ! command -v dockerd >/dev/null || [ ! -x /bin/busybox ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
	fi
	flags=$(capfit_flags)
	echo "starting dockerd $flags (log: $docker_log)"
	# shellcheck disable=SC2086
	dockerd $flags >"$docker_log" 2>&1 &
	docker_pid=$!
	cleanups+=(stop_ci_dockerd)
	for _ in $(seq 1 60); do docker_answers && break; sleep 1; done
	if ! docker_answers; then
		echo "dockerd did not answer within 60s; the k3d tests will skip. Last lines of $docker_log:" >&2
		tail -n 20 "$docker_log" >&2 || true
	fi
fi

if docker_answers; then
	docker version --format 'Docker engine {{.Server.Version}}'
	# The stand-in images carry the kwok test cluster's binaries.
	make testbin
	start=$(date +%s)
	tools/k3dstandin/build.sh
	echo "stand-in images: $(($(date +%s) - start))s"
fi
