#!/usr/bin/env bash
# Builds the control-plane binaries the kubetest harness runs into a cache
# directory, each only when it is missing, and installs Debian's etcd-server
# when etcd is not on PATH. Prints how long each build took.
#
#   HEADROOM_KUBE_CACHE  cache directory (default $HOME/.cache/headroom/kube);
#                        binaries go to $HEADROOM_KUBE_CACHE/bin.
#
# The first run compiles k8s.io/kubernetes and KWOK (25 minutes in a cold
# .ci/run on 2 cores, beside vet and staticcheck, where the Kubernetes
# commands alone had taken 17 minutes on an idle machine); later runs only
# check that the binaries exist. All four commands come from the nested
# module internal/kubetest/tools and are built by one `go build`: they share
# one compile of the client, API and server libraries they have in common
# and link in parallel. (KWOK's own packages
# are under a tenth of its source. Built from its own module, against the
# client libraries it was released with, it compiled the other nine tenths a
# second time; here it is built against the libraries Kubernetes v1.37.2
# uses, which the kubetest tests exercise.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${HEADROOM_KUBE_CACHE:-$HOME/.cache/headroom/kube}"
bin="$cache/bin"
mkdir -p "$bin"

if ! command -v etcd >/dev/null 2>&1; then
  echo "kubetest/build: installing etcd-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq etcd-server >/dev/null
fi

timed() { # name, command...
  local name=$1 start end
  shift
  start=$(date +%s)
  "$@" || return
  end=$(date +%s)
  echo "kubetest/build: $name built in $((end - start))s"
}

# The build writes into a temporary directory of its own and renames, so an
# interrupted build never leaves a half-written binary that looks present,
# and two builds into one cache do not delete each other's files. Every step
# returns on failure explicitly: the function runs left of || (in timed),
# where set -e does not apply.
build() { # commands...
  local tmp pkgs=() cmd
  tmp=$(mktemp -d "$bin/.build-XXXXXX") || return
  for cmd in "$@"; do pkgs+=("${package[$cmd]}"); done
  (cd "$here/tools" && go build -trimpath -ldflags='-s -w' -o "$tmp/" "${pkgs[@]}") || return
  for cmd in "$@"; do mv "$tmp/$cmd" "$bin/$cmd" || return; done
  rmdir "$tmp"
}

# Each command and the package it is built from (versions: tools/go.mod).
declare -A package=(
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kwok]=sigs.k8s.io/kwok/cmd/kwok
)

missing=()
for cmd in kube-apiserver kube-controller-manager kube-scheduler kwok; do
  [ -x "$bin/$cmd" ] || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! timed "${missing[*]}" build "${missing[@]}"; then
    echo "kubetest/build: the build failed" >&2
    exit 1
  fi
fi
ls -l "$bin"
