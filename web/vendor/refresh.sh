#!/bin/sh
# refresh.sh fetches the dashboard's vendored libraries from the npm registry
# (npm checks each package against the registry's integrity hash) and copies
# their browser builds and licences here, then records the vendored files'
# SHA-256 sums in SHA256SUMS, which web_test.go checks. It needs npm, tar and
# sha256sum; `go run` never needs it. By default it fetches the versions in
# VERSIONS again (the same bytes); to upgrade, name the versions:
#   web/vendor/refresh.sh [uplot-version] [msgpack-version]     (e.g. latest latest)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pinned() { sed -n "s|^$1 ||p" "$here/VERSIONS"; }
uplot=${1:-$(pinned uplot)}
msgpack=${2:-$(pinned @msgpack/msgpack)}
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
(cd "$here" && sha256sum uplot/* msgpack/* >SHA256SUMS)
cat "$here/VERSIONS"
