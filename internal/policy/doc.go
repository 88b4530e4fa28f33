// Package policy is the pure scaling policy behind the decider: for every
// tier of an application it turns the current load, the ready and booting
// replica counts, the latest demand forecast and the open incidents into a
// desired replica count with a plain-language reason.
//
// For each tier the policy provisions for an upper quantile of the demand
// expected over the tier's lead time (now until a replica started now is
// ready). The quantile is calibrated online and causally: at every tick the
// policy records the base it predicts from (by default half the recent
// level, half the forecast median for the current bucket, plus any rise the
// forecast expects over the lead window) and, once the window has passed,
// the ratio of the peak load actually seen in it to that base. The chosen
// quantile of recent ratios, in bins of load level, times the current base
// is the demand to provision for. Calibrating on realised peaks makes the
// headroom follow each trace's own noise: wide on bursty traffic, thin on
// smooth traffic. It never goes below what the current
// load needs (the reactive floor), scales down only after the wanted count
// has stayed lower for a stabilisation window, and moves through an explicit
// state machine with cool-downs.
//
// Downstream tiers (cache, database) learn the ratio of their load to their
// upstream tier's load online, so a forecast web surge is propagated to them
// over their own, longer lead times. A budget cap across tiers trims the
// lowest-priority tiers first. Everything is driven by event time; the same
// inputs always give the same decisions.
package policy
