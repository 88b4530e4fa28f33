// Package scaleeval is the pure trace-driven scaling evaluation behind
// `decider simulate` (DESIGN.md, "Scaling"): it feeds a per-minute demand
// trace to a controller (the live policy, the Kubernetes HPA rule, a
// max-and-hold baseline or a static allocation) through the simulated
// cluster of package sim, and scores the result against an oracle that knows
// the future.
//
// Contract: per-replica capacity C; at the end of minute t the controller,
// having seen demand up to t and the ready and booting counts, names the
// total replicas wanted from minute t+1 (1..200); a shortfall boots during
// t+1..t+3 and serves from t+4 (booting replicas are paid for); a reduction
// acts at t+1, cancelling booting replicas first; minute 0 starts with just
// enough ready replicas; the first day is simulated but not scored.
//
// The policy is fed as the live decider feeds it: the minute's load and
// replica counts, and the latest forecast of a forecast.Series over closed
// 5-minute bucket means, visible from its origin on (Forecaster). Forecasts
// depend on the demand only, so RecordForecasts makes them once per trace
// and every policy run (Options.Curve) replays the same tape.
package scaleeval
