#!/bin/sh
# refresh.sh fetches the dashboard's vendored libraries from the npm registry
# and copies their browser builds and licences here. It needs npm and tar;
# `go run` never needs it. Pin versions by passing them:
#   web/vendor/refresh.sh [uplot-version] [msgpack-version]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
uplot=${1:-latest}
msgpack=${2:-latest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "uplot@$uplot" "@msgpack/msgpack@$msgpack" >/dev/null
mkdir u m
tar xzf uplot-*.tgz -C u
tar xzf msgpack-msgpack-*.tgz -C m
mkdir -p "$here/uplot" "$here/msgpack"
cp u/package/dist/uPlot.iife.min.js u/package/dist/uPlot.min.css u/package/LICENSE "$here/uplot/"
# Drop the source-map comment: the map is not vendored.
sed '/^\/\/# sourceMappingURL=/d' m/package/dist.umd/msgpack.min.js >"$here/msgpack/msgpack.min.js"
cp m/package/LICENSE "$here/msgpack/"
printf 'uplot %s\n@msgpack/msgpack %s\n' \
	"$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' u/package/package.json | head -1)" \
	"$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' m/package/package.json | head -1)" >"$here/VERSIONS"
cat "$here/VERSIONS"
