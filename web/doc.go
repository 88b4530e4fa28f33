// Package web embeds Headroom's live dashboard: one static page (HTML, CSS
// and plain JavaScript, no build step) with vendored uPlot for the charts and
// the @msgpack/msgpack browser build for decoding the gateway's frames. The
// gateway serves it with Handler; README.md describes the page and
// vendor/refresh.sh refreshes the vendored libraries from npm.
package web
