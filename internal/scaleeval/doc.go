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
// NASA and ClarkNet minute traces, seeds 1 and 2 (in-sample | leave-one-out):
//
//	trace             under×  unserved×  cost÷oracle | cv under×  cv unserved×
//	clarknet_1m        0.182    0.233      1.49      |   0.182       0.233
//	nasa_1m            0.134    0.123      1.62      |   0.267       0.260
//	smooth-growth-s1   0.004    0.008      1.02      |   0.004       0.008
//	smooth-growth-s2   0.004    0.006      1.01      |   0.004       0.006
//	surges-s1          0.698    0.698      1.06      |   0.438       0.830
//	surges-s2          0.755    0.722      1.07      |   0.919       0.920
//	jumps-s1           0.026    0.359      1.02      |   0.025       0.359
//	jumps-s2           0.039    0.432      1.02      |   0.039       0.431
//	batch-s1           0.753    0.854      1.15      |   0.759       0.854
//	batch-s2           0.753    0.852      1.13      |   0.753       0.852
//	diurnal-low-s1     0.189    0.183      1.23      |   0.206       0.190
//	diurnal-low-s2     0.115    0.119      1.19      |   0.144       0.157
//	diurnal-high-s1    0.003    0.005      1.02      |   0.003       0.005
//	diurnal-high-s2    0.004    0.009      1.02      |   0.004       0.009
//	drift-s1           0.038    0.016      1.04      |   0.042       0.017
//	drift-s2           0.042    0.019      1.04      |   0.041       0.019
//	bursty-s1          0.993    1.000      1.21      |   0.941       0.952
//	bursty-s2          1.030    1.030      1.20      |   0.912       0.914   LOSES
//
//	shop tier (lead)   under×  unserved×  cost÷oracle
//	s1 web (3m)        1.081    1.029      1.16   LOSES
//	s1 cache (3m)      1.081    1.029      1.16   LOSES
//	s1 db (10m)        1.148    1.088      1.28   LOSES
//	s2 web (3m)        1.042    1.069      1.17   LOSES
//	s2 cache (3m)      1.042    1.069      1.17   LOSES
//	s2 db (10m)        1.131    1.109      1.31   LOSES
//
// Where it stands: smooth heavy traffic, growth, drifts, diurnal patterns
// and unforecastable jumps are far better than HPA at equal cost (HPA's 10 %
// tolerance band costs it there); scheduled surges are better thanks to the
// ramp guard; NASA and ClarkNet are within 0.25×. Isolated short bursts
// (the bursty family, the shop's bursts and spikes) are about even with
// HPA and still lose by up to 15 % on the shop's tiers. Leave-one-out
// picks a longer-hold-averse setting (hold-worth 0.1, no ramp guard) on
// every fold because the bursty traces dominate the worst case; that
// setting wins on bursty but takes NASA to 0.27×.
package scaleeval
