// Package service holds what every Headroom service shares at its edge: the
// JSON root logger, the HTTP servers with /healthz, /readyz and Prometheus
// /metrics, and a readiness gate that parts open as they start.
//
// The service's own routes (Deps.Mux) are served on -http.addr, capped at
// -http.max-conns. By default /healthz, /readyz and /metrics are served
// there too. With -ops.addr (HEADROOM_OPS_ADDR) they are served on a
// listener of their own instead, capped at OpsMaxConns with the same
// timeouts, and answer 404 on -http.addr: a client holding every
// connection of -http.max-conns (idle keep-alives, WebSockets) leaves new
// connections waiting in the kernel's backlog, and without the ops
// listener the orchestrator's probes would wait with them and the process
// be restarted. The ops listener answers before NATS does and stops last,
// after the runner has drained and the HTTP server has shut down.
package service
