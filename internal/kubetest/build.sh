#!/usr/bin/env bash
# Builds the control-plane binaries the kubetest harness runs into a cache
# directory, each only when it is missing, and installs Debian's etcd-server
# when etcd is not on PATH. Prints how long each build took.
#
#   HEADROOM_KUBE_CACHE  cache directory (default $HOME/.cache/headroom/kube);
#                        binaries go to $HEADROOM_KUBE_CACHE/bin.
#
# The first run compiles k8s.io/kubernetes (roughly 15-20 minutes on 2 cores);
# later runs only check that the binaries exist.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${HEADROOM_KUBE_CACHE:-$HOME/.cache/headroom/kube}"
bin="$cache/bin"
mkdir -p "$bin"
kwok_version=v0.8.0

timed() { # name, command...
  local name=$1 start end
  shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  echo "kubetest/build: $name built in $((end - start))s"
}

for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  if [ ! -x "$bin/$cmd" ]; then
    # Build to a temporary name and rename, so an interrupted build never
    # leaves a half-written binary that looks present.
    timed "$cmd" bash -c "cd '$here/tools' && go build -trimpath -ldflags='-s -w' -o '$bin/.$cmd.tmp' k8s.io/kubernetes/cmd/$cmd && mv '$bin/.$cmd.tmp' '$bin/$cmd'"
  fi
done

if [ ! -x "$bin/kwok" ]; then
  # kwok is built from its own module (its go.mod pins the client libraries it
  # was released with), not from the tools module.
  timed kwok bash -c "GOBIN='$bin/.kwok-tmp' go install -trimpath -ldflags='-s -w' sigs.k8s.io/kwok/cmd/kwok@$kwok_version && mv '$bin/.kwok-tmp/kwok' '$bin/kwok' && rmdir '$bin/.kwok-tmp'"
fi

if ! command -v etcd >/dev/null 2>&1; then
  echo "kubetest/build: installing etcd-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq etcd-server >/dev/null
fi
ls -l "$bin"
