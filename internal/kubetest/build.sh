#!/usr/bin/env bash
# Builds the control-plane binaries the kubetest harness runs into a cache
# directory, each only when it is missing, and installs Debian's etcd-server
# when etcd is not on PATH. Prints how long each build took.
#
#   HEADROOM_KUBE_CACHE  cache directory (default $HOME/.cache/headroom/kube);
#                        binaries go to $HEADROOM_KUBE_CACHE/bin.
#
# The first run compiles k8s.io/kubernetes (17 minutes on 2 cores alone;
# about 24 beside vet and staticcheck in .ci/run, which shares the cores);
# later runs only check that the binaries exist. The three Kubernetes commands
# are built by one `go build`, so they share one compile of their common
# packages and link in parallel; kwok, from its own module, is downloaded and
# built alongside, which fills the cores while the other build waits on the
# module proxy or a single-threaded link.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${HEADROOM_KUBE_CACHE:-$HOME/.cache/headroom/kube}"
bin="$cache/bin"
mkdir -p "$bin"
kwok_version=v0.8.0

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

# Each build writes into a temporary directory and renames, so an interrupted
# build never leaves a half-written binary that looks present. Every step
# returns on failure explicitly: the functions run left of || (in timed),
# where set -e does not apply.
build_kube() { # commands...
  local tmp="$bin/.kube-tmp" pkgs=() cmd
  rm -rf "$tmp" && mkdir -p "$tmp" || return
  for cmd in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  (cd "$here/tools" && go build -trimpath -ldflags='-s -w' -o "$tmp/" "${pkgs[@]}") || return
  for cmd in "$@"; do mv "$tmp/$cmd" "$bin/$cmd" || return; done
  rmdir "$tmp"
}

build_kwok() {
  # kwok is built from its own module (its go.mod pins the client libraries it
  # was released with), not from the tools module.
  local tmp="$bin/.kwok-tmp"
  rm -rf "$tmp" || return
  GOBIN="$tmp" go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$kwok_version" || return
  mv "$tmp/kwok" "$bin/kwok" || return
  rmdir "$tmp"
}

missing=()
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$bin/$cmd" ] || missing+=("$cmd")
done

kwok_pid=
if [ ! -x "$bin/kwok" ]; then
  timed kwok build_kwok &
  kwok_pid=$!
fi
status=0
if [ ${#missing[@]} -gt 0 ]; then
  timed "${missing[*]}" build_kube "${missing[@]}" || status=$?
fi
if [ -n "$kwok_pid" ]; then
  wait "$kwok_pid" || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "kubetest/build: a build failed (exit $status)" >&2
  exit "$status"
fi
ls -l "$bin"
