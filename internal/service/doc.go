// Package service holds what every Headroom service shares at its edge: the
// JSON root logger, the operations HTTP server with /healthz, /readyz and
// Prometheus /metrics, and a readiness gate that parts open as they start.
package service
