// Package anomaly scores streaming metrics for anomalies and correlates a
// tier's metrics into incidents. It is pure: values and event times in,
// scores and incidents out; no I/O, no wall clock, deterministic.
//
// # Detector
//
// A Detector follows one series. Each observation costs O(1) time (a few
// fixed-size loops) and the state has a fixed size (about 6 KB), whatever
// the stream's length. It learns from the stream only: every observation is
// scored first and learned after, so there is no look-ahead.
//
// Input. The sampling interval is inferred from the data: the median of the
// first eight steps sets the seasonal slot widths (a first step that is not
// typical restarts the profiles), so 5-minute, hourly (24 slots a day) and
// irregular series all get a daily profile indexed by event time, and gaps
// leave it intact. A series whose first twelve values are all non-negative
// integers is a count: it is scored on Anscombe's square-root scale
// 2·sqrt(v+3/8), where Poisson-like noise has about the same spread at
// every rate (quiet nights and busy days alike); Score.Observed and
// Score.Expected stay in the series' own units.
//
// Expectation. Three forecasters run side by side: a slow exponential level,
// a daily and a weekly additive profile (level plus one slot per step of the
// period, at most 336 slots, float32, indexed by event time so gaps are
// fine; the weekly one only runs when a week fits in 336 slots). Each
// tracks its mean absolute one-step error; the expectation is their blend
// weighted by inverse squared error, and the blended error is the scale.
//
// Six surprises; the first three come from the standardised residual
// u = (v − expected)/scale:
//
//   - residual: |u|, a spike or dip at one point;
//   - changepoint: |EWMA of u|, a level shift that persists (CUSUM-like);
//   - shift: EWMA of |u|, a change of spread between the recent window and
//     the reference the scale learned;
//   - spot: |v − long-run mean| / long-run spread, a value outside the
//     series' usual range;
//   - record: how far v passes the highest or lowest value seen so far (a
//     range that slowly falls back toward the mean), in units of that
//     range: a level the series has never reached;
//   - stuck: a value repeated exactly, k times in a row (a frozen sensor, a
//     silent counter), scored directly by its chance q1·q2^(k−1) under the
//     series' own repeat rates (q1: a value repeats the one before; q2: a
//     repeat is repeated again, starting at one half backed by 100
//     pseudo-repeats), made 10⁴ times more conservative since runs
//     cluster; a run that began before the warm-up ended (a flat line) is
//     not scored.
//
// Calibration. Each surprise has its own tail estimator: a decayed
// histogram over log z for the body and, above its upper 5 % quantile, an
// exponential fitted to the excesses (SPOT/DSPOT's peaks over threshold with
// a zero GPD shape), so unseen extremes get ever smaller tail probabilities
// and the thresholds follow the stream; an extreme the histogram has already
// counted keeps at least its counted frequency, so recurring spikes stay
// ordinary. The tail probabilities are merged by a weighted Bonferroni
// minimum (weights 7, 7, 7, 7 and 7/3, whose reciprocals sum to one: the
// record detector, silent almost always, carries less of the multiplicity
// penalty; the stuck probability joins with weight 7, so that adding it
// moved no other score), and the score is −log10(min w·p)/6, clamped to [0,1], so a score
// means the same tail probability on every series.
//
// Sparse alarms. A score at or above Config.AlarmLevel is an alarm. For
// Config.Holdoff observations after an alarm, scores are multiplied by
// Config.HoldoffDamp (Score.Held), so an event raises one high score at its
// onset rather than a run of them, unless a score exceeds the alarm that
// started the holdoff by Config.Breakthrough. A score is also damped when
// the same time of day, give or take Config.RecurWidth daily slots, scored
// about as high 12 to 36 hours earlier: a nightly job is part of the series, not news. The first
// Config.Warmup observations (at most Config.WarmupDays of data, at least
// Config.MinWarmup observations) are learned but not scored, and the tails do
// not learn from them (they mostly measure the forecasters' own learning).
//
// # Classifier
//
// A Classifier takes one tick of a tier's metrics and their scores and
// keeps at most one open incident per kind: drop (rps anomalous downward),
// load (rps anomalous upward, with latency and resources as evidence, and
// latency that rises while demand stays high joining it), performance
// (latency, cpu or mem up without a demand anomaly) and errors
// (error_rate up). An incident opens on its first anomalous tick, is
// updated when its severity rises or a metric joins, stays open while one
// of its metrics still deviates (Score.Deviation, in error scales) in the
// incident's direction, since scores are deliberately sparse, and closes
// after ClassifierConfig.CloseAfter ticks without either. A metric counts
// only when its change is material (ClassifierConfig.MinChange relative,
// MinErrorRate for error_rate); a metric whose score the holdoff damped
// still counts when it deviates extremely (OpenDeviation); errors during a
// demand surge are evidence of the load incident, not a separate one.
// TestShopIncidentsClassified plants a load, a drop, a performance and an
// errors incident on the simulated shop (internal/shop) after two weeks and
// a quiet day, and expects exactly each, and nothing on the quiet day.
//
// # Synthetic corpus
//
// SynthCorpus generates a second development corpus in NAB's shape, four
// families of what the NAB subset lacks, each with planted anomalies and
// NAB-style windows: synthCounts (gamma–Poisson counts per 5 minutes with
// night-time zero runs, a daily recurring burst and small viral blips;
// surges, silences and spikes planted), synthHourly (24 points a day with a
// weekday profile; spikes, stuck-low days and doubled days), synthIrregular
// (jittered steps, missing readings and outages of hours; speed collapses
// and stuck sensors) and synthShift (step changes of level or spread that
// stay: the change is the anomaly, the new level the new normal).
// "anomaly nab -synth DIR" writes it (data/ and labels/combined_windows.json)
// and scores it.
//
// # Results
//
// One configuration (DefaultConfig) for every series. Normalised NAB
// scores; in-sample picks the threshold on the whole corpus,
// leave-one-category-out (LOCO) and leave-one-file-out (LOFO) on the other
// categories or files, label-free uses one fixed threshold: an alarm
// budget of 0.1 detections per day of unlabelled data, capped at
// AlarmLevel 0.37 (both corpora hit the cap: the budget alone gives 0.387
// on NAB and 0.378 on the synthetic corpus). From
//
//	go run ./services/anomaly nab --data ../shared/data/nab/data --out /tmp/nab-final --windows ../shared/data/nab/labels/combined_windows.json --label-free-rate 0.1
//	go run ./services/anomaly nab --synth /tmp/synth-final --out /tmp/synth-final-res --label-free-rate 0.1
//
// NAB subset (35 files, 55 windows):
//
//	standard               in-sample   LOCO    LOFO   label-free
//	artificialWithAnomaly    87.81     87.81   87.81    87.81
//	realAWSCloudwatch        69.20     66.10   66.10    69.20
//	realKnownCause           71.03     71.03   71.03    71.03
//	all                      71.76     70.07   70.07    71.76
//	all, reward_low_FP       65.33     63.64   63.64    65.33
//	all, reward_low_FN       76.33     74.59   74.59    76.33
//
// Synthetic corpus (seed 1, 28 files, 48 windows):
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              81.37     70.37   67.68    71.74
//	synthHourly              59.85     59.85   59.85    60.74
//	synthIrregular           73.10     73.10   73.10    74.16
//	synthShift               75.52     75.52   75.52    76.73
//	all                      72.46     69.71   69.04    70.84
//	all, reward_low_FP       67.75     63.29   65.45    67.52
//	all, reward_low_FN       77.48     71.00   75.49    75.01
//
// Fresh draws of the same families (add --seed N; standard, all files,
// in-sample / LOCO / LOFO / label-free): seed 2 81.92 / 81.92 / 81.92 /
// 81.58, seed 3 81.17 / 79.34 / 79.23 / 76.71, seed 4 78.47 / 75.01 /
// 74.46 / 72.81, seed 5 81.01 / 80.46 / 80.46 / 80.66. The label-free
// threshold is within 2 points of the label-optimised one on NAB (0.00)
// and on seeds 1, 2 and 5 (1.62, 0.34, 0.35), not on seeds 3 and 4 (4.46,
// 5.66: their best thresholds, 0.352 and 0.314, lie well below the alarm
// level, mostly for level shifts that follow an earlier event in the same
// series, whose aftermath has taught the tails that large residuals
// happen).
//
// AlarmLevel. 0.37 (0.38 before) is the level with the best mean LOCO
// standard score over synthetic seeds 1–3 on the grid 0.32, 0.33, 0.34,
// 0.345, …, 0.38 (76.99; 0.38: 76.00); seeds 4 and 5 were drawn after the
// choice. It moved NAB from 71.36 / 69.66 / 69.67 / 70.19 (in-sample /
// LOCO / LOFO / label-free) to the figures above. NAB's figures for
// levels 0.32, 0.35, 0.36 and 0.40 were seen before the choice (LOCO
// 68.32, 68.33, 71.62, 68.50): NAB moves by ±2 points between
// neighbouring levels because single detections sit at the threshold (in
// realAWSCloudwatch, 0.370 against 0.371 is 3 points), so the NAB LOCO
// margin over 70 is within that noise. Choosing the level on NAB's labels
// inside the cross-validation (a candidate grid of 0.34–0.40) gives LOCO
// 68.96: tuning it on NAB overfits.
//
// Tried in this round and rejected on the cross-validated figures (NAB
// LOCO / synthetic seed-1 LOCO, against 70.07 / 69.71 unless said):
// residual spread per time of day (48 buckets; NAB LOCO 58–62); keeping
// alarms out of the tails as SPOT does (NAB in-sample 45–55; only out of
// the excess fit: NAB LOCO +0.3 at level 0.38 but low-FP LOCO −1.9);
// re-anchoring every forecaster's level when the changepoint statistic
// passes 6–10 (NAB 57–64); declustering the tails (runs of exceedances
// counted at 0.1 for their 2nd to 30th values: synthetic LOCO up to 75,
// label-free gaps under 2 on all five seeds, but NAB LOCO 66–67, and
// 70.08 with LOFO 66.03 for the residual alone; only the exceedances
// inside an alarm's holdoff, at 0.1: NAB LOCO 66.6–67.2, synthetic seed 1
// up to 77 but seeds 3–5 down 2–7); a holdoff capped at 8–24
// hours on coarse data (±0.2 either way); tail half-lives of 5,000,
// 10,000 and 50,000 (within ±1.7 on NAB LOCO, in both directions across
// seeds); blend weights 1/err⁴ or 1/err⁸ instead of 1/err² (NAB LOCO
// 65.25, 64.02; synthetic 67.86, 67.36); a fourth forecaster, the daily
// profile plus seven day-of-week offsets, for hourly data too short for
// the weekly profile (NAB LOCO 69.70 and 69.27 for offsets averaged over
// one and three weeks, synthetic 69.42 and 68.97, synthHourly unchanged);
// on counts, a repeat no rarer than Poisson noise around the forecast at
// the run's start makes it (NAB unchanged, synthetic seed 2 LOCO 81.92 →
// 75.44); repeat rates of the stuck detector per eighth of the day,
// shrunk toward the whole day's by 20 or 100 pseudo-chances (NAB LOCO
// 67.75, 69.64; synthetic seed 2 74.38, 71.14).
//
// Before the previous round (one fixed configuration tuned in-sample on
// NAB) the same commands gave NAB 69.17 / 67.56 / 67.47 / 67.90 and
// synthetic 56.36 / 54.38 / 54.43 / 53.53 (standard: in-sample / LOCO /
// LOFO / fixed 0.38). What moved them then: the count scale (NAB LOCO
// +1.3), the stuck detector (synthetic LOCO +14.5, NAB +0.8), the two-day
// warm-up cap (NAB fixed threshold +1.6). Rejected then: a second
// calibration stage (per-series exceedance rate; NAB LOCO −11), a prior on
// the tail's excess scale, robust seasonal updates, level re-anchoring
// after runs of one-sided residuals, a two-sided spread detector.
//
// Speed and memory: go test ./internal/anomaly -run '^$' -bench
// BenchmarkObserve -benchtime 2000000x -count 3 gives 0.65–0.87 µs per
// observation (BenchmarkObserve) and 0.54–0.69 µs (BenchmarkObserveSynth,
// fresh detectors over the synthetic corpus) on a shared 2-core machine
// under load 14, no allocations, 6,328 bytes of state per series
// (TestDetectorStateSize holds it under 8 KB).
//
// Caveat: most settings other than AlarmLevel were chosen on the NAB
// subset's labels before cross-validation existed, so the NAB figures,
// the cross-validated ones included, are optimistic; only the threshold
// is cross-validated. A threshold above AlarmLevel loses points sharply
// (alarms start the holdoff), hence the cap.
package anomaly
