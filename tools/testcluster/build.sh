#!/usr/bin/env bash
# Builds the binaries of the kwok test cluster (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok, kwokctl) from the Go module proxy into a cache folder that
# git does not track, and prints that folder. Binaries already there are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${LAB_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/lab/testbin/k8s-v1.37.2-kwok-v0.8.0}
mkdir -p "$out"

build() { # module-dir output-name package [ldflags]
	local dir=$1 name=$2 pkg=$3 ldflags=${4:-}
	[ -x "$out/$name" ] && return 0
	echo "building $name" >&2
	(cd "$here/$dir" && CGO_ENABLED=0 GOWORK=off go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg")
	mv "$out/$name.tmp" "$out/$name"
}

kv="-X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kv"
build kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kv"
build kube kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$kv"
build etcd etcd .
build kwok kwok sigs.k8s.io/kwok/cmd/kwok
build kwok kwokctl sigs.k8s.io/kwok/cmd/kwokctl
# helm only for make bench: ./build.sh helm
if [ "${1:-}" = helm ]; then
	build helm helm helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=v3.22.0"
fi
echo "$out"
