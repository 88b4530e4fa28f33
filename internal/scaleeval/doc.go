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
//
// # The trace suite
//
// `decider simulate --suite DIR [--cv]` scores every trace CSV of DIR plus
// the seeded synthetic families of SyntheticFamilies (two seeds each by
// default) and prints, per trace, our point against HPA's curve (targets
// 0.40–0.95) interpolated at our cost: under-provisioned minutes and
// unserved demand as ratios to HPA's (below 1 is better than HPA at the same
// cost), and our cost over the oracle's; any trace where we are worse on
// either figure, or above twice the oracle's cost, is flagged. With --cv it
// also runs every setting of SuiteGrid and, for each trace, scores the
// setting chosen on all the other traces (leave-one-trace-out; the choice
// minimises the worst ratio over those traces, so a setting must hold on
// every family). The simulated shop's cache and database tiers are scored
// the same way with their own lead times (EvaluateShopTiers).
//
// Summary with the shipped configuration (DefaultOptions), DIR holding the
// NASA and ClarkNet minute traces, seeds 1 and 2, from
// `go run ./services/decider simulate --suite ../shared/data/traces --cv`
// (ratios to HPA at equal cost; in-sample | leave-one-trace-out):
//
//	trace             under×  unserved×  cost÷oracle | cv under×  cv unserved×
//	clarknet_1m        0.182    0.233      1.49      |   0.182       0.233
//	nasa_1m            0.215    0.213      1.58      |   0.266       0.258  (misses 0.25)
//	smooth-growth-s1   0.004    0.008      1.02      |   0.004       0.008
//	smooth-growth-s2   0.004    0.006      1.01      |   0.004       0.006
//	surges-s1          0.698    0.698      1.06      |   0.698       0.698
//	surges-s2          0.751    0.721      1.07      |   0.751       0.721
//	jumps-s1           0.025    0.361      1.02      |   0.025       0.361
//	jumps-s2           0.039    0.431      1.02      |   0.039       0.431
//	batch-s1           0.759    0.854      1.13      |   0.759       0.854
//	batch-s2           0.753    0.852      1.13      |   0.753       0.852
//	diurnal-low-s1     0.214    0.200      1.22      |   0.214       0.200
//	diurnal-low-s2     0.134    0.130      1.18      |   0.134       0.130
//	diurnal-high-s1    0.003    0.005      1.02      |   0.003       0.005
//	diurnal-high-s2    0.004    0.009      1.02      |   0.004       0.009
//	drift-s1           0.043    0.018      1.04      |   0.043       0.018
//	drift-s2           0.042    0.020      1.04      |   0.042       0.020
//	bursty-s1          0.954    0.965      1.16      |   0.954       0.965
//	bursty-s2          0.951    0.955      1.16      |   0.951       0.955
//
//	shop tier (lead)   under×  unserved×  cost÷oracle
//	s1 web (3m)        1.041    0.978      1.14   loses
//	s1 cache (3m)      1.041    0.978      1.14   loses
//	s1 db (10m)        1.082    1.067      1.24   loses
//	s2 web (3m)        1.006    1.009      1.14   loses
//	s2 cache (3m)      1.006    1.009      1.14   loses
//	s2 db (10m)        1.040    1.032      1.28   loses
//
// Where it stands: no suite trace loses to HPA at equal cost. Smooth heavy
// traffic, growth, drifts, diurnal patterns and unforecastable jumps are
// far better than HPA (its 10 % tolerance band costs it there); scheduled
// surges are better thanks to the ramp guard; on/off batch load by about a
// quarter; isolated short bursts (the bursty family) only by about 5 %.
// NASA and ClarkNet are within 0.25× in-sample; leave-one-out picks
// hold-worth 0.1 when NASA is left out, which takes NASA to 0.27×. The
// shop's tiers, whose losses come from its short random bursts and daily
// spikes, still lose by 1–8 % (the cache's load is the web's times four,
// so its row equals the web's).
package scaleeval
