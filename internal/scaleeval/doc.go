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
// The controller under test is the live services' own stages, not a copy
// of them (stages.go): each minute's load becomes the metrics tick the
// collector would publish; the forecaster's stage (forecaster.Tiers) and
// the anomaly service's (detector.Tiers) turn it into the forecast of each
// bucket and the minute's anomaly message; and the decider's stage
// (decider.Apps, the join and the policy) decides from the tick, those
// messages and the replica counts of the simulated cluster. Forecasts and
// anomaly messages depend on the load only, so RecordTape makes them once
// per trace and every policy run (Options.Curve, the grid) replays the same
// tape. The one difference from live is when a minute is decided: the
// simulation closes it at once (decider.Apps.Close) where the live decider
// waits for the next minute's tick; the decision is the same, and
// internal/stagetest checks that a trace gives the same decisions through
// the live services on NATS.
//
// # The trace suite
//
// `decider simulate --suite DIR [--cv]` scores every trace CSV of DIR plus
// the seeded synthetic families of SyntheticFamilies (two seeds each by
// default) and the simulated shop's three tiers (seeds 1 and 2, 21 days;
// web and cache boot in 3 minutes, the database in 10; one three-tier
// policy propagates the web forecast to the tiers behind it,
// PrepareShop), and prints, per row, our point against HPA's curve
// (targets 0.40–0.95, run on that row's load with that row's lead time)
// interpolated at our cost: under-provisioned minutes and unserved demand
// as ratios to HPA's (below 1 is better than HPA at the same cost), and our
// cost over the oracle's; any row where we are worse on either figure, or
// above twice the oracle's cost, is flagged. With --cv it also runs every
// setting of SuiteGrid and, for each row, scores the setting chosen on the
// rows of all other families (leave-one-family-out: both seeds of a
// synthetic family, or every shop tier, leave together; the choice
// minimises the worst loss over those rows, so a setting must hold on
// every family).
//
// Summary with the shipped configuration (DefaultOptions: p95 with the
// skill selector over p90/p95/p98 × a 15- or 3-minute scale-down window,
// and the seasonal guard), DIR holding the NASA and ClarkNet minute
// traces, from
// `go run ./services/decider simulate --suite ../shared/data/traces --cv`
// (ratios to HPA at equal cost; in-sample | leave-one-family-out over the
// nine settings of SuiteGrid; the cv choice was the shipped setting for
// every row but the bursty family's, which chose the seasonal guard off):
//
//	trace             under×  unserved×  cost÷oracle | cv under×  cv unserved×
//	clarknet_1m        0.217    0.253      1.49      |   0.217       0.253
//	nasa_1m            0.118    0.122      1.76      |   0.118       0.122
//	smooth-growth-s1   0.003    0.007      1.02      |   0.003       0.007
//	smooth-growth-s2   0.004    0.007      1.02      |   0.004       0.007
//	surges-s1          0.685    0.722      1.06      |   0.685       0.722
//	surges-s2          0.673    0.713      1.07      |   0.673       0.713
//	jumps-s1           0.025    0.394      1.03      |   0.025       0.394
//	jumps-s2           0.046    0.514      1.04      |   0.046       0.514
//	batch-s1           0.697    0.813      1.46      |   0.697       0.813
//	batch-s2           0.721    0.837      1.43      |   0.721       0.837
//	diurnal-low-s1     0.250    0.256      1.19      |   0.250       0.256
//	diurnal-low-s2     0.267    0.293      1.16      |   0.267       0.293
//	diurnal-high-s1    0.004    0.006      1.03      |   0.004       0.006
//	diurnal-high-s2    0.004    0.012      1.03      |   0.004       0.012
//	drift-s1           0.014    0.006      1.05      |   0.014       0.006
//	drift-s2           0.017    0.008      1.05      |   0.017       0.008
//	bursty-s1          0.834    0.827      1.14      |   0.943       0.951
//	bursty-s2          0.839    0.804      1.13      |   0.921       0.916
//	shop-s1 web (3m)   0.989    0.928      1.12      |   0.989       0.928
//	shop-s1 cache (3m) 0.989    0.928      1.12      |   0.989       0.928
//	shop-s1 db (10m)   0.870    0.986      1.12      |   0.870       0.986
//	shop-s2 web (3m)   0.902    0.965      1.08      |   0.902       0.965
//	shop-s2 cache (3m) 0.902    0.965      1.08      |   0.902       0.965
//	shop-s2 db (10m)   0.956    1.010      1.20      |   0.956       1.010
//
// These figures are the live services' (the stages, above). Before the
// simulation ran the stages it ran a copy of the forecaster without the
// per-tier refit phase and fed the policy no anomaly incidents; it then
// reported ClarkNet at 0.204/0.240 and the shop's seed-2 database at
// 0.929/0.980. Feeding the anomaly service's load incidents costs a little
// (the policy provisions for the recent peak during one), and the
// forecaster's stage (most likely its per-tier refit phase) moves the
// shop's database forecasts: with the incidents left out the seed-2
// database is at 0.999 on unserved demand. Together they take ClarkNet's
// unserved ratio just above 0.25 and the seed-2 database just above HPA.
//
// Where it stands: one row, the seed-2 shop database (10-minute lead),
// loses to HPA at equal cost on unserved demand by 1 %, in-sample and
// cross-validated; ClarkNet misses the 0.25 goal on unserved demand
// (0.253) and NASA is within 0.25× on both figures. Smooth heavy traffic,
// growth, drifts, diurnal patterns and unforecastable jumps are far better
// than HPA (its 10 % tolerance band costs it there); scheduled surges are
// better by about 30 % thanks to the ramp guard; on/off batch load by
// 16–30 %; the bursty family by about 17 % in-sample (the seasonal guard
// meets its two daily content drops; its random viral bursts stay
// unforecastable), 5–9 % cross-validated, far from the 0.5× an independent
// check expects on bursty traffic. The shop's tiers beat HPA by 1–13 % on
// under-provisioned minutes and up to 7 % on unserved demand, but for the
// seed-2 database (the cache's load is the web's times four, so its row
// equals the web's). Caveat: the skill selector's own constants (a week's
// memory, a 10 % switching margin, HPA shadows at 0.4–0.9), the seasonal
// guard's two days and the grid were set while looking at this suite; the
// cross-validation covers the choice within the grid only.
package scaleeval
