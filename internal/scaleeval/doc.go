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
// (targets 0.40–0.95, run on that row's load with that row's lead time)
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
// nearest ours.
//
// Summary with the shipped configuration (DefaultOptions: p95 with the
// skill selector over p90/p95/p98 × a 15- or 3-minute scale-down window,
// its rates over a week of a 3-minute tier's lead windows and as many of
// a longer-lead tier's,
// the forecast weight stretched for longer leads, the jump guard at 3
// typical changes with its bin learned over at most 3 minutes past the
// tick and plateaus the base lags calibrated apart (the tenth round), the
// ramp guard carried on for at most 3 minutes past
// the tick and to the tiers behind, the rise bin (forecast surges
// calibrated apart, the fifteenth round), the seasonal and hour-phase guards
// and the 6-hour outage hold; the decaying-jump bin off), DIR holding the NASA
// and ClarkNet minute traces, from
// `GOMAXPROCS=1 go run ./services/decider simulate --suite ../shared/data/traces --cv --workers 1`
// (ratios to HPA at equal cost; in-sample | leave-one-family-out over the
// nine settings of SuiteGrid, jump guard 3 or 4 × outage hold off or 6 h ×
// seasonal guard off or on, and the previous release's setting):
//
//	trace                under×  unserved×  cost÷oracle | cv under×  cv unserved×
//	clarknet_1m           0.184      0.121         1.56 |     0.191         0.235
//	nasa_1m               0.089      0.066         1.81 |     0.096         0.076
//	smooth-growth-s1      0.003      0.007         1.02 |     0.003         0.007
//	smooth-growth-s2      0.004      0.007         1.02 |     0.004         0.007
//	surges-s1             0.737      0.747         1.08 |     0.726         0.761
//	surges-s2             0.667      0.748         1.06 |     0.466         0.738
//	jumps-s1              0.025      0.392         1.03 |     0.025         0.393
//	jumps-s2              0.045      0.511         1.04 |     0.045         0.512
//	batch-s1              0.687      0.797         1.49 |     0.687         0.798
//	batch-s2              0.738      0.834         1.67 |     0.739         0.833
//	diurnal-low-s1        0.250      0.256         1.19 |     0.250         0.256
//	diurnal-low-s2        0.267      0.293         1.16 |     0.267         0.293
//	diurnal-high-s1       0.005      0.006         1.03 |     0.005         0.007
//	diurnal-high-s2       0.004      0.012         1.03 |     0.004         0.012
//	drift-s1              0.014      0.006         1.05 |     0.015         0.006
//	drift-s2              0.019      0.009         1.05 |     0.023         0.012
//	bursty-s1             0.802      0.797         1.10 |     0.794         0.796
//	bursty-s2             0.802      0.790         1.13 |     0.805         0.795
//	bursty-hourly-s1      0.750      0.667         1.14 |     0.752         0.664
//	bursty-hourly-s2      0.725      0.704         1.14 |     0.716         0.701
//	social-5m-s1          0.507      0.638         1.67 |     0.507         0.638
//	social-5m-s2          0.674      0.745         1.56 |     0.674         0.745
//	shop-s1 web (3m)      0.951      0.905         1.12 |     0.946         0.943
//	shop-s1 cache (3m)    0.951      0.905         1.12 |     0.946         0.943
//	shop-s1 db (10m)      0.768      0.951         1.11 |     0.763         0.952
//	shop-s2 web (3m)      0.880      0.936         1.08 |     0.868         0.951
//	shop-s2 cache (3m)    0.880      0.936         1.08 |     0.868         0.951
//	shop-s2 db (10m)      0.717      0.966         1.11 |     0.703         0.966
//	surges-s1 web (3m)    0.737      0.747         1.08 |     0.726         0.761
//	surges-s1 cache (3m)  0.737      0.747         1.08 |     0.726         0.761
//	surges-s1 db (10m)    0.791      0.926         1.08 |     0.861         0.929
//	surges-s2 web (3m)    0.667      0.748         1.06 |     0.466         0.738
//	surges-s2 cache (3m)  0.667      0.748         1.06 |     0.466         0.738
//	surges-s2 db (10m)    0.747      0.901         1.08 |     0.782         0.904
//
// The table is after the sixteenth round (below), which moved only the
// surges-s1 database (0.912/0.934 at 1.11, cv 0.935/0.933 before), and
// the fifteenth round (the rise bin, below), which
// moved only the rows of batch (in-sample 0.697/0.814 at 1.45 and
// 0.721/0.836 at 1.42 before), bursty-s2 and bursty-hourly-s1 (by
// 0.001), the shop-s1 database's cv row (0.762/0.951 before) and
// social-5m's cv rows (0.555/0.656 and 0.645/0.700 before: its cv
// choice is now the shipped setting, the jump guard at 3, where it was
// 4); the rest of this paragraph is from the tenth round (the jump
// guard's plateau bin, below). In it the cv choice was the jump guard at 4 for every row
// (ClarkNet's without the outage hold), and the whole suite chooses it
// too: the worst rows of the shipped setting and of the jump guard at 4
// (both the shop's seed-2 database, 0.966) are within the near tie of
// the least (0.960, the seasonal guard off), and the latter's mean log
// loss is the smallest. ClarkNet's cv row is within its goal (0.191/0.235;
// it was 0.216/0.250 before that round); NASA's cv row moved from
// 0.089/0.065 to 0.096/0.076 with the choice. Shipping the guard at 4,
// the whole suite's choice, was tried and reverted: in-sample it gave
// ClarkNet 0.152/0.108, NASA 0.096/0.076, the surges-s2 web 0.466/0.738
// and no row losing, but on seeds no one had looked at (`decider simulate
// --synthetic --seeds 41,42,43,44 --shop-seeds 21,22,23,24`, run once
// with the tenth round's code at each setting) it was worse than 3 on 29
// of 64 rows and better on 21, and 5 rows lost (the shop-s22 web, cache
// and database, 0.985/1.005 and 0.993/1.010; the shop-s23 database,
// 0.980/1.058; the surges-s43 database, 1.047/0.937) against 1 at 3 (the
// shop-s23 database, 1.243/1.106). The two are within the near tie on
// the suite, and the tie-break by mean log loss is not evidence enough
// to move the shipped setting. The rest of this paragraph and the next
// are from before the tenth round.
//
// The cv choice was the shipped setting for every row but ClarkNet's
// (chosen on the other rows: the outage hold off, since its only other
// effect is 1.3 % more cost on NASA, whose quality is far inside its goal
// and whose loss is its cost) and the surges family's (the jump guard at
// 4: its worst loss on the other rows is within the near tie of the
// least, and its mean log loss, which NASA's rows move, is the smaller);
// the whole suite chooses the shipped setting. Before the surges family's three-tier rows the shop's cv chose
// the jump guard at 4 (0.997/0.962 and 0.906/0.988 on the web, 0.814/0.968
// and 0.722/0.978 on the database); until the seventh round (below) the
// surges database's loss, worst in every setting of the grid (1.084 to
// 1.383), decided the choice on the other families. Now the shipped
// setting's worst row over the whole suite is the shop's seed-1 web
// (0.989 of its goal); only the previous release's setting loses to HPA
// anywhere (the surges-s1 database, 1.090), and the setting without the
// outage hold but with the seasonal guard misses ClarkNet's goal by
// 0.001, as before.
// These figures are the live services' (the stages, above).
//
// Where it stands: no row of the suite loses to HPA at equal cost,
// in-sample or cross-validated. Off the suite, six rows lose with the
// policy as shipped after the twenty-fourth round (below; the
// twenty-fifth tried three fixes for the shop's four and kept none): the
// shop-s67 web and cache (0.926/1.004) and the shop-s68 web and cache
// (1.034/0.978), which spend their second day on a 15-minute window
// chosen on one day of evidence; the shop-s18 database (0.787/1.003);
// and the daily-sales-s21 database, unphased (1.004/0.171). On unseen
// seeds the surges-s13 database, which lost
// (1.445/1.013; the seventh round), won in the ninth round
// (0.935/0.980: the skill selector's memory, below), lost again at
// 37a1b28 (1.471/1.014) and wins since the thirteenth and fourteenth
// rounds (0.972/0.985: a costlier switch needs evidence); the shop's
// judging seeds 11-14 win on every row since the tenth round (the
// jump guard's plateau bin), where three of twelve lost before; and
// the shop's seed-8 database, first run in the ninth round's judging,
// lost on unserved demand (1.010 before that round's change, 1.011
// after; 0.787/1.001 after the tenth round, still a loss). Both rounds together,
// judged once on seeds no one had developed on (`GOMAXPROCS=1 go run
// ./services/decider simulate --synthetic --seeds 41,42,43,44
// --shop-seeds 21,22,23,24 --workers 1`, at a9d30f0 and after the
// tenth round): 30 of 64 rows better on their worse figure, 18 worse,
// 16 the same; losing rows 4 → 1 (the shop-s22 web, cache and
// database and the shop-s23 database before; after, only the shop-s23
// database, 1.148/1.115 → 1.243/1.106 at 1.24 of the oracle: the
// shop's 10-minute database is where the policy still loses on unseen
// seeds; the twelfth round, below, finds it in the skill selector's
// first choices). The rest of this paragraph is from before those
// rounds.
// The surges-s1 app's database lost on
// under-provisioned minutes (1.084) until the seventh round (below):
// its jump bin, learned over the database's whole 11-minute window,
// gave small rises inside a surge the headroom of a surge's onset. The
// section on the tiers behind a forecastable front, below, says why
// that tier is where the policy stands closest to HPA. Every row wins
// on both figures, and every cost is within 1.8× the oracle's (NASA's;
// social-5m, whose usual load is under one replica, at 1.67 and 1.51
// wins by 0.50–0.70, short of the independent check's 0.5× on social
// traffic: the eighth round; the tenth says why a causal controller
// cannot reach it there on most seeds at this cost). NASA and ClarkNet are within 0.25× on both
// figures in-sample; cross-validated,
// ClarkNet's unserved demand is at 0.250 (the setting without the outage
// hold; 1.001 of the goal unrounded, so still flagged), just above the
// goal. About half of ClarkNet's unserved demand without the hold is one
// event: the load flat-lines at 0.01 for two hours
// (an outage) and comes back at once, and a controller that scaled down
// in between cannot boot in time; the outage hold keeps the replicas
// through such a flat line (NASA has the same at night and in its 37-hour
// gap). With ClarkNet left out the cross-validation has no reason to keep
// the hold: on every other row it is exactly neutral but for NASA's cost
// (1.3 % more), so it is left off. Without the hold ClarkNet is at
// 0.213/0.249 with the seasonal guard off and 0.216/0.250 with it on (the
// guard adds 0.2 % of cost there and moves neither our under-provisioned
// minutes nor our unserved demand, 0.321 % and 0.0548 %), and the other
// families choose it on (bursty). The 10-minute database tier gains from the lead-stretched forecast
// weight (seed 2 was 0.956/1.010 with the 3-minute weight) and from
// carrying a ramp on for at most 3 minutes (RampLead; carried over its
// whole 11-minute window it bought, on surges of a few minutes, replicas
// for a ramp that never came: 0.824/0.969 and 0.773/0.987 before, 2 to 5
// minutes give the same) and from learning its jump bin over at most 3
// minutes past the tick (JumpLead, the seventh round, below): it beats
// HPA by more than the web tier on
// under-provisioned minutes (0.78 and 0.72 against 0.99 and 0.90) but not
// on unserved demand (0.96 and 0.98 against 0.93 and 0.97). What holds it:
// the shop's tiers move in the same minute (cache operations and database
// queries are the same minute's web requests times a ratio, package
// shop), so no tier sees a surge before the database does, and the web
// forecast, propagated to it since the first round, knows nothing of the
// shop's unscheduled spikes and bursts. Split by the shop's own incident
// schedule (seed 1, HPA at the target whose cost is nearest ours, 0.80),
// the database's 1.244 % unserved is 0.978 in the first 13 minutes of a
// spike (HPA 0.976), 0.237 in bursts (HPA 0.219), 0.022 later in spikes
// (HPA 0.027) and 0.007 elsewhere (HPA 0.013): a spike ramps over 3 to 6
// minutes and a burst lasts 3 to 10, both inside the database's 11-minute
// window, so only replicas standing before them serve, and HPA's curve
// buys those at the same price. The web tier's reaction lands 4 minutes
// after the decision, inside a spike's ramp (0.291 against HPA's 0.322
// in the same 13 minutes). Carrying the web's ramp to the database
// (UpstreamSurges, on) therefore changes the shop next to nothing (seed 2
// by 0.002; it helps where a back tier lags the front, the policy's unit
// test); the cache's load is the web's times four, so its row equals the
// web's. Smooth heavy traffic, growth, drifts, diurnal
// patterns and unforecastable jumps are far better than HPA (its 10 %
// tolerance band costs it there); scheduled surges are better by about
// 30 % thanks to the ramp guard; on/off batch load by 16–30 %; the bursty
// family by about 17 %, all of it from its two daily content drops, which
// the seasonal guard meets (on those minutes we miss 97 against HPA's
// 190, HPA at the target nearest our cost, 0.85, seed 1).
//
// Random bursts cannot be beaten by reacting better under this contract.
// A decision at the end of minute t serves from t+4, so the first four
// minutes of a burst (its onset minute and the three after) are served
// only by the replicas that stood before it. Splitting bursty-s1's scored
// minutes by minutes since the last random burst's onset (the generator's
// own onsets), those four minutes hold 1.02 % of the demand unserved for
// us and 0.98 % for HPA, out of 1.25 % and 1.51 % in all. The fifth
// minute (onset + 4) is the first a reaction reaches, and the jump guard
// already wins it (20 under-provisioned minutes against HPA's 46, 0.03 %
// against 0.09 % of the demand unserved); from the sixth on, both serve
// all but 0.002 %. So 0.5× on random bursts would need less unserved
// demand than the onset minutes alone hold at this cost, and only standing
// headroom meets them, which HPA's curve buys at the same price. What is
// left: bursts with a recurring phase. The bursty-hourly family has
// bursts near the top of 6 in 10 daytime hours: 0.883/0.853 and
// 0.834/0.851 without the hour-phase guard, 0.831/0.792 and 0.787/0.811
// with it as first shipped (4 of the last 8 hours, acting while half its
// expectations came true), 0.766/0.677 and 0.740/0.721 with it reading a
// day of hours (8 of the last 24, 3 in 10; the fourth round, below).
// Elsewhere the guard is neutral but for batch-s1's cost (1.46 of the
// oracle against 1.49 as first shipped) and the shop's seed-1 database
// (0.809/0.965 against 0.803/0.964).
// Calibrating the jumped ticks of a decaying burst apart
// (policy.AppConfig.JumpFallBin, --jump-fall-bin) takes bursty to
// 0.815/0.804 and 0.811/0.792 but makes the shop's seed-1 web tier lose
// (1.013 under-provisioned minutes) and the surges' cv worse (0.782/0.762
// on seed 2), so it is off.
//
// The fourth round looked for where the bursty families' loss is, burst
// by burst (the generators' own onsets; HPA at the target whose cost is
// nearest ours, 0.85). On bursty-s1 (s2), of our 1.245 % (0.994 %)
// unserved, the four onset minutes of the random bursts hold 1.132 %
// (0.876 %) against HPA's 1.094 % (0.843 %) of its 1.515 % (1.241 %);
// the content drops' onsets 0.084 % (0.098 %) against 0.322 % (0.325 %),
// their later minutes and the random bursts' 0.03 % (0.02 %) against
// 0.10 % (0.07 %), and the rest 0.002 % (0.004 %) against 0.000 %
// (0.001 %). At a random burst's onset we and HPA stand with the same
// capacity over the recent level (1.37–1.43 against 1.38–1.47 in every
// magnitude class, and within 0.08 of each other in every three hours of
// the day), and the onset losses of each class and each three hours agree
// within 20 %: the bursts come at any minute and multiply the level, so a
// headroom proportional to the level, which both hold, is already the
// cheapest for unserved demand, and moving headroom between hours has
// nothing to move it by (night hours hold 1.7× the demand's capacity for
// both, from whole replicas, and 0.02–0.03 % of the demand unserved). Even
// with every other minute served, the random onsets alone would leave
// bursty at 0.75× and 0.71× HPA (0.72× and 0.68× at HPA's own onset
// loss): 0.5× is out of reach on this family under this contract at this
// cost. On bursty-hourly (before this round's change) the recurring
// bursts' onsets held 1.49 % (1.46 %) against HPA's 1.91 % (1.83 %),
// and the random ones 0.49 % (0.47 %) against 0.47 % (0.44 %); the
// recurring onsets are what a phase guard can reach. Reading a day of
// hours (8 of 24) instead of the last eight (4 of 8) lets yesterday's
// daytime hours vouch for this morning's first bursts; 6 or 7 of 24 gave
// about the same (0.789/0.718 and 0.740/0.747 for 6), 9 and 11 less
// (0.813/0.745, 0.861/0.799 on seed 1), 3 of 8 0.817/0.774 and
// 0.793/0.820 at 1.155 of the oracle on seed 2, 5 of 12 0.831/0.793 and
// 0.786/0.831. At half its expectations met, 8 of 24 kept the guard aside for
// hours after an hour without its burst (each tick whose window the
// recurring rise reaches expects it, and a burst jittered by minutes
// meets only some of them): met before 8 of 18 hours of the policy's
// hourly unit test, where 4 of 8 met 13; at 3 in 10 it meets them again,
// and the suite went from 0.795/0.724 and 0.763/0.766 (8 of 24 at half)
// to 0.766/0.677 and 0.740/0.721. On seeds 3–8, which no setting was
// chosen on, bursty-hourly's unserved ratio went from 0.782–0.833 to
// 0.686–0.780 on every seed (cost 1.127–1.139 to 1.136–1.194 of the
// oracle), bursty's did not move (seed 5 0.896/0.799 to 0.935/0.792 at
// 1.162 to 1.133 of the oracle), and seeds 3 and 4 of the other families
// moved by at most 0.003. Also tried this round, on the suite: the
// guard's jitter at ±1 minute (bursty-hourly seed 2 0.797/0.824, worse)
// and its noise test at 3 typical changes (diurnal-low-s1 0.258/0.281,
// worse, bursty-hourly 0.823/0.776 and 0.783/0.809). The daily drops of
// bursty recur in 2 of 24 hours, so the hour-phase guard leaves them to
// the seasonal guard, which meets them already (0.26× HPA there).
//
// # Tiers behind a forecastable front (the fifth round)
//
// Requirement 4 of issue 13 expects the tiers behind the front to beat HPA
// by more than the front does when a forecast web surge is propagated to
// them. The shop cannot show it (its surges are unscheduled, above), so the
// surges family (weekly matches on Wednesdays and Saturdays at one evening
// hour, and about one random launch every three days, ramping over 2–10
// minutes to 2.5–5× and holding 30–120 minutes) runs as a three-tier app
// through the same policy path. It does not hold there either. The
// database beats HPA by less than the web on unserved demand (0.929 and
// 0.909 against 0.722 and 0.713) and loses on under-provisioned minutes on
// seed 1 (1.084; seed 2 0.797 against the web's 0.673). The cache's load
// is the web's times four, so its rows equal the web's. (The fifteenth
// round, below, runs a front whose surges are forecast: daily sales.)
//
// Split by the generator's own schedule (SurgeSchedule; the first 13
// minutes of a surge against its later minutes; HPA at the target whose
// cost is nearest ours, 0.85 for the database, 0.90 for the web), in % of
// the demand, seed 1 (seed 2): the database's 1.413 (1.226) unserved is
// 0.440 (0.511) in the weekly matches' first 13 minutes against HPA's
// 0.475 (0.535), 0.011 (0.010) later in them against 0.035 (0.033), 0.909
// (0.649) in the random launches' first 13 minutes against 0.988 (0.671),
// 0.038 (0.033) later against 0.052 (0.051), and 0.015 (0.024) elsewhere
// against 0.017 (0.024). The web's 0.366 (0.294) is 0.111 (0.141) in the
// matches' onsets against 0.161 (0.189), 0.254 (0.153) in the launches'
// against 0.351 (0.228), and next to nothing elsewhere. Why:
//
//   - Nothing forecasts the weekly matches. The forecaster's median
//     before a match is flat even in the third week (seed 1's Wednesday of
//     day 16: 1447 queries/s forecast over the next hour at 19:57, the
//     load 1536; it shows 2310 only from 20:05, the bucket after the
//     start), and the seasonal guard remembers two days. So the
//     database meets a match as it meets a random launch: its first
//     reaction lands 11 minutes after it decides, after any ramp of 2–10
//     minutes has ended, and only standing replicas serve the onset, for
//     us and for HPA alike (0.93× and 0.92× of HPA's onset losses).
//   - The web's gain is its ramp guard's: a reaction lands 4 minutes after
//     the decision, inside the ramp, so on onsets no one forecasts it
//     serves part of the ramp that HPA, reacting after it, does not (0.69×
//     and 0.72× of HPA's onset losses). A 10-minute tier has no such
//     window.
//   - The database's load carries the cache's hit ratio, which wanders by
//     ±0.02 around 0.85 over tens of minutes: its misses move by ±13 %,
//     slowly. Out of surges the database runs on 2–5 replicas of 345
//     queries/s, and our calibrated p95 of the lead window's peak
//     (ratios 1.10–1.15) often sits just under a replica's edge (on day
//     3 at 05:40, 2 replicas serving 689 for a p95 of 684; the load
//     reached 690 at 05:54, before a third replica could boot): 169 such
//     minutes out of surges, against HPA's 215 at the 0.85 target. HPA's
//     curve on this load has a knee between 0.85 and 0.80 (1.66 %
//     under-provisioned minutes at 1.090 of the oracle, 0.85 % at 1.155),
//     and our 1.114 lies on that knee, so at equal cost HPA is at 1.358 %
//     to our 1.472 %. Our cost is spread as HPA's (in and around surges
//     0.247 of the oracle's, HPA 0.253 at 0.80 and 0.239 at 0.85;
//     elsewhere 0.868, HPA 0.902 and 0.851).
//
// Tried this round and rejected (in-sample, the surges family and the
// shop, `decider simulate --synthetic --families surges` with --grid):
// a weekly guard (the seasonal memory widened to a week, 20 KB a tier;
// never below the level times the rise seen over the lead window at this
// time of the week a week ago, beyond five typical changes) took the
// surges database to 1.127/0.763 and 0.988/0.765 and the web to
// 0.612/0.644 and 0.590/0.660 but made the shop's seed-1 web lose
// (1.025/0.937): a week's memory cannot tell a match from a launch or a
// spike, and expects both again; the same guard checking its own word as
// the hour-phase guard does (acting while 3 in 10 of its expectations
// came true) stood aside on the surges too (database 1.109/0.932 and
// 0.913/0.923) and cost the shop's seed-1 database 0.843/0.973. Two
// weeks' memory (a match seen in each of the last two weeks) would tell
// them apart but needs 40 KB a tier on top of the rest (issue 11's budget
// is 64 KB) and meets only the third week's two matches of these 21-day
// traces. The skill selector's candidates: p95 and p98 only
// (--skill=0.95:0.98) 1.216/0.934 on the surges-s1 database and the
// shop's databases lose (1.044, 1.015 unserved); p98 and p99.5 with the
// 15-minute window only 1.218/1.003 and 1.041/1.011; adding p99 changes no
// database row (surges-s1's web 0.657/0.699). The short scale-down window at 5 or 10 minutes instead of
// 3 (surges-s1 database 1.148/0.897 and 1.379/1.012; the shop's web
// loses). The lead-stretched forecast weight off (--forecast-lead=0s)
// 1.074/0.922 and 0.943/0.925 (seed 2 worse; the shop's databases
// 0.851/0.981 and 0.940/1.002, a loss). UpstreamSurges off: no database row of
// the surges app moves by more than 0.002 (the tiers' loads move in the
// same minute, as in the shop). Every setting of SuiteGrid loses on the
// surges-s1 database (1.084 to 1.383, the shipped setting least).
// Leaving out of the level bins' calibration the ratios of lead windows
// a jump reached (a surge's onset, which standing headroom cannot meet on
// a 10-minute lead anyway) lowered the database's cost and made it worse
// (surges-s1 1.246/0.968 at 1.078 of the oracle; the shop's seed-1 web
// loses, 1.001). The HPA guard (never below the HPA rule at a target,
// --hpa-guard) at 0.80 makes both surges databases win (0.956/0.938 and
// 0.974/0.937) but every shop row lose (the seed-1 web 0.997/1.009, the
// databases 1.015/1.040 and 0.938/1.031), at 0.85 and 0.90 the surges-s1
// database still loses (1.420, 1.237). Letting the skill selector fall
// back to HPA was tried in the sixth round (below).
//
// Seeds 3–6 of the surges app, looked at once after the above and chosen
// on by nothing: the web beats HPA on every seed (0.744/0.764,
// 0.588/0.558, 0.649/0.614, 0.646/0.680) and the database on unserved
// demand on three (0.938, 0.914, 1.026, 0.943), but its under-provisioned
// minutes lose on three of four (1.876, 0.875, 1.563, 1.222). The 10-minute
// tier of a heavy app with a slowly wandering load ratio is where this
// policy stands behind the HPA rule at equal cost.
//
// # The sixth round: the 10-minute tier behind a heavy front
//
// Nothing was kept; the table above stands (its 3-minute rows were re-run
// unchanged in the lead-stretched margin's suite run below, where the
// margin is nil for them, and its database rows in the family runs with
// the margin at 0, to the third decimal). Figures are
// in-sample on the surges family's and the shop's rows,
// `GOMAXPROCS=1 go run ./services/decider simulate --synthetic
// --families surges --workers 1 --grid KNOB=…` (database rows as
// under×/unserved× of HPA at equal cost, surges-s1 and surges-s2 first,
// then the shop's seeds 1 and 2), unless the full suite is named.
//
//   - No fixed operating point of the policy wins the surges-s1 database
//     (selector off, --skill=off --short-stabilization=0s, quantile ×
//     scale-down window): p90 1.736/0.979 (15 min) and 1.017/0.932
//     (3 min), p95 1.372/0.924 and 1.269/0.926, p98 1.096/0.972 and
//     1.009/0.898; all but p90 with the 3-minute window (what the
//     selector runs on the shop, whose rows it leaves as shipped) make
//     some shop row lose. So the selector cannot reach a win there by
//     choosing among its candidates.
//   - The selector believes it wins there. Its week-long rates on the
//     surges-s1 database put its running candidate at 0.86–0.93 of the
//     HPA shadows' curve from day 8 on (p95, then p90 from day 17, both
//     with the 3-minute window),
//     where the evaluation finds 1.084: the shadows at 0.8 and 0.9 draw
//     a chord across the curve's knee between 0.85 and 0.80, above the
//     curve, so HPA looks worse at our cost than it is. Candidates
//     guarded by the HPA rule (each candidate also run never below the
//     rule at a target, on its own shadow cluster; the tier applies the
//     rule on its real counts while such a candidate runs) were
//     therefore never chosen on the surges-s1 database at 0.80 or 0.85
//     (1.084/0.929 unchanged) while the shop's seed-2 database took them
//     (0.802/0.993 at 0.80; at 0.90 0.842/0.991 and the surges-s1
//     database 1.076/0.926; 0.80 and 0.90 together 1.543/0.987 there).
//     Drawing the curve with a shadow at 0.85 too moved the selector to
//     costlier points that lose more (surges 1.203/0.936 at 1.224 of
//     the oracle and 1.092/0.937; with the guard at 0.80 0.995/0.976 at
//     1.349, 1.721/0.962, and the shop's seed-2 database 0.938/1.033),
//     and with 0.95 as well the same databases plus the web rows moved
//     (surges web 0.082/0.615 at 1.032: below the cheapest HPA point the
//     curve is its end point). Falling back to an HPA shadow needs the
//     selector to see the loss, which it does not.
//   - A scale-down margin (a hysteresis on the way down: a count below the
//     current one is wanted only while the demand it is sized for leaves
//     a share m of room; the selector's shadows apply it too) is what the
//     wander asks for: on a 10-minute unit test with a slowly wandering
//     load just under two replicas' edge it halved the missed minutes
//     (20 to 5) for 2 % more replica-minutes. On the suite, m on every
//     tier: 0.01 1.045/0.921 (loses), 0.856/0.918, 0.832/0.967,
//     0.751/0.977; 0.02 0.946/0.935, 0.884/0.919, 0.847/0.966,
//     0.765/0.973; 0.03 0.983/0.929, 0.934/0.926; 0.04 0.961/0.934,
//     0.855/0.918; 0.06 0.969/0.935 but surges-s2 1.257/0.964 (loses);
//     0.10 0.993/0.946, 0.984/0.955 and the shop's seed-1 web
//     1.008/0.994 (loses). As a fraction of a replica instead (0.05,
//     0.10, 0.20): 0.983/0.935 and the shop's seed-2 database
//     0.899/1.015 (loses); 0.912/0.933, 0.894/0.931, 0.856/0.975,
//     0.752/0.977; 0.957/0.942 and 1.200/0.973 (loses). On the whole
//     suite with --cv, 0.02 on every tier made no row lose, in-sample
//     or cross-validated (ClarkNet's cv 0.192/0.246, within its goal),
//     but moved the 3-minute rows too: jumps 0.029/0.431 and
//     0.056/0.561 (were 0.025/0.394 and 0.046/0.514), drift-s1
//     0.032/0.013. Stretched by the lead (m × (1 − (tick +
//     ForecastWeightLead)/lead window): nothing up to a 3-minute lead,
//     0.64 m on the database) at m = 0.03 the 3-minute rows are
//     untouched and the whole suite, in-sample and cross-validated
//     (every row chose the shipped setting but ClarkNet, as before),
//     had no losing row: the databases 0.950/0.936, 0.877/0.918,
//     0.846/0.974 and 0.762/0.972 (at 0.04 0.966/0.927, 0.944/0.925; at
//     0.05 0.991/0.930, 0.898/0.917). It was not kept: it worsens rows
//     that won by more than 0.02 (surges-s2 database 0.797 to 0.877,
//     the shop's seed-1 database 0.809 to 0.846; our own
//     under-provisioned minutes fall, 1.521 % to 1.378 % on surges-s2,
//     but HPA's curve falls faster over the cost added), and it does not
//     generalise. On the surges app's seeds 7–10, looked at once, the
//     database won without it (0.788/0.903, 0.871/0.937, 0.853/0.960,
//     0.962/0.926) and with it 0.894/0.912, 0.883/0.941, 0.919/0.967,
//     0.915/0.910 (worse on three of four); the shop's seeds 3 and 4
//     (--shop-seeds 3,4) 0.743/0.963 and 0.743/0.963 without,
//     0.755/0.957 and 0.752/0.949 with. On the seeds 3–6 where the
//     database lost (already used, so evidence only), it lost with the
//     margin too: 1.137/0.900, 0.980/0.915, 1.595/1.060, 1.265/0.949
//     (without 1.876/0.938, 0.875/0.914, 1.563/1.026, 1.222/0.943).
//
// Seen on those unseen seeds and not touched: the shop's seed-4 web tier
// loses on under-provisioned minutes (1.003/0.977 at 1.113 of the oracle,
// with or without the margin), the first shop web row to lose outside
// seeds 1 and 2 (seed 3 0.974/0.974). The surges app's web wins on seeds
// 7–10 (0.658/0.611, 0.771/0.780, 0.650/0.738, 0.622/0.643).
//
// Not tried: calibrating the database's quantile on block residuals or on
// the lead window's peak against an estimate made a lead earlier (the
// calibration already scores the lead window's peak against the base of
// its tick; what it misses is the cost of a scale-down at the edge, which
// the margin addressed and which did not generalise); a selector whose
// HPA curve is drawn at the evaluation's twelve targets and that picks
// with less switching noise.
//
// # The seventh round: the jump bin on a 10-minute tier
//
// The figures of the fifth and sixth rounds above are from before this
// round's change (JumpLead); the summary table is from after it.
//
// Where the surges-s1 database's under-provisioned minutes were, by the
// generator's schedule (SurgeSchedule; minute counts over the 20 scored
// days, HPA at 0.80 and 0.85, the targets either side of our cost): 424
// for us at 121,323 replica-minutes, 246 for HPA at 0.80 (125,776) and
// 478 at 0.85 (118,662). Away from surges (5 minutes before a surge to
// 30 after its end left out) 169, 20 and 215: there HPA at 0.80 keeps a
// replica until the load fits the others at 0.8, and the ±13 % wander
// of the database's load stays inside that band. In a surge's first 11
// minutes all three miss about 11 each (the onset no one meets with a
// 10-minute boot). From minute 25 of a surge to 30 minutes after its
// end: 39 for us, none for HPA at 0.80, 27 at 0.85. There the jump guard
// takes a rise of a few per cent inside a surge (beyond three typical
// one-minute changes, which the surge's larger load brings now and
// then) for a jump, and the jump bin's p95, learned over the database's
// 11-minute window and so from the surges' onsets, which go on rising
// to 2.5–5×, gives it the headroom of an onset: on day 12 (minute
// 18,029, 45 minutes into a launch) a load of 12 replicas' capacity
// rising 3 % in a minute was given 37, then up to 44 replicas, 31 of
// them booting, which came too late for the next 8 minutes anyway (13
// missed minutes in that surge's later part) and cost about a fifth more
// than HPA at 0.80 over it, which stood at 15 to 17 throughout.
//
// Change kept: the jump bin learns how far a fresh jump goes on rising
// over the lead window but no further than JumpLead past the tick
// (policy.AppConfig.JumpLead, --jump-lead; 3 minutes, the ramp guard's
// RampLead, the one value tried besides 0). The decision taken at a
// jump serves only after the lead time, and the decisions of the next
// few ticks, sized on the load that came, land minutes after it, as the
// ramp guard's RampLead already says for ramps. A tier whose window is
// within 3 minutes past the tick (every 3-minute row) is unchanged.
// In-sample, `GOMAXPROCS=1 go run ./services/decider simulate
// --synthetic --families surges --workers 1` (--jump-lead=0s for
// before), the databases (under×/unserved×, our under-provisioned
// minutes, cost ÷ oracle): surges-s1 1.084/0.929 (1.472 %, 1.114) to
// 0.890/0.936 (1.222 %, 1.113), surges-s2 0.797/0.909 (1.521 %, 1.082)
// to 0.768/0.903 (1.597 %, 1.077), the shop's seed 1 0.809/0.965
// (1.854 %, 1.116) to 0.779/0.965 (1.865 %, 1.109) and seed 2
// 0.748/0.981 (2.236 %, 1.119) to 0.720/0.975 (2.240 %, 1.113). The whole
// suite with --cv has no losing row in-sample or cross-validated; every
// row but the four databases is as before to the third decimal,
// ClarkNet's cv row included (0.216/0.250). With the skill shadows'
// counts held within the tier's bounds (a fix of the same day, which
// moved NASA to 0.093/0.068 and the surges family's cv choice to the
// jump guard at 4) the table above is the two together: still no
// losing row (surges-s1's database 0.890/0.936, cv 0.912/0.934). Most of
// the gain is cost: our own under-provisioned minutes fall on surges-s1
// only and rise a little elsewhere, at 0.1–0.6 % less cost, where
// HPA's curve has more.
//
// Judged once, after freezing, on seeds never looked at
// (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic
// --families surges --seeds 11,12,13,14 --shop-seeds 5,6 --workers 1`,
// with --jump-lead=0s for before), the databases before and after:
// surges-s11 0.953/0.954 and 0.963/0.944, s12 0.873/0.907 and
// 0.822/0.904, s13 0.968/0.946 and 0.914/0.941, s14 0.683/0.885 and
// 0.717/0.891, the shop's seed 5 0.782/0.970 and 0.770/0.966, seed 6
// 0.751/0.958 and 0.733/0.952: better on both figures on four of six,
// mixed on s11 (the worse of its two figures 0.954 to 0.963), worse on
// s14; no row loses before or after, and the web and cache rows are
// unchanged. Our own under-provisioned minutes rise on all six (surges
// 1.038 to 1.125 %, 1.531 to 1.594, 1.927 to 2.069, 0.826 to 0.920; the
// shop 2.316 to 2.319, 2.233 to 2.247) at 0.3–0.7 % less cost: at
// equal cost the change wins, at its own cost the database misses a
// little more often.
//
// Those surges rows were not as unseen as they looked: the suite seeded
// the surges apps' back tiers 1, 2, … in the traces' order, so seeds
// 11–14 drew the database load's hit-ratio wander of seeds 1–4 (1 and 2
// the development seeds). With each app's back tiers seeded as its
// trace (Trace.Seed), the same command gives, before and after JumpLead:
// surges-s11 0.991/0.941 and 0.953/0.934, s12 0.865/0.907 and
// 0.812/0.902, s13 1.607/1.019 and 1.445/1.013 (LOSES on both figures,
// before and after), s14 0.797/0.904 and 0.747/0.897; the shop's seeds
// 5 and 6, and every web and cache row, as above. JumpLead is better on
// both figures on all six databases, but the 10-minute tier behind a
// heavy front with a slowly wandering load ratio still loses to HPA on
// an unseen seed (s13: our 1.806 % under-provisioned minutes against
// HPA's 1.249 % at equal cost; the ninth round, below, finds why and
// fixes it).
//
// Tried this round and rejected (in-sample, the same command with
// --grid): the jump bin off for tiers whose lead is beyond 3 minutes
// (their jumped ticks calibrated in their level bins): databases
// 0.876/0.950, 0.769/0.911, 0.768/0.972 and 0.691/0.972, unserved
// demand worse on three of four; the jump bin off everywhere
// (--jump-bin=false, with the jump guard at 4 or 6): surges-s1
// database 0.876/0.952 and 0.877/0.956, but the shop's web rows lose
// (0.961/1.018 and 0.895/1.030 at 4, 1.020/1.020 and 0.909/1.033 at 6).
// The sixth round's untried ideas (a selector drawing HPA's curve at
// the twelve targets, calibration on block residuals) were left
// untried: the split above put the loss in the jump bin, not in the
// choice of operating point.
//
// # The eighth round: counts in 5-minute buckets (social-5m)
//
// The independent check found, on bursty periodic social-media traffic,
// 0.78× and 0.84× HPA at 2.03× the oracle's cost, where the bursty
// families sit at 1.14×. What makes cost over the oracle reach 2 is a
// usual load below one replica: social-media volume series (NAB's
// Twitter-volume files are of this kind) are counts of a few to tens a
// 5-minute bucket whose few largest events are tens of times the usual
// level, so the capacity of max/20 leaves the day at about half a replica
// and the night at a tenth. The oracle then runs one replica almost
// always (1.05–1.3 on average), and any second replica stood for the
// noise of a few counts doubles the cost. The social-5m family
// (SyntheticFamilies) has that shape: counts drawn per bucket and held for
// its five minutes, a daily (UTC) and weekend pattern at 0.5–2 counts a
// minute at its peak, a slow over-dispersing noise, posts at the top or
// the half of four in five hours from 12:00 to 23:00 on weekdays (1.5–3×,
// decaying over 5–15 minutes), about three news bursts a day (Pareto from
// 1.5×, capped at 12×) and one 20–30× event that makes the maximum;
// TestSocial5mShape holds its shape.
//
// With the policy as shipped before this round
// (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic
// --families social-5m --workers 1 --shop-seeds none`, seeds 1 and 2;
// seeds 3 and 4 with `--seeds 1,2,3,4` were development seeds too),
// seed 1 cost 39× the oracle (a loss: 50 replicas of 0.83 for a load of
// 0–0.8 for 18 days) and seed 2 was 0.621/0.687 at 1.38 (seeds 3 and 4
// 0.737/0.938 at 1.44 and 0.685/0.753 at 1.56). Two things were wrong,
// and both are fixed:
//
//   - The outage hold took every bucket for a flat line: a load held for
//     a bucket's five minutes repeats its value five times, which is what
//     the hold's test (five ticks of one value at under 5 % of the
//     replicas' capacity) looks for, and it kept whatever count a burst
//     had bought. It now counts a flat line in the load's own samples:
//     five of them, a sample being the shortest of the last eight runs of
//     one value (one tick for per-minute loads, five here). Every row of
//     the suite but social-5m is unchanged to the third decimal, in-sample
//     and cross-validated, with every cv choice as before; social-5m-s1
//     went to 0.745/0.870 at 1.81 (above HPA's costliest point, 1.74 at
//     0.40) and s2 0.622/0.672 at 1.38. The price: a flat line of a
//     bucketed load is one only after 25 minutes, when the policy has
//     usually scaled down, so the hold protects per-minute loads.
//   - The lowest level bin (bases under a sixteenth of a replica) learned
//     its peak-to-base ratios over bases down to 1 % of a replica: a load
//     of a few counts peaks at a count or two whatever its mean, so over
//     an idle base the ratios reached 100, and applied to a base higher in
//     the same bin they wanted 2–3 replicas at night for a tenth of one
//     (seed 1 held 1.6 on average from 00:00 to 06:00, where the oracle
//     held 1). The lowest bin now learns and applies its ratios against
//     its lower edge (capacity/16): below it, it learns the peaks. On the
//     whole suite (`GOMAXPROCS=1 go run ./services/decider simulate
//     --suite /work/shared/data/traces --cv --workers 1`) only NASA
//     (0.093/0.068 at 1.826 to 0.089/0.065 at 1.808, the same minutes
//     and demand unserved at less cost) and social-5m moved
//     (0.745/0.870 at 1.81 to 0.504/0.634 at 1.67, and 0.622/0.672 at
//     1.38 to 0.629/0.703 at 1.51; seeds 3 and 4 0.711/0.919 at 1.42 to
//     0.664/0.810 at 1.48, 0.605/0.660 at 1.54 to 0.395/0.540 at 1.57);
//     no row loses that did not, and every cv choice is as before.
//
// Judged after both were frozen, on seeds no setting was chosen on
// (`--families social-5m,bursty,bursty-hourly --seeds 11,12,13,14
// --shop-seeds none`), as shipped before, with the hold fixed, and with
// the lowest bin too: social-5m-s11 0.521/0.728 at 1.71, 0.507/0.710 at
// 1.71, 0.605/0.790 at 1.62; s12 0.515/0.650 at 1.76, 0.491/0.635 at
// 1.74, 0.454/0.621 at 1.75; s13 0.642/0.700 at 1.59, 0.578/0.609 at
// 1.49, 0.515/0.535 at 1.49; s14 0.760/0.811 at 1.52, 0.723/0.769 at
// 1.51, 0.682/0.740 at 1.54. Bursty and bursty-hourly did not move on
// any of these seeds (e.g. bursty-s11 0.796/0.824, bursty-hourly-s11
// 0.774/0.721 all three times). Seeds 11–14 were looked at first for the
// hold alone, so the lowest bin was also judged on seeds 21–24, looked at
// once: with the hold fixed and with the lowest bin too, social-5m-s21
// 0.329/0.582 at 1.76 and 0.347/0.570 at 1.71, s22 0.516/0.742 at 1.76
// and 0.468/0.690 at 1.72, s23 0.375/0.660 at 1.72 and 0.435/0.659 at
// 1.66, s24 0.598/0.673 at 1.58 and 0.435/0.575 at 1.72; bursty and
// bursty-hourly unchanged. The lowest bin is better on both figures on
// five of the eight, worse on both on one (s11, at less cost) and trades
// under-provisioned minutes for cost on two.
//
// Where it stands: social-5m wins on every seed, at 1.48–1.75× the
// oracle, but reaches 0.5× on both figures on none of its twelve (on
// under-provisioned minutes on six, 0.347–0.468; its best unserved ratio
// is 0.535): the independent check's 0.5× is not met on this family
// either. Tried on
// the development seeds (1 and 2, with the hold fixed, before the lowest
// bin) and not kept: skill candidates that provision less, p80 added
// (`--skill=0.8,0.9,0.98`) 0.844/0.891 at 1.59 and 0.636/0.680 at 1.39,
// p70 and p80 added 0.723/0.794 at 1.50 and 0.636/0.680 at 1.39 (seed 2
// worse either way). Measured to see where the cost is, not as
// candidates: the forecast weight at 0 0.549/0.599 at 1.53 and
// 0.675/0.810 at 1.54 (seed 2 worse), the skill selector off 0.450/0.593
// at 1.99 and 0.676/0.802 at 1.55, the jump guard off 0.683/0.762 at 1.85
// and 0.601/0.694 at 1.39, the seasonal guard off 0.819/0.929 at 1.78
// and 0.646/0.731 at 1.35, the hour-phase guard off 0.745/0.870 at 1.81
// and 0.635/0.719 at 1.36. The family's constants (counts a minute, post
// and burst rates, the one large event) were set while looking at the
// policy's cost on seeds 1–2 (a first draft with eight bursts a day and
// ten times the counts cost 1.1–1.5× the oracle, not the check's 2), and
// nothing here was fitted to the held-out trace, which was not read.
// These figures were measured before the seventh round (the jump bin
// over JumpLead); on top of it the whole suite with --cv differs from
// the seventh round's own run only in NASA's row (the same 0.093/0.068
// at 1.826 to 0.089/0.065 at 1.808) and in the two new rows, every cv
// choice the same, no row losing.
//
// # The ninth round: the skill selector's memory on a 10-minute tier
//
// Why the surges-s13 database lost (1.445/1.013 at 1.132 of the oracle,
// the seventh round's judging rerun), by the generator's schedule
// (SurgeSchedule; under-provisioned minutes over the 20 scored days; HPA
// at 0.80 and 0.85, the targets either side of our cost, at 130,071 and
// 123,051 replica-minutes against our 126,553): 519 for us, 248 and 471
// for HPA. In a surge's first 11 minutes all three miss 162–163; later
// in surges 101 for us against 43 and 69; away from them (5 minutes
// before a surge to 30 after its end left out) 255 against 43 and 239,
// at 95,784 replica-minutes there against 98,307 and 93,109 (HPA about
// 138 at our cost). Each of the 40 runs of minutes missed away from
// surges (8–9 minutes each, the database's boot) is the load crossing a
// replica's edge from below, and in 162 of those 255 minutes the policy
// had wanted the count that would have served within the half hour
// before the lead window and released it in a dip of the hit-ratio
// wander (e.g. 3.9 replicas' capacity to 3.3 and back to 4.0 within half
// an hour), where HPA at 0.80 keeps it (it releases a fifth replica only
// below 3.2, four replicas at its target).
//
// That is the operating point the selector ran, not the policy: at a
// fixed point (`--seeds 13 --shop-seeds none --skill=off
// --short-stabilization=0s --grid 'quantile=…;stabilization=…'`) the
// same tier wins at p90 with a 3-minute scale-down window (0.926/0.954 at
// 1.081) and at p95 with it (0.929/0.972 at 1.122), and loses at p90,
// p95 or p98 with the 15-minute window (1.557/1.005, 1.512/1.036,
// 1.133/1.007 at 1.136, 1.179, 1.417; p98 and p99 win only with a
// 30-minute window, at 1.54 and 1.80 of the oracle). The selector ran
// p98 on days 1.0–1.2 and 1.7–3.7, p95 with the 3-minute window on days
// 1.2–1.7 and 3.7–4.8, p98 with the 15-minute window on days 4.8–8.2 and
// p90 with the 3-minute window from day 8.2: a mix of points either side
// of HPA's knee (0.80 to 0.85), which lies above HPA's curve though the
// cheap points alone win. From day 3 on its week-long rates put p90 and
// p95 with the 3-minute window at 0.93–1.00 of the HPA shadows' chord
// and p98 with either window at 0.88–1.27, and a few surges and dips
// moved them by more than the 10 % switching margin: on day 5 p98 with
// the 15-minute window stood at 0.89 of the chord, the running p95 at
// 0.99. A miss on a 10-minute tier comes in a run of up
// to 11 minutes, so a week there holds about a third as many independent
// misses as on a 3-minute tier, and its rates are that much noisier.
//
// Change kept: the selector's rates remember as many lead windows on a
// longer-lead tier as a week holds on a 3-minute one (policy's
// skillMemoryFor: a week × the lead window / 4 minutes, 19.25 days on
// the database; every 3-minute tier and single-tier row is unchanged by
// construction). The surges-s13 database then runs p98 to day 3.7 and
// p95 with the 3-minute window from there to the end: 0.935/0.980 at
// 1.131 (519 under-provisioned minutes to 341: 115 away from surges, 63
// later in them, 163 at onsets). On the development seeds
// (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic
// --families surges --seeds 1,2,11,12,13,14 --shop-seeds 1,2,5,6
// --workers 1`) no other row moves; the whole suite with --cv prints the
// table above unchanged. Judged once, after freezing, on seeds never
// looked at (`--seeds 15,16,17,18 --shop-seeds 7,8`), before and after:
// surges-s18's database 0.891/0.939 at 1.096 to 0.839/0.923 at 1.066,
// the shop's seed-7 database 0.708/0.977 to 0.711/0.978 and seed 8's
// 0.791/1.010 to 0.792/1.011 (our own figures a little better there,
// 2.302 % to 2.292 % under-provisioned and 1.342 % to 1.339 % unserved,
// at 1.108 to 1.109 of the oracle; it LOSES on unserved demand before
// and after), every other row unchanged (the surges databases of seeds
// 15–17 at 0.867/0.919, 0.887/0.956 and 0.895/0.928; every web and
// cache row).
//
// Tried this round and rejected: three weeks' memory on every tier
// (skillMemory 21 days) takes the surges-s13 database to 0.938/0.981
// too but moves the 3-minute rows, some much worse (the surges web of
// seeds 12, 13 and 14 from 0.715/0.660, 0.742/0.708 and 0.328/0.606 to
// 0.799/0.692, 0.787/0.734 and 0.628/0.598): a week of a 3-minute tier
// holds misses enough, and more memory only slows its adaptation. Not
// tried: the switching margin or HPA shadows at more targets for the
// 10-minute tier (the sixth round tried a shadow at 0.85 on every tier).
//
// # The tenth round: plateaus taken for jumps (the shop's spikes)
//
// On shop seeds looked at for the first time the front lost: seed 10's
// web 1.032/0.999 at 1.119 of the oracle, and seed 9's database
// 0.941/1.022 at 1.190 (`GOMAXPROCS=1 go run ./services/decider simulate
// --synthetic --seeds none --shop-seeds 1,2,5,6,9,10 --workers 1`, the
// development seeds of this round; the other four won by 0.92–0.99 on
// the web). Split by the shop's own schedule (its spikes' first 13
// minutes, from 2 before the start; their later minutes; 30 minutes
// after them; the minutes of its bursts; the rest), against HPA at the
// two targets either side of our cost (under-provisioned minutes, % of
// the demand unserved, replica-minutes), seed 10's web:
//
//	             ours               HPA 0.90            HPA 0.85
//	spike onset  79 0.276  3897     98 0.353  2810      89 0.324  2951
//	spike later   0 0      4121      1 0.001  2763       0 0      2919
//	after spike   0 0      3774      1 0.000  3477       0 0      3687
//	bursts      283 0.304  4996    305 0.329  4041     271 0.255  4247
//	the rest     27 0.002 128922   171 0.016 125178     12 0.000 132092
//
// The spikes' later minutes cost us half as much again as HPA for
// nothing (both miss none): the forecast knows nothing of a spike, so
// the blended base (0.75 × the level + 0.25 × the forecast's flat
// median) stays below the load for the whole spike, the jump guard's
// test (the load beyond three typical changes above the base) holds on
// the plateau too, and every plateau tick was sized from the jump bin's
// p95, a spike's onset going on rising (1.6): on day 3 (minute 5,110)
// 19 replicas stood for 10 minutes on a plateau needing 11.7, HPA at
// 0.85 holding 14. Over all of seed 10's spikes that is 8,018
// replica-minutes against HPA's 5,870 at 0.85, the difference 1.5 % of
// our cost, which at equal cost HPA spends on standing replicas
// elsewhere; on the rest
// and the bursts we were level with HPA. The database of seed 9 the same
// (spikes' later minutes 6,059 against 5,183 at 0.80). Most of our
// misses outside onsets and bursts are at a replica's edge (on seed
// 10's web 26 of 27 short by under a fifth of a replica, on its
// database 50 of 83) and, on the web, follow a scale-down within 20
// minutes (21 of 27); on the database most do not (62 of 83): its misses
// are the wander at the edge that the sixth round's margin addressed.
//
// Change kept: only a fresh jump (the load beyond three typical changes
// above its own recent level too) is a jump; a tick beyond them above
// the base but not above the level is a plateau the base lags, its base
// lifted to the level and its ratios learned in a plateau bin of its own
// (policy's jumpGuard; the jump bin's JumpLead window and least
// calibration). Seed 10's spikes' later minutes then cost 3,012 (HPA
// 2,919 at 0.85), and the web row went to 0.955/0.958. In-sample on the
// development seeds (under×/unserved×, before and after), the web rows
// (cache equal) s1 0.989/0.928 and 0.951/0.905, s2 0.902/0.965 and
// 0.880/0.936, s5 0.970/0.968 and 0.920/0.940, s6 0.924/0.963 and
// 0.911/0.979, s9 0.879/0.928 and 0.949/0.897, s10 1.032/0.999 and
// 0.955/0.958; the databases s1 0.778/0.965 and 0.768/0.951, s2
// 0.720/0.975 and 0.717/0.966, s5 0.770/0.966 and 0.767/0.956, s6
// 0.733/0.952 and 0.719/0.948, s9 0.941/1.022 and 0.921/0.994, s10
// 0.742/0.980 and 0.742/0.976: no row loses after, and the worse of the
// two figures is better on ten of twelve (s6's web 0.963 to 0.979, s9's
// 0.928 to 0.949). On the whole suite with --cv (the table above) no row
// loses in-sample or cross-validated; bursty and bursty-hourly gain
// (0.834/0.827 to 0.802/0.797 on bursty-s1), ClarkNet's cv row enters
// its goal (0.216/0.250 to 0.191/0.235; in-sample 0.181/0.119 to
// 0.184/0.121), and three rows lose ground while still winning:
// surges-s1 (0.685/0.722 to 0.737/0.747; its skill selector no longer
// moves from p95 with the 15-minute window to p98 with the 3-minute one
// on day 9, most likely because the 15-minute window no longer holds an
// onset's headroom over each surge's plateau), surges-s2's unserved demand
// (0.713 to 0.748) and social-5m-s2 (0.629/0.703 to 0.674/0.745).
//
// Judged once, after freezing (`GOMAXPROCS=1 go run ./services/decider
// simulate --synthetic --seeds none --shop-seeds 11,12,13,14 --workers
// 1`, before and after): web (cache equal) s11 0.971/1.024 (LOSES) and
// 0.930/0.997, s12 0.877/0.919 and 0.852/0.895, s13 0.915/0.963 and
// 0.879/0.923, s14 0.857/0.966 and 0.833/0.929; databases s11
// 0.701/0.947 and 0.702/0.937, s12 0.808/1.003 (LOSES) and 0.793/0.994,
// s13 0.779/0.985 and 0.764/0.967, s14 0.697/0.936 and 0.693/0.925.
// Three of twelve rows lost before, none after; every row is better on
// both figures but s11's database on under-provisioned minutes (0.701 to
// 0.702). The closest rows are still the shop's: s11's web unserved
// demand at 0.997 and s12's database at 0.994.
//
// Tried this round on the development seeds and not kept (worse of the
// two figures per row as under×/unserved×; geometric mean of the worse
// figure over the shop's twelve web and database rows: 0.975 before,
// 0.959 kept; over the surges' web and database rows and social-5m's,
// `--families surges,social-5m --seeds 1,2`, 0.761 before, 0.779 kept):
//
//   - the plateau calibrated in its level bin, its base lifted to the
//     level: the shop's rows a little better (geometric mean 0.956, worst
//     s9's database 0.908/0.987), the surges' and social-5m's worse
//     (0.801), for the level bins of a surge's height,
//     where the ticks after a surge (the forecast then lagging high) had
//     learned ratios below 1, took the plateaus' ratios: surges-s2's
//     database 0.768/0.903 to 0.843/0.924, social-5m-s2 0.844/0.803;
//   - the same with the base lifted only to the load less the noise
//     allowance: s9's web 0.971/0.900, geometric mean 0.960;
//   - the plateau left at its blended base in its level bin: s1's web
//     1.000/0.908, geometric mean 0.966;
//   - the plateau bin learned over the whole lead window (the level
//     bins' window) instead of the jump bin's JumpLead: every database
//     worse (the shop's s1 0.782/0.953, s9 0.927/0.998) and surges-s1's
//     database loses (1.018/0.942); the 3-minute rows do not move.
//
// Left as found: the spikes' onsets and the bursts. At a spike's onset we
// miss fewer minutes than HPA (76 against 89 at 0.85 on seed 10's web)
// for a third more replica-minutes (3,858 against 2,951), the jump bin's
// p95 sizing the onset's rise; on bursts we are level with HPA at a
// quarter more cost (283 against 271 minutes, 5,256 against 4,247). Both
// are the headroom of a jump decided before it is known how far it goes.
//
// # The eleventh round: where social-5m's misses and cost are
//
// Measured on the development seeds with the policy as shipped before
// the tenth round (the plateau bin, developed at the same time)
// (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic
// --families social-5m,bursty,bursty-hourly --seeds
// 1,2,11,12,13,14,21,22,23,24,31,32 --shop-seeds none --workers 1`;
// social-5m 0.504/0.634 at 1.672 and 0.629/0.703 at 1.507 on seeds 1
// and 2, the other ten 0.347–0.682 under×, 0.535–0.831 unserved×, at
// 1.49–1.75 of the oracle), splitting the scored minutes by the
// generator's own events (a replay of its draws in a scratch test, not
// kept): a news burst's or the one large event's onset (its first four
// minutes, which only replicas standing before it serve), its body (to
// three decay times after the rise), a scheduled post's onset and body,
// the hour after any of them, and the quiet day (08:00–24:00) and night.
// Seed 1 (seed 2), % of the demand unserved, ours against HPA at the
// targets either side of our cost (0.45 and 0.40; 0.50 and 0.45):
//
//	minutes            ours           HPA
//	news onsets        0.363 (0.293)  0.377, 0.346 (0.340, 0.282)
//	large event onset  0.312 (0.094)  0.336, 0.312 (0.108, 0.078)
//	post onsets        0.142 (0.183)  0.476, 0.382 (0.362, 0.256)
//	news bodies        0.126 (0.029)  0.206, 0.162 (0.059, 0.045)
//	large event body   0.116 (0.076)  0.188, 0.164 (0.076, 0.054)
//	post bodies        0.079 (0.094)  0.269, 0.182 (0.138, 0.116)
//	hour after         0.082 (0.016)  0.226, 0.156 (0.080, 0.068)
//	quiet day          0.033 (0.080)  0.205, 0.147 (0.101, 0.075)
//	quiet night        0.000 (0.015)  0.013, 0.013 (0.021, 0.017)
//
// Under-provisioned minutes: 45 (44) of ours at news onsets against
// HPA's 45 and 43 (51 and 43), 32 (92) at post onsets against 100 and
// 76 (139 and 119), and the rest spread thinly. So the onsets nobody can
// forecast (news bursts and the large event) cost us what they cost
// HPA at our cost, and they are 54 % (44 %) of our unserved demand.
// Elsewhere we miss less than HPA: 0.2–0.7 of its unserved demand on
// seed 1, and on seed 2 from half of it (post onsets and bodies) to
// about as much (the large event's body, quiet days).
//
// Cost, replica-minutes over the 20 scored days of seed 1, ours / HPA at
// 0.45 / the oracle: quiet nights 8,354 / 7,203 / 6,510 (1.29 replicas
// on average against the oracle's 1.00: the load is a tenth of a
// replica), quiet days 13,559 / 11,606 / 8,656 (1.64 against 1.05),
// burst and post bodies with the hour after 31,244 / 28,368 / 16,556,
// onsets 2,318 / 2,200 / 1,447. The cost is the calibrated headroom
// itself, not holding replicas: the count stood above the wanted count
// (the scale-down window) at 5–16 % of quiet minutes and 15–21 % of
// burst and post bodies (seeds 1 and 2), and the selector ran the
// 3-minute window from day 3 on (p95 from day 5 on seed 1; p90, p98 on
// days 9–17, then p90 again, on seed 2). Releasing
// faster does not pay: the short window at 1 minute
// (`--short-stabilization=1m`, a measurement) is worse on 7 of the 12
// seeds and better on 4 (seed 1 0.660/0.768 at 1.552, seed 2 0.755/0.812 at 1.510, s31
// 0.781/0.913), since a replica released as a bucket falls is missing
// when the next bucket comes back up.
//
// How far a causal controller can get (ratios to HPA at our cost,
// under×/unserved×): as shipped; if every scheduled post's first four
// minutes were served at no extra cost; and the news and large-event
// onsets alone, as we miss them now (what is left with every other
// minute served):
//
//	seed  shipped     posts served  onsets only
//	s1    0.50/0.63   0.42/0.56     0.12/0.34
//	s2    0.63/0.70   0.40/0.56     0.12/0.31
//	s11   0.61/0.79   0.45/0.61     0.07/0.31
//	s12   0.45/0.62   0.29/0.39     0.06/0.19
//	s13   0.52/0.53   0.44/0.44     0.04/0.14
//	s14   0.68/0.74   0.38/0.58     0.14/0.45
//	s21   0.35/0.57   0.22/0.43     0.04/0.27
//	s22   0.47/0.69   0.30/0.48     0.08/0.38
//	s23   0.44/0.66   0.30/0.52     0.08/0.31
//	s24   0.44/0.57   0.28/0.43     0.04/0.22
//	s31   0.61/0.83   0.47/0.66     0.08/0.28
//	s32   0.48/0.67   0.32/0.54     0.09/0.33
//
// Meeting every post would put under-provisioned minutes within 0.5× on
// all twelve seeds, but unserved demand on five only: the bodies of the
// news bursts and of the large event (the minutes after an onset until
// the reactions have caught up with a burst of up to 12×, or 20–30×)
// and the onsets hold the rest. The onsets alone are 0.14 to
// 0.45 of HPA's unserved demand at our cost, so 0.5× needs nearly every
// other unserved unit gone; and standing headroom for them costs us
// what it costs HPA (whole replicas over a load of half a replica).
// 0.5× on both figures is therefore out of reach on most seeds of this
// family for this controller at 1.5–1.8× the oracle; what a causal
// change can still win is the posts' under-provisioned minutes.
//
// Two things in how the policy reads a load counted in 5-minute buckets
// and held for each minute look wrong, one for cost and one for the
// posts; a change for both was tried and rejected:
//
//   - The jump guard compares a tick's rise with the mean one-tick
//     change, which on such a load is a fifth of its bucket-to-bucket
//     noise (four ticks in five change nothing), so an ordinary bucket
//     is a "jump": 14 % of seed 1's quiet daytime ticks and 15 % of its
//     night ones, calibrated in the jump bin with the onsets.
//   - The hour-phase guard stood aside before most posts it should have
//     met: of seed 2's 133 posts, 27 had an under-provisioned onset
//     minute, and the guard acted before 6 of them (seed 12: 33 of 134,
//     4). One reason is a bug: season.rise gives up (ok false) when any
//     of the 24 past hours had no load at all over its level window,
//     which a night of a few counts a bucket often has, so the guard
//     stands aside for the next 24 hours (seed 2's day 4, seed 12's
//     days 3 and 7). The other is its hit rate, under 3 in 10 before
//     most of the other missed posts: its expectations, made wherever a
//     third of the last 24 hours rose beyond its noise test, came true
//     less often than that on counts this small.
//
// Tried: (A) the jump guard comparing with the mean change from one of
// the load's own samples to the next (each tick against the tick a
// sample before it, the sample being the outage hold's run length; 1
// tick for every per-minute trace, so no other row moves), and (B) a past
// hour with no load before its instant counted as no rise instead of
// voiding the look-back (the seasonal guard's two days keep their
// behaviour: a day without a rise leaves it idle, as before). Each has a
// unit test that fails before it (12.2 % of a bucketed noisy load's
// ticks taken for jumps; the guard meeting 0 of 18 hourly bursts after
// an idle half hour). On the development seeds (the command above;
// under×/unserved× at cost ÷ oracle, seeds 1, 2, 11, 12, 13, 14, 21,
// 22, 23, 24, 31, 32):
//
//	shipped  0.504/0.634@1.67 0.629/0.703@1.51 0.605/0.790@1.62 0.454/0.621@1.75
//	         0.515/0.535@1.49 0.682/0.740@1.54 0.347/0.570@1.71 0.468/0.690@1.72
//	         0.435/0.659@1.66 0.435/0.575@1.72 0.611/0.831@1.62 0.484/0.673@1.67
//	A        0.547/0.668@1.68 0.595/0.679@1.41 0.444/0.635@1.73 0.424/0.582@1.84
//	         0.477/0.527@1.47 0.672/0.777@1.56 0.321/0.567@1.77 0.580/0.761@1.69
//	         0.353/0.555@1.74 0.468/0.629@1.74 0.597/0.736@1.55 0.516/0.692@1.69
//	B        0.558/0.671@1.67 0.622/0.698@1.52 0.417/0.687@1.76 0.460/0.592@1.74
//	         0.544/0.539@1.46 0.632/0.712@1.55 0.337/0.568@1.74 0.522/0.706@1.71
//	         0.366/0.618@1.76 0.438/0.579@1.73 0.546/0.788@1.70 0.481/0.639@1.71
//	A and B  0.546/0.676@1.71 0.602/0.683@1.42 0.470/0.631@1.72 0.425/0.573@1.84
//	         0.470/0.496@1.48 0.679/0.757@1.50 0.313/0.568@1.80 0.555/0.715@1.71
//	         0.380/0.578@1.76 0.457/0.592@1.71 0.541/0.760@1.69 0.507/0.662@1.70
//
// The mean of the worse of the two ratios went from 0.668 to 0.634 (A),
// 0.650 (B) and 0.641 (both; better on 8 of 12 seeds, s13 the first
// seed within 0.5× on both figures), bursty and bursty-hourly unchanged
// to the last digit. Also tried on the same seeds: A's noise scale for
// the hour-phase guard's noise test too (0.544/0.666, 0.603/0.712, …,
// worse on 7 of 12, s22 0.600/0.784). The whole suite with --cv and A
// and B printed every other row as in the table above, in-sample, and
// social-5m-s1 0.546/0.676 at 1.708 and s2 0.602/0.683 at 1.418, no row
// losing; the surges family's cv choice became the shipped setting
// (cv 0.685/0.722 and 0.673/0.713, database 0.890/0.936 and
// 0.768/0.903). Judged once, frozen as A and B together, on seeds 51–54
// (`--families social-5m,bursty,bursty-hourly --seeds 51,52,53,54
// --shop-seeds none`), before and after: social-5m-s51 0.497/0.596 at
// 1.555 and 0.518/0.605 at 1.585, s52 0.497/0.591 at 1.591 and
// 0.513/0.621 at 1.635, s53 0.438/0.559 at 1.757 and 0.416/0.516 at
// 1.782, s54 0.496/0.625 at 1.467 and 0.590/0.686 at 1.580; bursty and
// bursty-hourly unchanged (e.g. bursty-s51 0.808/0.784,
// bursty-hourly-s51 0.784/0.724). Worse on three of four (the worse
// ratio's mean 0.593 to 0.607), so both were reverted. On this family
// the skill selector's choice moves each seed by more than either
// change (seed 2 ran p90 and p98 for a week each), and cost rose on
// most seeds; the season.rise bug stands, unfixed, with its figures
// here. Not tried: a post guard that learns the phase of a bucketed
// load's rises in its own samples; calibrating only the lead windows
// that reach a new bucket (a tick at a bucket's first minute sees its
// whole window in the bucket it knows).
//
// Tried next and not kept either: (C) the hour-phase guard keeping its
// hit rate per minute of the hour (60 rates, each weighting a resolved
// expectation by a half, so two failed hours in a row put that minute
// aside and one met hour brings it back; one rate for the whole hour
// at a tenth was what let failures at minutes with no post put the
// guard aside before the posts). A unit test failed before it (bursts
// at the top of the hour, and for a day at a quarter past, half past
// and a quarter to: the guard acted before the top of the hour in 1 of
// the next 18 hours; with C in all 18, and aside at a quarter past
// from the fourth hour after those bursts stopped). At a tenth per minute it made
// TestPhaseGuardStandsAsideWhenItsRisesStopComing fail (a stopped rise
// then takes about twelve failed hours to put its minute aside). On the
// development seeds (same command; social-5m in the order above):
//
//	C        0.505/0.635@1.67 0.632/0.700@1.51 0.454/0.671@1.70 0.408/0.562@1.72
//	         0.515/0.526@1.49 0.632/0.686@1.58 0.307/0.532@1.71 0.449/0.627@1.72
//	         0.397/0.612@1.64 0.429/0.574@1.72 0.652/0.788@1.50 0.464/0.670@1.68
//
// the worse ratio's mean 0.668 to 0.632, better on 11 of 12 (seed 1 by
// 0.001 worse); bursty unchanged but for the third decimal of two
// seeds; bursty-hourly's worse ratio better on 8 of 12 and worse on 3
// (s2 0.740/0.721 to 0.743/0.728). The whole suite with --cv had no losing row, and
// moved: ClarkNet 0.181/0.119 to 0.177/0.117 in-sample, cv 0.216/0.250
// to 0.215/0.251; NASA 0.089/0.065 at 1.808 to 0.089/0.066 at 1.810;
// bursty-hourly-s1 0.758/0.668, s2 0.743/0.728; social-5m-s1
// 0.505/0.635, s2 0.632/0.700; the surges-s2 database 0.768/0.903 to
// 0.778/0.904 (cv 0.773/0.906 to 0.779/0.908); every other row within
// 0.001 and every cv choice as in the table above. Judged once on
// seeds 51–54 against the same branch point: social-5m-s51 0.456/0.575
// at 1.551, s52 0.495/0.584 at 1.590, s53 0.440/0.558 at 1.758, s54
// 0.533/0.665 at 1.533 (before as above: better on s51 and s52, a tie
// on s53, worse on s54; the worse ratio's mean 0.593 to 0.596);
// bursty-hourly-s51 0.784/0.724 to 0.780/0.734, s52 0.804/0.774 to
// 0.798/0.775, s53 0.798/0.809 to 0.799/0.809, s54 0.766/0.721 to
// 0.764/0.719; bursty unchanged. The development gain did not carry
// over to the judging seeds, and the suite's rows moved both ways
// (ClarkNet's cv unserved demand further past its 0.25 goal, by
// 0.001), so it was reverted. It is the most promising of the three for
// posts: a follow-up could judge it on more seeds together with the
// season.rise fix (B). B and C together, on the development seeds only
// (not judged): social-5m 0.522/0.648, 0.577/0.689, 0.390/0.645,
// 0.400/0.537, 0.540/0.542, 0.634/0.706, 0.286/0.496, 0.465/0.666,
// 0.468/0.651, 0.423/0.574, 0.627/0.779, 0.401/0.617 at 1.49–1.78 of
// the oracle (the worse ratio's mean 0.629, better on 10 of 12;
// s21 within 0.5× on both), bursty-hourly as with C alone.
//
// B alone, after the tenth round (a period with no load over its level
// window counts as no rise instead of voiding the look-back; a unit test
// with one idle hour among 24 failed before it): the whole suite with
// --cv moved only social-5m, s1 0.507/0.638 to 0.547/0.668 and s2
// 0.674/0.745 to 0.649/0.710, no row losing; the development command
// above, 7 of its 12 social-5m rows better and 5 worse (the worse
// ratio's mean 0.652 to 0.643), bursty and bursty-hourly unchanged.
// Judged once on seeds 61–64 (`--families social-5m,bursty,bursty-hourly
// --seeds 61,62,63,64 --shop-seeds none`): social-5m-s61 0.462/0.501 to
// 0.454/0.496, s62 0.533/0.706 to 0.651/0.762, s63 0.188/0.375 to
// 0.188/0.415, s64 0.460/0.621 to 0.425/0.641 (worse on three of four,
// the worse ratio's mean 0.551 to 0.579); reverted, so the look-back
// still gives up on a day with an idle period. (Seed 63 is the first
// social-5m seed seen within 0.5× of HPA on both figures, 0.188/0.375,
// with the policy as shipped; seed 61 misses by 0.001, 0.462/0.501.)
//
// # The twelfth round: the shop's database tier on new seeds
//
// Diagnosis only; nothing was kept. On the development seeds of this
// round (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic
// --seeds none --shop-seeds 1,2,5,6,7,8,9,10,21,22,23,24 --workers 1`,
// the policy as shipped after the tenth round) the database rows are
// s1 0.768/0.951 at 1.108 of the oracle, s2 0.717/0.966 at 1.112, s5
// 0.767/0.956 at 1.104, s6 0.719/0.948 at 1.111, s7 0.710/0.973 at
// 1.108, s8 0.787/1.001 at 1.108 (LOSES), s9 0.921/0.994 at 1.187, s10
// 0.742/0.976 at 1.108, s21 0.983/0.992 at 1.170, s22 0.751/0.963 at
// 1.111, s23 1.243/1.106 at 1.242 (LOSES) and s24 0.760/0.962 at 1.107;
// every web row wins (0.880–0.996 under×, 0.897–0.979 unserved×). The
// ninth round's 0.792/1.011 for s8 was before the tenth round's plateau
// bin.
//
// Split by the shop's own schedule (its spikes' first 13 minutes from 2
// before the start; their later minutes; 30 minutes after them; the
// minutes of its bursts; its slow-database incidents; the rest) and by
// the operating point the skill selector ran (the decision's quantile
// and stabilisation window), against HPA at the two targets either side
// of our cost, from a scratch test not kept (PrepareShop, SimulateTiers
// with a decision hook, HPA runs over the same minutes). Seed 23's
// database (under-provisioned minutes, % of the demand unserved,
// replica-minutes):
//
//	              ours                  HPA 0.70              HPA 0.75
//	spike onset   185 0.802    3853     176 0.701    3448     182 0.791    3212
//	spike later    40 0.134    5066      42 0.125    4918      47 0.154    4603
//	after spike     0 0        5756       6 0.003    4999       6 0.003    4745
//	bursts        216 0.199    5065     139 0.087    4818     189 0.147    4505
//	slow database   0 0        3119       0 0        3273       0 0        3095
//	the rest       75 0.010  154336       1 0.000  163189      17 0.001  153289
//
// Its selector ran the configured point (p95, 15-minute scale-down
// window) on the unscored first day, moved to p98 with the 15-minute
// window at the end of its warm-up (day 1.0) and to p90 with the
// 3-minute window at day 5.7, where it stayed. Placed on HPA's curve
// drawn over the same minutes, the two stretches are on either side of
// it: days 5.7–21 (p90, 3 minutes) 450 minutes and 0.933 % at 120,943
// replica-minutes against HPA's 616 and 0.961 % at equal cost there
// (0.731/0.970, a clear win); days 1.0–5.7 (p98, 15 minutes) 64 and
// 0.208 % at 56,169 replica-minutes, 1.32 times HPA at 0.70's 42,579 on
// those minutes, against HPA's 52 and 0.167 % at equal cost (between
// 0.50 and 0.55; 1.229/1.247, a loss). That stretch is why the row costs
// 1.24 of the oracle where the others cost 1.11, and the mix of the two
// points is what loses: the same tier at a fixed p90 with the 3-minute
// window (`--shop-seeds 8,9,21,22,23 --skill=off
// --short-stabilization=0s --grid 'quantile=0.9,0.95;stabilization=3m'`)
// wins at 0.744/0.980 at 1.107. The other rows costing more than 1.11
// are the same story at a milder point: s21 ran the configured p95 with
// the 15-minute window to day 6.0 (1.112/0.924 at equal cost there)
// before p90 with the 3-minute window (0.778/0.966); s9 ran p98 with the
// 3-minute window on days 1.0–1.5 and p95 with it from then
// (0.911/0.984). The cheap rows (s1, s2, s8, s22) left the configured
// point at day 1.0–1.6 for p90 with the 3-minute window and kept it. At
// fixed points over the whole run, on s8, s9, s21, s22 and s23: p90 with
// the 3-minute window wins every database row (0.777/0.997,
// 0.756/0.967, 0.816/0.943, 0.751/0.963, 0.744/0.980, at 1.105–1.113)
// and every web row (0.873–0.938 under×, 0.896–0.965 unserved×); p95
// with it loses s8's and s22's databases (0.984/1.051, 0.969/1.012); the
// configured point, p95 with the 15-minute window, loses every row of
// both tiers (databases 1.055–1.164 under×, web 1.163–1.291).
//
// What the split says about the rest of the brief's suspects:
//
//   - Slow-database incidents do not move the database's load in the
//     evaluation: they change the shop's database capacity, latency and
//     errors, but the tier's load is its offered queries (the web's
//     served requests times the cache's misses) and the evaluation's
//     capacity is fixed (max/20). No row misses more than 5 minutes in
//     them, ours or HPA's.
//   - Misses at replica edges after scale-downs during the hit-ratio
//     wander are where we are ahead of HPA at equal cost, not behind:
//     the rest of the minutes holds 74 of s8's misses against 81 and 341
//     for HPA at 0.80 and 0.85 (s1 56 against 83 and 282, s2 93 against
//     131 and 433). Of s23's 75 such misses 54 are within a fifth of a
//     replica of the edge and 46 follow a scale-down within 30 minutes
//     (s8 50 and 34 of 74): the wander at the edge of the sixth round.
//   - Seed 8's loss (unserved 1.001; 0.996 at equal cost on its p90
//     stretch, days 1.6–21) is a near tie at the cheap point, not the
//     selector's: at a spike's onset we leave 0.830 % of the demand
//     unserved at 3,083 replica-minutes against HPA's 0.753 % at 2,893
//     (0.80) and 0.808 % at 2,724 (0.85), and in bursts 0.307 % against
//     0.268 % and 0.333 %; the rest, 0.013 % against 0.014 % and 0.067 %,
//     pays for it. It is not what stood at the spike's start: at the
//     start minute of its 19 scored spikes we had 6.11 replicas ready on
//     average, HPA 6.37 at 0.80 and 6.00 at 0.85 (the load 4.64
//     replicas' worth; s1, which wins, 5.47 against 5.58 and 5.32). Where
//     in the onset's 13 minutes the difference arises (we pay 3,083
//     replica-minutes there, more than either HPA) was not found this
//     round.
//
// So seed 23's loss is the selector's first choices on a 10-minute
// tier: after one day (skillWarm) it picks on a day of history, which
// on this tier holds about as many independent misses as nine hours of
// a 3-minute tier (a few spikes and bursts), and with the ninth round's
// 19.25-day memory that pick weighs for days. Tried this round on the
// development seeds and not kept (database rows, same command; the
// web rows do not move with the first and move by at most 0.009 with
// the second):
//
//   - the warm-up scaled by the lead window as the memory is (policy's
//     skillMemoryFor; 2.75 days on the database): the configured point
//     then runs longer, and it is the worst one (above): s22 1.054/0.995
//     (LOSES), s23 1.209/1.075 (still LOSES), s8 0.822/1.000 (LOSES),
//     s5 0.865/0.990; under-provisioned minutes worse on nine of the
//     twelve databases, s9 and s21 level, s23 better; three rows lose
//     against two before;
//   - the floors of the selector's ratios (skillEpsUnder,
//     skillEpsUnserved) scaled by the weight its zero-started rates hold
//     so far (1 − (1 − α)^ticks), so that they mean the same after a day
//     as after the memory: s22 0.751/0.963 to 1.020/1.003 (LOSES; its
//     selector too took a costly point early), s23 1.233/1.103, the
//     rest within 0.005;
//   - measured, not a candidate: the ninth round's memory undone (a week
//     on every tier): s23 1.209/1.116 and s22 1.002/1.027, both losing,
//     s8 0.786/1.000, s9 and s21 within 0.02: the long memory is not
//     what makes s23 lose.
//
// Either change moves which point a seed's selector takes early, one way
// on one seed and the other way on another; neither is evidence of a
// general cause, so neither went to the suite or to judging seeds. Left
// for a follow-up: a selector that does not leave the configured point
// for a costlier one until its rates hold enough independent misses, or
// a cheaper configured point on the 10-minute tier (p90 with the
// 3-minute window is what every cheap database row runs from day 1–2 on,
// but it lost the surges-s1 database, 1.017/0.932, in the sixth round);
// either needs the surges family's databases and the whole suite beside
// these seeds.
//
// # The thirteenth round: a costlier switch needs evidence
//
// The twelfth round's follow-up, tried. Each shadow of the skill
// selector now also keeps a decayed count (not a rate) of runs of missed
// ticks, the independent misses behind its rates, and a candidate
// replaces the running point only when better by
// max(skillSwitch, skillEvidence/√(n+1)), n the runs of the two
// together: a confidence-bound margin. A 10-minute tier's misses come in
// runs of up to a lead window, so after a day it holds fewer runs than a
// 3-minute tier and needs a larger lead to switch. Development seeds
// (`simulate --synthetic --seeds none --shop-seeds
// 1,2,5,6,7,8,9,10,21,22,23,24 --workers 1`, GOMAXPROCS=1; before: 2 of
// 36 rows lose, s23 db 1.243/1.106, s8 db 0.787/1.001):
//
//   - the margin on every switch, skillEvidence 1: 10 of 36 rows lose
//     (s7 web/cache 1.049/1.032, s22 web/cache 1.010/0.997, s21 db
//     1.054/1.025, s22 db 1.096/1.010, s9 db 0.901/1.000); s23 db
//     1.043/1.060. The 3-minute tiers need their early switches to a
//     cheaper point;
//   - on every switch, 0.85: 8 lose; 0.7: 3 lose (s22 db 1.054/0.995,
//     s23 db 1.234/1.090, s8 db 0.792/1.005); 0.5 and 0.3: the same as
//     before to the digit (the day-1 switch of s23 holds 24–99 runs);
//   - kept: the margin only on a switch to a costlier candidate, a
//     cheaper one needing skillSwitch as before, skillEvidence 1: 2 of
//     36 rows lose as before, s23 db 1.243/1.106 to 1.042/1.055 (cost ÷
//     oracle 1.242 to 1.178; still LOSES), s8 db unchanged 0.787/1.001,
//     s9 web 0.951/0.899 to 0.873/0.896, every other row within 0.01.
//     Surges (`--families surges --seeds 1,2,11,12,13,14 --shop-seeds
//     none`): 0 of 24 lose; surges-s13 db 0.972/0.985. (0.935/0.980,
//     the before figure first written here, is the ninth round's: at
//     main, 37a1b28, the row is 1.471/1.014, a loss this change makes a
//     win; when it moved was not looked for. The same run at main: 1 of
//     24 loses.)
//
// The whole suite (`--suite /work/shared/data/traces --cv --workers 1`):
// 0 of 34 rows lose in-sample and none over 1 in the cv columns; NASA
// 0.100/0.072 (cv 0.109/0.088), ClarkNet 0.206/0.139 (cv 0.212/0.245),
// shop-s2 db 0.717/0.966 (cv 0.703/0.966), surges-s1 db 0.912/0.934 (cv
// 0.935/0.933). Judging seeds, once, before → after: `--seeds none
// --shop-seeds 31,32,33,34` 0 of 12 lose both; shop-s33 web/cache
// 0.971/0.946 → 0.886/0.940, the rest the same. `--families surges
// --seeds 61,62 --shop-seeds none` 0 of 8 lose both; surges-s61
// web/cache 0.654/0.651 → 0.094/0.533 (cost ÷ oracle 1.069 → 1.040),
// s61 db 0.873/0.915 → 0.885/0.904 (cost 1.124 → 1.078), the rest the
// same. Kept (TestSkillCostlierSwitchNeedsEvidence). It does not yet
// make s23's database win: its selector still leaves p95/15m, later,
// and the costlier stretch still loses; left for a follow-up.
//
// Judged once more, unchanged, on seeds nobody had used (`GOMAXPROCS=1
// go run ./services/decider simulate --synthetic --seeds 71,72
// --shop-seeds 41,42,43,44 --workers 1`, main at 37a1b28 → this round;
// worse-of-two figure to three decimals): 4 of 38 rows better, 6 worse,
// 28 the same; losing rows 2 → 2. Better: shop-s44 db 1.092/1.081 →
// 0.990/1.035 (cost ÷ oracle 1.181 → 1.142, still LOSES), shop-s41
// web/cache 0.933/0.909 → 0.904/0.932, jumps-s72 0.032/0.364 →
// 0.035/0.351. Worse, every one a 3-minute single-tier row:
// smooth-growth-s72 0.004/0.003 → 0.006/0.003, diurnal-low-s71
// 0.255/0.351 → 0.258/0.355, diurnal-low-s72 0.367/0.390 → 0.371/0.394,
// drift-s71 0.022/0.009 → 0.024/0.010, drift-s72 0.030/0.015 →
// 0.036/0.016, social-5m-s71 0.655/0.752 → 0.680/0.761. The shop-s43
// database loses at both (0.861/1.001). On the suite's seeds 1 and 2
// (`--synthetic --workers 1`) it is the same picture: better on
// surges-s2 (web, cache) 0.667/0.748 → 0.374/0.730 and jumps-s2, worse
// on diurnal-low-s1 0.250/0.256 → 0.264/0.279, diurnal-low-s2, drift-s1
// 0.014/0.006 → 0.036/0.016, drift-s2 and social-5m-s2 0.674/0.745 →
// 0.713/0.748. The round's change also moves the NASA golden of
// services/decider (TestSimulateGolden; 0.343/0.182 → 0.314/0.174),
// which it did not regenerate. The fourteenth round, below, narrows it.
//
// # The fourteenth round: the evidence margin on long-lead tiers only
//
// Where the thirteenth round's margin costs the recorded traces, from
// the selector's switches printed by a scratch change (not kept): on
// NASA it delays p90/15m → p95/15m from day 4.58 to 5.31 and p95/15m →
// p98/15m from day 8.47 to 10.01 (27 and 15 runs behind the comparison,
// margins 0.19 and 0.25 against improvements of 10.7 % and 11.9 %); on
// ClarkNet p90/15m → p95/15m from day 2.65 to 3.33 (21 runs, margin
// 0.21, improvement 12.5 %; its switch to p98 at day 8.89 is not
// delayed). No switch is suppressed for good. The cheaper point misses
// meanwhile: NASA's under-provisioned minutes 0.054 % → 0.062 % (about
// 7 more of 82,900), ClarkNet's 0.192 % → 0.219 % (about 5 more of
// 18,700), which moves ratios to an HPA that misses ten times as often
// by about 12 %. The database switches the margin blocks carry the same
// evidence: shop-s23 p95/15m → p98/15m at day 1.008 (14 runs,
// improvement 10.1 %) and 1.80 (18 runs, 10.6 %), surges-s13 p95/3m →
// p98/15m at day 4.79 (18 runs, 10.2 %). At NASA's quality a 3-minute
// tier holds as few independent misses as the database, and counting
// them in lead windows rather than runs gives fewer still, so a wider
// margin, not a narrower one: no count of misses tells the switches
// that pay from those that lose. The tier's lead does, on every row
// measured: the margin made every 10-minute row it moved better
// (shop-s9, s23 and s44, surges-s13) and the 3-minute rows it moved
// better or worse (above).
//
// Tried on the development seeds (shop 1, 2, 5–10, 21–24; surges 1, 2,
// 11–14; the suite's seeds 1, 2 and NASA and ClarkNet alone):
//
//   - the margin only until the selector first leaves the configured
//     point (the first switch after warm-up): NASA 0.089/0.066 and
//     ClarkNet 0.184/0.121 (main's), shop-s23 db 1.042/1.055 and s9 db
//     0.906/0.983 kept, but surges-s13 db 1.443/1.015 (LOSES): the switch
//     its margin blocks is its fourth. Rejected;
//   - the HPA shadows' runs counted in the evidence too: shop-s23 db back
//     to 1.243/1.106 (HPA's misses are many). Rejected;
//   - kept: the margin only on a tier whose lead window is longer than
//     skillMemoryWindow, the boundary past which skillMemoryFor already
//     stretches the memory (no new constant; in this suite that means the
//     10-minute database). Against main: shop rows better on s9 db
//     (0.921/0.994 → 0.906/0.983) and s23 db (1.243/1.106 →
//     1.042/1.055, still LOSES), the other 34 the same; surges rows
//     better on s13 db (1.471/1.014 → 0.972/0.985), the other 23 the
//     same; the suite's seeds 1 and 2 and NASA and ClarkNet the same on
//     every row. Against the thirteenth round it gives back shop-s9
//     web/cache (0.873/0.896 → 0.949/0.897) and surges-s2 web/cache
//     (0.374/0.730 → 0.667/0.748), both winning either way.
//
// Judged once, frozen (5c0a7e3), on seeds nobody had used (`GOMAXPROCS=1
// go run ./services/decider simulate --synthetic --seeds 73,74
// --shop-seeds 45,46,47,48 --workers 1`): the same as main on all 38
// rows (no database of these seeds takes a switch the margin blocks),
// so kept; the thirteenth round on the same seeds is better than main
// on 3 (jumps-s73, jumps-s74, diurnal-low-s73 0.435/0.555 →
// 0.447/0.519) and worse on 4 (drift-s73 0.026/0.012 → 0.032/0.016,
// drift-s74 0.015/0.007 → 0.018/0.007, bursty-s74 0.786 → 0.788,
// social-5m-s73 0.531/0.697 → 0.699/0.761). Two rows lose at all three:
// shop-s45 db 0.967/1.017 and surges-s73 db 1.042/0.964 (not looked
// into: judging seeds). On the thirteenth round's judging seeds above
// (71, 72, 41–44; seen before, so not a judgement) this round is main's
// on every row but shop-s44 db, which keeps the 0.990/1.035. The whole
// suite with --cv at 5c0a7e3 prints the table at the top of this
// comment to the digit, in-sample and cross-validated, and the same
// worst loss for every setting of the grid; the thirteenth round's
// figures for NASA (0.100/0.072, cv 0.109/0.088) and ClarkNet
// (0.206/0.139, cv 0.212/0.245) are back to 0.089/0.066 (cv
// 0.096/0.076) and 0.184/0.121 (cv 0.191/0.235). NASA's golden of
// services/decider is main's again.
//
// # The fifteenth round: a front whose surges are forecast (requirement 4)
//
// Requirement 4 of issue 13 had never been tested where it applies: the
// shop's spikes are unscheduled and the surges family's weekly matches
// are not forecast (the fifth round), so no front in the suite carried
// a surge the forecast knew of. Two steps.
//
// First, the families that have daily-recurring surges, run as the web
// tier of the three-tier app (`GOMAXPROCS=1 go run ./services/decider
// simulate --synthetic --families batch,bursty --tier-families
// batch,bursty --seeds 1,2,11,12,13,14 --shop-seeds none --workers 1`,
// before this round's policy change; web | database, under×/unserved× at
// equal cost):
//
//	batch-s1   0.697/0.814 | 1.014/0.804 at 2.17 (LOSES)
//	batch-s2   0.721/0.836 | 1.099/0.743 (LOSES)
//	batch-s11  0.740/0.847 | 0.921/0.533 at 3.02 (LOSES: cost)
//	batch-s12  0.702/0.840 | 0.995/0.554 at 1.92
//	batch-s13  0.674/0.758 | 0.960/0.634
//	batch-s14  0.713/0.842 | 1.060/0.710 (LOSES)
//	bursty-s1  0.802/0.797 | 0.855/0.849   (s2 0.803/0.791 | 0.854/0.815)
//	bursty-s11 0.783/0.812 | 0.828/0.856   (s12 0.763/0.755 | 0.824/0.797)
//	bursty-s13 0.797/0.761 | 0.819/0.844   (s14 0.801/0.822 | 0.840/0.851)
//
// Neither has a surge to propagate: batch is mostly random on/off jobs
// (the nightly cron is one in many, and a 10-minute tier behind a load
// that switches thousands of req/s within a minute loses to HPA on four
// of six seeds, by cost or by under-provisioned minutes); bursty's two
// daily content drops are 1.8–2.2× among six random bursts a day. These
// are not suite rows (the suite runs only the surges family so), and
// were left as they are.
//
// Second, the daily-sales family (OptionalFamilies; the surges family's
// heavy front with one flash sale a day at one minute of the day, 2–5×
// with a magnitude drawn each day, a 3–8-minute ramp, 30–90 minutes
// held; TestDailySales), run as the three-tier app on development seeds
// 1, 2, 11–14 (`GOMAXPROCS=1 go run ./services/decider simulate
// --synthetic --families daily-sales --tier-families daily-sales --seeds
// 1,2,11,12,13,14 --shop-seeds none --workers 1`; the cache's rows equal
// the web's). Before this round, web | database:
//
//	s1  0.364/0.305 | 0.490/0.232 at 1.17
//	s2  0.432/0.269 | 1.017/0.317 at 1.17 (LOSES)
//	s11 0.377/0.222 | 0.747/0.201 at 1.19
//	s12 0.152/0.289 | 0.676/0.309 at 1.20
//	s13 0.455/0.285 | 0.859/0.307 at 1.15
//	s14 0.457/0.335 | 1.018/0.367 at 1.11 (LOSES)
//
// The requirement did not hold on a forecast front either: the database
// beat HPA by more than the web on unserved demand on two seeds of six
// and on under-provisioned minutes on none, and lost on two. Split by
// the generator's schedule (SaleSchedule; a sale's first 13 minutes
// from 2 before its start, its later minutes, 30 minutes after it, the
// rest), seed 2's database missed 135 onset minutes (0.402 % of the
// demand unserved) where HPA at equal cost misses about 245 (1.28 %),
// and the web 71 (0.127 %) against about 160 (0.47 %). The decisions
// before a sale (day 10 of seed 2) show why: the forecast knew the sale
// (11 minutes before it the base was 1440 queries/s from a level of 861
// and a forecast rising by 587; the seasonal guard asked for 2.88× the
// level), but not its size (that day's sale reached 3.7×, 2650 against
// the forecast's 1981), and the base's ratio, p98 of the level bin's
// ratios, was 1.18–1.33: the noise around a flat forecast, learned from
// thousands of ordinary ticks, not how far a forecast surge lands from
// the forecast. 12 replicas stood from the sale's third minute and the
// load needed 13 from its eleventh, until the replicas decided during
// the ramp were ready about 6 minutes later.
//
// Kept: the rise bin (policy.AppConfig.RiseBin, 0.3; TestRiseBinMeets
// ForecastSurges fails without it: 18 of 24 forecast surges of unknown
// size met from the tick before, 22 with it): a tick whose forecast rise
// over the lead window exceeds 30 % of the blended base and five typical
// one-tick changes is calibrated in a bin of its own, learned over the
// whole lead window, its level bin's ratios serving until it holds 30.
// On the development seeds, web | database after:
//
//	s1  0.319/0.228 | 0.275/0.107 at 1.21
//	s2  0.432/0.269 | 0.658/0.129 at 1.17
//	s11 0.373/0.223 | 0.598/0.093 at 1.21
//	s12 0.097/0.301 | 0.418/0.151 at 1.22
//	s13 0.461/0.284 | 0.410/0.123 at 1.22
//	s14 0.456/0.334 | 0.871/0.173 at 1.20
//
// The threshold was chosen among 0.1, 0.2 and 0.3 (`--grid
// 'rise-bin=0.1,0.2,0.3'`) on these seeds and the suite, without the
// noise test: the databases were alike at all three (unserved× 0.093–
// 0.198), the web moved with 0.1 and 0.2 (s1 0.159/0.129 and
// 0.202/0.134), and on the suite 0.1 and 0.2 made social-5m-s1 worse
// (0.681/0.773, 0.593/0.691) where 0.3 left every row's worse ratio
// equal or better. Judged at 0.3 without the noise test on the unseen
// sweep (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic
// --seeds 75,76 --shop-seeds 49,50 --workers 1`), social-5m-s76 was
// worse (0.809/0.781 to 0.762/0.848) and batch-s75 cost 1.82 of the
// oracle: on a load whose noise is of the order of its level, the
// forecast's every wiggle is 30 % of the base. The noise test (five
// typical changes, the hour-phase guard's) was added then, so these
// seeds are not unseen for the kept change; with it social-5m's eight
// rows (seeds 1, 2, 11–14 and 75, 76) are as before to the third
// decimal (s76's cost 1.292 to 1.293), and the sweep's rows are as
// before but batch-s75 0.740/0.829 at 1.46 to
// 0.735/0.798 at 1.81 and the shop-s49 database 0.738/0.964 to
// 0.737/0.964; the surges-s75 database loses there before and after
// (1.146/0.942, not moved). The whole suite with --cv (the table above):
// no row loses; batch-s1 0.697/0.814 to 0.687/0.797, batch-s2
// 0.721/0.836 to 0.738/0.834 at 1.42 to 1.67 of the oracle (the
// forecaster's daily models expect yesterday's random jobs again, and
// the rise bin provisions for them at the calibrated size: the cost of
// batch goes up by a sixth with its ratios at equal cost about level);
// every other in-sample row within 0.001. On batch's seeds 11–14 (not
// suite rows; `--families social-5m,batch --tier-families none --seeds
// 1,2,11,12,13,14`) the worse ratio went the other way, 0.847, 0.840,
// 0.758 and 0.842 to 0.848, 0.847, 0.765 and 0.871 (s14 at 1.74 of the
// oracle, 1.42 before): the rise bin buys a forecast job that often does
// not come, and batch is where it costs without paying.
//
// Judged once on seeds 21–24 of daily-sales (`… --families daily-sales
// --tier-families daily-sales --seeds 21,22,23,24 --shop-seeds none
// …`), before | after, web and database:
//
//	s21 web 0.367/0.200 | 0.310/0.184   db 0.692/0.225 | 0.574/0.160
//	s22 web 0.463/0.285 | 0.451/0.277   db 0.866/0.285 | 0.727/0.161
//	s23 web 0.402/0.344 | 0.407/0.343   db 0.700/0.359 | 0.388/0.115
//	s24 web 0.481/0.351 | 0.480/0.351   db 0.913/0.406 | 0.832/0.186
//
// Better on every database figure, and on the web's but s23's under×
// (by 0.005). So requirement 4 holds on a front whose surges are
// forecast on unserved demand: the database beats HPA by more than the
// web on every development and judging seed of daily-sales (0.093–0.186
// of HPA's unserved demand against the web's 0.184–0.351), where before
// it did on two of ten. It does not hold on under-provisioned minutes
// (the database's under× is below the web's on s1, s13 and s23 only):
// with the rise bin seed 2's database misses 43 onset minutes (0.155 %
// unserved) against HPA's 245 at equal cost, but 133 minutes elsewhere
// (0.013 %) at 110,455 replica-minutes against HPA at 0.80's 25 at
// 111,860 (seed 14: 122 against 22). Those are the fifth round's misses
// at a replica's edge as the hit ratio wanders (its queries move by
// ±13 % over tens of minutes) with the selector at p98 and the 15-minute
// window for most of the run: no forecast surge is in them, and the web,
// whose load does not wander so, has none. It is the fifth round's knee
// of HPA's curve on a wandering-ratio load, not a forecast's miss, and
// it was not worked on this round.
// Daily-sales stays out of the default suite (its 4 traces and 4 apps
// add about a minute); its judging seeds have now been seen.
//
// Merged with the thirteenth and fourteenth rounds' evidence margin
// (which this round was developed without), the same command on seeds
// 1,2,11–14,21–24 gives the databases (web unchanged) s1 0.327/0.107,
// s2 0.745/0.131, s11 0.770/0.110, s12 0.494/0.159, s13 0.462/0.122, s14
// 0.941/0.176, s21 0.661/0.157, s22 0.727/0.161, s23 0.443/0.114 and s24
// 0.828/0.186: unserved demand still beats HPA by more than the web on
// all ten (0.107–0.186 against 0.184–0.351), but the margin, which
// delays the database's switches to a costlier point, costs its
// under-provisioned minutes 0.05–0.17, so they beat HPA by more than the
// web's on none of the ten (three before). Both rounds were kept: the
// margin turns a losing database (surges-s13) into a winning one, and
// requirement 4's under-provisioned minutes did not hold before it
// either. The two together, judged once on seeds nobody had used
// (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic --seeds
// 77,78 --shop-seeds 51,52,53,54 --workers 1`, at 37a1b28 and after):
// no row moves by more than 0.001 on either figure, and none of the 38
// loses at either.
//
// Noticed and not touched: the web's figures depend on where its
// selector puts its cost. At fixed points for every tier (`… --seeds
// 1,2,11,12,13,14 --skill=off --short-stabilization=0s --grid
// 'quantile=0.9,0.95,0.98;stabilization=3m,15m'`, after the rise bin)
// the web at p95 with the 3-minute window is 0.069/0.214, 0.050/0.208,
// 0.124/0.208, 0.094/0.296, 0.056/0.229 and 0.075/0.281 at 1.03–1.04
// of the oracle, where the selector's run (p98 with the 15-minute
// window from day 1) is 0.30–0.46 under× at 1.04–1.08. The quality is
// about the same (seed 2: 0.271 % of minutes under-provisioned against
// 0.253 %, 0.129 % unserved against 0.127 %); the cheaper point lands
// on HPA's curve between its 0.90 and 0.95 targets, where HPA's
// tolerance band leaves it under-provisioned 5.4 % of the minutes, so
// its ratios are small. The selector's HPA shadows stop at 0.90 and do
// not see that cliff (its shadows rate p98/15m at 0.756 and p95/3m at
// 0.896 of HPA on seed 2's second day). So the database's lead over the
// web on unserved demand does not rest on the web's choice (the web's
// best fixed point is 0.208–0.296, the database's shipped 0.093–0.173),
// but its under-provisioned minutes would fall further behind a web
// running the cheaper point. The database's best fixed point is p98
// with the 15-minute window (0.155/0.088, 0.310/0.093, 0.378/0.062,
// 0.275/0.132, 0.309/0.102, 0.454/0.136 at 1.23–1.28), what its
// selector runs for most of seeds 2 and 14.
//
// # The sixteenth round: a long-lead tier starts cheap
//
// Five database rows lost at main (9a08ad0) on seeds first run as
// judging seeds, now development seeds (`GOMAXPROCS=1 go run
// ./services/decider simulate --synthetic --seeds none --shop-seeds
// 43,44,45 --workers 1` and `… --families surges --seeds 73,75
// --shop-seeds none …`): shop-s43 0.861/1.001 at 1.18 of the oracle,
// s44 0.990/1.035 at 1.14, s45 0.967/1.017 at 1.17, surges-s73
// 1.042/0.964 at 1.08, surges-s75 1.098/0.921 at 1.10 (1.146/0.942
// before the fifteenth round); every 3-minute row of these seeds wins.
//
// What they share is the operating point, not the schedule. At fixed
// points (`… --skill=off --short-stabilization=0s --grid
// 'quantile=0.9,0.95,0.98;stabilization=3m,15m'`) p90 with the 3-minute
// window wins all five (shop 0.717/0.957, 0.792/0.953, 0.736/0.941;
// surges 0.960/0.961, 0.913/0.920, at 1.07–1.11 of the oracle), p95
// with it loses four (shop 0.860/1.000, 1.050/1.027, 0.961/1.013;
// surges-s75 1.098/0.921, the shipped row to the digit; surges-s73
// 0.921/0.957 wins), and every 15-minute point and p98 loses all five
// (p95/15m, the configured point: 1.029–1.344 under×). The selector's
// shadows, printed by a scratch change (not kept), show why on s43: it
// ran the configured p95/15m through the first day, left it for p95/3m
// at day 1.43 (ratio to the HPA shadows 1.074 against 1.194) and stayed
// there to the end, rating p90/3m 0.92–0.99 against its own 0.98–1.03
// from day 7 on: better, but by less than skillSwitch's 10 %, so the
// cheaper winner is never taken. The thirteenth round's rule, a costlier
// point needs evidence, was applied to every switch but the first one:
// the configured point is itself a costlier point taken on no evidence.
//
// Kept, both on a tier whose lead window is longer than
// skillMemoryWindow (the tiers the margin already applied to):
//
//   - the selector starts at its cheapest candidate, the lowest quantile
//     with the shortest window (p90/3m), rather than the configured point
//     (TestSkillLongLeadStartsCheapest);
//   - the costlier switch's margin is the relative error of a ratio of
//     two counts, skillEvidence·√(1/(n1+1) + 1/(n2+1)), not
//     skillEvidence/√(n1+n2+1) (TestSkillCostlierSwitchNeedsEvidence's
//     new case: a candidate on two runs of its own does not replace a
//     point on a hundred). Without it the cheap start makes shop-s23
//     worse (1.040/1.054 to 1.234/1.104): after its first day p98/15m,
//     on 3.9 runs, rated 0.694 against p90/3m's 0.963 on 8.8 (28 %
//     better), cleared the shared-count margin 1/√13.7 = 0.27 by a
//     hair; the per-count bound is 0.55. Alone (main's start) this
//     margin moves no row of the development seeds below.
//
// Development seeds, main → kept (databases; no web or cache row moves):
// shop 1, 2, 5–10, 21–24 (`--seeds none --shop-seeds
// 1,2,5,6,7,8,9,10,21,22,23,24`) 2 of 36 losing → 0: s23 1.040/1.054 →
// 0.744/0.980 (cost ÷ oracle 1.178 → 1.107), s8 0.787/1.001 →
// 0.777/0.997, s9 0.906/0.983 → 0.756/0.967, s21 0.974/0.987 →
// 0.814/0.942, s7 0.710/0.973 → 0.679/0.959, s5 0.767 → 0.766, the
// other six the same; surges 1, 2, 11–14, 73, 75 with shop 43–45
// (`--families surges --seeds 1,2,11,12,13,14,73,75 --shop-seeds
// 43,44,45`) 5 of 41 losing → 0: the five rows above become the fixed
// p90/3m figures above, surges-s1 0.912/0.934 → 0.791/0.926, s13
// 0.972/0.985 → 0.904/0.953, the rest the same. The whole suite with
// --cv: 0 of 34 rows lose; only the surges-s1 database moves (the
// table); NASA 0.089/0.066 (cv 0.096/0.076) and ClarkNet 0.184/0.121
// (cv 0.191/0.235) the same to the digit (their tiers have a 3-minute
// lead); the worst loss of every setting is shop-s2's database, 0.966,
// or the settings' own (ClarkNet 1.021–1.026 without the outage hold,
// bursty-hourly-s2 1.004, surges-s1 db 1.089 without the selector).
//
// Judged once, frozen (96ab957), on seeds nobody had used
// (`GOMAXPROCS=1 go run ./services/decider simulate --synthetic --seeds
// 79,80 --shop-seeds 55,56,57,58 --workers 1`, main → kept): 3 of 38
// rows move, all databases, all better; losing rows 3 → 1. shop-s55 db
// 0.992/1.043 → 0.775/0.968 (LOSES → wins), surges-s79 db 1.068/0.942
// → 0.931/0.927 (LOSES → wins), surges-s80 db 1.293/0.971 at 1.12 →
// 1.013/0.969 at 1.07 (still LOSES, on under-provisioned minutes; not
// looked into: judging seeds). Kept.
//
// The cost, outside the suite: the daily-sales databases (the fifteenth
// round's requirement-4 rows; `… --families daily-sales --tier-families
// daily-sales --seeds 1,2,11,12,13,14 --shop-seeds none …`) are worse on
// under-provisioned minutes, s1 0.327/0.107 → 0.524/0.115, s2
// 0.745/0.131 → 0.778/0.141, s11 0.770 → 0.850, s12 0.494 → 0.746, s13
// 0.462/0.122 → 0.950/0.150 and s14 0.941/0.176 → 1.122/0.175, which
// now LOSES (0 of 24 → 1); the web rows do not move, so the unserved
// lead of the database over the web (requirement 4) holds on these six.
// Their best fixed point is p98/15m (the fifteenth round), which the
// selector now reaches only on evidence, and most of the loss is the
// margin's: the margin alone gives s14 1.104/0.175 (LOSES), s13 0.787,
// s1 0.495. Tried and not kept: the margin on the smaller count alone,
// skillEvidence/√(min(n1, n2)+1): shop and surges exactly as kept,
// daily-sales s14 still 1.126/0.175 (LOSES). Daily-sales is not a suite
// row; whether its sale-day databases need a costlier start, or a
// margin that sees the forecast surges the rise bin already knows of,
// was not looked into.
//
// # The seventeenth round: the selector reads a coarser HPA curve
//
// After the sixteenth round two daily-sales databases lose (`GOMAXPROCS=1
// go run ./services/decider simulate --synthetic --families daily-sales
// --tier-families daily-sales --seeds 1,2,11,12,13,14,21,22,23,24
// --shop-seeds none --workers 1`): s14 1.122/0.175 and s21 1.010/0.180.
// Yet on s14 the selector ran p90 with the 3-minute window until day 12.5
// and rated it 0.63–0.74 of the HPA shadows: it believed it won by a
// quarter to a third where the evaluation finds it losing by an eighth.
//
// Measured with a scratch change (not kept) that gave every shadow plain
// counts over the scored minutes (misses, unserved load, replicas paid)
// beside its exponentially weighted rates. The shadows are the cluster.
// On s14's database the p90/3m shadow is 1.8646 % of minutes
// under-provisioned and 0.3599 % unserved at 4.714 replicas; the policy
// run at that fixed point (`… --seeds 14 --skill=off
// --short-stabilization=0s --quantile 0.9 --stabilization 3m`) scores
// 1.865 % and 0.3599 %. The p98/15m shadow 0.4062/0.1854 against the
// fixed run's 0.406/0.1854, p95/3m 1.1042/0.3004 against 1.104/0.3004,
// and every HPA shadow equals the evaluation's HPA run at its target to
// the fourth digit (0.4: 0.5139 %, 0.5602 %, 9.434 replicas). So neither
// the serving model (the fewest replicas decided over the lead time plus
// one tick; a reduction at once) nor the first day nor the eps floors is
// the gap, and the rates (about 19 days' memory on the database) are
// close to the whole trace's (day 21: p90/3m 0.739 from the rates, 0.719
// from the counts).
//
// The gap is the curve. The evaluation runs HPA at every 0.05 from 0.40
// to 0.95; the shadows at every 0.1 from 0.4 to 0.9. The database's curve
// has its knee in between: on s14 HPA at 0.80 misses 1.049 % of minutes
// at 4.914 replicas, at 0.85 1.955 % at 4.655, at 0.90 5.035 % at 4.400.
// p90/3m lies between 0.85 and 0.80, where the evaluation reads 1.748 %;
// the shadows draw the chord from 0.90 to 0.80 and read 2.60 %: 0.719
// against 1.068. s21 alike (p90/3m 1.677 % at 4.654 replicas, the knee
// 1.156 % at 0.80, 1.816 % at 0.85, 4.701 % at 0.90: 0.664 against
// 1.008). The chord overrates every point whose cost lies between HPA's
// at 0.90 and at 0.80, the cheap points the sixteenth round's cheap
// start runs first. The sixth round saw this chord on the surges app's
// database and tried a shadow at 0.85 then (left out: it moved the
// selector to costlier points that lost more).
//
// Tried, none kept (dev seeds only; daily-sales as above, the shop
// `--seeds none --shop-seeds 1,2,5,6,7,8,9,10,21,22,23,24,43,44,45`,
// surges `--families surges --seeds 1,2,11,12,13,14,73,75 --shop-seeds
// none`; main → tried, worse-of-two ratios):
//
//   - A: the shadows at every 0.05 from 0.40 to 0.90 (the evaluation's
//     curve over the shadows' range). Daily-sales losing 2 of 40 → 1:
//     the databases s14 1.122 → 0.961, s21 1.010 → 0.824, s1 0.524 →
//     0.484, s11 0.850 → 0.830, s12 0.746 → 0.580, s13 0.950 → 0.767,
//     s22 0.880 → 0.792, s23 0.725 → 0.526, but s2 0.778 → 0.811 and
//     s24 0.885/0.215 → 1.073/0.188 (LOSES); the web's s11 0.373/0.223
//     → 0.191/0.212. Shop: no database moves; seven webs (and caches) move
//     by up to 0.08 (s9 0.949 → 0.873, s5 0.940 → 0.921, s8 0.936 →
//     0.946, s22 0.996 → 0.998), 0 of 45 lose. Surges: no database
//     moves; web s1 0.747 → 0.723, s11 0.799 → 0.631; 0 of 32 lose.
//     The whole suite (`GOMAXPROCS=1 go run ./services/decider simulate
//     --suite /work/shared/data/traces --cv --workers 1`): 0 of 34 lose
//     before and after, but ClarkNet 0.184/0.121 → 0.199/0.141 and its
//     cross-validated row 0.191/0.235 → 0.244/0.282, which misses the
//     0.25 goal; NASA 0.089/0.066 → 0.088/0.065 (cv 0.096/0.076 →
//     0.088/0.065); diurnal-low-s2 0.267/0.293 → 0.311/0.329, bursty-s2
//     0.802/0.790 → 0.827/0.803, social-5m-s2 0.674/0.745 → 0.695/0.748,
//     surges-s1's web 0.737/0.747 → 0.684/0.723, diurnal-low-s1 0.250 →
//     0.236; no database moves (surges-s1 0.791/0.926).
//   - B: every 0.05 from 0.40 to 0.95 (the evaluation's curve). Daily-
//     sales databases as A to the digit (s24 LOSES); every web moves to a
//     cheaper point, between HPA's at 0.90 and at 0.95 (under×
//     0.052–0.122, unserved× 0.168–0.296). Not run further: it fails
//     where A does, and it moves every 3-minute tier.
//   - A without the evidence margin (skillEvidence 0), to see whether the
//     margin made up for the chord: daily-sales 2 → 0 losing, every
//     database better (0.290–0.678 under×); but the shop 0 → 3 (s7
//     0.991/1.027, s23 1.227/1.205, s45 0.961/1.013) and surges 0 → 5
//     (s2, s13, s14, s73, s75). It did not.
//   - A with the configured start (p95/15m) in place of the cheapest:
//     daily-sales 2 → 0 losing (0.385–0.830); the shop 0 → 3 (s7
//     0.989/1.029, s23 1.069/1.088, s45 0.965/1.015), surges 0 → 1 (s73
//     1.042/0.964).
//
// Why A turns s24: with the true curve the selector rates p98/15m 10–30 %
// better than p90/3m from day 4.5 (0.808 against 0.903; 0.678 against
// 0.897 at day 6.5), and the evidence margin keeps p90/3m until about day
// 13. The run is then about twelve scored days of a point on the cheap
// side of HPA's knee and eight on the costly side, and the mix lies above
// the curve: the fixed points win (`… --seeds 24 --skill=off
// --short-stabilization=0s`, p90/3m 0.885/0.215 at 1.105 of the oracle,
// p98/15m 0.542/0.158 at 1.230) where the mix loses (1.073/0.188 at
// 1.156). Under main's chord p98/15m never looked
// better by enough to switch: main's row is the fixed p90/3m's to the
// digit.
//
// So the disagreement is a measuring error of the selector (its curve is
// coarser than the one it is judged on), not a modelling one, and
// correcting it alone trades two losing databases for one and costs
// ClarkNet its cross-validated goal (a 3-minute tier, whose selector
// chooses on the finer curve too). On the databases, daily-sales needs
// its costlier point early, the shop and the surges app need the cheap
// start and the margin, and a late switch across HPA's knee loses to
// both. Nothing was judged (no candidate passed the development seeds);
// the judging seeds 81, 82, shop 59–62 and daily-sales 31–34 are unused.
// Noticed and not touched: with A the selector sees what the evaluation
// sees, so what is left is when a costlier point is worth switching to
// late in a run (the margin's delay, s24); surges-s80's database
// (1.013/0.969, a judging seed of the sixteenth round) was not looked
// into.
//
// # The eighteenth round: surges-s80 on a vertex of HPA's curve
//
// One database row loses on a seed first used for judging, now a
// development seed (`GOMAXPROCS=1 go run ./services/decider simulate
// --synthetic --families surges --seeds 80 --shop-seeds none --workers
// 1`): surges-s80 db 1.013/0.969 at 1.074 of the oracle, 1.229 % of
// minutes under-provisioned against HPA's 1.213 % at that cost.
//
// It is one fixed point. The selector runs p90 with the 3-minute window
// from its start to the end (every half-day sample of the seventeenth
// round's scratch counters, with the shadows at main's targets and at
// every 0.05), and the row is that point's to the digit (`… --skill=off
// --short-stabilization=0s --grid
// 'quantile=0.85,0.9,0.95,0.98;stabilization=3m,15m'`): p85/3m
// 0.906/0.939 at 1.055, p90/3m 1.013/0.969 at 1.074, p95/3m 0.981/0.927
// at 1.110, p98/3m 1.025 at 1.165, p90/15m 1.208 at 1.118, p95/15m
// 1.143 at 1.169, p98/15m 1.121 at 1.252; with `stabilization=5m,10m`
// p90 1.127 at 1.082 and 1.164 at 1.100, p95 1.030 at 1.121 and 1.176
// at 1.145. So it is no mix across a knee. Nor is it the selector's
// chord: on the 0.05 shadows the selector rates p90/3m 0.955 and p95/3m
// 0.948 on day 21 (whole-trace counts 1.006 and 0.980, the evaluation's
// 1.013 and 0.981), too close for any switch, and the row does not move.
//
// The loss is where the point sits. The database's HPA curve has its
// knee at 0.85 (0.80: 1.145 of the oracle, 0.660 %; 0.85: 1.077,
// 1.094 %; 0.90: 1.029, 3.181 %), and p90/3m costs 0.003 less than HPA
// at 0.85, at the vertex, where the evaluation's chord is least generous
// (it reads 1.213 %, the finer curve below 1.145 %). A scratch test (not
// kept) ran HPA between the evaluation's targets (0.86: 1.067, 1.274 %;
// 0.87: 1.059, 1.538 %; 0.875: 1.053, 1.806 %; 0.88: 1.048, 1.924 %;
// 0.89: 1.039, 2.576 %; 0.825: 1.106, 0.823 %). On that finer curve
// every fixed point loses on under-provisioned minutes by 7–8 %: p85/3m
// 1.861 % against 1.724 (1.080; scored 0.906), p90/3m 1.229 against
// 1.145 (1.073), p95/3m 0.865 against 0.807 (1.072; scored 0.981). The
// unserved demand still wins (p90/3m 0.972). The points that win in the
// table win mid-chord.
//
// Where the extra misses are (the same scratch test; p90/3m against HPA
// at 0.85, 354 against 315 scored minutes): outside the surges 154 and
// 149, in their first 20 minutes 157 and 166, later in them 34 and 0, in
// the hour after 9 and 0, for replica-minutes 89,159 and 89,072 outside,
// 2,996 and 2,810 at onsets, 10,238 and 10,720 later in them, 2,798 and
// 2,858 after: we spend 542 fewer on the plateaus and the hour after
// them and miss 43 more minutes there. Split by the replicas the load
// needs (onsets left out): above 10 (459 minutes) we miss 4.8 % with a
// slack (ready ÷ need − 1) of 0.14, HPA none with 0.23; 6–10 (259) 4.6 %
// against none; 3–4 (6,555) 0.96 % against 0.66 %; up to 3 (19,937)
// 0.25 % against 0.29 % at about the same slack (0.350 and 0.357). HPA's
// 15 % stands over a surge's plateau; ours is a quantile of the peak
// ratio, which misses about as often as it says there, where rounding up
// gives no slack. Seeds 1 and 73 show the same above 10 replicas (6.5 %
// and 6.0 % against 3.9 % and 1.0 %) and win. A typical run: on day 9.75
// the load fell to 12.9 replicas' worth by the surge's minute 39, the
// database went 15 → 14 at minute 41, the load came back to 14.5 at
// minute 49, and the replica asked for at 47 served at 57: misses 49–56,
// HPA holding 16. Of the plateaus' misses (by the decision 11 minutes
// before) 13 in 126 minutes were sized by the plateau bin (ratio 1.05,
// learned over JumpLead, 3 minutes past the tick, on a 10-minute tier)
// and 17 in 391 by the pooled ratios (1.08; the bin of 8–16 replicas
// holds fewer than MinCalibration ratios in 72 hours).
//
// Tried, not kept: the plateau bin learned over the whole lead window
// (the jump bins keep JumpLead; the tenth round tried the same). s80's
// database 1.013/0.969 → 1.021/0.970 (1.198 % of minutes, but at 1.075
// of the oracle HPA reads 1.173 %); the surges' databases (`… --families
// surges --seeds 1,2,11,12,13,14,73,75,79,80 --shop-seeds none …`)
// worse on under-provisioned minutes on 9 of 10 (s1 0.791 → 0.806, s11
// 0.919 → 0.938, s73 0.960 → 0.972; s75 0.913 → 0.885 better). Not run
// on the other seeds. No code change; the judging seeds 81, 82, shop
// 59–62 and daily-sales 31, 32 are unused.
//
// Noticed and not touched: the evaluation's chord between its targets
// 0.05 apart favours a point mid-chord on a database's knee (p85/3m
// scored 0.906, 1.080 on the finer curve) far more than one at a
// target's cost (p90/3m 1.013 against 1.073), so a row's verdict near 1
// depends on where its cost falls; and the database's plateaus get less
// headroom than HPA's, from the plateau bin's 3-minute window and the
// pooled ratios of a rarely filled high bin.
//
// # The nineteenth round: a margin that a ratio can clear
//
// The sixteenth round's margin for a costlier switch on a long-lead tier,
// skillEvidence·√(1/(n1+1) + 1/(n2+1)), was read as a relative
// improvement, and reached 1 whenever one side held no run of misses
// (n = 0 gives a term of 1 alone): a costlier point that had not missed in
// the selector's memory could never be taken, however badly the running
// point did. The bound is a standard error of the log of the ratio, so the
// margin is now 1 − exp(−bound): the candidate's ratio must lie below the
// running one's times exp(−bound). It stays below 1, and is a little
// narrower everywhere (0.55 → 0.42 for shop-s23's 3.9 and 8.8 runs, still
// above the 25-28 % by which p98/15m was rated better there).
// TestSkillCostlierSwitchNeedsEvidence has a case that fails under the
// old form (no miss of its own against fifty, rated 98 % better) and
// checks that the margin stays below 1.
//
// Development seeds, main → kept (`GOMAXPROCS=1 go run ./services/decider
// simulate --synthetic … --workers 1`): shop 1, 2, 5–10, 21–24 (`--seeds
// none --shop-seeds 1,2,5,6,7,8,9,10,21,22,23,24`) and surges 1, 2,
// 11–14, 73, 75 with shop 43–45 (`--families surges --seeds
// 1,2,11,12,13,14,73,75 --shop-seeds 43,44,45`) the same on all 77 rows;
// daily-sales 1, 2, 11–14 (`--families daily-sales --tier-families
// daily-sales --seeds 1,2,11,12,13,14 --shop-seeds none`) databases
// s1 0.524/0.115 → 0.490/0.113, s2 0.778/0.141 → 0.795/0.134 (fewer
// under-provisioned minutes, 1.003 % → 0.951 %, at a higher cost), s11
// 0.850/0.120 → 0.830/0.120, s12 0.746/0.183 → 0.617/0.176, s13
// 0.950/0.150 → 0.848/0.143, s14 1.122/0.175 → 1.132/0.176 (still
// LOSES). The whole suite with --cv (`--suite ../shared/data/traces --cv
// --workers 1`, 4 min 16 s) the same to the digit: 0 of 34 rows lose.
//
// Judged once, frozen, on seeds nobody had used, main → kept:
// `--synthetic --seeds 81,82 --shop-seeds 59,60,61,62` the same on all
// 38 rows, none losing (the databases: shop-s59 0.698/0.931, s60
// 0.707/0.950, s61 0.778/0.981, s62 0.729/0.959, surges-s81 0.805/0.944,
// s82 0.898/0.942); `--families daily-sales --tier-families daily-sales
// --seeds 31,32,33,34 --shop-seeds none` every database better on both
// figures: s31 1.260/0.210 → 1.199/0.207 (LOSES either way, on
// under-provisioned minutes), s32 0.855/0.138 → 0.811/0.134, s33
// 0.712/0.177 → 0.602/0.169, s34 0.977/0.173 → 0.878/0.171; their web
// rows do not move (unserved 0.350, 0.237, 0.281, 0.325), so requirement
// 4 holds on unserved demand on these four too. Kept. Run after the
// judging on daily-sales 21–24 (development seeds since the fifteenth
// round): s21 1.010/0.180 → 0.899/0.182 (LOSES → wins), s22 0.880/0.172
// → 0.863/0.173, s23 0.725/0.131 → 0.649/0.130, s24 0.885/0.215 →
// 0.927/0.214; over the fourteen daily-sales seeds 3 databases lose
// before and 2 after (s14, s31). The judging seeds
// become development seeds; scaling synthetic 83+, shop 63+ and
// daily-sales 35+ are unused.
//
// # The twentieth round: where the database's minutes are lost
//
// Where the daily-sales databases lose their under-provisioned minutes,
// measured with a scratch test (not kept) that runs the three-tier app
// and HPA at the target nearest our cost on the same tier, and splits
// the scored minutes by the generator's sale schedule (a sale's first 13
// minutes from 2 before its start, its body, 30 minutes after it, the
// rest). Seed 14 (seed 1), ours against HPA at 0.80 (0.75):
//
//	minutes  under-provisioned     unserved (req/s-minutes)   cost (replica-minutes)
//	onset     66 (40) vs 253 (243)  69,980 vs 492,702         6,385 vs 3,636
//	body      49 (12) vs  27 (20)   12,139 vs  14,421        21,917 vs 22,608
//	after      7 (0)  vs   0 (0)       315 vs       0         4,519 vs 3,363
//	rest     214 (87) vs  22 (0)     5,974 vs     316       109,680 vs 111,928
//
// The database meets the sales far better than HPA (the onsets' unserved
// demand a seventh of HPA's) and pays for it away from them: 2 % less
// than HPA there, and ten times its under-provisioned minutes, 197 of
// seed 14's 214 short by less than a fifth of a replica. 198 of the 214
// (84 of 87; seed 2 205 of 209) came while the load was climbing (the
// load 10 minutes on more than 3 % above the load 10 minutes before). The
// calibration explains it: over seed 14's database, the peak over the
// lead window divided by the base has a p90 of 1.104 at ticks whose
// level is rising by more than 2 % over 10 minutes, 1.081 at flat ones
// and 1.035 at falling ones (surges-s14 1.113, 1.084, 1.044; every one
// of four seeds alike), and the level bin's one quantile, 1.082, gives a
// climb too little and a fall too much. The shop's databases are
// different: most of their short minutes also come on a climb (425 of
// seed 8's 664), but they are large (549 of the 664 short by more than
// a fifth of a replica; HPA at 0.85, at about our cost, has 975), the
// shop's unforecast spikes, which no headroom on a 10-minute tier meets.
//
// Three changes were tried on the development seeds, with a flag each in
// one binary (`go build -o /tmp/dec ./services/decider`; `GOMAXPROCS=1
// /tmp/dec simulate --synthetic … --workers 1` with the daily-sales,
// surges and shop seeds of the sixteenth round's list, `--families
// daily-sales --tier-families daily-sales --seeds
// 1,2,11,12,13,14,21,22,23,24 --shop-seeds none`, `--families surges
// --seeds 1,2,11,12,13,14,73,75,79,80 --shop-seeds none` and `--seeds
// none --shop-seeds 1,2,5,6,7,8,9,10,21,22,23,24,43,44,45,55`). None was
// kept, and none was judged:
//
//   - A ramp carried on past RampLead at a learned share of its pace:
//     each carried ramp, once its lead window passed, taught the share of
//     the further rise (from RampLead past the tick to the window's end)
//     that the peak reached, clipped to [0, 1] and averaged at learnAlpha;
//     a 3-minute tier is unchanged. The share settled near 0.55 on
//     daily-sales-s14's database and 0.65 on surges-s1's. Daily-sales
//     databases' under× better on 7 of 10 (s14 1.132 → 1.081, still
//     losing), but every surges database worse on it (surges-s1 0.791 →
//     0.862, s73 0.960 → 1.061 and s79 0.931 → 1.019 newly losing, s80
//     1.013 → 1.092), and the suite's ClarkNet cv row past its goal
//     (0.222/0.256), the grid choosing differently. Rejected.
//   - Trend bins: each level bin split by whether the mean load of the
//     last LevelWindow is above the one before (the history kept for it
//     grows to two level windows, which alone changes nothing). Both
//     halves get their own quantile, so climbs get more and falls less.
//     The surges databases better on 9 of 10 (s13 0.904 → 0.747, s73
//     0.960 → 0.862; s80 1.013 → 1.071), daily-sales mixed (s2 0.795 →
//     0.601, s13 0.848 → 0.937), every shop database worse on the worse
//     of its two ratios, shop-s23's and s55's losing (1.112/1.083,
//     1.002) and shop-s22's web (1.005); the suite's NASA 0.089 → 0.117, ClarkNet cv 0.263/0.291,
//     social-5m-s1 0.507 → 0.707. With the split only where the level
//     rose by more than a typical one-tick change, the shop as bad
//     (shop-s23's database 1.326/1.176 at 1.31 of the oracle). Rejected.
//   - A climb floor: every tick keeps its level bin's ratio, learned from
//     all of the bin's ticks as now, and a climbing tick takes the larger
//     of that and the quantile of the climbing ticks' own ratios, kept in
//     a second calibration. Every daily-sales database better on
//     under-provisioned minutes (s1 0.490 → 0.343, s14 1.132 → 0.865,
//     s21 0.899 → 0.777, s24 0.927 → 0.880) and on unserved demand on 8
//     of 10; the surges databases mixed (s2 0.747 → 0.703, s75 0.913 →
//     0.957); the shop's databases at 0.4–1.3 % more cost, 15 of 16 worse
//     on under-provisioned minutes (by up to 0.056) and 15 on unserved
//     demand (s9 0.756/0.967 → 0.771/0.960), and shop-s8's unserved
//     demand 0.997 → 1.008, losing. With the climb tested against a
//     typical one-tick change as above: daily-sales all better again (s14
//     0.933), surges mixed (s75 0.983), 15 of the 16 shop databases worse
//     (s22 within 0.001) and s8 losing (1.006). Rejected: a climb's extra
//     headroom pays where climbs are smooth and the misses small, and
//     costs where the climbs are spikes that a 10-minute boot cannot meet.
//
// Each of the three rests on one quantile or share for every tick of a
// kind, and the traffic decides whether the kind pays; the skill
// selector, which chooses among operating points by what they would have
// done on this tier, is where such a choice belongs. Tried last: the
// climb floor (with the climb tested against a typical change) as a
// dimension of the selector's candidates, each of p90 and p98 with the
// full and the 3-minute window run with and without it (8 shadows, the
// cheapest, without, the start on a long-lead tier). The selector never
// took it on the shop (all 32 shop rows as main to the digit) nor on the
// surges databases (all 10 as main), took it on two surges fronts
// (surges-s2's web 0.667/0.748 → 0.428/0.736, s75 0.670/0.667 →
// 0.667/0.662) and on 9 of the 10 daily-sales databases: better on 7
// (s1 0.490/0.113 → 0.374/0.101, s11 0.830 → 0.758, s13 0.848 → 0.777,
// s14 1.132/0.176 → 1.074/0.175, still losing, s22 0.863 → 0.763), worse
// on two, s21 0.899/0.182 → 0.947/0.171 and s24 0.927/0.214 →
// 1.006/0.212 at 1.3 % more cost, a development row that wins at main
// and loses with it. So it was not judged, and is not kept: the
// selector's reading of a costlier point on a 10-minute tier is the
// seventeenth round's chord again. The whole suite with it
// (`--suite ../shared/data/traces --cv --workers 1`, about 7 minutes
// with twice the shadows): 0 of 34 rows lose, surges-s2 0.667/0.748 →
// 0.428/0.736 (cv 0.466/0.738 → 0.347/0.728, its web row), drift-s1
// 0.014/0.006 → 0.011/0.004, drift-s2 0.019/0.009 → 0.023/0.012, every
// other row, NASA's and ClarkNet's with their cv, as main. It is the
// nearest of the four to a keeper. With it, the selector of a long-lead
// tier also read HPA's curve at every 0.05 from 0.40 to 0.90 (the
// seventeenth round's A, there on every tier; 3-minute tiers keep the
// 0.1 steps): every daily-sales database wins (s1 0.310/0.101, s2
// 0.586/0.127, s11 0.668/0.103, s12 0.494/0.158, s13 0.595/0.124, s14
// 0.861/0.173, s21 0.705/0.171, s22 0.727/0.161, s23 0.482/0.123, s24
// 0.989/0.183, at 1.16–1.22 of the oracle), the shop's 32 rows as main,
// the surges rows as with the climb floor alone but surges-s79's
// database, 0.931/0.927 → 1.160/0.942 at 1.124 of the oracle: a costlier
// switch that the finer curve made look worth it, and a development row
// that starts losing. Not judged, not kept.
// The diffs are not kept in the tree.
//
// Main on seeds nobody had used, looked at once after the round (no
// change judged on them; `GOMAXPROCS=1 go run ./services/decider
// simulate --synthetic --seeds 83,84 --shop-seeds 63,64,65,66 --workers
// 1` and `--families daily-sales --tier-families daily-sales --seeds
// 35,36,37,38 --shop-seeds none`): 2 of 38 rows lose, shop-s64's web and
// cache at 1.003/0.949 (a front tier, on under-provisioned minutes by
// 0.3 %); the databases shop-s63 0.780/0.968, s64 0.777/0.961, s65
// 0.811/0.986, s66 0.714/0.994, surges-s83 0.806/0.925, s84 0.880/0.947;
// smooth-growth 0.004/0.005 on both; social-5m-s83 0.613/0.778, s84
// 0.506/0.681. Daily-sales 35–38's databases all win (0.761/0.214,
// 0.988/0.116, 0.758/0.184, 0.813/0.127), and beat HPA by more than
// their fronts on unserved demand (0.365, 0.259, 0.424, 0.293). Unused
// now: scaling synthetic 85+, shop 67+, daily-sales 39+.
//
// # The twenty-first round: the hour-phase guard, idle hours and minutes
//
// The eleventh round left two changes to the hour-phase guard unjudged
// together: (B) a past period with no load over its level window counts
// as no rise (ratio 0 for that period) instead of voiding the whole
// look-back, and (C) the guard keeps its hit rate per minute of the hour
// (60 rates, the minute of the expectation's instant, each resolved
// expectation weighted by a half, 1 to start) and acts at t only while
// the rate of t's minute is at least 3 in 10. Both target social-5m's
// posts: a night of a few counts a bucket voided the look-back for a
// day, and failed expectations at minutes with no post put the guard
// aside before the posts. The seasonal guard (two days, both must rise)
// keeps its rule: a day whose level window was idle is a day without a
// rise, as before. Each had a unit test that failed at main and passed
// with it: TestPhaseLookBackSurvivesAnIdleHour (one idle hour among 24;
// main gives up, ok false) and TestPhaseGuardKeepsEachMinuteOfTheHour
// (bursts at the top of every hour and, for the first day, at a quarter
// past, half past and a quarter to; main provisioned before the top of
// the hour in 3 of the 18 hours checked, C in all 18, and stood aside at
// a quarter past). Heap per tier 41,267 B with both (TestMemoryPerTier).
//
// Every figure below is from one binary per code version
// (`go build -o BIN ./services/decider`), main at a0b7cad. Development
// seeds (`GOMAXPROCS=1 BIN simulate --synthetic --families
// social-5m,bursty,bursty-hourly --seeds 1,2,11,12,13,14,21,22,23,24,31,32
// --shop-seeds none --workers 1`), social-5m under×/unserved×@cost÷oracle
// in seed order:
//
//	main     0.507/0.638@1.67 0.674/0.745@1.56 0.476/0.696@1.69 0.458/0.627@1.77
//	         0.514/0.532@1.50 0.683/0.741@1.54 0.350/0.572@1.71 0.485/0.690@1.71
//	         0.328/0.528@1.69 0.432/0.571@1.72 0.598/0.811@1.63 0.484/0.674@1.67
//	B and C  0.514/0.645@1.68 0.624/0.677@1.53 0.393/0.640@1.74 0.398/0.523@1.72
//	         0.536/0.540@1.50 0.642/0.719@1.53 0.287/0.497@1.75 0.474/0.678@1.71
//	         0.351/0.524@1.73 0.426/0.574@1.74 0.626/0.763@1.54 0.401/0.617@1.72
//
// The worse of the two ratios, averaged over the twelve, went from
// 0.652 to 0.616, better on 9 and worse on 3 (s1, s13, s24); s21 within
// 0.5× on both figures. Bursty did not move but s12 (0.762/0.755 to
// 0.764/0.755) and s13's cost (by 0.001); bursty-hourly's worse-ratio
// mean went from 0.754 to 0.749 (better on 9 of 12; s2 0.725/0.704 to
// 0.728/0.711). No row loses.
//
// The whole suite (`GOMAXPROCS=1 BIN simulate --suite
// /work/shared/data/traces --cv --workers 1`, 4.5–7 minutes on a shared
// machine) failed the gate. At main: 0 of 34 rows lose, ClarkNet
// 0.184/0.121 at 1.559 (cv 0.191/0.235), NASA 0.089/0.066 at 1.810 (cv
// 0.096/0.076). With B and C: 0 of 34 lose, ClarkNet 0.191/0.123 at 1.561
// but its cv row 0.228/0.260 at 1.501, past its 0.25 goal; NASA
// 0.090/0.066 (cv the same); bursty-hourly-s1 0.750/0.667 to 0.741/0.657,
// s2 0.725/0.704 to 0.728/0.711; social-5m-s1 0.507/0.638 to
// 0.514/0.645, s2 0.674/0.745 to 0.624/0.677; the surges-s2 database
// 0.747/0.901 to 0.761/0.903 (cv 0.782/0.904 to 0.785/0.905), surges-s1's
// cv 0.861/0.929 to 0.870/0.929; every other in-sample row within
// 0.001. The cv rows of NASA (to 0.090/0.066), bursty (s1 0.794/0.796
// to 0.802/0.797) and bursty-hourly moved with their choice, jump=4 to
// jump=3. Each change alone, the same command: B moves only social-5m
// (s1 0.547/0.668, s2 0.649/0.710); C moves every other in-sample row as
// B and C do, and ClarkNet's cv row to the same 0.228/0.260 (bursty's and
// bursty-hourly's choices stay at jump=4), social-5m-s1 0.510/0.639, s2
// 0.635/0.672 at 1.513.
//
// What moved ClarkNet's cv row is the grid's choice, not ClarkNet. With
// ClarkNet left out, the setting chosen went from jump=4 with no outage
// hold to jump=3 with no outage hold (NASA's, bursty's and
// bursty-hourly's choices from jump=4 to jump=3 too), and jump=3 without
// the hold already misses ClarkNet's goal at main. The grid side by side
// (`GOMAXPROCS=1 BIN simulate --suite /work/shared/data/traces --grid
// "jump-sigmas=3,4;outage-hold=0m,6h" --workers 1`): ClarkNet at jump=3
// without the hold 0.222/0.256 at main and 0.228/0.260 with B and C; at
// jump=4 without it 0.191/0.235 and 0.193/0.237. Over the other 33 rows
// every one of these settings has the same worst loss, 0.966 (shop-s2's
// database), so Choose takes the smallest mean log loss, and the two
// settings are a thousandth apart (computed from the printed rows as
// Choose computes it): jump=4 ahead by 0.0007 at main
// (−0.32203 against −0.32135), jump=3 ahead by 0.0004 with B and C
// (−0.32181 against −0.32143). The row that tipped it is social-5m-s2,
// whose loss is its cost over twice the oracle's: 1.561 at jump=3 and
// 1.504 at jump=4 at main, 1.531 at both with B and C. A cheaper
// social-5m row at the shipped setting hands ClarkNet a setting that
// never held its goal.
//
// The one variant allowed (not a constant): the guard reads its word at
// t as the mean of the rates of the minutes within its jitter (±2) of
// t's minute, since the look-back reads every minute give or take that
// jitter and one minute's rate rests on an expectation or two an hour.
// Both unit tests pass with it. Development seeds, social-5m in the
// order above:
//
//	variant  0.546/0.666@1.67 0.584/0.657@1.56 0.353/0.648@1.77 0.392/0.500@1.72
//	         0.538/0.542@1.49 0.637/0.717@1.53 0.292/0.506@1.75 0.469/0.651@1.74
//	         0.352/0.530@1.73 0.437/0.565@1.73 0.615/0.747@1.53 0.416/0.623@1.71
//
// the worse ratio's mean 0.613, better than main on 9 of 12;
// bursty-hourly's 0.748, better on 10; bursty as with B and C. The suite
// failed the gate the same way: ClarkNet 0.181/0.119 at 1.561 in-sample,
// cv 0.221/0.261 (the same choice, jump=3 without the hold), 0 of 34
// rows losing. Neither was judged; the code was reverted, and the
// judging seeds set aside for this round (85–88) stay unused.
//
// Noticed, not touched: ClarkNet's cv row stands on a near tie, and the
// loss behind it reads cost on the rows that decide it. A row's loss is
// the larger of its worse ratio over its goal and its cost over twice the
// oracle's; on NASA and social-5m it is the cost (NASA 1.772/2 = 0.886
// against 0.096/0.25 = 0.38 at jump=4 with the hold). So with ClarkNet
// out, NASA favours no outage hold (1.733 of the oracle at jump=4,
// though its ratios go from 0.096/0.076 to 0.133/0.136), and jump=3
// against jump=4 is settled by a mean log loss under a thousandth apart;
// any change that makes a social-5m row cheaper at the shipped jump
// setting can put ClarkNet's cv past its goal, whatever it does to
// ClarkNet. Also: with C a minute never expected yet starts at a rate of
// 1, so on traffic with no phase each minute gets its own chances before
// its failures put it aside.
//
// # The twenty-second round: where in the week a trace starts
//
// Every synthetic trace started on Monday 2026-01-05 at 00:00, so every
// run spent its unscored first day on a Monday, scored from Tuesday and
// met its first weekend after five days; real traces start on any weekday and hour (NASA on a
// Saturday, ClarkNet on a Monday), and the anomaly side found that the
// Monday start flattered one of its families by about 5 points. This
// round adds SynthOptions.Phase (`simulate --synth-phase`, off by
// default) and measures main's policy (97425d8) with it. It changes
// neither the policy nor any setting.
//
// With the phase a trace starts 0–6 whole days and a whole minute of the
// day after synthStart, drawn from a stream of the family's and seed's
// own (not the trace's). The generator draws the trace from synthStart
// as before, that many minutes longer, and drops the first ones, so the
// demand, not only the timestamps, starts at that point of its week: the
// weekly matches stay on Wednesdays and Saturdays at the unphased
// trace's hour, the daily sale at its minute of the day, a growth trend
// runs over the kept days, social-5m's buckets stay on the clock's
// 5-minute steps. The length is unchanged. Off, the traces are byte for
// byte main's (TestSynthPhaseOffIsUnchanged: 13 family/seed digests; the
// suite's table at seeds 1,2 is identical). TestSynthPhase checks that a
// phased trace is the same for the same seed, starts elsewhere for
// another, and follows its clock (diurnal-high's weekend falls on its
// timestamps' Saturdays and Sundays, which relabelled timestamps alone
// would not give).
//
// Commands (BIN built from this branch; rows below are the two together):
//
//	GOMAXPROCS=1 BIN simulate --synthetic --seeds 1,2 --shop-seeds none --workers 1 [--synth-phase]
//	GOMAXPROCS=1 BIN simulate --synthetic --families surges,daily-sales --tier-families daily-sales --seeds 1,2,11,12 --shop-seeds none --workers 1 [--synth-phase]
//
// Ours over HPA at equal cost, under×/unserved×@cost÷oracle, Monday 00:00
// then phased, and the phased trace's first minute (a front's web and
// cache rows are its trace's row):
//
//	smooth-growth-s1     0.003/0.007@1.02  0.004/0.010@1.02  Thu 19:29
//	smooth-growth-s2     0.004/0.007@1.02  0.004/0.005@1.02  Sun 01:14
//	surges-s1            0.737/0.747@1.08  0.677/0.729@1.07  Mon 08:29
//	surges-s2            0.667/0.748@1.06  0.422/0.676@1.05  Fri 05:59
//	jumps-s1             0.025/0.392@1.03  0.033/0.409@1.03  Fri 17:55
//	jumps-s2             0.045/0.511@1.04  0.037/0.438@1.03  Tue 13:50
//	batch-s1             0.687/0.797@1.49  0.722/0.849@1.65  Fri 13:17
//	batch-s2             0.738/0.834@1.67  0.742/0.827@1.68  Sat 00:49
//	diurnal-low-s1       0.249/0.255@1.19  0.199/0.198@1.19  Sun 14:09
//	diurnal-low-s2       0.267/0.293@1.16  0.305/0.361@1.16  Sat 18:20
//	diurnal-high-s1      0.005/0.006@1.03  0.007/0.010@1.03  Thu 22:27
//	diurnal-high-s2      0.004/0.012@1.03  0.006/0.016@1.03  Tue 04:40
//	drift-s1             0.014/0.006@1.05  0.017/0.008@1.05  Sun 20:38
//	drift-s2             0.019/0.009@1.04  0.034/0.016@1.04  Thu 17:28
//	bursty-s1            0.802/0.797@1.10  0.777/0.784@1.11  Thu 22:01
//	bursty-s2            0.802/0.790@1.12  0.751/0.773@1.13  Thu 13:02
//	bursty-hourly-s1     0.750/0.667@1.14  0.800/0.754@1.23  Fri 03:00
//	bursty-hourly-s2     0.725/0.704@1.14  0.779/0.743@1.21  Mon 05:18
//	social-5m-s1         0.507/0.638@1.67  0.396/0.526@1.83  Mon 06:07
//	social-5m-s2         0.674/0.745@1.56  0.537/0.774@1.57  Sat 16:07
//	surges-s1/db         0.791/0.926@1.07  0.777/0.936@1.08  Mon 08:29
//	surges-s2/db         0.747/0.901@1.08  0.762/0.899@1.08  Fri 05:59
//	surges-s11           0.705/0.799@1.05  0.654/0.779@1.06  Fri 10:53
//	surges-s12           0.743/0.715@1.06  0.436/0.675@1.05  Tue 18:34
//	daily-sales-s1       0.319/0.228@1.08  0.092/0.243@1.04  Sun 05:30
//	daily-sales-s2       0.432/0.269@1.07  0.425/0.296@1.06  Sun 00:28
//	daily-sales-s11      0.373/0.223@1.07  0.308/0.194@1.07  Sun 22:16
//	daily-sales-s12      0.097/0.301@1.04  0.064/0.251@1.03  Sat 18:17
//	daily-sales-s1/db    0.490/0.113@1.17  0.971/0.219@1.16  Sun 05:30
//	daily-sales-s2/db    0.795/0.134@1.15  0.762/0.112@1.14  Sun 00:28
//	daily-sales-s11/db   0.830/0.120@1.21  0.725/0.162@1.17  Sun 22:16
//	daily-sales-s12/db   0.617/0.176@1.21  0.875/0.253@1.15  Sat 18:17
//
// No row loses either way (0 of 26 and 0 of 20 in both). Phased, 18 of
// these 32 rows are better and 14 worse by the worse ratio, whose mean
// goes from 0.520 to 0.527. The rows that move most: daily-sales-s1's
// database 0.490 → 0.971, daily-sales-s12's 0.617 → 0.875, daily-sales-s1
// 0.319 → 0.092 and surges-s2 and -s12 0.667 → 0.422 and 0.743 → 0.436
// (the last three mostly HPA's: its under-provisioned minutes at our
// cost went 0.57 → 2.68 %, 0.44 → 0.78 % and 0.42 → 0.70 %, ours
// 0.18 → 0.25 %, 0.29 → 0.33 % and 0.31 → 0.31 %), and the costs of
// bursty-hourly (1.14 → 1.23 and 1.21) and social-5m-s1 (1.67 → 1.83).
//
// A phased trace is also another draw of its noise, so the phase alone
// was measured against redraws that keep the Monday start: a scratch
// build (not committed) set the skip to 1, 2, 3 or 4 whole weeks
// (Monday 00:00, the generator's stream spent a week or more further),
// and three more phases from other streams, on the same two commands.
// Over the five Monday draws and the four phased ones the mean worse
// ratio per row moves by 0.08 at most: diurnal-low better phased
// (0.28 → 0.20 and 0.36 → 0.29), jumps-s1 (0.44 → 0.37) and
// social-5m-s1 (0.68 → 0.60) too; the daily-sales database worse on
// s11 and s12 (0.72 → 0.79, 0.79 → 0.85) and not on s1 and s2 (0.72 →
// 0.71, 0.80 → 0.78), bursty-hourly 0.77 → 0.78 and 0.74 → 0.79.
// bursty-hourly reaches 1.21 of the oracle at a Monday start too (the
// draw three weeks in), so its phased costs are a draw's. The only loss
// in the nine draws is a Monday one: daily-sales-s1's database with the
// stream a week in, 1.020/0.178 at 1.16 of the oracle (HPA 1.032 %
// under); the worst phased is 0.971 (the table's). So on these seeds
// the phase moves a row by about what a redraw does, in neither
// direction for the suite as a whole; the Monday start does not flatter
// the policy the way it flattered the anomaly corpus's one family.
//
// Where the database of daily-sales loses its minutes (scratch test,
// seed 1, minutes under-provisioned ours/HPA at the target nearest our
// cost): Monday 139/263, a week in 303/306, phased (from Sunday 05:30)
// 288/305. Of the phased 288, 250 fall in the trace's days 1–11 (HPA
// 164), and 128 away from any sale (more than an hour before or after
// it; HPA 28), at 05:00–07:00, 10:00–16:00 and 20:00; HPA loses its
// minutes in the sales' first 15 minutes (270, ours 80). After day 11
// ours misses 0–10 minutes a day (Monday and phased). The first weekend
// is not where the minutes go: Saturday 16 and Sunday 4 of the Monday
// draw's 139, Saturday 0 and Sunday 29 of the phased 288 (whose first
// scored day is a Monday from 05:30; a Monday start scores from
// Tuesday). So the row's margin is set by the policy's first week and a
// half on the database, whatever the weekday of the start.
//
// Noticed, not touched: daily-sales-s1's database is the suite's
// narrowest row on the daily-sales app, one redraw from a loss; the
// forecaster's weekly profile needs 8 days and the misses end at about
// day 11, which this round did not attribute to one part of the
// policy. The phase is a measurement option; the suite's default stays
// the Monday start, so the tables of earlier rounds stand.
//
// # The twenty-third round: why the database misses in its first days
//
// A diagnosis round: it changes neither the policy nor any setting. The
// twenty-second round found daily-sales-s1's database losing its
// minutes on days 1–11 away from the sales and did not say which part
// of the policy loses them. The row (main, 2325faf):
//
//	GOMAXPROCS=1 BIN simulate --synthetic --families daily-sales --tier-families daily-sales --seeds 1 --shop-seeds none --workers 1 --synth-phase --breakdown
//
// and the same with --seeds 2, 11 and 12 for comparison. A scratch test
// (not committed) ran the same three-tier app with the decisions'
// inputs kept, and counted the database's under-provisioned minutes more
// than an hour from any sale on days 1–11 (s1 112 of the round's 128;
// the other 16 fall on days 14, 16 and 19): s2 118, s11 73, s12 131;
// HPA at the target nearest our cost misses 13, 20, 14 and 5 such
// minutes. Every one of the 434 is one replica short (on s1 at
// 05:00–07:00, 10:00–16:00 and 20:00, as the twenty-second round found),
// and every one was decided at p90 with the 3-minute window. At 418 the
// decision a lead window before already wanted fewer replicas than the
// minute needed, and at 403 the replicas serving were that decision's:
// the count was sized short, not scaled down too early.
//
// The skill selector runs the database's cheapest candidate, p90/3m
// (the sixteenth round's start on a long-lead tier), until its shadows
// give a costlier one the nineteenth round's margin, and then switches to
// p98/15m: on day 11 at 17:09 on s1, days 16, 12 and 14 on s2, s11 and
// s12. The misses mostly stop where it switches (s1: 0–10 a day after day 11,
// as the twenty-second round saw). Variants, each run over the whole
// trace with the shop's back tiers as main (the fixed points are `…
// --skill=off --short-stabilization=0s --quantile=0.98
// --stabilization=15m` and so on, the rest scratch); the count is how
// many of main's off-sale day 1–11 minutes the variant serves, "+n" the
// new ones it misses (s1, s2, s11, s12; the realised means are every
// tier's forecast points set to the 5-minute means that came):
//
//	p90/3m fixed (--skill=off)          0+6    0+0    0+0    0+0
//	p90/15m fixed: the window alone    15     15      7     37
//	p98/3m fixed: the quantile alone   99    105     54    116
//	p98/15m fixed: the later point    105    105     63    127
//	forecaster a week warm, p90/3m      2+49  12+17  20+17  12+33
//	forecaster a week warm, selector   62+35  61+3   46+8   50+20
//	policy a week warm, forecaster not  1+7    0+2    0+2    0+0
//	both a week warm, selector         66+34  60+8   53+0   57+25
//	forecasts = realised means, p90/3m 92+15 102+16  58+19 113+21
//
// p90/3m fixed is main to the minute until the switch; p98/15m fixed
// scores 0.404/0.160 on s1 (main 0.971/0.219), s2 0.270/0.070 (0.762/
// 0.112), s11 0.392/0.136 (0.725/0.162), s12 0.281/0.189 (0.875/0.253),
// at 1.24–1.30 of the oracle against main's 1.14–1.17. "A week
// warm" feeds the forecaster (or the policy) the trace's second week,
// relabelled to the week before the start, so the weekly profile (8
// days) is ready from the first minute. Without propagation (the
// database on its own forecast) the off-sale day 1–11 misses are 136,
// 134, 86 and 97; on the web's propagated forecast alone 135, 128, 80
// and 142 (main 112, 118, 73, 131). The forecast's error is about as
// large after day 11 as before: the share of off-sale ticks whose realised
// highest 5-minute mean over the lead window lay more than 10 % above
// the database's forecast is 9.6, 12.4, 9.3 and 9.8 % on days 1–11 and
// 7.9, 11.7, 12.6 and 7.5 % after.
//
// Where the minutes go, then:
//
//   - the selector's operating point explains them: the quantile 374
//     of the 434 (p98 at the same window serves 99, 105, 54, 116), the
//     window a further 6, 0, 9 and 11 (p98/15m), and alone (p90/15m)
//     7–37;
//   - the weekly profile not ready explains none at a fixed point (2–20
//     served, 17–49 new); with the selector it moves the switch to days
//     5, 4, 2 and 8, and that switch serves 219 of the 434;
//   - the policy's own first week (calibration, seasonal memory,
//     selector rates) explains none: warmed alone it switches on days
//     12, 14, 11 and 14;
//   - the propagated web forecast is no part of it: without it the
//     misses grow on three seeds of four (on s12 they fall, 131 → 97), without
//     the database's own forecast on all four;
//   - the forecast's error sets the misses at p90 (perfect forecasts
//     serve 58–113), but it is as large after day 11 as before; p98's
//     wider ratio covers it.
//
// Why the switch comes late (s1, the selector's shadows printed by a
// scratch change): from day 6.5 the selector rates p98 better than the
// running p90/3m (0.59 against 0.72 of HPA's curve, 18 % better), but
// p98 rests on 5.0 runs of misses against 18.7, so the margin is 0.37;
// on day 11 p98/15m's 0.565 against 0.774 (27 %, on 7.5 runs against
// 28.4) still meets a margin of 0.32, and it switches at day 11.5 at
// about 0.50. A candidate that rarely misses gathers runs slowly, so its
// margin stays wide.
//
// The fix to try next (not implemented): on a long-lead tier, take the
// margin of a costlier switch from the runs on which the two shadows
// disagree (missed by the running point and not by the candidate, and
// the other way), not from their two counts as if independent: the
// shadows run on the same ticks, and if nearly every miss of p98 is a
// miss of p90 too (not measured), the evidence on s1 at day 6.5 is
// about 14 runs against none. If the switch came there, s1's misses of
// days 7–11 (64 of the 112) would mostly go, from the p98/15m row
// above; s2, s11 and s12 switch later, so more. The case it must not
// reopen is the sixteenth round's shop-s23, where p98/15m rated 28 %
// better after one day on 3.9 runs against 8.8 and was wrong: run that
// app and the sixteenth round's development seeds first.
//
// Noticed, not touched: the selector's rates start at zero and are not
// corrected for it (on the database, after 11 days they carry about 44 %
// of their weight), so skillEpsUnder and skillEpsUnserved weigh about
// twice as much in the first days as later and pull every candidate's
// ratio toward 1. A warm forecaster moves the switch earlier by 6–12
// days on every seed, which this round did not explain.
//
// # The twenty-fourth round: the costlier switch on paired days
//
// The twenty-third round's proposal, tried: base the margin of a costlier
// switch on a long-lead tier on paired evidence, the misses on which the
// running point and the candidate disagree, instead of their two counts
// as if independent. Development figures, main (cb9dd0a) → candidate,
// worse-of-two per database row (under×/unserved×), GOMAXPROCS=1 and
// BIN each candidate's build of `./services/decider`:
//
//	BIN simulate --synthetic --families daily-sales --tier-families daily-sales --seeds 1,2,11,12 --shop-seeds none --workers 1 --synth-phase --breakdown
//	BIN simulate --synthetic --families daily-sales --tier-families daily-sales --seeds 1,2,11,12 --shop-seeds none --workers 1
//	BIN simulate --synthetic --seeds none --shop-seeds 3,4,23 --workers 1
//	BIN simulate --synthetic --families surges --tier-families surges --seeds 1,2 --shop-seeds none --workers 1
//	BIN simulate --suite /work/shared/data/traces --cv --workers 1
//
// The gate, written before any candidate ran: no row of these (in-sample
// or cv) newly loses; the mean over daily-sales' four databases of the
// worse-of-two figure goes down, phased and unphased; NASA and ClarkNet
// stay within 0.25 in-sample and cv; shop-s23's database is not worse.
// Main: daily-sales phased s1 0.971/0.219, s2 0.762/0.112, s11
// 0.725/0.162, s12 0.875/0.253 (mean 0.833); unphased s1 0.490/0.113, s2
// 0.795/0.134, s11 0.830/0.120, s12 0.617/0.176 (mean 0.683); shop-s23
// 0.744/0.980; the suite as in the table at the top.
//
//   - A: paired runs. The variance of the log of a ratio of two correlated
//     Poisson counts n1, n2 is (b1 + b2)/(n1·n2), b1 and b2 the discordant
//     runs (the running point's runs in which the candidate did not miss,
//     and the other way; the shared runs add the same to both counts and
//     cancel), taken as (b1 + b2 + 2)/((n1 + 1)(n2 + 1)), the unpaired
//     bound when nothing is shared and never wider. Daily-sales better
//     (phased mean 0.833 → 0.782, unphased 0.683 → 0.614), but shop-s23's
//     database 0.744/0.980 → 1.243/1.107 at 1.242 of the oracle (LOSES)
//     and ClarkNet's cv row 0.191/0.235 →
//     0.222/0.256 (misses the goal: surges-s1's database at the cv
//     settings, 0.861 → 0.963, moves the leave-one-out choice). Rejected.
//     Why, from the switches printed by a scratch change: on every
//     costlier switch of these rows the candidate's misses are nested in
//     the running point's (b2 = 0 each time), and then the bound is about
//     1/n2 − 1/n1: the candidate's own few runs, which pairing cannot
//     add to. It removes only the running point's share, and that share
//     was what held shop-s23: after its first day p98/15m, rated 30.4 %
//     better on 4.9 runs against 9.8 (5.8 discordant, none the other way),
//     met 0.295 instead of 0.400. A sign test on the discordant runs (the
//     proposal as worded, McNemar's) tests only that a costlier point
//     misses less, which it always does (5.8 against 0: z = 2.4), so it
//     would have let shop-s23 in earlier still; not run.
//   - B: the selector's rates corrected for their zero start (divided by
//     1 − (1 − α)^ticks, Adam's correction; in the ratio that scales the
//     epsilons by the same factor), alone: daily-sales phased 0.833 →
//     0.798, unphased 0.683 → 0.676, but shop-s23's database 1.243/1.106
//     (LOSES; one day's rates carry 5 % of their weight, so the correction
//     sharpens exactly the first-day ratios the margin guards),
//     surges-s1's 0.791/0.926 → 0.912/0.934, and ClarkNet's cv row
//     0.187/0.259 (misses the goal; in-sample 0.184/0.121 → 0.126/0.100).
//     Rejected.
//   - C, kept: A's paired bound with days, not runs, as the unit of
//     evidence: n1 and n2 the (decayed) days on which each missed, b1 and
//     b2 the days on which one missed and the other did not. A day's runs
//     share its load's shape (the sales, the hour of the day), so they
//     are not independent; counted in days, shop-s23's first day gives
//     one or two days on each side, a margin of 0.38–0.51 however
//     concordant (p98/15m was rated 30 % better), while on
//     daily-sales the two shadows miss on the same days (b1 1.5–6.3 of
//     6.5–9.8, b2 = 0) and the margin narrows. No new constant: the day
//     is skillWarm, the selector's warm-up, and days start with the tier's
//     first tick. Daily-sales phased s1 0.971/0.219 → 0.841/0.202 (cost ÷
//     oracle 1.162 → 1.177), s2 0.762/0.112 → 0.636/0.106, s11
//     0.725/0.162 → 0.730/0.163, s12 0.875/0.253 → 0.743/0.242 (mean 0.833
//     → 0.738); unphased s1 0.490/0.113 → 0.429/0.108, s2 0.795/0.134 →
//     0.832/0.132, s11 0.830/0.120 → 0.835/0.119, s12 0.617/0.176 →
//     0.513/0.165 (mean 0.683 → 0.652); their web and cache rows do not
//     move. The shop (3, 4, 23), surges (1, 2) and the whole suite with
//     --cv print main's figures to the digit (NASA 0.089/0.066, cv
//     0.096/0.076; ClarkNet 0.184/0.121, cv 0.191/0.235). The switches
//     (phased, scratch print): p90/3m → p98/15m at day 9.49 on s1 (main
//     11.5), p98/3m at 12.86 then p98/15m at 19.87 on s2 (main p98/15m at
//     16), p98/15m at 11.71 on s11 (main 12), p98/3m at 7.84, p95/3m at
//     12.76 and p98/15m at 15.12 on s12 (main 14); shop-s23's database
//     takes no costlier switch. Passed the gate.
//
// Judged once, frozen, main → C, on seeds nobody had used (`GOMAXPROCS=1
// BIN simulate --synthetic --families daily-sales --tier-families
// daily-sales --seeds 39,40,41,42 --shop-seeds none --workers 1`, phased
// with --synth-phase and not; `… --seeds none --shop-seeds 67,68,69,70
// …`; `… --families surges --tier-families surges --seeds 85,86
// --shop-seeds none …`): daily-sales phased databases s39 0.917/0.168 →
// 0.657/0.140, s40 0.640/0.142 → 0.584/0.141, s41 0.876/0.167 →
// 0.812/0.159, s42 0.751/0.167 → 0.758/0.168; unphased s39 0.864/0.139 →
// 0.819/0.138, s40 0.541/0.096 → 0.483/0.095, s41 0.695/0.100 →
// 0.669/0.100, s42 0.742/0.193 → 0.571/0.184; the shop and surges rows
// the same to the digit. The mean over the 14 databases of the worse
// figure 0.839 → 0.791, no row newly losing: kept (TestSkillPairedDays,
// TestSkillPairedMargin). Two of the shop's judging rows lose at both,
// s67 web/cache 0.926/1.004 and s68 web/cache 1.034/0.978 (3-minute
// tiers, not touched by the margin; not looked into: judging seeds).
//
// Run after the judging (seen seeds, so not a judgement), main → C:
// the sixteenth round's development seeds (`… --seeds none --shop-seeds
// 1,2,5,6,7,8,9,10,21,22,23,24 …` and `… --families surges --seeds
// 1,2,11,12,13,14,73,75 --shop-seeds 43,44,45 …`) the same on all 77
// rows, none losing; the other daily-sales development seeds, unphased
// (`… --families daily-sales --tier-families daily-sales --seeds
// 13,14,21,22,23,24,31,32,33,34 --shop-seeds none …`), databases s13
// 0.848 → 0.809, s14 1.132/0.176 → 0.961/0.176 (LOSES → wins), s21
// 0.899/0.182 → 1.004/0.171 (wins → LOSES, cost ÷ oracle 1.144 → 1.176),
// s22 0.863 → 0.789, s23 0.649 → 0.534, s24 0.927 → 0.906, s31
// 1.199/0.207 → 0.998/0.197 (LOSES → wins), s32 0.811 → 0.735, s33 0.602
// → 0.550, s34 0.878 → 0.726 (worse-of-two; mean 0.881 → 0.801, losing
// rows 2 → 1). On s21 both switch at day 11.55, main to p98/3m (p98/15m,
// on fewer runs, did not clear the unpaired margin), C to p98/15m (27.4 %
// better on paired days 9.0 and 5.0, 4.1 discordant, margin 0.274): the
// costlier point, at whose cost HPA misses 1.097 % of minutes rather than
// 1.305 %, loses by 0.4 %. Not changed (after the judging).
//
// Left: the selector still runs p90/3m for the first 8–12 days of every
// daily-sales database (s11 barely moves: by day 11.7 p90/3m and p98/15m
// missed on 9.0 and 5.0 days, 4.1 of them p90's alone), and s2 unphased
// and s42 phased are a little worse; the warm forecaster's earlier switch
// (the twenty-third round) is still unexplained. B's correction might be
// retried together with C, whose day count holds the first day's
// evidence to one; not tried this round.
//
// # The twenty-fifth round: the shop's 3-minute tiers on their first days
//
// The twenty-fourth round's judging found two shop fronts losing on
// seeds no one had looked at, the same before and after it (`GOMAXPROCS=1
// BIN simulate --synthetic --seeds none --shop-seeds 67,68,69,70
// --workers 1 --breakdown`, BIN a build of `./services/decider` at
// 674f89c): shop-s67 web/cache 0.926/1.004 (unserved) and shop-s68
// 1.034/0.978 (under-provisioned minutes); s69 0.906/0.957 and s70
// 0.932/0.974 win. Seeds 67–70 were used for diagnosis here.
//
// Where: the breakdown (ours|HPA's beside HPA at the target nearest our
// cost) puts s68's extra minutes on steady and falling load (79|73 and
// 100|85; climbing 190|199), s67's on nothing in particular (it wins every
// phase beside HPA at 0.90, and loses on unserved demand only when read
// on the chord at its cost, 1.083 of the oracle). The cause is when, not
// where. A scratch print of the selector's switches and of every
// candidate's ratio on each day's own counts (not kept): s67's web runs
// the configured p95/15m for days 1.00–2.51 (rated best after the first
// day, 0.880 against p90/3m's 1.007) and p90/3m from then to the end;
// s68's takes p98/15m at day 1.00 (0.999 against p95/15m's 1.149), then
// p95/3m from day 2.82 to the end. Both points they settle on win when
// run alone (`… --shop-seeds 67,68 --skill=off --short-stabilization=0s
// --grid 'quantile=0.9,0.95,0.98;stabilization=3m,15m'`): s67 p90/3m
// 0.884/0.982, p95/3m 0.923/0.990; s68 p90/3m 0.866/0.931, p95/3m
// 0.928/0.933; while every 15-minute point loses by 10–33 % (s67 p95/15m
// 1.148/1.148, p98/15m 1.333/1.331; s68 p95/15m 1.121/1.103, p98/15m
// 1.256/1.272). The 1.5 and 1.8 scored days on a 15-minute point, mixed
// into twenty, are the loss. On its own first day each of those points
// did look best (per-day ratios: s67 p95/15m 0.69/0.87, s68 p98/15m
// 0.74/1.00; on later days they run 0.67–1.73, mostly above 1): one day
// is one unit of evidence (the twenty-fourth round), and a 3-minute tier
// switches on it with skillSwitch alone.
//
// How common: the same print over the shop's seeds 1–24 (`… --shop-seeds
// 1,…,24`): every web settles on a 3-minute window (p90/3m or p95/3m,
// s20 on p98/3m for ten days), and the webs nearest the line are those
// that spent days on a 15-minute point first: s18 0.998 (2.63 days,
// p90/15m), s22 0.996 (2.62, the configured p95/15m), s15 0.969 (3.64,
// p98/15m), s7 0.970 (1.50), s11 0.997 (0.42), s20 0.997 (0.74 then
// p98/3m). The worse-of-two figure over the 28 webs of seeds 1–24 and
// 67–70 averages 0.958 (0.895–1.034). Noticed, not touched: the shop-s18
// database loses at main, 0.787/1.003.
//
// The gate, written before any candidate ran: on `… --shop-seeds
// 67,68,69,70`, `… --shop-seeds 1,2,3,4,23`, `… --shop-seeds
// 5,…,22,24`, `… --families surges,daily-sales --tier-families
// surges,daily-sales --seeds 1,2,11,12 --shop-seeds none` and `…
// --suite /work/shared/data/traces --cv`: s67 and s68 web and cache no
// longer lose; no row newly loses (in-sample or cv); NASA and ClarkNet
// within 0.25 in-sample and cv; the mean over the 28 shop webs of the
// worse-of-two figure not up. Three candidates, none with a new
// constant:
//
//   - A: every tier an evidence tier (skill.evidence on every tier, not
//     only past skillMemoryWindow): it starts at the cheapest candidate
//     and a costlier switch needs the paired-days margin, the sixteenth
//     and twenty-fourth rounds' long-lead rules. The shop as hoped: s67
//     0.884/0.982, s68 0.866/0.931 (the fixed p90/3m's to the digit),
//     s69 0.850/0.960, s70 0.892/0.978, the 28 webs' mean 0.958 → 0.936
//     (18 better, 3 worse, none losing); surges and daily-sales webs
//     cheaper and better (surges-s1 0.737/0.747 at 1.080 of the oracle →
//     0.073/0.594 at 1.029). But ClarkNet 0.184/0.121 → 0.281/0.172, cv
//     0.191/0.235 → 0.288/0.283 (misses the goal), NASA 0.089/0.066 →
//     0.114/0.076 (cv 0.135/0.101), social-5m-s1 0.507/0.638 →
//     0.625/0.709, diurnal-low worse; the NASA golden of services/decider
//     0.343/0.182 → 0.509/0.247. The recorded traces need their costlier
//     points early, as the fourteenth round found for a margin counted
//     in runs; counted in days it is wider still. Rejected.
//   - B: every tier starts at the configured quantile with the short
//     window (p95/3m on a 3-minute tier; a long-lead tier still at its
//     cheapest), margins unchanged: the first choice no longer defends a
//     15-minute incumbent. s67 0.923/0.990, s68 0.928/0.933 (the fixed
//     p95/3m's), s69 and s70 unchanged; the webs' mean 0.958 → 0.951 (12
//     better, 7 worse: s3 0.943 → 0.978, s23 0.934 → 0.949, s13 0.923 →
//     0.955, seeds on which main took p90/3m after the first day; s18
//     1.000/0.978, on the line); surges and daily-sales fronts better
//     (surges-s1 web 0.747 → 0.606, daily-sales-s11 0.373 → 0.212); no
//     row loses in-sample, NASA and ClarkNet in-sample unchanged to the
//     digit. But ClarkNet's cv row 0.191/0.235 → 0.222/0.256 (misses the
//     goal): the setting chosen with ClarkNet left out moves from the
//     jump guard at 4 to 3 (both without the outage hold). On the whole
//     suite, under B every setting with the outage hold or the jump
//     guard at 4 has the same worst row, shop-s2's database (0.960 or
//     0.966, which B does not move; at main the jump guard at 4 without
//     the hold had bursty-hourly-s2 at 1.004), so the choice falls to the
//     near tie's mean log loss, which B's moves on the other families'
//     3-minute rows tip (not broken down further); NASA's cv row becomes
//     its in-sample one (0.096/0.076 → 0.089/0.066). Rejected at the
//     gate.
//   - C: A on a 3-minute tier only until its first switch (the cheap
//     start, and the paired-days margin for a costlier switch until the
//     selector first leaves it; skillSwitch alone after that, as main;
//     the fourteenth round tried a margin so, counted in runs and from
//     the configured point, and it kept NASA and ClarkNet). The shop
//     exactly as A (its webs never leave p90/3m; mean 0.936), surges and
//     daily-sales fronts as A but daily-sales-s1 0.319/0.228 →
//     0.337/0.237 and s12 0.097/0.301 → 0.215/0.323; no row loses
//     in-sample, but ClarkNet 0.245/0.149, cv 0.262/0.272 (misses the
//     goal), NASA 0.097/0.067 (cv 0.103/0.077), social-5m-s1 0.625/0.709.
//     A recorded trace's first switch (from the cheap start, presumably
//     to a 15-minute point; not printed) is the one the margin holds
//     back, and one day of evidence cannot carry it through. Rejected at
//     the gate.
//
// No candidate passed, so nothing was judged; the judging seeds (`…
// --synthetic --seeds 85,86 --shop-seeds 71,72,73,74,75,76`) are
// unused. Commands as above with GOMAXPROCS=1 and --workers 1 (main
// 10 min 48 s for the suite with --cv).
//
// Left: the loss is the first days' choice on a 3-minute tier, on one day
// of evidence, between points whose day-1 ratios say little about the
// rest. A and C are right for the shop and wrong for the recorded traces,
// whose first switch to a long window must come on that one day; B is
// nearly neutral in-sample everywhere but moves ClarkNet's cv row by a
// tie-break that the shop's database decides. Worth trying next: B with
// the cv tie looked into (the settings' mean log loss with ClarkNet left
// out, main against B: whether 0.256 is the tie-break's doing or B's),
// and whether a day-1 choice between windows can be told from the first
// day's hours (the shop's bursts are isolated, NASA's and ClarkNet's
// clustered) without a new constant.
//
// Tried and left off in the third round: the seasonal guard checking its
// own word (acting only while at least a tenth of the ticks it lifted,
// exponentially weighted over about ten, needed more than the rest of the
// policy provisioned; such lifts were needed 1.4 % of the time on
// ClarkNet, 3 % on NASA, 46 % on bursty-s1, 21 % on batch-s1) took
// ClarkNet's cv row to 0.214/0.250, still just over, and made bursty
// (0.836/0.832, 0.843/0.811), bursty-hourly, batch (0.707/0.822,
// 0.734/0.846), diurnal-low-s2 (0.295/0.290) and the shop's cv web row
// (1.000, a loss) worse; the noise test of the hour-phase guard (a rise
// beyond five typical changes) on the seasonal guard changed ClarkNet by
// 0.001; back tiers following the web's forecast alone instead of the
// larger of theirs and the web's (database seed 2 0.780/1.000, a loss);
// p99.5 among the skill quantiles (the seed-2 database chose it and lost,
// 1.383/1.368).
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
// and five typical changes were set while looking at this
// suite, and only the shop, the surges app and the optional daily-sales
// app have a 10-minute tier; the cross-validation
// covers the choice within the grid only, and the hour-phase guard is on
// in every setting of the grid but the previous release's, so the cv
// column does not test it. The bursty-hourly family was written for the
// hour-phase guard and is no evidence about real periodic traffic.
package scaleeval
