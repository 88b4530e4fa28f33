// Package allinone runs the whole of Headroom in one process: an embedded
// NATS server with JetStream storing under a data folder, every service
// (collector with the simulated shop, forecaster, anomaly, decider, executor,
// gateway) each on its own NATS connection as if deployed apart, and one HTTP
// server for the dashboard, the WebSocket, /healthz, /readyz and /metrics.
// services/headroom is its command; the end-to-end tests run it in-process.
package allinone
