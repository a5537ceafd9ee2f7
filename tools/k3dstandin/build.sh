#!/usr/bin/env bash
# Builds the stand-in node images of the k3d tests into the local Docker engine, under the
# tags the k3d path runs: rancher/k3s:<lab's pinned tag>, ghcr.io/k3d-io/k3d-proxy and
# ghcr.io/k3d-io/k3d-tools at the k3d library's version. Nothing is pulled: the images are
# FROM scratch with static binaries. An image already built from the same sources is kept;
# a real (not stand-in) image under one of the tags is never replaced.
#
# Exit status 3: a prerequisite is missing (Docker, the test cluster's binaries, busybox),
# which the tests report as a skip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
testbin=${LAB_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/lab/testbin/k8s-v1.37.2-kwok-v0.8.0}
work=${LAB_STANDIN_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/lab/k3dstandin}
busybox=${BUSYBOX:-/bin/busybox}

missing() { echo "k3dstandin: $*" >&2; exit 3; }

k3s_image=$(sed -n 's/^const DefaultImage = "\(.*\)"$/\1/p' "$repo/core/cluster/k3d/config.go")
k3d_version=$(awk '$1 == "github.com/k3d-io/k3d/v5" { sub(/^v/, "", $2); print $2 }' "$repo/core/go.mod")
[ -n "$k3s_image" ] && [ -n "$k3d_version" ] || { echo "k3dstandin: cannot read the image tags from core/" >&2; exit 1; }
proxy_image=ghcr.io/k3d-io/k3d-proxy:$k3d_version
tools_image=ghcr.io/k3d-io/k3d-tools:$k3d_version

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || missing "no Docker engine answers"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
	[ -x "$testbin/$b" ] || missing "$testbin/$b is missing: run make testbin"
done
[ -x "$busybox" ] || missing "$busybox is missing: apt-get install busybox-static"
if ldd "$busybox" >/dev/null 2>&1; then missing "$busybox is not static: apt-get install busybox-static"; fi

# The sources and binaries an image is made of; an image labelled with the same sum is current.
sum=$( (cd "$here" && find . -type f ! -name '*.md' | LC_ALL=C sort | xargs sha256sum; basename "$testbin"; sha256sum "$busybox") | sha256sum | cut -c1-16)

# needs TAG: whether TAG must be built. A stand-in with the same sum is current; a real image
# under the tag (a machine that can pull) is left alone.
needs() {
	local labels
	labels=$(docker image inspect --format '{{json .Config.Labels}}' "$1" 2>/dev/null) || return 0
	if [[ $labels != *'"io.nexolab.lab.standin"'* ]]; then
		echo "k3dstandin: $1 is a real image here; it is kept, and the tests run it" >&2
		return 1
	fi
	if [[ $labels == *"\"io.nexolab.lab.standin.sum\":\"$sum\""* ]]; then
		echo "k3dstandin: $1 is current"
		return 1
	fi
}

# build NAME TAG: the image of folder NAME, from the context whose rootfs was filled.
build() {
	cp "$here/$1/Dockerfile" "$work/$1/Dockerfile"
	# The legacy builder needs no BuildKit and pulls nothing for FROM scratch.
	if ! DOCKER_BUILDKIT=0 docker build -q --label "io.nexolab.lab.standin.sum=$sum" -t "$2" "$work/$1" >"$work/$1/build.log" 2>&1; then
		cat "$work/$1/build.log" >&2
		exit 1
	fi
	echo "k3dstandin: built $2"
}

# rootfs NAME: an empty rootfs folder for image NAME.
rootfs() { rm -rf "$work/$1"; mkdir -p "$work/$1/rootfs"; echo "$work/$1/rootfs"; }

gobuild() { # package output
	(cd "$here" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$2" "./$1")
}

# One build at a time: test packages that need the images run in parallel.
mkdir -p "$work"
exec 9>"$work/.lock"
flock -w 900 9 || { echo "k3dstandin: another build kept $work/.lock for 15 minutes" >&2; exit 1; }

# k3s: busybox for the shell k3d's entrypoint needs, the stand-in and the control plane.
if needs "$k3s_image"; then
	r=$(rootfs k3s)
	mkdir -p "$r/bin" "$r/usr/local/bin" "$r/tmp" "$r/var/log" "$r/output" "$r/etc/rancher/k3s" "$r/var/lib/rancher/k3s"
	chmod 1777 "$r/tmp"
	cp "$busybox" "$r/bin/busybox"
	for applet in $("$busybox" --list); do
		[ -e "$r/bin/$applet" ] || ln -s busybox "$r/bin/$applet"
	done
	gobuild k3s "$r/bin/k3s"
	for alias in kubectl iptables-save iptables-restore; do ln -sf k3s "$r/bin/$alias"; done
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do cp "$testbin/$b" "$r/usr/local/bin/$b"; done
	# kwok's stages (nodes Ready with leases, pods Ready), from the kwok module the binaries
	# were built from, as kwokctl gives them to kwok.
	kwokdir=$(cd "$repo/tools/testcluster/kwok" && GOWORK=off go list -m -f '{{.Dir}}' sigs.k8s.io/kwok) || missing "the sigs.k8s.io/kwok module is not in the module cache: run make testbin"
	mkdir -p "$r/etc/kwok"
	for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
		echo "---"
		cat "$kwokdir/kustomize/stage/$f.yaml"
	done >"$r/etc/kwok/stages.yaml"
	# k3s's local-path volumes, simulated: kwok binds the claims of that class (no folder is
	# made in data_dir).
	for f in pvc-provision pv-bind pvc-delete pv-delete; do
		echo "---"
		sed "s/'kwok-volume'/'local-path'/" "$kwokdir/kustomize/stage/volume/fast/$f.yaml"
	done >>"$r/etc/kwok/stages.yaml"
	build k3s "$k3s_image"
fi

if needs "$proxy_image"; then
	r=$(rootfs proxy)
	mkdir -p "$r/bin" "$r/etc/confd" "$r/tmp"
	gobuild proxy "$r/bin/k3d-proxy"
	build proxy "$proxy_image"
fi

if needs "$tools_image"; then
	r=$(rootfs tools)
	mkdir -p "$r/app" "$r/tmp"
	gobuild tools "$r/app/k3d-tools"
	build tools "$tools_image"
fi
rm -rf "${work:?}"/k3s/rootfs "${work:?}"/proxy/rootfs "${work:?}"/tools/rootfs
