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
// default) and the simulated shop's three tiers (seeds 1 and 2, 21 days,
// unless --shop-seeds names others;
// web and cache boot in 3 minutes, the database in 10; one three-tier
// policy propagates the web forecast to the tiers behind it,
// PrepareShop), and the surges family's traces run as the web tier of the
// same three-tier app (PrepareFrontTiers: the shop's model derives the
// cache's and the database's loads from the trace as it does from its own
// demand, FrontTierLoads; rows "surges-s1/db(10m)" and so on, in the
// surges family; --tier-families names other families to run so, and
// --families the optional daily-sales family of OptionalFamilies, the
// fifteenth round), and prints, per row, our point against HPA's curve
// (targets 0.40–0.95 at every 0.01, run on that row's load with that
// row's lead time; at every 0.05 until "The finer HPA curve", after the
// forty-fourth round, so every round's figures up to then are on the
// coarser curve)
// interpolated at our cost: under-provisioned minutes and unserved demand
// as ratios to HPA's (below 1 is better than HPA at the same cost), and our
// cost over the oracle's; any row where we are worse on either figure, or
// above twice the oracle's cost, is flagged. With --cv it also runs every
// setting of SuiteGrid and, for each row, scores the setting chosen on the
// rows of all other families (leave-one-family-out: both seeds of a
// synthetic family with its three-tier rows, or every shop tier, leave
// together; the choice
// minimises the worst loss over those rows, so a setting must hold on
// every family). With --breakdown it then says where each row's minutes
// are lost (Breakdown, the twentieth round's diagnostic): its
// under-provisioned minutes (and how many were short by less than a
// fifth of a replica), unserved demand and replica-minutes on climbing,
// steady and falling load, beside HPA run at the target whose cost is
// nearest ours; and the operating points the run decided at (on a tier
// that selects by skill, the selector's picks, Breakdown.Points): the
// days at each and every switch, dated by its tick in days from the
// trace's start, which the twenty-ninth and thirtieth rounds each had to
// print with a scratch patch.
//
// The rounds run parts of it on other seeds: --synthetic scores the
// synthetic families and the shop without DIR; --seeds and --shop-seeds
// name the synthetic families' and the shop's seeds ("none" leaves them
// out); --families picks families (the optional daily-sales family runs
// only when named) and --tier-families which of them also run as the web
// tier of a three-tier app (default surges; "none": none); --synth-phase
// starts each synthetic trace at its own seeded point of the week rather
// than on Monday at 00:00 (the twenty-second round; off by default, so the
// tables stand); --grid 'knob=v1,v2;…' runs settings side by side (or
// names the candidates of --cv), knobs named as the flags; and
// `--skill=off --short-stabilization=0s --quantile 0.9 --stabilization 3m`
// runs one fixed operating point (p90/3m), as the rounds' fixed-point
// figures do. Every policy knob the rounds tried has a flag
// (--jump-sigmas, --jump-lead, --rise-bin, --outage-hold, --seasonal,
// --phase, …; see `decider simulate -h`).
//
// Rounds named in this documentation (the fifteenth round and so on) are
// the experiments that chose the policy's settings, each logged under its
// name in EXPERIMENTS.md in this directory (see Experiments, below).
//
// Summary with the shipped configuration (DefaultOptions: p95 with the
// skill selector over p90/p95/p98 × a 15- or 3-minute scale-down window,
// its rates over a week of a 3-minute tier's lead windows and as many of
// a longer-lead tier's (the ninth round); on a tier whose lead window is
// longer than a 3-minute tier's (here the 10-minute database) the
// selector starts at its cheapest candidate and takes a costlier one only
// past a margin counted in paired days of evidence (the thirteenth,
// fourteenth, sixteenth, nineteenth and twenty-fourth rounds); on a
// 3-minute tier it starts at the configured quantile with the 3-minute
// window and leaves that start, or takes a longer window, only past the
// same margin, the outage hold stretching a short window over a flat
// line it has not yet recognised (the thirty-fifth and thirty-seventh
// rounds); the current level averaged over LevelWindow's worth of the
// load's own samples (five buckets on a count per 5-minute bucket: the
// sixty-third round); the
// forecast weight stretched for longer leads, the jump guard at 3 typical
// changes with its bin learned over at most 3 minutes past the tick (the
// seventh round) and plateaus the base lags calibrated apart (the tenth
// round; on a long-lead tier learned over the whole lead window, and a
// fresh jump of a level bin's width that no remembered day saw coming
// kept out of the level bins' learning: the thirty-sixth round), the ramp guard carried on for at most 3 minutes past the tick
// and to the tiers behind, the rise bin (forecast surges calibrated
// apart, the fifteenth round), the seasonal and hour-phase guards (the
// latter reading a day of hours, the fourth round) and the 6-hour outage
// hold (a flat line counted in the load's own samples, the eighth round;
// a sparse count load's zero runs read against its own level, the
// thirty-ninth), and on a long-lead tier the weekly guard (a rise seen at
// the same 5-minute bucket of the week in each of the last two weeks,
// standing aside where a remembered day rose at that time of day: the
// fifty-sixth and fifty-seventh rounds; and a rise seen a week ago where
// other remembered days rose at that time of day, more than chance
// explains on the tier, acted on only where the last such schedule tested
// at that time of day came: the fifty-eighth to sixtieth rounds);
// the decaying-jump bin off), DIR holding the NASA and ClarkNet minute
// traces, from
// `GOMAXPROCS=1 go run ./services/decider simulate --suite ../shared/data/traces --cv --workers 1`
// (run from the repository root; ratios to HPA at equal cost; in-sample |
// leave-one-family-out over the nine settings of SuiteGrid, jump guard 3
// or 4 × outage hold off or 6 h × seasonal guard off or on, and the
// previous release's setting):
//
//	trace                under×  unserved×  cost÷oracle | cv under×  cv unserved×
//	clarknet_1m           0.196      0.123         1.56 |     0.232         0.262
//	nasa_1m               0.092      0.066         1.80 |     0.092         0.066
//	smooth-growth-s1      0.004      0.008         1.01 |     0.004         0.008
//	smooth-growth-s2      0.004      0.010         1.02 |     0.004         0.010
//	surges-s1             0.099      0.655         1.03 |     0.081         0.660
//	surges-s2             0.075      0.638         1.03 |     0.074         0.636
//	jumps-s1              0.022      0.351         1.01 |     0.022         0.351
//	jumps-s2              0.039      0.431         1.01 |     0.039         0.431
//	batch-s1              0.705      0.805         1.16 |     0.705         0.805
//	batch-s2              0.715      0.820         1.22 |     0.715         0.820
//	diurnal-low-s1        0.258      0.274         1.19 |     0.258         0.274
//	diurnal-low-s2        0.279      0.277         1.16 |     0.279         0.277
//	diurnal-high-s1       0.004      0.005         1.02 |     0.004         0.005
//	diurnal-high-s2       0.003      0.016         1.02 |     0.003         0.016
//	drift-s1              0.032      0.019         1.05 |     0.032         0.019
//	drift-s2              0.060      0.031         1.04 |     0.060         0.031
//	bursty-s1             0.811      0.809         1.13 |     0.811         0.809
//	bursty-s2             0.815      0.790         1.12 |     0.815         0.790
//	bursty-hourly-s1      0.747      0.689         1.24 |     0.747         0.689
//	bursty-hourly-s2      0.751      0.719         1.22 |     0.751         0.719
//	social-5m-s1          0.412      0.577         1.62 |     0.412         0.577
//	social-5m-s2          0.611      0.734         1.47 |     0.611         0.734
//	shop-s1 web (3m)      0.978      0.908         1.11 |     0.978         0.908
//	shop-s1 cache (3m)    0.978      0.908         1.11 |     0.978         0.908
//	shop-s1 db (10m)      0.746      0.946         1.09 |     0.746         0.946
//	shop-s2 web (3m)      0.956      0.938         1.10 |     0.956         0.938
//	shop-s2 cache (3m)    0.956      0.938         1.10 |     0.956         0.938
//	shop-s2 db (10m)      0.688      0.954         1.10 |     0.688         0.954
//	surges-s1 web (3m)    0.099      0.655         1.03 |     0.081         0.660
//	surges-s1 cache (3m)  0.099      0.655         1.03 |     0.081         0.660
//	surges-s1 db (10m)    0.937      0.809         1.10 |     0.990         0.801
//	surges-s2 web (3m)    0.075      0.638         1.03 |     0.074         0.636
//	surges-s2 cache (3m)  0.075      0.638         1.03 |     0.074         0.636
//	surges-s2 db (10m)    0.779      0.855         1.07 |     0.780         0.857
//
// This table reads HPA's curve at every 0.01 ("The finer HPA curve" in
// EXPERIMENTS.md, after the forty-fourth round, which keeps the table as
// it stood at every 0.05). HPA's misses fall with cost along a convex
// curve, so the chord between two targets 0.05 apart lies above it, and a
// point between them was compared with a worse HPA than any target at its
// cost (the forty-third round: the shop's fronts won by up to 6 % on the
// chord alone). The same runs, read at every 0.05 and now: mean worse of
// the two ratios over the 34 rows 0.5504 → 0.5712 in-sample, 0.5541 →
// 0.5748 cross-validated; ClarkNet 0.182/0.120 → 0.196/0.123 (cv
// 0.219/0.253 → 0.232/0.262), NASA 0.088/0.065 → 0.092/0.066, the shop's
// fronts 0.951/0.905 → 0.978/0.908 and 0.902/0.932 → 0.956/0.938, the
// surges fronts 0.078/0.606 → 0.099/0.655 and 0.054/0.554 → 0.075/0.638,
// surges-s2's database 0.659/0.885 → 0.793/0.897, drift 0.017–0.036 →
// 0.032–0.060 under×. No row loses in-sample. Cross-validated one does:
// surges-s1's database, 1.026/0.904 at the jump guard at 4 with the hold
// (0.953/0.900 at every 0.05); in-sample it wins at 0.981/0.934. With
// their families left out, the bursty-hourly and shop rows now get the
// shipped setting (the jump guard at 4 with the hold before), and
// ClarkNet's near tie spanned 0.780–1.048 over four settings (eight now,
// 0.766–1.048: `--cv` on 2026-12-07, below). The rest of
// this documentation gives figures at every 0.05 unless it says
// otherwise. The table above is after the sixty-third round; the
// fifty-seventh round's weekly guard moved only the surges databases (0.981/0.934 → 0.967/0.845,
// cv 1.026/0.904 → 1.019/0.815, and 0.793/0.897 → 0.780/0.855, cv
// 0.794/0.899 → 0.781/0.857): the 34 rows' mean 0.5712 → 0.5696
// in-sample and 0.5748 → 0.5734 cross-validated; the every-0.05 figures
// in this paragraph are from before it. The sixtieth round's verified
// weekly schedule (WeeklySchedule) moved only the surges databases again
// (0.967/0.845 → 0.937/0.809, cv 1.019/0.815 → 0.990/0.801, and
// 0.780/0.855 → 0.779/0.855, cv 0.781/0.857 → 0.780/0.857): the mean
// 0.56956 → 0.56868 in-sample and 0.57335 → 0.57250 cross-validated.
// The sixty-third round's level over the load's own samples (five buckets
// on social-5m; kept after the lead's judging) moved only social-5m's rows
// (0.512/0.667 at 1.68 → 0.412/0.577 at 1.62 and 0.676/0.726 at 1.55 →
// 0.611/0.734 at 1.47, cv the same; every fold's choice as it was): the
// mean 0.56868 → 0.56626 in-sample and 0.57250 → 0.57009
// cross-validated.
// The mends since, which make a stage taking a forecast series over
// forecast exactly as one that never stopped (a series without a refit
// point yet fits on its first observed bucket, as one forecast at every
// bucket did; a longer forecast, buckets skipped, fits the same models),
// and a fit that cannot calibrate its intervals taking the level model's
// noise intervals (the policy reads no interval), leave this table as it
// was, byte for byte.
//
// These figures are the live services' (the stages, above), from main
// after the twenty-sixth round (4 minutes on a shared machine). Two
// changes moved the table this session. The anomaly detector's weekly
// record range (Config.WeekRange, the nineteenth of the anom rounds in
// internal/anomaly/EXPERIMENTS.md) changes the anomaly stage's incidents,
// which the policy reads (a load incident provisions for the recent peak
// at once): ClarkNet 0.184/0.121 → 0.183/0.120 (cv 0.191/0.235 →
// 0.189/0.232), NASA 0.089/0.066 → 0.088/0.065 (cv 0.096/0.076 →
// 0.095/0.075), bursty and bursty-hourly by 0.001–0.002, the shop's seed-2
// front 0.880/0.936 → 0.877/0.935, and social-5m-s1's unserved demand
// 0.638 → 0.653 (fewer load incidents on its recurring levels). The
// twenty-sixth round (a long-lead tier starts with no hold and reads HPA's
// curve at every 0.05) moved the four databases: shop-s1 0.768/0.951 →
// 0.724/0.943, shop-s2 0.717/0.966 → 0.672/0.950, surges-s2 0.747/0.901 →
// 0.673/0.884, and surges-s1 0.791/0.926 → 0.912/0.934, worse but winning;
// through the cross-validation's choice social-5m's cv rows moved too
// (0.507/0.638 → 0.546/0.668 and 0.674/0.745 → 0.644/0.699). Before this
// session the table was last moved by the sixteenth round. The
// thirty-sixth round (on a long-lead tier, random jumps kept out of the
// level bins' learning and the plateau bin learned over the whole lead
// window) moved the four databases again and nothing else: shop-s1
// 0.724/0.943 → 0.723/0.943 (cv 0.714/0.935 → 0.724/0.939), shop-s2
// 0.672/0.950 → 0.677/0.954 (cv 0.676/0.956 → 0.670/0.956), surges-s1
// 0.912/0.934 → 0.966/0.933 (cv 0.905/0.918 → 0.953/0.900), worse but
// winning, and surges-s2 0.673/0.884 → 0.659/0.885 (cv 0.681/0.885 →
// 0.674/0.887); every cv choice is as it was. Then the thirty-fifth and
// thirty-seventh rounds (a 3-minute tier starts at the configured quantile
// with the 3-minute window and leaves it only past the paired-days
// margin) moved every 3-minute row and no database: the surges fronts
// 0.737/0.747 → 0.078/0.606 and 0.667/0.748 → 0.054/0.554, jumps
// 0.025/0.392 → 0.022/0.348 and 0.045/0.511 → 0.039/0.431, batch
// 0.687/0.797 at 1.49 → 0.705/0.806 at 1.16 and 0.738/0.834 at 1.67 →
// 0.715/0.819 at 1.22 (cheaper), diurnal-low 0.250/0.256 → 0.228/0.237
// and 0.267/0.294 → 0.273/0.272, drift-s2 0.019/0.009 → 0.036/0.014,
// bursty-hourly 0.749/0.667 → 0.740/0.689 and 0.723/0.702 →
// 0.736/0.713 (at 1.22–1.24 of the oracle, 1.13–1.14 before),
// social-5m 0.506/0.653 → 0.486/0.642 and 0.673/0.744 → 0.670/0.729, the
// shop-s2 front 0.877/0.935 → 0.902/0.932, ClarkNet 0.183/0.120 →
// 0.182/0.120, NASA as it was; and the cv choices (below). The
// thirty-ninth round (a sparse count load's zero runs are a flat line, for
// the outage hold and its bridge, only when as unlikely for its own level
// as five samples of a load at one count) moved one row: social-5m-s1
// 0.486/0.642 at 1.686 → 0.479/0.636 at 1.675 (cv the same). "History of
// the summary" in EXPERIMENTS.md keeps the earlier states of this summary.
//
// The cv columns score each row at the setting chosen with its family left
// out: since the thirty-fifth and thirty-seventh rounds the jump guard at
// 3 with the outage hold, the shipped setting, for most rows, the jump
// guard at 4 with the hold for the surges rows (at every 0.05 for the
// bursty-hourly and shop rows too; read at every 0.01, as the table is,
// they get the shipped setting), and for ClarkNet's the jump guard at 3
// without the hold; the whole suite
// chooses the shipped setting (before those rounds the jump guard at 4
// with the hold for every row but ClarkNet's, which had it without the
// hold, and for the whole suite; the tenth round; social-5m's was the
// shipped setting from the fifteenth round to the twenty-sixth). About
// half of ClarkNet's unserved demand without the hold is one event: the
// load flat-lines at 0.01 for two hours (an outage) and comes back at
// once, and a controller that scaled down in between cannot boot in time;
// the outage hold keeps the replicas through such a flat line, but with
// ClarkNet left out the choice drops it: NASA's loss is its cost over
// twice the oracle's, which the hold raises (the twenty-first round).
// ClarkNet's cv row misses its goal, 0.219/0.253 (`--cv` flags it
// CV-MISSES-GOAL; 0.189/0.232, within the goal, from the tenth round to
// the thirty-fourth). It stands on a near tie: with ClarkNet left out, the
// choice between the jump guard at 3 and at 4 (both without the hold)
// falls to a mean log loss a thousandth apart (0.0008 at main in the
// twenty-eighth round), which better surges fronts or a cheaper social-5m
// row tip, and at 3 without the hold ClarkNet misses its goal (0.222/0.256
// in the twenty-first round). That tie failed the twenty-first round at
// its gate and moved ClarkNet's cv row past 0.25 under candidates of the
// twentieth, twenty-fourth, twenty-fifth and twenty-eighth rounds. The
// thirty-fifth round's gate accepted it under an exception fixed by the
// lead before that round ran: the fold's choice moved to a setting already
// in main's near tie, and ClarkNet's own row is no worse at any of the
// nine settings by more than 0.005 (it moves by at most 0.004). The
// thirty-eighth round found that no rule for the hold can move this row:
// with ClarkNet left out, a setting with the hold differs from its twin
// without it only on NASA and social-5m-s1, whose losses are their cost,
// which the hold can at best leave unchanged, and a tie takes the earlier
// setting, the one without the hold; ClarkNet's cross-validated row is its
// row without the hold, which only a change to its ordinary minutes can
// bring within 0.25. `--cv`
// prints, beside each row's chosen setting, its near tie (Tied,
// TieSpread): the settings within NearTie (2.5 %) of the least worst loss
// with its family left out, between which the mean log loss alone chooses,
// and the row's loss over them (1 at its goal). ClarkNet's spans
// 0.766–1.048 over eight tied settings, as the table's runs read them
// (0.766–1.012 at every 0.05, 0.768–1.014 over six before that); every
// other row is within its goal at every tied setting (surges-s1's
// database, 0.937–0.996, the nearest; 0.953–0.978 at every 0.05 since the
// thirty-sixth round; bursty-hourly-s2's reached 1.001 before the
// thirty-fifth). Shipping the
// jump guard at 4, the whole suite's own choice from the tenth round to
// the thirty-fourth, was judged on unseen seeds and rejected ("The jump
// guard at 4", after the tenth round).
//
// # Where it stands
//
// On the suite no row loses to HPA at equal cost, in-sample or
// cross-validated, since the sixtieth round's verified weekly schedule
// (surges-s1's database, the last to lose cross-validated, 1.019 → 0.990
// under×, above; 1.026 before the fifty-seventh round's weekly guard). NASA and ClarkNet are within 0.25×
// on both figures in-sample, NASA cross-validated too, but ClarkNet's
// cross-validated unserved demand is 0.262 (0.253 at every 0.05: the near
// tie above; the forty-fourth round found its row decided by an outage's
// return that HPA misses too); and every cost is within
// 1.80× the oracle's (NASA's; social-5m, whose usual load is under one
// replica, at 1.62 and 1.47). Smooth heavy traffic, growth, drifts,
// diurnal patterns and unforecastable jumps are far better than HPA
// (under× 0.003–0.273; HPA's 10 % tolerance band costs it there);
// scheduled surges miss a tenth of HPA's under-provisioned minutes at the
// same cost and 55–61 % of its unserved demand, thanks to the ramp guard
// and, since the thirty-fifth round, the 3-minute window from the first
// day (0.054–0.078 and 0.554–0.606; 0.667–0.748 before), on/off batch
// load is better by 18–30 %, bursty by about a fifth (0.790–0.805), from its
// two daily content drops, which the seasonal guard meets, and
// bursty-hourly by a quarter to a third from its recurring hourly bursts,
// which the hour-phase guard meets. Random bursts cannot be beaten by
// reacting better under this contract: a decision at the end of minute t
// serves from t+4, so a burst's first four minutes are served only by the
// replicas that stood before it, and HPA's curve buys those at the same
// price ("The first rounds" and the fourth round). The closest rows are
// surges-s1's database (0.966 under-provisioned minutes, since the
// thirty-sixth round) and the shop (its seed-1 web's 0.951, its seed-2
// database's 0.954 unserved demand): its
// spikes and bursts are unscheduled and ramp or last within the database's
// 11-minute window, so there only replicas standing before them serve,
// which HPA's curve buys at the same price ("History of the summary").
//
// Off the suite, rows lost or lose with the policy as shipped (figures
// after the thirty-fifth to thirty-seventh rounds, with earlier ones where
// they differ; `GOMAXPROCS=1 go run ./services/decider simulate
// --synthetic --families surges --tier-families surges --seeds 80
// --shop-seeds 64,67,68,71,72 --workers 1`, the batch command below, and
// daily-sales-s4 with --synth-phase):
//
//   - the shop-s64, s67 and s68 web and cache lost (1.002/0.948,
//     0.926/1.003, 1.033/0.978), spending their first days on the
//     configured 15-minute window, which the 3-minute points they settle
//     on beat when run alone; the twenty-fifth and twenty-eighth rounds
//     fixed them but moved ClarkNet's cv row past its goal through the
//     near tie above, so none was kept. They win since the thirty-fifth
//     and thirty-seventh rounds (0.931/0.913, 0.921/0.988, 0.926/0.932),
//     with that cv row at 0.219/0.253 (below);
//   - the database of shop-s71 (0.987/1.025; 1.001/1.038 before the
//     thirty-sixth round, 0.990/1.033 before the twenty-sixth): one
//     burst-led spike on its warm-up day takes the selector to p90/15m
//     for 10.9 days, which lose by their cost (the fortieth round; its
//     rule fixed it but acted on no unseen seed); shop-s72's
//     (1.001 unserved× before) wins since the thirty-sixth round
//     (0.772/0.994). Daily-sales-s4's, phased, won at 0.892 before the
//     twenty-sixth round, lost after it (1.041/0.197) and wins again
//     since the thirty-sixth (0.716/0.184); at 1.041 the selector mixed
//     three points,
//     p90 with no hold, then p95 with none at day 7.3, then p98/15m at
//     day 9.65, and every point but p90/15m wins alone; the twenty-ninth
//     round's two rules against such a mix, a switch refused while a mix
//     with the candidate would lose and paired days counted since the last
//     switch, fixed it but cost daily-sales's unphased databases more,
//     where the same late switch is what makes them win);
//   - the surges-s80 database, which wins since the thirty-sixth round
//     (0.785/0.939), lost at 1.132/0.948 (1.013/0.969 before the
//     twenty-sixth round, when the eighteenth round's diagnosis found it
//     on one fixed point, p90/3m, from start to end, at the vertex of the
//     database's HPA curve; now it leaves p90 with no hold on day 2.26,
//     on two days of evidence, for p95/15m and then p98/1m, points that
//     lose when run alone, and runs p98/1m for eight days: not a mix, the
//     twenty-ninth round found; the switch rests on the first two days,
//     before any surge, and refusing such early switches fixes it but
//     costs daily-sales, where the first day's miss does foretell the
//     daily sale, as much as it gains: the thirtieth round; leaving
//     unscored only the hours the policy decides on default headroom
//     fixes it with the shop unmoved, but daily-sales-s24 then loses:
//     the thirty-first; counted in missed ticks, the early switches are
//     the strong ones, not the weak: the thirty-second; s80's, s95's and
//     daily-sales-s24's paying switch all clear the margin only with the
//     day in progress counted: the thirty-third; the thirty-sixth round's
//     change to the calibration, not to the selector, fixed it, and
//     surges-s95's too, 1.166/0.972 → 0.719/0.919);
//   - the batch family run as a three-tier app, which is no suite
//     configuration (`GOMAXPROCS=1 go run ./services/decider simulate
//     --synthetic --families batch --tier-families batch --seeds
//     1,2,11,12,13,14 --shop-seeds none --workers 1`): none of six
//     databases since the forty-first round (s1 0.896/0.858, s2
//     0.949/0.861, s11 0.940/0.943, s12 0.966/0.877, s13 0.916/0.850,
//     s14 0.972/0.912, at 1.45–1.77 of the oracle); two of six from the
//     thirty-sixth round to the fortieth, s12 1.032/0.915 and s14
//     1.030/0.929 (the others 0.924/0.897, 0.983/0.899, 0.976/0.936,
//     0.942/0.870, at 1.27–1.58 of the oracle); all six before it
//     (under× 1.046–1.161, unserved× 0.700–0.867, at 1.36–1.77 of the
//     oracle; 1.028–1.144 and 0.685–0.860 before the twenty-sixth round).
//     The twenty-seventh round found the minutes lost on the jobs'
//     plateaus, not at their onsets: the selector never leaves p90
//     there, because its upper quantiles, whose lowest level bins learn
//     a job's onset, keep a job's replicas standing at the background
//     and cost more than HPA's costliest shadow; its five candidates were
//     rejected at the gate. The thirty-fourth found that with the jumps
//     cut from the level bins' learning and the plateau bin learned over
//     the whole lead window, p98 wins on all six at fixed points, but the
//     days margin holds the selector at p90/1m until day 6–9 or to the
//     end, and the cut, even confined to jumps the seasonal memory had
//     not seen, makes two daily-sales databases lose. The thirty-sixth
//     cut only at jumps of a level bin's width (×2, the bins' spacing):
//     most cuts on a smooth load had been steps of a few per cent across
//     a bin's edge. Its gate failed on one item (shop-s23's database
//     0.688/0.955 → 0.691/0.960, a relative figure that moved with 0.2 %
//     more cost while the absolute misses fell); the lead judged it once
//     anyway on unused seeds, saying so beforehand, and kept it: no row
//     newly lost and the databases' mean worse-of-two fell 0.9003 →
//     0.8524 (batch, surges and daily-sales 87–90 as three-tier apps with
//     shop 77–80, phased and not); the two batch databases still losing
//     took the costlier point latest (day 7–10). The forty-first round
//     found why: every point misses on every day (a job's onset, which no
//     point meets), so the paired-days margin sits at its floor while p98,
//     which wins alone on all of them, is rated ahead day after day. A
//     costlier switch may now also be taken on the days won (a 10 %
//     better ratio and more whole days won than chance explains): s12,
//     s14 and phased s110 stop losing; phased s108 still loses
//     (1.035/0.920 → 1.026/0.921), its p98 costlier than HPA's costliest
//     shadow until day 10.3 after three young days' costs. Its gate
//     failed on that one clause only (every clause against harm passed:
//     no development or suite row moved but the long-lead tiers of batch
//     and daily-sales, the 84 development databases' mean 0.75982 →
//     0.75481, losing 3 → 1); the lead judged it once anyway on unused
//     seeds, saying so beforehand, and kept it: over batch, daily-sales
//     and surges 131–134 as three-tier apps with shop 125–128, phased and
//     not (120 rows), no row newly loses, the mean worse-of-two falls
//     0.6862 → 0.6837 and the losing rows 6 → 2 (batch databases; unphased
//     s133 1.050 → 1.015 and phased s132 1.018, unmoved, still lose).
//     The forty-second round found phased s132 and s108 held by the cost
//     ceiling (p98 dearer than HPA's dearest shadow, its young first days
//     kept in the cost rate) and s133 by p98's lead, under 10 % until day
//     11; its rule, the ceiling read on the costs since the warm-up day
//     too, fixed s132 only and was rejected at its gate.
//
// The twenty-sixth round fixed the two databases that lost before it on
// development seeds (shop-s18, 0.787/1.003 → 0.726/0.989, and
// daily-sales-s21 unphased, 1.004/0.171 → 0.702/0.175) and, judged once
// on shop 71–76 and daily-sales 43–46, lowered the databases' mean
// worse-of-two from 0.899 to 0.844; on seeds seen before it, every shop
// database of seeds 1–24 is better (mean 0.959 → 0.934, losing 1 → 0),
// daily-sales unphased loses on none of 1–24 (3 before) and phased on one
// (3 before), and the surges databases of seeds 1–16 average 0.922
// against 0.935 (12 of 16 better; s1, s13 and s16 worse, winning).
//
// The independent check's target on bursty social traffic, 0.5× HPA on
// both figures, is not met: social-5m is at 0.412/0.577 and 0.611/0.734
// (at every 0.01, since the sixty-third round's level over the load's own
// samples). Before that round only one seed seen, 63, was within 0.5× on
// both with the policy as shipped (0.188/0.375, the eleventh round); with
// it 6 of the 34 seeds run are (s13, s53, s61, s63, s104 and the judging's
// s155, 0.299/0.418). The rounds argue that a
// causal controller cannot reach it at this cost on most seeds. The eighth
// round built the family (counts of a 5-minute bucket, a usual load under
// one replica, so any second replica stood for noise doubles the cost) and
// fixed what was wrong (the outage hold and the lowest level bin). The
// eleventh round split the misses by the generator's events: the onsets of
// the news bursts and of the large event, which only standing headroom
// meets and which cost us what they cost HPA, hold 0.14–0.45 of HPA's
// unserved demand at our cost on their own, so 0.5× needs nearly every
// other unserved unit gone, and serving every scheduled post at no cost
// would bring under-provisioned minutes within 0.5× on all twelve seeds
// but unserved demand on five only. The fourth round found the same for
// random bursts (their onsets alone leave the bursty family at 0.75× and
// 0.71×). What a causal change can still win is the posts'
// under-provisioned minutes; the eleventh round's three changes to the
// jump and hour-phase guards gained on the development seeds and did not
// carry over to the judging seeds, and two of them together failed the
// twenty-first round's gate on ClarkNet's cv row.
//
// Requirement 4 of issue 13 expects the tiers behind the front to beat HPA
// by more than the front does when a forecast web surge is propagated to
// them. It holds on unserved demand where the front's surges are forecast,
// and not on under-provisioned minutes. The shop cannot show it: its
// surges are unscheduled, and its tiers move in the same minute (cache
// operations and database queries are the same minute's web requests times
// a ratio), so no tier sees a surge before the database does. Nothing
// forecasts the surges family's weekly matches either (the fifth round),
// and its database beats HPA by less than its web on both figures
// (0.966/0.933 and 0.659/0.885 against the web's 0.078/0.606 and
// 0.054/0.554; 0.934 and 0.884 against 0.747 and 0.748 unserved before
// the thirty-fifth round). Behind the daily-sales front
// (OptionalFamilies: one flash sale a day at one minute of the day, of a
// size drawn each day; `--families daily-sales --tier-families
// daily-sales`, outside the default suite) the rise bin (the fifteenth
// round) makes the database beat HPA by more than the web on unserved
// demand on every seed on which both were printed (0.093–0.186 of HPA's
// unserved demand against the web's 0.184–0.351 on the first ten seeds),
// where before it did on two of ten. Its under-provisioned minutes do not:
// they are misses by a replica at the edge, on climbs, while the selector
// runs its cheap start, p90/3m, for the first 8–12 days (the twentieth,
// twenty-third and twenty-fourth rounds), and since the thirteenth and
// fourteenth rounds' evidence margin the database's under× beats the web's
// on none of the first ten seeds (still so after the twenty-fourth round).
//
// Seeds: a round develops on seeds already seen and judges once on seeds
// nobody has used, which then become development seeds. Spent (most for
// some families only): synthetic 1–18, 21–24, 31, 32, 41–44, 51–54, 61–64
// and 71–86 (85 and 86 by the surges family, in the twenty-fourth round's
// judging; the twenty-fifth round's text calls them unused, as they are
// for the other families); the shop's 1–24, 31–34 and 41–76 (71–76 in the
// twenty-sixth round's judging); daily-sales 1, 2, 11–14, 21–24 and 31–46
// (43–46 the same); synthetic 91, 92 and the shop's 81–86 (the
// thirty-fifth round's judging), 87–90 with daily-sales, surges and batch
// as three-tier apps and the shop's 77–80 (the thirty-sixth's), synthetic
// 101, 102 and the shop's 91–96 (the thirty-seventh's), synthetic 103,
// 104 and the shop's 97–100 (the thirty-ninth's), synthetic 105, 106
// and the shop's 101–104, then 107–110 with daily-sales, surges and
// batch as three-tier apps (the fortieth's), 131–134 with batch,
// daily-sales and surges as three-tier apps and the shop's 125–128 (the
// forty-first's), 135–138 and the shop's 129–134, phased and not (the
// forty-eighth's), 139–142 and the shop's 135–140, phased and not (the
// fifty-second's), 143–146 and the shop's 141–146, phased and not (the
// fifty-fourth's), 147–150 and the shop's 147–152, phased and not (the
// fifty-seventh's), 151–154 and the shop's 153–156, phased and not (the
// sixtieth's), 155–158 with social-5m, bursty and bursty-hourly (the
// sixty-third's), 159–162 with the same three families (the
// sixty-fourth's); seen after a
// judging for a wider view, never judged on: daily-sales 3–24 and surges
// 1–16 as three-tier apps, batch 6, 8 and 9 (the thirty-fourth round's
// pre-screen); run once as a check of the shipped policy, below: synthetic
// 93–100 and 111–130, shop 87–90 and 105–124. Unused: synthetic 87–90,
// 155–158 and 159–162 for the families not named above, 163 and above,
// the shop's 157 and above, daily-sales 47–106 and 111 and above.
//
// Unseen seeds, run once with the shipped policy (a check, not a round;
// no setting was chosen on them): `GOMAXPROCS=1 go run ./services/decider
// simulate --synthetic --seeds 93,94,95,96 --shop-seeds 87,88 --workers
// 1`, every default family (the suite's synthetic rows) and the shop and
// surges three-tier apps, 58 rows. One loses: surges-s95's database,
// 1.166/0.972 at 1.094 of the oracle. Its web and cache win (0.069/0.606).
// With --breakdown it runs p90/1m for 19.16 days and p98/3m for 1.84:
// a costlier switch at day 2.80, back at 4.64. Run alone (--families
// surges --tier-families surges --seeds 95 --shop-seeds none --skill=off
// --short-stabilization=0s --quantile 0.9 --stabilization 1m), p90/1m
// wins, at 0.750/0.920. That is surges-s80's mechanism (the
// thirtieth round): an early switch on the first days' ratings, before
// the surges have taught anything. The other rows: smooth-growth
// 0.004–0.006 under×, 0.002–0.007 unserved×; surges fronts 0.069–0.763
// and 0.606–0.810; jumps 0.038–0.054 and 0.376–0.542; batch 0.703–0.778
// and 0.799–0.877; diurnal-low 0.242–0.399 and 0.237–0.400;
// diurnal-high 0.004–0.006 and 0.008–0.037; drift 0.014–0.029 and
// 0.004–0.009; bursty 0.775–0.809 and 0.772–0.837; bursty-hourly
// 0.755–0.834 and 0.681–0.774; social-5m s93 0.421/0.466 (within the
// independent check's 0.5× on both), s94 0.566/0.710, s95 0.546/0.714,
// s96 0.695/0.748; the shop's tiers 0.877–0.915 and 0.914–0.929 (web and
// cache), databases 0.640/0.947 and 0.729/0.921; the surges databases
// s93, s94, s96 0.696/0.914, 0.828/0.922, 0.761/0.891. Cost ÷ oracle
// 1.021–1.821. Run again after the thirty-sixth round (which moves only
// databases), none of the 58 loses: surges-s95's database 0.719/0.919,
// the other surges databases 0.672/0.915, 0.811/0.916 and 0.716/0.887,
// the shop's 0.644/0.949 and 0.737/0.927. After the thirty-seventh (the
// 3-minute tiers' start) none loses either; social-5m s93–s96 are then
// 0.394/0.457, 0.578/0.647, 0.546/0.714 and 0.817/0.841, the shop's
// fronts 0.936/0.898 and 0.916/0.948.
//
// A second such check, `GOMAXPROCS=1 go run ./services/decider simulate
// --synthetic --seeds 97,98,99,100 --shop-seeds 89,90 --workers 1` (58
// rows, about two minutes), loses on two: shop-s89's web and cache, the
// 3-minute tiers, 1.018/0.984 at 1.118 of the oracle (shop-s90's are
// 0.988/0.982). With --breakdown (`--seeds none --shop-seeds 89`) the
// web runs p95/15m for 3.45 days, then p95/3m for 17.55, and loses on
// steady and falling minutes beside HPA at 0.85: the 15-minute
// scale-down window held over the first days, the subject of the
// twenty-fifth and twenty-eighth rounds (the shop's 3-minute tiers on
// their first days, losing on development seeds 64, 67 and 68), here
// seen on a seed nobody had used; the thirty-fifth and thirty-seventh
// rounds fixed it (0.937/0.971, shop-s90's front 0.897/0.937; social-5m
// s97–s100 then 0.605/0.748, 0.473/0.666, 0.405/0.639 and 0.555/0.596).
// Every
// database wins (shop 0.651/0.923 and 0.637/0.902; surges 0.729–0.773
// and 0.913–0.954; after the thirty-sixth round shop 0.656/0.927 and
// 0.636/0.904, surges 0.713–0.733 and 0.915–0.951). The other rows: smooth-growth 0.003–0.006 under×,
// 0.004–0.007 unserved×; surges fronts 0.057–0.720 and 0.577–0.793;
// jumps 0.032–0.042 and 0.381–0.489; batch 0.710–0.739 and
// 0.823–0.851; diurnal-low 0.224–0.328 and 0.251–0.336; diurnal-high
// 0.005 and 0.007–0.027; drift 0.017–0.025 and 0.006–0.011; bursty
// 0.749–0.822 and 0.779–0.792; bursty-hourly 0.704–0.777 and
// 0.646–0.725; social-5m s97 0.617/0.711, s98 0.475/0.669, s99
// 0.332/0.598, s100 0.560/0.615 (none within 0.5× on both). Cost ÷
// oracle 1.022–1.727. Over the two checks, 3 of 116 rows lose, all by
// a mechanism the rounds had found on development seeds; with the policy
// as shipped after the thirty-seventh round, none.
//
// The thirty-ninth round's judging (`GOMAXPROCS=1 go run
// ./services/decider simulate --synthetic --seeds 103,104 --shop-seeds
// 97,98,99,100 --workers 1`, 38 rows, run with main before its change and
// after it) found one row losing on seeds nobody had used, the same
// before and after: shop-s98's database, 0.704/1.013 at 1.096 of the
// oracle (its unserved demand 1.2178 % against HPA's 1.2024 % at our
// cost). A diagnosis after that round (EXPERIMENTS.md) found it on one
// point, p90/1m, for all 21 days, and the loss in one spike ten minutes
// after a burst: HPA's tolerance band kept the replicas the burst had
// started booting, our point without a hold cancelled them, and the
// spike cost us 7,600 load-minutes more than HPA (0.969 without them);
// the mechanism of the shop's spikes inside the database's window, met
// by chance, which letting booting replicas finish would buy back at
// 4.4–4.6 % more replica-minutes. The other shop databases of that
// command win (0.730/0.943, 0.662/0.906, 0.679/0.946), as do the surges
// databases (0.785/0.912, 0.771/0.960); social-5m s103 0.579/0.680, s104
// 0.516/0.561.
//
// A third check, larger, after the fortieth round (the policy as shipped
// from the thirty-ninth round to the fortieth; rerun after the
// forty-first round's change to the long-lead tiers' switching, both
// outputs are the same byte for byte: none of these databases switches
// on the days won; synthetic 111–130 and the shop's 105–124, nobody's
// before): `GOMAXPROCS=1 go run
// ./services/decider simulate
// --synthetic --seeds 111,...,130 --shop-seeds 105,...,124 --workers 1`,
// every default family and the shop and surges three-tier apps, 320
// rows, about 8.5 minutes on one core, and again with --synth-phase. Unphased 2 of 320
// lose, phased 3 (the shop does not move with --synth-phase):
//
//   - shop-s105's web and cache, 1.012/0.920 at 1.122 of the oracle, on
//     one point (p95/3m) for all 21 days, with no switch; with
//     --breakdown beside HPA at 0.85 the loss is on steady and falling
//     minutes (47 and 95 under-provisioned against 42 and 82), where the
//     3-minute scale-down window lets replicas go that the next bump
//     wants; the other nineteen shops' fronts win (0.869–0.978);
//   - phased surges-s111's database, 1.054/0.975 at 1.089: p90/1m to
//     p95/3m at day 3.44, back at 18.56, a costlier switch held 15 days.
//
// Rerun on the finer curve (HPA at every 0.01, the table's measure), 5 of
// 320 lose unphased and 5 phased: shop-s105's web and cache (1.014/0.921)
// and shop-s107's (1.024/0.979), which won at every 0.05, with
// surges-s115's database unphased (1.085/0.931) and surges-s111's phased
// (1.043/0.970); the shop's twenty fronts average 0.965 (0.943 at every
// 0.05). The ranges below are at every 0.05.
//
// The ranges, unphased (phased): smooth-growth 0.003–0.006 under×,
// 0.003–0.010 unserved× (0.004–0.012); surges fronts 0.052–0.097 and
// 0.443–0.646 (0.045–0.097, 0.484–0.662); jumps 0.029–0.075 and
// 0.323–0.590 (0.030–0.068, 0.342–0.616); batch 0.682–0.747 and
// 0.778–0.853 (0.677–0.786, 0.764–0.873); diurnal-low 0.218–0.447 and
// 0.201–0.602 (0.237–0.455, 0.222–0.659); diurnal-high 0.002–0.006 and
// 0.001–0.025; drift 0.015–0.041 and 0.004–0.015; bursty 0.730–0.853 and
// 0.742–0.867 (0.703–0.863, 0.706–0.871); bursty-hourly 0.723–0.806 and
// 0.678–0.811; social-5m 0.300–0.764 and 0.429–0.851, 1 of 20 within the
// independent check's 0.5× on both (phased 0.352–0.702 and 0.426–0.875,
// 2 of 20); the shop's databases 0.597–0.784 and 0.877–0.964; the
// surges databases 0.655–0.875 and 0.887–0.949 (0.682–1.054,
// 0.865–0.975). Cost ÷ oracle 1.012–1.754 (1.012–1.822). So on unseen
// seeds of the suite's own families the policy loses on 2 and 3 rows of
// 320, each by a few per cent, and the bursty social-media family, the
// independent check's second trace, stays above its 0.5× on most
// seeds.
//
// Caveat: the skill selector's own constants (a week's memory, a 10 %
// switching margin, HPA shadows at 0.4–0.9), the seasonal guard's two
// days, the hour-phase guard's constants (8 of 24 hours, ±2 minutes, 5
// typical changes, 3 in 10 of its expectations met), the outage hold's
// flat-line test (5 ticks under 5 % of the replicas' capacity), the
// forecast weight's 3-minute reference lead, the ramp guard's 3-minute
// carry (RampLead, the front's lead) and the jump bin's 3-minute window
// (JumpLead, the same value) and the skill selector's memory (a week of
// 4-minute lead windows, scaled to longer ones) and the rise bin's 30 %
// and five typical changes were set while looking at this suite, and only
// the shop, the surges app and the optional daily-sales app have a
// 10-minute tier; the cross-validation covers the choice within the grid
// only, and the hour-phase guard is on in every setting of the grid but
// the previous release's, so the cv column does not test it. The
// bursty-hourly family was written for the hour-phase guard and is no
// evidence about real periodic traffic.
//
// # Experiments
//
// Every round that chose or rejected the policy's settings (the numbered
// rounds, the unnumbered jump guard at 4 and the finer HPA curve) is in
// EXPERIMENTS.md in this directory: what each tried, every kept and rejected candidate
// with its figures and exact commands, the gate, the seeds it was judged
// on, and what was left to try. Its index gives each round's aim, outcome,
// judging seeds and commit. A new round is written up there; this
// documentation changes only with what stands.
package scaleeval
