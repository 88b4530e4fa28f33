// Package anomaly scores streaming metrics for anomalies and correlates a
// tier's metrics into incidents. It is pure: values and event times in,
// scores and incidents out; no I/O, no wall clock, deterministic.
//
// # Detector
//
// A Detector follows one series. Each observation costs O(1) time (a few
// fixed-size loops) and the state has a fixed size (about 7 KB), whatever
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
// every rate (quiet nights and busy days alike), or, if none of those
// twelve is zero, on the negative-binomial scale
// 2·sqrt(k)·asinh(sqrt((v+3/8)/k)) with k = Config.CountDispersion (40):
// the square root's below about k, a logarithm's above, since a busy
// count or an integer reading (travel time in seconds) varies by a
// proportion of its level, not by Poisson noise; Score.Observed and
// Score.Expected stay in the series' own units.
//
// Expectation. Three forecasters run side by side: a slow exponential level,
// a daily and a weekly additive profile (level plus one slot per step of the
// period, at most 336 slots, float32, indexed by event time so gaps are
// fine; the weekly one joins the blend only when a week fits in 336
// slots, and otherwise runs apart at coarser slots as the daily
// changepoint's reference, each slot the mean of its first week's
// readings). Each tracks its mean absolute one-step error; the
// expectation is their blend weighted by inverse squared error, and the
// blended error is the scale.
// A slot no reading has fallen in yet (jittered steps skip slots, a
// missing reading leaves one empty for a day) forecasts its neighbour's
// value during the profile's first four periods, and the level after
// that (a slot still empty then lies in a long gap).
//
// Seven surprises; the first three come from the standardised residual
// u = (v − expected)/scale, which on hourly or coarser series
// (Config.HourSpreadStep) is further divided by its hour of day's spread
// relative to the day's (the mean |u| of each of the 24 hours, learned at
// SeasonAlpha, each value's share bounded at 4, the ratio at least 1/4),
// so a noisy night and a quiet afternoon are each judged by their own
// noise; a 5-minute series has too many points per hour for one value a
// day to tell them apart, and stays on the whole day's scale:
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
//     repeat is repeated again, learned behind 100 pseudo-repeats whose
//     mean is one half for a run at one of the series' resting values,
//     the four values it has repeated at most, and q1 for a run at any
//     other value), made 10⁴ times more conservative since runs
//     cluster; a run that began before the warm-up ended (a flat line) is
//     not scored;
//   - ratio (series judged by hour spreads, hourly or coarser, that have
//     only been positive): the changepoint again, on log(v/expected) in
//     units of its own decayed mean size, so a change by a factor (a
//     price level that doubles, a recalibrated sensor) weighs as much in
//     a quiet hour as in a busy one; on series sampled every 10 minutes
//     or finer (Config.DayShiftMaxStep) that have only been positive,
//     the same slot holds the daily changepoint: the changepoint again
//     (EWMA 0.05, each value clipped at ±3), on the residual against
//     the seasonal profile alone, in units of its own mean size,
//     counted after a warm-up of its own and while that profile
//     forecasts better than the level forecaster. The profile is the
//     weekly one once it is ready; before, one of the row's own kind
//     of day, weekdays or Saturday and Sunday (UTC), at the weekly
//     profile's half-hour slots, each slot the mean of its first
//     day's readings: a row of a kind not yet seen for a whole day is
//     neither counted nor learned, and a kind's rows are counted after
//     a warm-up of their own (a file that starts on a Saturday would
//     otherwise judge its first weekdays by a weekend). The blend,
//     led at night by the level forecaster, takes a recalibrated
//     sensor's new level in within hours; the profiles' level moves
//     at 0.01, so the change stays in this residual.
//
// Calibration. Each surprise has its own tail estimator: a decayed
// histogram over log z for the body and, above its upper 5 % quantile, an
// exponential fitted to the excesses (SPOT/DSPOT's peaks over threshold with
// a zero GPD shape), so unseen extremes get ever smaller tail probabilities
// and the thresholds follow the stream. The exponential's mean excess m is
// an estimate, uncertain while few excesses have been seen, so the tail
// is its posterior predictive rather than the plug-in exp(−x/m): an excess
// x has probability (1 + x/(n·m))^−n beyond the threshold, a Lomax tail
// for n excesses (n capped at the 99 that m's exponential weighting is
// worth), which the plain exponential becomes as evidence accumulates; a
// stream's first extremes, judged by a few dozen excesses, are no longer
// called one in a million. The price is a learning period: with one or
// two excesses the tail is so heavy that nothing reaches the alarm (on a
// fresh per-minute wave with a ripple, a 6× surge at minute 330, 28
// forecast errors out, scores 0.33, where the plug-in gave a 3× surge
// 0.66); from about ten excesses, some eight hours of per-minute data,
// a 3× surge scores 1 (minute 480). A live series from a scrape or push
// source starts there; the simulated shop's seven days of backfill are
// long past it. An extreme the histogram has already
// counted keeps at least its counted frequency, so recurring spikes stay
// ordinary. On series judged by hour spreads (hourly or coarser), the
// rows of an alarm's episode (the alarm and the rows of its holdoff whose
// undamped score is still at or above AlarmLevel, unless the same time
// yesterday scored as high) teach the tails at Config.HeldLearn (0.1) of
// a row's weight: a day-long event is 24 of a few hundred rows, and
// counted in full it made the next event of its size ordinary. The tail probabilities are merged by a weighted Bonferroni
// minimum (weights 7, 7, 7, 7 and 7/3, whose reciprocals sum to one: the
// record detector, silent almost always, carries less of the multiplicity
// penalty; the stuck and ratio probabilities join with weight 7, so that
// adding them moved no other score), and the score is −log10(min w·p)/6, clamped to
// [0,1], so a score means the same tail probability per observation on
// every series sampled every 10 minutes or faster. Coarser series would
// then have fewer chances a day to pass a threshold (an hourly one 12
// times fewer than a 5-minute one), so Config.RateStep (600 s) counts
// their probabilities per 10 minutes of data instead: each is multiplied
// by 600 s over the step before it becomes a score (an hourly series's
// scores rise by log10(6)/6 = 0.13). Finer series keep per-observation
// odds: made per unit of time, the shop's one-minute metrics lost their
// planted incidents.
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
// families shaped like what the NAB subset lacks (NAB's realTweets,
// realAdExchange and realTraffic, which the project does not have), each
// with planted anomalies and NAB-style windows:
//
//   - synthCounts, like tweets: mentions per 5 minutes for 28 to 42 days,
//     rates of 2 to 120 with a daily cycle and a weekend dip,
//     gamma–Poisson noise (runs of zeros at night on quiet files), and
//     news bursts of every size, a jump that decays over minutes to hours,
//     as part of normal; planted: a burst 10–30 times the rate, a surge of
//     3–5 times for 6 hours or more, a silence of 2 hours or more.
//   - synthHourly, like ad-exchange prices: 24 points a day for 3 to 10
//     weeks (500 to 1,700 rows, so the warm-up must be short), hours and
//     now and then a day missing, a weak daily and weekly profile, noise
//     that grows at night and a slow drift; planted: a spike of 1–3
//     hours, a collapse toward zero, a price level that changes and stays,
//     a day at twice the price.
//   - synthIrregular, like road sensors: speed (whole mph), occupancy (a
//     fraction in [0,1]) or travel time (whole seconds), readings about
//     every 5 minutes with a minute of jitter, 8 % missing and dark hours
//     now and then, weekday rush hours; planted: an incident (the road
//     jams for an hour or two), a stuck value for hours, a recalibration
//     that stays.
//   - synthShift: step changes of level or spread that stay, the change
//     the anomaly and the new level the new normal.
//
// "anomaly nab -synth DIR" writes it (data/ and labels/combined_windows.json)
// and scores it; "-seeds FIRST-LAST" scores a fresh corpus per seed and
// prints the mean table, since one seed is too noisy to judge a change by
// (the standard score over the corpus moves by 10 points between seeds).
//
// Start phase. Every file starts on Monday 2024-03-04 at 00:00 UTC, so
// its first weekend comes on days 5–6 and its weekly profile takes over
// on a Monday; real series start on any day at any hour.
// SynthOptions.Phase ("-synth-phase"; off by default, and without it the
// corpus is the same to the byte: seeds 1, 5, 17 and 30 by sha256)
// starts each file 0–6 days and a whole 5-minute step of the day later
// (a whole hour for synthHourly), drawn from a random stream of the
// file's own. Rows, steps, onsets and noise draws stay; the values move
// with the calendar, since every family has a daily shape and all but
// synthShift a weekend (the counts' noise differs too after the first
// changed rate: the Poisson sampler takes as many draws as the rate
// asks). Main's detector at 5c5846d, from
//
//	GOMAXPROCS=1 /tmp/team/phase-bin-main nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/phase-res/plain --label-free-rate 0.1 --calibration
//	GOMAXPROCS=1 /tmp/team/phase-bin-A nab --synth /tmp/team/phase-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/phase-res/phased --label-free-rate 0.1 --calibration --synth-phase
//
// (about 75 s each; the same with --seeds 31-60 and fresh folders for
// the second block), in-sample / LOCO / LOFO / label-free:
//
//	seeds 1–30         Monday 00:00                    phased
//	standard           76.49 / 74.60 / 74.88 / 75.70   73.94 / 71.80 / 72.09 / 73.14
//	  synthCounts      73.88 / 70.50 / 71.37 / 72.39   71.46 / 68.43 / 69.15 / 70.58
//	  synthHourly      79.38 / 78.76 / 78.58 / 79.19   79.16 / 78.45 / 77.84 / 78.99
//	  synthIrregular   71.09 / 69.51 / 69.48 / 69.98   66.11 / 63.16 / 63.81 / 64.65
//	  synthShift       81.62 / 79.64 / 80.07 / 81.25   79.04 / 77.15 / 77.54 / 78.32
//	low-FP             69.59 / 66.54 / 67.23 / 68.28   66.83 / 63.00 / 63.52 / 65.50
//	low-FN             81.51 / 79.24 / 80.01 / 80.47   79.05 / 76.14 / 77.41 / 77.88
//	seeds 31–60
//	standard           74.95 / 72.35 / 73.09 / 74.15   74.41 / 72.29 / 72.88 / 73.60
//	  synthCounts      72.66 / 68.81 / 70.37 / 71.70   73.85 / 70.08 / 71.87 / 72.66
//	  synthHourly      76.56 / 75.49 / 75.72 / 76.29   76.55 / 75.91 / 75.77 / 76.49
//	  synthIrregular   70.28 / 67.25 / 68.13 / 69.34   65.73 / 64.02 / 64.26 / 64.21
//	  synthShift       80.31 / 77.84 / 78.16 / 79.30   81.52 / 79.16 / 79.63 / 81.04
//	low-FP             68.18 / 65.07 / 65.98 / 66.79   67.19 / 64.19 / 64.47 / 66.01
//	low-FN             79.95 / 77.21 / 78.37 / 78.85   79.49 / 77.32 / 78.05 / 78.34
//
// Only the irregular family's loss holds on both seed ranges:
// label-free −5.3 and −5.1, about 1.3 of the whole corpus's points each
// time, as windows missed (590 → 548 and 586 → 542 of 720 found at
// 0.37) with slightly fewer false-alarm rows (619 → 615, 631 → 592).
// The shift and counts families lose on seeds 1–30 (label-free −2.9,
// −1.8) and gain on 31–60 (+1.7, +1.0): most likely the rounds chose
// their settings on seeds 1–30 as they start, and another realisation
// of the same files gives some of that back. Scratch variants of
// synthPhase split the phase (seeds 1–30, label-free, all and
// irregular): another phase stream 73.93 and 64.30; the weekday alone,
// starting at midnight, 73.83 and 64.07 (shift unchanged at 81.25); the
// time of day alone, on Monday, 74.39 and 68.08 (shift 78.32, as
// phased: its values do not depend on the weekday). So the irregular
// family loses to the weekday, the shift family to the time of day.
// Hourly hardly moves.
//
// What the irregular family misses is level changes, the daily
// changepoint's work. With weekday-only starts, windows around which a
// day's mean moves by more than 12 % (mostly speed and travel-time
// recalibrations) are found 143 → 111 of 198, occupancy windows 179 →
// 167 of 250, the rest (incidents, stuck values) 268 → 263 of 272.
// (Window and row counts here come from a scratch scorer over the
// results folders, nab.Sweep at 0.37; not kept.)
//
// Is the first weekend dearer when it comes after only 1–2 days? No.
// Weekday-only starts, all families, by start day (days to the first
// Saturday, a Sunday start being inside its weekend; files): windows
// found and false-alarm rows at 0.37, Monday 00:00 → weekday-only, and
// the change in points of the label-free score:
//
//	Mon (5, 219)   350 → 350   615 → 615    0
//	Tue (4, 228)   403 → 398   522 → 534   −0.16
//	Wed (3, 189)   335 → 325   468 → 478   −0.35
//	Thu (2, 235)   379 → 375   566 → 616   −0.26
//	Fri (1, 228)   352 → 348   640 → 632   −0.14
//	Sat (0, 237)   400 → 380   651 → 610   −0.56
//	Sun (0, 224)   373 → 357   528 → 477   −0.41
//
// The cost is largest when a file starts in a weekend, and it is
// windows missed, not false alarms (the weekend's rows fall in the
// probation). The first weekend's own false-alarm rows (irregular, per
// file) are 0.25–0.27 after 1, 4 or 5 days, 0.43 after 2 or 3, 0.13 and
// 0 when the file starts in it. The switch to the weekly profile (day
// 7) is dearer on a Monday start: irregular, 117 false-alarm rows
// on day 7 (0.30 per file) at Monday 00:00; with weekday-only starts
// 16 rows on 51 Monday files and 0–9 on each other start day (at most
// 0.14 per file); phased, 32 in all (seeds 31–60: 127 → 25). The tenth
// and eleventh rounds measured the switch day's cost where every
// switch day is a Monday after the first weekend.
//
// # Results
//
// One configuration (DefaultConfig) for every series. Normalised NAB
// scores; in-sample picks the threshold on the whole corpus,
// leave-one-category-out (LOCO) and leave-one-file-out (LOFO) on the other
// categories or files, label-free uses one fixed threshold: an alarm
// budget of 0.1 detections per day of unlabelled data, capped at
// AlarmLevel 0.37 (both corpora hit the cap: the budget alone gives 0.396
// on NAB, 0.404 before the posterior predictive tails, and more than 0.37
// on every synthetic seed). From
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --data ../shared/data/nab/data --out /tmp/h12d-nab --windows ../shared/data/nab/labels/combined_windows.json --label-free-rate 0.1
//	GOMAXPROCS=1 go run ./services/anomaly nab --synth /tmp/h12d-synth --seeds 51-60 --per-family 12 --out /tmp/h12d-res --label-free-rate 0.1
//
// (the second takes about 25 s per 10 seeds; --seeds 1-30, 31-40,
// 41-50 and 71-80 for the other synthetic tables; --calibration adds
// each family's own best threshold and its score on a grid of
// thresholds, and per seed the threshold each held-out family was
// scored at).
//
// NAB subset (35 files, 55 windows). The category rows are the same
// since the count dispersion, and to the file since the daily
// changepoint, the sixth of the anom rounds (before the count
// dispersion in brackets, unchanged from the posterior predictive
// tails through the resting values of the stuck detector and the
// ratio changepoint). The all rows are since the day kinds, the
// thirteenth of the anom rounds, which moved one file, art_noisy (no
// windows, one false alarm fewer); in their brackets the figures from
// the count dispersion to the twelfth round:
//
//	standard               in-sample   LOCO    LOFO   label-free
//	artificialWithAnomaly    88.26     88.26   88.26    88.26    (88.26 / 88.26 / 88.26 / 88.26)
//	realAWSCloudwatch        69.91     66.80   66.80    69.91    (69.39 / 66.27 / 66.28 / 69.39)
//	realKnownCause           74.66     74.66   74.37    74.66    (74.14 / 74.14 / 73.85 / 74.14)
//	all                      73.55     71.86   71.76    73.55    (73.45 / 71.76 / 71.66 / 73.45)
//	all, reward_low_FP       67.17     65.28   65.28    67.17    (66.97 / 65.08 / 65.08 / 66.97)
//	all, reward_low_FN       78.12     76.39   76.32    78.12    (78.06 / 76.32 / 76.26 / 78.06)
//
// The synthetic seeds kept back for judging, 131–140, run once with the
// detector as it stood at 46388cc (after the fourth of the anom
// rounds, none of which looked at them; in brackets), and again with
// the daily changepoint (the sixth anom round, on seeds every round
// had by then seen), --seeds 131-140 --per-family 12 (in-sample / LOCO
// / LOFO / label-free):
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              74.44     70.37   72.49    73.41    (74.35 / 68.69 / 72.65 / 72.81)
//	synthHourly              74.80     73.96   74.42    74.69    (74.47 / 74.10 / 74.08 / 74.69)
//	synthIrregular           69.88     68.50   69.56    69.01    (67.08 / 66.50 / 66.65 / 66.59)
//	synthShift               81.17     77.82   78.98    79.84    (80.90 / 76.45 / 78.31 / 79.71)
//	all                      75.07     72.66   73.86    74.24    (74.20 / 71.43 / 72.92 / 73.45)
//	all, reward_low_FP       67.77     64.85   64.81    66.53    (67.42 / 64.11 / 65.75 / 66.13)
//	all, reward_low_FN       80.00     77.64   78.47    79.11    (79.08 / 76.02 / 77.42 / 78.17)
//
// Before the daily changepoint, as on seeds 31–60 (74.48 / 71.42 /
// 73.05 / 73.61), about two points under development seeds 1–30 (76.07
// / 73.85 / 74.52 / 75.07): the rounds' in-sample gains there are
// partly the seeds', and the LOCO figure of about 71.4 is what carries
// to seeds nobody tuned on. The hourly family falls most (79.40 on
// seeds 1–30).
//
// The last kept-back seeds, 141–150, run once on 2026-12-03 with the
// detector unchanged since the table's bracketed figures
// (`GOMAXPROCS=1 go run ./services/anomaly nab --synth
// /tmp/s12/synth141 --seeds 141-150
// --per-family 12 --out /tmp/s12/res141 --label-free-rate 0.1`, 16 s),
// in-sample / LOCO / LOFO / label-free: standard 75.16 / 72.07 / 73.67
// / 74.25 (counts 71.92 / 68.88 / 71.13 / 72.38, hourly 76.74 / 75.74 /
// 76.38 / 76.23, irregular 71.31 / 68.48 / 69.04 / 69.50, shift 80.65 /
// 75.19 / 78.13 / 78.88), low-FP 68.44 / 64.97 / 65.62 / 67.30, low-FN
// 79.93 / 76.41 / 77.92 / 78.70: within a point of 131–140 on every
// column, the unseen families' stand-ins still under 80 but shift. On
// development seeds 1–10, 80 % of the irregular family's windows are
// found at 0.37 (193 of 240), against 88–94 % in the other families; the
// misses are recalibrations (a scratch replay that tells the kinds and
// sensors apart by the values: 31 of 75 found, occupancy 5 of 25, travel
// time 12 of 28, speed 14 of 22; an occupancy change of 25–30 % sits
// under noise of 12–37 %), where stuck values (87 of 87) and incidents
// (75 of 78) are found. Every seed up to 150 had then been looked at;
// 151–160 have since judged the daily changepoint (the sixth round,
// below), 161–170 (phased, "-synth-phase") the day kinds (the
// thirteenth round, at the end), and 171+ are unused.
//
// The fifth of the anom rounds (branch hourly; no code kept, not
// judged: seeds 141–150 stay unseen). Aim: the hourly family's fall on
// seeds 131–140 (74.47 in-sample against 79.40 on seeds 1–30), seed
// noise or a weakness. From
//
//	go build -o /tmp/team/hourly-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/hourly-bin-TAG nab --synth /tmp/team/hourly-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/hourly-res/TAG/s1-30 --label-free-rate 0.1 --calibration --config '{...}'
//	GOMAXPROCS=1 /tmp/team/hourly-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/hourly-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//
// (and --seeds 31-60, 131-140) at HEAD ea99a72, which reproduces the
// figures above (seeds 1–30 76.07 / 73.85 / 74.52 / 75.07, 31–60 74.48
// / 71.42 / 73.05 / 73.61, 131–140 the table; NAB 73.45 / 71.76 / 71.66
// / 73.45, low-FP 66.97 / 65.08, 66 false-alarm rows); each seed's hourly files alone (--data
// holding only the seed's synthHourly folder, its windows, --label-free
// 0.37: the label-free column per seed); and a replay (not committed)
// that draws each hourly file's planted kinds again from the
// generator's seed and counts the windows found at 0.37 by kind.
//
// Mostly seed noise, and where the seeds differ lies one real
// weakness. Per seed the hourly label-free
// score spreads by 4 to 7 points (standard deviation): 79.19 ± 0.75
// (mean ± standard error; sd 4.08) on seeds 1–30, 76.29 ± 1.23 (sd
// 6.75) on 31–60, 74.69 ± 2.23 (sd 7.06) on 131–140. The seeds the
// rounds were tuned on are the high ones; 31–60 and 131–140 together
// give 75.88. False alarms do not grow (2.22, 2.32 and 2.28 rows per
// file at 0.37). Windows found at 0.37:
//
//	               seeds 1–30   31–60     131–140
//	spike           186/197    190/203    55/58
//	collapse        162/166    163/174    56/61
//	level change    154/177    139/178    39/53
//	day at twice    165/180    154/165    61/68
//
// A level change is found 94 % of the time (198/210) when it is its
// file's first anomaly, 78 % (83/106) when it follows another by 200
// rows or more and 55 % (51/92) within 200 rows; no other kind loses
// more than 9 points after another anomaly (day at twice the price 94 %
// → 85 % within 200 rows). Later level changes are about half of the
// level changes in every range (47–53 %); seeds 1–30 found 76 % of
// theirs, 31–60 64 %, 131–140 54 %.
//
// Why (seed 17, Hourly_08: a day at twice the price at row 830, a
// collapse at 1084, a price that halves at 1334): the change drives
// the ratio and changepoint surprises to 7–10 within ten rows, as far
// as the earlier events drove them. But those events' aftermath, the
// rows after the alarm while the forecasters still lag, scored under
// AlarmLevel once the tails had counted the first few of them, and so
// taught the tails in full (HeldLearn spares only rows at AlarmLevel or
// above): at row 1338 the ratio tail holds 19 of its 1,233 rows above
// 7.4 and a mean excess of 2.4, the changepoint tail a mean excess of
// 4.8, and the change scores 0.35 at most. A short hourly file's upper
// 5 % is a few dozen rows, and one event's aftermath is most of it.
//
// Tried: the aftermath taught at HeldLearn (0.1) too: in the holdoff
// after an alarm (100 rows), a row teaches each tail whose threshold it
// passes at 0.1, whatever its own score (series judged by hour spreads
// only: the other families do not change; at most a byte of state).
// In-sample / LOCO / LOFO / label-free over the corpus (hourly family),
// windows of level changes found and false-alarm rows of the hourly
// family at 0.37:
//   - After every alarm: seeds 1–30 76.13 / 74.18 / 74.65 / 75.17
//     (79.75 / 79.03 / 78.97 / 79.59), 31–60 74.30 / 70.95 / 72.44 /
//     73.49 (75.72 / 74.66 / 74.83 / 75.78), 131–140 74.84 / 71.54 /
//     73.61 / 74.11 (77.11 / 76.82 / 76.75 / 77.35); level changes 154
//     → 159, 139 → 151, 39 → 46, but false-alarm rows 865 → 1,080, 905
//     → 1,132, 297 → 364, half of the new ones after a window. NAB 72.47
//     / 70.68 / 70.68 / 72.47, low-FP 64.93 / 63.04 (77 rows).
//   - The same, but not for a row that recurs from yesterday (HeldLearn's
//     own exemption): a quiet row recurs almost always (yesterday's
//     ordinary 0.05 is 0.4 of its 0.1), so the rows that matter learn in
//     full: seeds 1–30 75.82 / 73.40 / 74.33 / 74.80 (78.46 / 77.84 /
//     77.66 / 78.11), level changes 153, false-alarm rows 1,006; NAB
//     73.07 / 71.38 / 71.38 / 73.07.
//   - Only each tail's run of rows beyond its threshold unbroken since
//     the alarm: seeds 1–30 76.04 / 73.80 / 74.48 / 75.01, 31–60 74.38
//     / 71.39 / 72.79 / 73.49, 131–140 74.42 / 72.04 / 73.26 / 73.48;
//     NAB 73.07 / 71.38 / 71.28 / 73.07, low-FP 66.19 / 64.30 (70 rows;
//     with the exemption, 73.17 / 71.48 / 71.48 / 73.07, not run on the
//     synthetic seeds).
//   - Only after a decisive alarm, one whose undamped score reached
//     AlarmLevel + Breakthrough (0.67, the size that breaks through a
//     holdoff): seeds 1–30 76.35 / 74.36 / 74.92 / 75.31 (80.63 / 79.77
//     / 79.59 / 80.17), low-FP 69.38 / 65.67 / 66.75 / 68.12; 31–60
//     74.57 / 71.63 / 72.92 / 73.77 (76.72 / 75.82 / 76.17 / 76.94),
//     low-FP 67.99 / 64.78 / 65.89 / 66.72; 131–140 74.78 / 72.03 /
//     73.44 / 73.90 (76.89 / 76.21 / 76.17 / 76.49), low-FP 67.85 /
//     64.85 / 65.47 / 66.48; level changes 160, 146, 42, false-alarm
//     rows 933, 958, 313. NAB 73.05 / 71.36 / 71.26 / 73.05, low-FP
//     66.17 / 64.28: four more false alarms (70 rows), all on
//     ambient_temperature_system_failure (0.741 → 0.305), NAB's one
//     hourly file, 7,267 rows with an alarm every few hundred, where
//     rows that scored 0.33–0.35 now score 0.37–0.41.
//
// Rejected, not judged. The last form's LOCO rises on every
// development range (+0.51, +0.21, +0.60), but NAB falls on every
// column (−0.40; low-FP −0.80), so it cannot pass the judging rule;
// the others lose NAB too, and LOCO on a development range (every
// alarm 31–60, −0.47; with the exemption 1–30, −0.45; runs 1–30 and
// 31–60, −0.05 and −0.03). The aftermath's surprises are what keeps a
// new level, while the forecasters catch up with it, from raising
// alarms: taught at 0.1, they let the next change through, and the rest
// of the first change's adaptation with it, and on a long series they
// thin the tails.
//
// Noticed, not touched: the tails cannot tell a lagging expectation
// from a new change. An expectation that follows a confirmed change at
// once (the ratio changepoint's factor applied to the profiles' level
// and slots) would leave no aftermath to learn; it may lose the next
// change's first rows as the fourth round's re-based range did, and a
// spike of a few hours confirms the ratio changepoint too. Not tried.
//
// The fourth of the anom rounds (branch anom4; nothing kept, not
// judged: judging seeds 131–140 stay unseen). Aim: the shift family's
// false alarms after a change that stays (issue 12, item 3), of which
// the round below found the record detector raises 156 of 213 on seeds
// 1–10. Tried: a record range that follows a level change the
// changepoint confirms. From
//
//	go build -o /tmp/team/anom4-bin ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/anom4-bin nab --data /work/shared/data/nab/data --out /tmp/team/anom4-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/anom4-bin nab --synth /tmp/team/anom4-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/anom4-res/TAG/synth --label-free-rate 0.1 --config '{...}'
//
// (and --synth /tmp/team/anom4-synth-31-60 --seeds 31-60) against HEAD
// 9a08ad0, which reproduces the figures of the round below (NAB 73.45
// / 71.76 / 71.66 / 73.45, low-FP 66.97 / 65.08, 66 false-alarm rows;
// seeds 1–30 76.07 / 73.85 / 74.52 / 75.07, shift 81.52 / 79.54 /
// 80.10 / 80.97, low-FP 69.20 / 65.87 / 66.43 / 68.00; seeds 31–60
// 74.48 / 71.42 / 73.05 / 73.61, low-FP 67.82 / 64.50 / 65.66 /
// 66.65), and a replay of seeds 1–10 (rows outside the windows after
// probation at 0.37 or more by detector, before or after a window, and
// the windows found at 0.37). "Confirmed": the changepoint's own
// weighted tail probability alone scores at least AlarmLevel (+ a bar),
// undamped by the holdoff; while it is, the range's side in the
// change's direction is moved (some 24 bytes of state: the side's distance
// or position when the confirmation began, a flag, and for the last
// forms an EWMA of the residual in the series' units at ShiftAlpha).
// In-sample / LOCO / LOFO / label-free:
//   - Re-based on the new level: the side kept at least as far from
//     expected + the changepoint's mean residual (shift × scale) as it
//     was from the long-run mean at confirmation. NAB 70.72 / 67.16 /
//     68.93 / 70.72, low-FP 64.54 / 62.65 (false-alarm rows 66 → 63,
//     but artificialWithAnomaly 88.26 → 73.86); synthetic 75.51 / 73.53
//     / 73.88 / 74.36, shift 80.69 / 78.59, traffic-like 68.26 / 66.97.
//     The same with the residual's EWMA in the series' units: NAB 70.62
//     / 67.06 / 68.83 / 70.62, low-FP 64.34 / 62.45; synthetic 75.50 /
//     73.51 / 73.89 / 74.33. With the other side brought along too: NAB
//     70.52 / 65.27 / 68.73 / 70.52; synthetic 75.32 / 73.08 / 73.61 /
//     74.20.
//   - Translated by the change: the side kept at least at its position
//     at confirmation plus the residual's EWMA in the series' units (a
//     daily profile's peak moves with the level, whatever the hour the
//     change was confirmed at). NAB 70.62 / 67.06 / 68.83 / 70.62,
//     low-FP 64.34 / 62.45; synthetic 75.67 / 73.33 / 74.07 / 74.59
//     (shift 81.05 / 78.49 / 79.84 / 80.33, low-FP 68.95 / 65.82 /
//     66.19 / 67.83). With a bar (the changepoint alone at AlarmLevel +
//     0.1, 0.2, 0.3): NAB 73.65 / 71.96 / 71.86 / 73.65, low-FP 67.37 /
//     65.48 at 0.1 (one false alarm fewer on
//     cpu_utilization_asg_misconfiguration), identical to HEAD at 0.2
//     and 0.3; synthetic 75.84 / 74.04 / 74.30 / 74.71 (0.1; shift
//     81.50 / 80.04 / 79.72 / 80.74, counts 73.57 / 69.75, low-FP 69.08
//     / 66.11 / 66.49 / 67.79), 76.01 / 73.85 / 74.56 / 74.94 (0.2;
//     shift 81.81 / 80.28 / 80.25 / 81.02), 76.03 / 73.81 / 74.50 /
//     75.00 (0.3). The bar of 0.1, the only form whose synthetic LOCO
//     rose (+0.19, with in-sample −0.23, LOFO −0.22 and label-free
//     −0.36: the gain is the folds' thresholds, counts LOCO 69.34 →
//     69.75), fails on seeds 31–60: 74.50 / 71.31 / 72.97 / 73.63
//     (LOCO −0.11; shift 80.33 / 77.45 / 78.28 / 78.92, LOCO −0.28;
//     low-FP 67.84 / 64.45 / 65.31 / 66.78). Not frozen, not judged.
//
// Why. The replay (seeds 1–10, translated, no bar): the shift family's
// record false alarms after a window fall only 128 → 109 (re-based:
// 96), because 85 of the 128 follow a tripled spread, which no
// changepoint confirms (those after level changes fall 43 → 23,
// re-based 21); and it loses windows: shift 212 → 209 (re-based 206),
// traffic-like 193 → 189 of 240. Every window lost is a second or
// third window of its file that HEAD found by an undamped record at
// 0.37–0.47 (two more are found a row and 14 rows later, by the
// residual): the later change's first values pass the range the old
// regime left, which the rebase has moved out of their reach. The
// slowly falling range that raises the false alarms after a change is
// what finds the next change. On NAB the same: art_load_balancer_spikes
// (0.509 → −1.220) and one window of ec2_disk_write_bytes_c0d644
// (−0.303 → −1.906) are lost without a bar. A bar high enough to spare
// them confirms almost no change (at score 1, re-based, the record rows
// fall 128 → 127), and what is left is within the seeds' noise.
//
// Noticed, not touched: the larger part of the shift family's record
// false alarms (85 of 128 on seeds 1–10) follow a change of spread, not
// of level; a range that widens when the shift (spread) detector
// confirms would need the new noise's extreme, which the detector does
// not keep, and would hide the next change's records in the same way.
//
// The second round after the count dispersion, the third of the
// rounds on branches anom, anom2 and anom3 (branch anom3; nothing
// kept, not judged: judging seeds 131–140 stay unseen). Aim: the
// counts family's cross-validated figure (LOCO 69.34 against 73.73
// in-sample, the largest gap of the four) and the traffic-like
// family's, by something that holds for every series. From
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --data /work/shared/data/nab/data --out /tmp/team/anom3-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 go run ./services/anomaly nab --synth /tmp/team/anom3-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/anom3-res/TAG/synth-1-30 --label-free-rate 0.1 --calibration --config '{...}'
//
// (and --synth /tmp/team/anom3-synth-31-60 --seeds 31-60 for the other
// development seeds) against HEAD 37a1b28, whose figures are those of
// the round below (seeds 1–30 76.07 / 73.85 / 74.52 / 75.07, low-FP
// 69.20 / 65.87 / 66.43 / 68.00, low-FN 81.00 / 78.21 / 79.37 / 79.70;
// seeds 31–60 74.48 / 71.42 / 73.05 / 73.61, low-FP 67.82 / 64.50 /
// 65.66 / 66.65, counts 73.06 / 66.66 / 71.24 / 71.57; NAB 73.45 /
// 71.76 / 71.66 / 73.45, low-FP 66.97 / 65.08, 66 false-alarm rows),
// and a diagnostic (not committed) that replays seeds 1–10 through a
// Detector and counts, per family, the rows outside the windows after
// probation at 0.30–0.37 and at 0.37 or more by the detector that drove
// them, and each window's highest score. The settings below were
// experiments' settings; none is in Config.
//
// Where the counts' LOCO is lost. Not in the counts' own rows: it is
// the threshold chosen on the other three families. On seeds 4, 5 and
// 11 the folds that hold counts out chose 0.310, 0.289 and 0.299 (the
// shift family's own best lay at 0.311 and 0.254 on 4 and 5, the
// traffic-like family's at 0.301 and 0.305 on 5 and 11), where the
// counts' mean curve stands at 45.36 (0.28), 56.86 (0.30) and 64.48
// (0.32) against 72.41 at 0.37. Below the
// alarm level the counts' false-alarm rows grow as calibrated per-row
// odds say they should (1,792 rows at 0.37, 4,654 at 0.30: ×2.6 for
// 0.42 decades, 10^0.42 = 2.6), and they are single rows, not runs:
// on seeds 1–10, 907 rows in [0.30, 0.37) (residual 563, spot 165,
// changepoint 134, shift 26, stuck 18, record 1) and 535 at 0.37 or
// more (residual 280, record 150, spot 47, changepoint 35, shift 15,
// stuck 8), spread evenly over each file from its second tenth on (77,
// 158, 120, 104, 95, 77, 89, 69, 118 rows in tenths 2–10): a steady
// state, not the learning period; 15 of the 240 windows peak below
// 0.37 (window peaks: 10 % quantile 0.390, median 0.764). A count file
// has five times a traffic-like file's rows for as many windows, so at
// the same odds per row it pays five times as much per window below the
// alarm level. What follows from it, and what every form below showed:
// a change that makes the other families better below 0.37 moves their
// best thresholds down and costs the counts' LOCO, and the counts'
// LOCO moves with single folds (seed 5 alone is worth ±0.6 of the
// mean). Tried and rejected (seeds 1–30 unless said; in-sample / LOCO
// / LOFO / label-free):
//   - The holdoff below the alarm level ("HoldBelow"): a score under
//     AlarmLevel no higher than the highest undamped score of the last
//     Holdoff rows damped by HoldoffDamp (16 bytes of state), so a run
//     of sub-alarm extremes counts once at every threshold below the
//     alarm, as an alarm's event does above it. NAB is identical (its
//     folds choose 0.37–0.38). Synthetic 76.12 / 73.28 / 74.44 / 75.07
//     (counts 73.64 / 66.74 / 71.17 / 72.41, hourly 79.74 / 78.76 /
//     78.76 / 79.19, traffic-like 69.64 / 68.18 / 67.91 / 67.69, shift
//     81.45 / 79.46 / 79.92 / 80.97; low-FP 69.23 / 65.83 / 66.67 /
//     68.00, low-FN 81.12 / 78.53 / 79.40 / 79.70); seeds 31–60 74.55 /
//     71.11 / 72.82 / 73.61 (counts 72.39 / 65.59 / 70.35 / 71.57; low-FP
//     LOCO 63.95). The counts' false-alarm rows at 0.30 fall only 4,654 →
//     4,137 (their curve there 56.86 → 60.76), the traffic-like and
//     shift families' own best thresholds move 0.352 → 0.341 and 0.340
//     → 0.334, and the counts' LOCO falls. On count series finer than
//     hourly only: 76.08 / 73.78 / 74.42 / 75.07, counts LOCO 68.84 (the
//     traffic-like family's integer sensors are counts too; its best
//     0.352 → 0.341).
//   - A likelihood over a window of surprises, after HTM's anomaly
//     likelihood: the EWMA at 0.02 of the residual's signed surprisal
//     sign(u)·min(−ln p, 10), p the residual tail's, less its slow mean
//     (SlowAlpha), |·| over √(0.02/1.98), calibrated by its own tail in
//     the ratio changepoint's slot on count series finer than hourly (a
//     rank-based CUSUM: news bursts weigh by their rarity, not their
//     size). NAB 73.15 / 71.46 / 71.36 / 73.15, low-FP 66.37 / 64.48
//     (false-alarm rows 66 → 69: one each on art_daily_no_noise,
//     elb_request_count_8c0756 and nyc_taxi), synthetic 75.84 / 73.74 /
//     74.08 / 74.92 (counts 73.04 / 69.15 / 70.25 / 71.79; low-FP 68.65 /
//     65.45 / 65.73 / 67.46). In the diagnostic it finds one more count
//     window of 240 and raises 13 more false-alarm rows at 0.37 (0.05:
//     the same window, 7 more rows); on the traffic-like family 2 more
//     windows for 43 more rows (on every series finer than hourly, 4
//     more for 52).
//   - (Diagnostic only, seeds 1–10.) The residual made persistent: the
//     smaller of this and the previous |u| when both lie on the same
//     side, zero otherwise, on counts: count false-alarm rows 907 → 940
//     in [0.30, 0.37) and 535 → 551 at 0.37 (residual 563 → 521, spot
//     165 → 270: the single-row extremes the residual gave up are
//     spot's), one more window missed. The changepoint's and shift's
//     residuals clipped (a Huber-like CUSUM; ±4, or ±3 with |u| ≤ 4
//     for shift): changepoint rows in [0.30, 0.37) 134 → 178 and 187 on
//     counts, 110 → 140 and 159 on traffic-like, the windows about as
//     before (counts 15 missed → 15 and 14, traffic-like 47 and 47):
//     a clipped statistic's tail is thinner, so ordinary moderate runs
//     score higher. The record detector at the common weight 7 (or 14
//     instead of 7/3): counts' rows at 0.37 535 → 514 (478), but
//     traffic-like windows missed 47 → 55 (58) of 240; the record
//     detector carries that family as it does NAB.
//   - A lower breakthrough (0.1) for a held score the stuck detector
//     drives on a run at a value the series has not rested at, so a
//     frozen sensor's climbing score escapes the holdoff a few readings
//     later at any threshold above the alarm (the resting values make
//     NAB's real runs exempt, which cost NAB 0.4 when this was tried
//     for every run in an earlier round). NAB identical; synthetic
//     76.08 / 74.01 / 74.53 / 75.07 (counts LOCO 69.94, traffic-like
//     69.67 / 67.66 / 67.99 / 67.70; low-FP 69.21 / 65.82 / 66.44 /
//     68.00); seeds 31–60 74.49 / 71.41 / 73.04 / 73.62. It raises the
//     stuck windows' peaks (traffic-like median window peak 0.752 →
//     0.916 on seeds 1–10), but none of them had been missed at 0.37 or
//     peaked in [0.37, 0.40), and the whole LOCO gain is
//     seed 5's counts fold (0.289 → 0.357, that seed's LOCO 61.07 →
//     65.61): within the seeds' noise, so not proposed and not judged.
//   - A breakthrough of 0.1 for a held score driven by a detector other
//     than the alarm's (a spike's alarm followed by a level change):
//     NAB 73.15 / 71.46 / 71.36 / 73.15, low-FP 66.37 / 64.48 (one more
//     false alarm each on ec2_cpu_utilization_77c1ca,
//     cpu_utilization_asg_misconfiguration and nyc_taxi), synthetic
//     75.96 / 73.99 / 74.32 / 74.95, low-FP 69.05 / 65.40 / 65.92 / 67.63.
//
// Noticed, not touched: the shift family's false-alarm rows at 0.37
// or more are mostly the record detector's (156 of 213 on seeds 1–10):
// after a level change that stays, the new level's noise keeps passing
// the old highest value, which falls back only at RangeAlpha, and each
// such record is rare in the record tail, which is almost all zeros.
// Capping a record's excess by the residual was tried in an earlier
// round (+0.1 at 2 error scales, NAB LOCO 66.59 at 4); a range that
// follows a confirmed changepoint was not (the fourth round, above,
// tried it). Speed and memory at HEAD,
// nothing added: BenchmarkObserve 438–486 ns, BenchmarkObserveSynth
// 570–693 ns per observation under load 2, 6,728 bytes of state, no
// allocations.
//
// The round after the count dispersion (branch anom2; nothing kept, not
// judged: judging seeds 131–140 stay unseen). Aim: the traffic-like
// family's recalibrations, its largest loss. A replay of seeds 1–10
// (the generator's window kinds, threshold 0.37) finds at HEAD 14 of
// 22 speed, 3 of 24 occupancy and 12 of 28 travel-time recalibrations,
// with 181 false-alarm rows. Two traces say why. The reference is as
// noisy as a reading: a 5-minute daily slot keeps its first value at
// weight 0.9^k, so over a file's 5–10 days the daily forecast is about
// one earlier day's reading (a travel-time sensor with 10 % noise at
// 430 s is forecast 404–525 at night), and the blended error scale
// carries that noise and the rush hours' errors into the quiet hours:
// a ×1.3 recalibration at midnight (601 against 457) is 2 error
// scales, 0.17 at its peak. And occupancy's noise (0.125–0.375 in log
// units) makes ×0.75 (−0.29) one to two readings' spread at most: a
// shift that only some 40 readings, averaged against a reference that
// does not move, can show. Each form below was a surprise in the ratio
// changepoint's slot (its tail, weight 7), which series finer than
// hourly leave unused. From
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --data /work/shared/data/nab/data --out /tmp/team/anom2-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 go run ./services/anomaly nab --synth /tmp/team/anom2-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/anom2-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// against HEAD a215c60 (development seeds 1–30 76.07 / 73.85 / 74.52 /
// 75.07, low-FP 69.20 / 65.87 / 66.43 / 68.00, traffic-like 69.65 /
// 67.64 / 67.97 / 67.69, counts 73.73 / 69.34 / 71.36 / 72.41; NAB
// 73.45 / 71.76 / 71.66 / 73.45, low-FP 66.97 / 65.08, 66 false-alarm
// rows; in-sample / LOCO / LOFO / label-free; the experiment's code is
// not committed):
//   - The daily forecaster's own residual (v − daily forecast, in units
//     of its mean absolute error, each value clipped at ±3), EWMA at
//     0.05, |EWMA|/√(0.05/1.95), on series that have only been positive
//     (the ratio changepoint's rule): the daily forecaster's level
//     moves at 0.01 and its slots a tenth a day, so a change of level
//     stays in its residual while the blend, led at night by the level
//     forecaster (0.02), has absorbed it. The best form measured:
//     synthetic 76.74 / 74.85 / 75.34 / 75.84 (traffic-like 72.03 /
//     69.75 / 70.32 / 70.61, counts 73.93 / 70.48 / 71.65 / 72.36;
//     low-FP 69.49 / 66.93 / 67.24 / 68.12, low-FN 81.76 / 80.15 / 80.44
//     / 80.71), recalibrations found on seeds 1–10 14 / 7 / 17 (speed /
//     occupancy / travel time) with 219 false-alarm rows (Saturday's, the
//     first weekend without rush hours, 15 → 52), and on 20 travel-time
//     series with rush hours, recalibrated at 22:00 on day 4, a ×1.3
//     found within 6 hours in 18 (7) and a ×0.75 in 17 (16), with 23
//     false alarms before (17). But NAB 73.00 / 71.30 / 71.30 / 72.90,
//     low-FP 65.91 / 63.82, low-FN 77.75 / 76.02, false-alarm rows 66 →
//     72: one more on each of art_daily_nojump, ec2_network_in_5abac7,
//     elb_request_count_8c0756, cpu_utilization_asg_misconfiguration,
//     nyc_taxi and ec2_request_latency_system_failure (two), one fewer
//     on ec2_cpu_utilization_c6585a, and rds_cpu_utilization_e47b3b and
//     art_load_balancer_spikes detect earlier. NAB's cross-validated and
//     low-FP figures fall, so by the rule it is rejected; it is the
//     largest synthetic gain measured on development seeds 1–30 since
//     the resting values (+0.67 / +1.00 / +0.82 / +0.77, every family's
//     LOCO up but the hourly one's, −0.06, whose rows it leaves as
//     they were; shift 81.58 / 80.36 / 80.57 / 81.21), and a candidate
//     if a NAB cost of ~6 false alarms on 5-minute files were allowed.
//     On every series (also those that have been at zero): synthetic
//     76.80 / 74.92 / 75.39 /
//     75.90, NAB 71.29 / 67.87 / 69.50 / 71.19 (ec2_disk_write_bytes_1ef3de,
//     a byte counter that rests at zero, loses its detection: 0.804 →
//     −1.110). EWMA at 0.03 or 0.1 (clip 3): synthetic 76.50 / 74.89 /
//     75.09 / 75.80 and 76.43 / 74.45 / 74.70 / 75.79, NAB 72.49 / 70.80
//     and 72.70 / 71.01; clip 2 (EWMA 0.05): 76.63 / 74.80 / 75.09 /
//     75.82, NAB 72.59 / 70.89; counted only when the level forecaster's
//     residual has the same sign (the smaller of the two; no forecaster
//     explains the value): Saturday's false alarms go (52 → 17) but so
//     does most of the gain, 76.15 / 74.28 / 74.64 / 75.28, NAB 72.01 /
//     70.42; only while the daily forecaster's error is below the level
//     forecaster's (the series is seasonal): 76.50 / 74.34 / 75.01 /
//     75.71 (counts low-FP 58.57 / 55.68), NAB 72.00 / 70.51, the
//     statistic then starting and stopping; the statistic always
//     learned but its probability counted only while the daily error is
//     below the level forecaster's (the closest to NAB's figures):
//     76.66 / 75.06 / 75.26 / 75.79 (traffic-like 71.65 / 69.88 / 70.16
//     / 70.31, counts 74.08 / 71.42 / 71.63 / 72.46; low-FP 69.55 /
//     66.83 / 66.89 / 68.29), NAB 73.05 / 71.36 / 71.36 / 72.95, low-FP
//     66.17 / 64.48, false-alarm rows 70 (one more on each of
//     art_daily_nojump, art_load_balancer_spikes,
//     cpu_utilization_asg_misconfiguration and nyc_taxi, all daily
//     series), still a NAB cost at the same threshold, not threshold
//     noise (on development seeds 31–60, run afterwards for a wider
//     view, synthetic-only: 74.48 / 71.42 / 73.05 / 73.61 → 74.91 /
//     72.35 / 73.09 / 74.18, low-FP 67.82 / 64.50 / 65.66 / 66.65 →
//     67.99 / 64.68 / 65.62 / 66.74; traffic-like 68.04 / 65.99 / 66.87
//     / 67.58 → 70.64 / 67.77 / 68.82 / 69.93, counts 73.06 / 66.66 /
//     71.24 / 71.57 → 72.88 / 68.67 / 70.24 / 71.65, shift 80.41 / 77.73
//     / 78.23 / 79.01 → 79.79 / 77.48 / 77.85 / 78.84, hourly within
//     0.4: the gain is the traffic-like family's; with the weekly
//     forecaster's residual also required to agree in sign once it is
//     ready, or scored only from the daily profile's third day, NAB is
//     the same 73.05 / 71.36 and synthetic 76.66 / 75.06 / 75.26 / 75.79
//     and 76.65 / 74.98 / 75.27 / 75.79: the new false-alarm rows fall
//     on days 1–3 of their files, before the weekly profile is ready,
//     or late in long ones, cpu_utilization_asg_misconfiguration's day
//     31 and nyc_taxi's day 97); in place of the blend's changepoint rather than beside it
//     (its tail): 76.92 / 75.06 / 75.51 / 75.98 but NAB 68.52 / 65.74
//     (nyc_taxi 4.389 → 2.286, elb_request_count_8c0756 loses a
//     detection); scored only from the daily profile's third day (the
//     tail learning from the start): NAB and synthetic as without
//     (73.00 / 71.30; 76.73 / 74.88 / 75.36 / 75.84); computed only from
//     the third day (the tail learning zeros before): 76.75 / 75.35 /
//     75.39 / 75.92, NAB 72.50 / 70.90, low-FP 64.91 / 63.22.
//   - The daily forecaster's level against a reference that follows it
//     at 0.001 (|level − reference| over the daily error), on every
//     series: synthetic 75.50 / 73.47 / 73.87 / 74.57, NAB 68.55 /
//     66.85; on seeds 1–10 its reference lags the level's own wander
//     (0.4 of the daily error with no change) and a ×1.3 travel time
//     reaches 1.08 some 70 readings after it (score 0.26).
//   - A sign test: the EWMA of sign(v − expected) minus its slow mean
//     (0.002), at 0.03, scale-free so a rush hour's errors weigh no more
//     than a quiet night's, on every series finer than hourly: 75.98 /
//     73.85 / 74.43 / 75.07, NAB 72.45 / 70.86 (low-FP 64.97): the signs
//     of a first-value profile's errors run about as long as a
//     recalibration's (after an occupancy ×0.75 the statistic reaches
//     5.2, which its tail, from the file's earlier runs, puts at p
//     0.014); at rates 0.01–0.1 the replay of seeds 1–10 finds 29–31 of
//     its 74 recalibrations (29 at HEAD).
//   - Seasonal slots that average their first visits (rate max(1/k,
//     SeasonAlpha) on a slot's k-th day, from the period count, no
//     state): 75.65 / 72.70 / 73.84 / 74.66, NAB 68.80 / 68.50 / 65.28 /
//     65.87 (as in the round that first tried it).
//   - (Replay of seeds 1–10 only.) The level forecasters slower
//     (FastAlpha 0.01, and LevelAlpha 0.005) or ShiftAlpha 0.05: 31–32
//     recalibrations of 74 found (29), false-alarm rows 176–177 (181).
//
// What it says: a reference that does not follow the level finds the
// recalibrations, but in a file's first week the profile is one day's
// readings and the weekend has not been seen (its Saturday is the new
// false alarms' day), and on NAB's 5-minute files, daily ones among
// them, it flags level changes the labels do not count, which the
// blend absorbs. Not tried: the same statistic against the weekly
// profile once it is ready, a profile smoothed over neighbouring slots
// for this statistic alone (the last smoothing tried was for the
// forecast, and cost NAB). The daily profile's first week is the gap:
// the weekly profile, whose agreement would have told a weekend or a
// holiday from a recalibration, is not ready in a synthetic
// traffic-like file (5–10 days) until most of its windows have passed.
//
// Count dispersion (this round, branch anom; CountDispersion 40). Where
// the points were lost, at HEAD a9d30f0 on development seeds 1–30 at
// 0.37 (a diagnostic replaying the generators' draws for each window's
// kind; not committed): the traffic-like family detects its incidents
// (217 of 233 windows) and stuck sensors (266 of 266), but of its
// recalibrations only 44 of 64 on speed sensors (median peak score
// 0.399, at the holdoff's cliff), 29 of 80 on travel-time sensors
// (median 0.294) and 5 of 77 on occupancy sensors (0.121): 143
// windows missed, each a full point, against its 542 false-alarm rows
// at 0.11 each (rush-hour onsets, 07:00 and 16:00–17:00: 439 rows; days
// 1–2 and 7 of a file: 347). The counts family finds 391 of 410 planted
// bursts and every silence, but only 148 of 187 surges (median peak
// 0.433), and its 1,761 false-alarm rows (residual 947, record 383,
// spot 205, changepoint 162; none inside a holdoff) are values 5 to 17
// times the forecast (1,300 of them), news bursts and gamma–Poisson
// extremes, most on days 3–8 (631) and in the busiest hours. On the
// square-root scale a count's spread still grows with the square root
// of its rate once overdispersion dominates (variance μ + μ²/k), and an
// integer sensor whose noise is a proportion of its reading (travel
// time: 8 % of 200–2,000 s) is judged by the quiet hours' spread in its
// busy ones. The negative-binomial variance-stabilising transform
// 2√k·asinh(√((v+3/8)/k)) (Anscombe 1948) is the square root below about
// k and a logarithm above, and it is applied to counts whose first
// twelve values are all positive: a counter that starts with zeros (a
// quiet hour's mentions, bytes written now and then) keeps the square
// root. From
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --data /work/shared/data/nab/data --out /tmp/team/anom-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file
//	GOMAXPROCS=1 go run ./services/anomaly nab --synth /tmp/team/anom-synth --seeds 1-30 --per-family 12 --out /tmp/team/anom-synth-out --label-free-rate 0.1 --calibration
//
// (and --seeds 121-130 for the judging seeds; --config
// '{"CountDispersion":0}' gives the figures before). Development seeds
// 1–30, before → after (standard, in-sample / LOCO / LOFO / label-free):
//
//	synthCounts    73.46 / 69.59 / 70.61 / 72.65 → 73.73 / 69.34 / 71.36 / 72.41
//	synthHourly    79.31 / 78.46 / 78.27 / 79.19 → 79.40 / 78.89 / 78.64 / 79.19
//	synthIrregular 68.80 / 66.74 / 67.13 / 66.84 → 69.65 / 67.64 / 67.97 / 67.69
//	synthShift     81.55 / 78.68 / 79.54 / 80.97 → 81.52 / 79.54 / 80.10 / 80.97
//	all            75.78 / 73.37 / 73.89 / 74.91 → 76.07 / 73.85 / 74.52 / 75.07
//	all, low-FP    69.16 / 65.63 / 66.74 / 67.87 → 69.20 / 65.87 / 66.43 / 68.00
//	all, low-FN    80.76 / 78.32 / 79.11 / 79.53 → 81.00 / 78.21 / 79.37 / 79.70
//
// (the hourly and shift families' rows are unchanged: they are not
// counts; they move through the thresholds the folds choose). The
// traffic-like family's own curve rises at every threshold from 0.28
// to 0.42 (at 0.37 66.84 → 67.69, false-alarm rows 542 → 527; its best
// threshold 0.366 → 0.352, 70.08 → 71.19); the counts' false-alarm rows
// at 0.37 rise 1,761 → 1,792 and their curve moves by −1.1 (at 0.28)
// to +0.3.
// Judging seeds 121–130, looked at once after the change was frozen,
// before → after:
//
//	synthCounts    72.68 / 67.76 / 69.81 / 71.32 → 72.91 / 69.74 / 69.90 / 71.38
//	synthHourly    77.86 / 77.71 / 77.48 / 77.60 → 77.96 / 77.54 / 77.16 / 77.60
//	synthIrregular 67.01 / 65.69 / 65.93 / 66.54 → 68.97 / 66.82 / 66.78 / 68.40
//	synthShift     81.23 / 77.53 / 78.43 / 79.81 → 81.04 / 77.76 / 79.72 / 79.81
//	all            74.70 / 72.17 / 72.91 / 73.82 → 75.22 / 72.96 / 73.39 / 74.30
//	all, low-FP    68.09 / 65.85 / 66.16 / 66.48 → 68.69 / 65.15 / 67.04 / 67.06
//	all, low-FN    79.80 / 76.92 / 78.34 / 78.52 → 80.06 / 77.15 / 78.46 / 78.98
//
// Per seed (in-sample / LOCO), before → after: 121 70.33 / 69.00 →
// 71.15 / 69.97, 122 76.33 / 73.36 → 75.64 / 71.43, 123 82.15 / 81.31 →
// 81.00 / 79.45, 124 75.95 / 73.91 → 77.92 / 77.30, 125 70.81 / 66.27 →
// 72.20 / 70.36, 126 71.01 / 69.33 → 71.46 / 70.49, 127 72.17 / 65.33 →
// 73.89 / 67.28, 128 78.91 / 77.95 → 79.56 / 77.86, 129 76.37 / 74.78 →
// 76.54 / 74.90, 130 72.95 / 70.45 → 72.81 / 70.59 (LOCO rises on seven
// of ten). Seeds 31–60 (used by earlier rounds; run after the judging,
// for a wider view, nothing chosen on them), before → after: all 74.35
// / 71.28 / 72.54 / 73.39 → 74.48 / 71.42 / 73.05 / 73.61, traffic-like
// 67.42 / 65.45 / 65.83 / 66.51 → 68.04 / 65.99 / 66.87 / 67.58, counts
// 73.65 / 66.82 / 70.88 / 71.76 → 73.06 / 66.66 / 71.24 / 71.57, hourly
// 76.43 / 75.39 / 75.65 / 76.29 → 76.42 / 75.30 / 75.84 / 76.29, shift
// 79.89 / 77.47 / 77.81 / 79.01 → 80.41 / 77.73 / 78.23 / 79.01;
// low-FP 67.87 / 64.75 / 65.36 / 66.48 → 67.82 / 64.50 / 65.66 / 66.65
// (counts 63.16 → 61.69 in-sample). So the gain is the traffic-like
// family's, on all 70 seeds measured; the counts family, whose
// gamma–Poisson size is 1.5–6 (far below k), gains LOCO on the judging
// seeds (+1.98) but loses a little elsewhere and loses on the low-FP
// profile everywhere: on its busy files the log-like top of the scale
// shrinks its planted bursts as much as its news bursts (k = 10, nearer
// its true size, was worse for it: 72.84 in-sample). What it costs: the low-FP LOCO on the judging seeds (−0.70:
// the shift family's, 72.63 → 67.71, whose rows are unchanged, through
// the folds' thresholds), the counts' LOCO on the development seeds
// (−0.25) and their low-FP figures (development 62.16 / 58.49 / 59.35 /
// 59.38 → 61.26 / 57.78 / 57.47 / 58.91), the development low-FP LOFO
// (−0.31) and low-FN LOCO (−0.11). On NAB it moves two files,
// both real counts: nyc_taxi (raw 4.191 → 4.389) and
// elb_request_count_8c0756 (1.386 → 1.697); false-alarm rows 71 → 66.
// How k and the rule were chosen, honestly: k = 10 and 40 were run on
// every count first (synthetic 75.90 / 73.72 / 74.48 / 74.85 and 76.11
// / 73.77 / 74.69 / 75.08, traffic-like +0.75 to +0.99 on every column),
// but NAB fell to 65.72 / 62.16 and 69.06 / 67.37:
// ec2_disk_write_bytes_1ef3de loses its detection (0.804 → −1.000) and
// c0d644 falls −0.303 → −3.328, byte counters that rest at zero and
// write millions now and then, whose bursts the logarithm shrinks. The
// rule that exempts counts with a zero among their first values was
// added after seeing those two files (a principled reading: a counter
// that starts at zero is in Poisson's regime or is no event count at
// all, but it was placed with NAB's files in view). With the rule, k =
// 20 and 80 were measured after 40: synthetic 75.96 / 73.74 / 74.39 /
// 75.09 and 76.07 / 74.15 / 74.61 / 75.16 (counts LOCO 69.44 and
// 70.45, traffic-like 69.83 / 67.32 / 67.70 / 67.63 and 69.68 / 68.28 /
// 68.55 / 67.81), NAB 73.45 / 70.09 / 71.66 / 73.45 and 73.36 / 69.99 /
// 71.56 / 73.36 (low-FP 66.97 / 63.41 and 66.78 / 63.21; at 20 every
// file scores as at 40 in-sample, at 80 elb_request_count_8c0756 gains
// a false alarm; the LOCO difference is the fold that holds
// realAWSCloudwatch out, scored at 0.377–0.378, above the alarm level,
// where elb_request_count_8c0756's scores differ). 80 was the best of the
// three on synthetic LOCO, 40 the one whose NAB LOCO does not fall;
// so the value is NAB-adjacent too, and the synthetic gain does not
// hang on it (every k measured raised synthetic LOCO, by 0.37–0.78).
// TestTravelTimesJudgedByProportion: integer travel times whose noise
// is 8 % of the reading, recalibrated to 0.75 on day 6, are found
// within a day in 5 of 20 series (1 on the square-root scale) with 38
// false alarms before (42). The state grows by 8 bytes (6,728 bytes
// with the startup buffers' pointer; the 6,784-byte allocation class,
// TestBudget passes); an asinh on a count's observation instead of a
// square root: 444 ns per observation (BenchmarkObserve) and 419 ns
// (BenchmarkObserveSynth) under load 3, no allocations.
//
// Tried in this round and rejected (development seeds 1–30 and NAB,
// in-sample / LOCO / LOFO / label-free, against 75.78 / 73.37 / 73.89 /
// 74.91 and NAB 72.99 / 71.29 / 71.20 / 72.99, low-FP 66.01; none
// judged):
//   - A slow changepoint on series finer than hourly, for the
//     recalibrations: the EWMA of u, each value clipped at ±4, at 0.02
//     (its own tail, the ratio changepoint's slot, weight 7): 75.93 /
//     73.73 / 74.06 / 75.11 (traffic-like +0.21 / +0.27 / +0.19 /
//     +0.66), NAB 72.43 / 70.83 / 70.64 / 72.43, low-FP 64.82; on
//     log(v/expected) in units of its mean size (the ratio changepoint,
//     slower): 75.97 / 72.95 / 74.36 / 75.09 (traffic-like 69.67 / 68.09
//     / 68.07 / 68.05, but counts LOCO 66.37), NAB 72.62 / 70.92 /
//     70.83 / 72.62, low-FP 65.14; occupancy recalibrations found 11 of
//     77 (5). The forecasters adapt to a new level (the level at 0.02,
//     the profiles' level at 0.01) about as fast as a slow average can
//     gather it, while the rush hours' runs of one-signed residuals fill
//     its tail: a statistic that sees a change of a quarter in
//     occupancy needs a reference that does not follow the level.
//   - Tails that learn during the warm-up, from observation 100 or 200
//     on (the counts' false alarms fall on days 3–8): NAB 67.37 / 66.40
//     and 70.33 / 68.38, synthetic 75.30 / 71.52 / 72.81 / 73.90 and
//     75.49 / 72.83 / 73.56 / 74.40 (shift −1.6).
//
// Tried after the resting values and rejected: blend weights by time of
// day (branch h12d; nothing kept, not judged). Each forecaster (level,
// daily, weekly) also kept its mean absolute one-step error per UTC
// hour of day (24 float32 each, 288 bytes; an hour starts at the
// forecaster's overall error on its first visit and then learns at
// ErrAlpha per reading on 5-minute data, SeasonAlpha per reading on
// hourly data), and the blend weighted each by 1/err² with that hour's
// error instead of the error over the last ~100 readings: after a quiet
// night the level forecaster would no longer carry the blend into a rush
// hour where it has always lagged. The scale (the blended error) was
// left as it was. From
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --synth /tmp/team/h12d-synth --seeds 1-30 --per-family 12 --out /tmp/team/h12d-out --label-free-rate 0.1 --calibration
//	GOMAXPROCS=1 go run ./services/anomaly nab --data /work/shared/data/nab/data --out /tmp/team/h12d-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file
//
// against HEAD 652872d (development seeds 1–30 75.78 / 73.37 / 73.89 /
// 74.91, traffic-like 68.80 / 66.74 / 67.13 / 66.84, low-FP 69.16 /
// 65.63 / 66.74 / 67.87; NAB 72.99 / 71.29 / 71.20 / 72.99, low-FP
// 66.01; in-sample / LOCO / LOFO / label-free):
//   - every forecaster by its hour's error: synthetic 74.27 / 70.30 /
//     71.99 / 73.33 (counts 72.98 / 64.35 / 69.28 / 72.58, hourly 78.15 /
//     77.36 / 77.18 / 78.28, traffic-like 66.63 / 64.89 / 64.59 / 65.00,
//     shift 79.33 / 74.62 / 76.90 / 77.45; low-FP 67.38 / 63.25 / 65.09 /
//     66.22), NAB 70.15 / 68.64 / 68.36 / 70.15, low-FP 63.55 (LOCO 55.43):
//     ec2_cpu_utilization_77c1ca loses its detection (0.669 → −1.440) and
//     nyc_taxi falls 4.191 → 2.502, while c0d644 (−0.303 → 0.286) and
//     rogue_agent_key_updown (0.433 → 0.653) gain;
//   - the larger of the overall and the hour's error (a forecaster loses
//     weight where it has been bad, never gains it): NAB 70.15 / 60.40 /
//     68.36 / 70.15; for the level forecaster only: NAB 72.10 / 70.10 /
//     70.41 / 72.00 (low-FP 65.82; 77c1ca 0.669 → −1.330, the rest +1.0
//     raw), synthetic 75.36 / 72.94 / 73.63 / 74.40 (traffic-like 67.25 /
//     64.92 / 64.95 / 64.83, 549 false-alarm rows at 0.37 against 542;
//     counts 73.41 / 68.75 / 71.01 / 72.62, hourly 78.88 / 78.18 / 77.91 /
//     78.96, shift 81.92 / 79.91 / 80.65 / 81.19);
//   - the level forecaster by its hour's error alone: NAB 70.21 / 68.52 /
//     68.42 / 70.21; every forecaster by the geometric mean of its overall
//     and hour's error: NAB 71.27 / 69.57 / 69.47 / 71.27;
//   - the daily (and weekly) profile judged by its error at this hour on
//     earlier days, the level forecaster as before: NAB 71.23 / 69.53 /
//     69.44 / 71.23 (low-FP 64.24), synthetic 75.41 / 72.67 / 73.82 /
//     74.39 (traffic-like 67.87 / 65.95 / 66.23 / 65.87, 550 false-alarm
//     rows; counts 74.09 / 67.68 / 71.39 / 72.75, hourly 78.90 / 78.60 /
//     78.56 / 79.24, shift 80.78 / 78.45 / 79.12 / 79.69; low-FP 68.55 /
//     65.56 / 66.14 / 67.31).
//
// Why the weights cannot help much: on seeds 1–9, the traffic-like
// family's unheld scores of 0.37 or more at 07:00–09:00 and
// 16:00–18:00 with the daily profile in the blend are 207 rows (86 by
// the residual); the daily forecast alone would have been nearer the
// value in 164 of them, but only 7 % nearer on average (|v − daily| /
// |v − blend| 0.93), and 100 of the 207 would still lie more than 4
// scales from it. The rush's onset is noisy, not mispredicted:
// seed 1's Irregular_03 reads 0.05–0.42 between 06:45 and 07:35 on its
// first three days, jumping by up to 0.3 from one reading to the next,
// while the scale, the errors of the last ~100 readings (a quiet night),
// is 0.032; at Wednesday 07:12 (0.42) the blend expects 0.11, the level
// 0.08 and the daily profile 0.15. What the
// false alarms lack is a scale that grows where the series is busy, and
// the two forms measured both cost NAB: the larger of each forecaster's
// overall and hour's error in the scale (NAB 67.64 / 66.22 / 61.61 /
// 63.98; with the weights as in the second and third forms above,
// 67.13 / 66.05 / 65.69 / 65.84 and 67.87 / 66.45 / 66.03 / 62.10), and
// the residual divided by the spread of its level (8 bands of the
// forecast's place between the remembered lowest and highest value,
// learned as the hour spreads are, at ErrAlpha, on series finer than
// hourly: NAB 68.07 / 66.81 / 66.81 / 63.88; never below 1, 70.67 /
// 65.86 / 67.17 / 69.34; at 0.002, 68.08 / 66.33 / 65.58 / 66.91). None
// reached the judging seeds (121–130 stay unseen).
//
// Resting values (this round, commit dc91935). The stuck detector's q2,
// the chance that a repeat is repeated again, starts at the series'
// own repeat rate q1 for a run at a value the series has not rested at
// before, and at one half (as before) for a run at one of its resting
// values. The prior at q1 for every run (commit c74074c, reverted in
// 265941a; below) removed the traffic-like family's cliff but raised
// stuck alarms on NAB's rogue_agent_key_hold and rogue_agent_key_updown.
// Those files are continuous readings (906 distinct values in 1,882
// rows; 569 in 5,315) that rest at exactly zero between keystrokes:
// every one of their runs (56 and 126, up to 157 and 254 readings) is
// at zero, the runs are the series' resting state, and a frozen sensor
// is a run at a value the series has never rested at. So a Detector
// keeps its resting values: four slots, each a value and how many
// repeats were seen at it; a repeat at a value without a slot takes the
// slot with the fewest repeats, starting at one (the values a series
// repeats at most keep their slots: a counter's zero, a saturated
// gauge's ceiling, a default). At a run's first repeat the detector
// notes whether its value holds a slot; if not, the run is judged with
// q2's prior mean moved to q1 (repeat2 + w·(q1 − ½), w the weight
// repeat2's starting half still has, as in c74074c). Learned from the
// series itself, during the warm-up too; no setting was chosen (four
// slots was the first and only count run). NAB is unchanged, file for
// file (art_daily_flatmiddle's flat middle, a run at 40, a fresh value,
// scores higher, up to 0.3, inside the holdoff of the alarm that had
// already found it). TestStuckSensorFlaggedEarly: a
// sensor whose readings never repeat, frozen, is flagged after 4
// repeats (22 with q2 at one half); TestRestingRunsNotStuck: five
// continuous series resting at zero for 20–40 readings once a day for
// 14 days raise no stuck alarm (36 with the prior at q1 for every run).
// From
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --synth /tmp/team/h12c-synth --seeds 1-30 --per-family 12 --out /tmp/team/h12c-out --label-free-rate 0.1 --calibration
//	GOMAXPROCS=1 go run ./services/anomaly nab --data /work/shared/data/nab/data --out /tmp/team/h12c-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file
//
// (and --synth /tmp/team/h12c-judge-synth --seeds 111-120 for the
// judging seeds), at 42a05e5 and at dc91935. Development seeds 1–30,
// before → after (standard, in-sample / LOCO / LOFO / label-free):
//
//	synthCounts    73.04 / 69.12 / 70.75 / 72.61 → 73.46 / 69.59 / 70.61 / 72.65
//	synthHourly    79.11 / 78.45 / 78.28 / 79.19 → 79.31 / 78.46 / 78.27 / 79.19
//	synthIrregular 64.87 / 58.99 / 62.55 / 62.59 → 68.80 / 66.74 / 67.13 / 66.84
//	synthShift     81.65 / 80.02 / 80.03 / 80.97 → 81.55 / 78.68 / 79.54 / 80.97
//	all            74.67 / 71.65 / 72.90 / 73.84 → 75.78 / 73.37 / 73.89 / 74.91
//	all, low-FP    67.51 / 64.06 / 65.87 / 66.79 → 69.16 / 65.63 / 66.74 / 67.87
//	all, low-FN    79.97 / 76.83 / 78.48 / 78.71 → 80.76 / 78.32 / 79.11 / 79.53
//
// (the prior at q1 for every run, with the ratio changepoint: 75.80 /
// 73.29 / 73.92 / 74.94.) The traffic-like family's own curve loses its
// cliff: at 0.38 / 0.40 / 0.42 / 0.45 it scores 58.48 / 47.10 / 44.08 /
// 42.87 before and 66.45 / 63.51 / 61.72 / 60.85 after, its own best
// threshold moves 0.347 → 0.366 (65.95 → 70.08), and its false-alarm
// rows at 0.37 fall 566 → 542 (at 0.28 they rise 2,099 → 2,328). The
// hourly and shift families' curves are unchanged at every threshold;
// the counts' move by +0.02 to +0.2 with the same false-alarm rows.
// Judging seeds 111–120, looked at once after the change was frozen,
// before → after:
//
//	synthCounts    72.08 / 68.34 / 70.22 / 70.47 → 72.63 / 68.66 / 70.10 / 70.50
//	synthHourly    75.94 / 75.26 / 75.26 / 76.18 → 76.05 / 75.01 / 74.91 / 76.18
//	synthIrregular 63.85 / 62.23 / 62.17 / 62.10 → 67.22 / 66.08 / 65.99 / 65.92
//	synthShift     78.76 / 77.50 / 77.27 / 76.26 → 78.53 / 76.78 / 76.30 / 76.26
//	all            72.66 / 70.83 / 71.23 / 71.25 → 73.61 / 71.63 / 71.82 / 72.21
//	all, low-FP    64.72 / 60.79 / 62.13 / 63.77 → 66.24 / 61.97 / 62.87 / 64.73
//	all, low-FN    78.04 / 75.12 / 76.46 / 76.18 → 78.76 / 76.33 / 76.99 / 76.93
//
// Per seed, before → after: 111 71.23 / 67.90 / 70.51 / 70.04 → 72.90 /
// 68.94 / 70.36 / 71.73, 112 76.88 / 75.66 / 75.83 / 76.49 → 78.58 /
// 77.60 / 77.54 / 77.95, 113 70.35 / 67.68 / 67.17 / 67.57 → 71.02 /
// 68.48 / 68.63 / 68.39, 114 73.58 / 72.50 / 72.64 / 72.80 → 73.91 /
// 73.31 / 72.30 / 73.13, 115 72.03 / 71.12 / 71.06 / 71.17 → 72.65 /
// 69.94 / 69.77 / 71.80, 116 76.02 / 74.28 / 73.24 / 75.73 → 76.88 /
// 75.21 / 74.11 / 76.66, 117 70.93 / 69.90 / 69.96 / 70.76 → 72.81 /
// 71.78 / 71.84 / 72.63, 118 72.59 / 71.67 / 71.62 / 69.59 → 73.22 /
// 72.31 / 72.25 / 70.25, 119 72.61 / 70.04 / 71.64 / 69.07 → 73.30 /
// 70.73 / 72.33 / 69.81, 120 70.37 / 67.60 / 68.62 / 69.31 → 70.80 /
// 68.03 / 69.11 / 69.77 (in-sample and label-free rise on every seed,
// LOCO on nine of ten). The traffic-like curve at 0.40 goes 50.97 →
// 65.18, its best threshold 0.329 → 0.394. What it costs: the hourly
// and shift families, whose rows are unchanged, lose where the folds
// that hold them out now choose higher thresholds (judging: hourly LOCO
// −0.25 / LOFO −0.35, shift −0.23 / −0.72 / −0.97; low-FP shift LOCO
// 67.91 → 61.37; development: shift LOCO −1.34, LOFO −0.49), and the
// counts' LOFO −0.14 / −0.12. NAB before and after, in-sample / LOCO /
// LOFO / label-free: 72.99 / 71.29 / 71.20 / 72.99, low-FP 66.01,
// low-FN 77.75, 71 false-alarm rows; rogue_agent_key_hold 1.059 and
// rogue_agent_key_updown 0.433 raw as before (0.967 and 0.323 with the
// prior at q1 for every run). The state grows by 64 bytes (6,936).
//
// Ratio changepoint (the previous round, commit 1d410b6). On a series judged by
// hour spreads (Config.HourSpreadStep: hourly or coarser) that has only
// been positive, a seventh surprise: the changepoint statistic (EWMA at
// ShiftAlpha, standardised the same way) of log(v/expected) divided by
// its decayed mean size (ErrAlpha), calibrated by its own tail and
// joining the Bonferroni minimum at weight 7. The additive changepoint
// measures a change in units of the whole day's error, so a change by a
// factor shows only where the level is high: the hourly family's price
// level that changes and stays, and its day at twice the price, were
// seen in the afternoon, if at all. No setting was added. From the
// commands above with --synth /tmp/team/h12b-synth --seeds 1-30
// --calibration and, for the judging seeds, --synth
// /tmp/team/h12b-judge-synth --seeds 101-110, at 6c93fca and at 1d410b6.
// Development seeds 1–30, before → after (standard, in-sample / LOCO /
// LOFO / label-free):
//
//	synthCounts    72.82 / 68.71 / 70.98 / 72.61 → 73.04 / 69.12 / 70.75 / 72.61
//	synthHourly    76.67 / 75.53 / 75.25 / 76.14 → 79.11 / 78.45 / 78.28 / 79.19
//	synthIrregular 64.94 / 61.03 / 62.93 / 62.59 → 64.87 / 58.99 / 62.55 / 62.59
//	synthShift     81.69 / 80.29 / 80.23 / 80.97 → 81.65 / 80.02 / 80.03 / 80.97
//	all            74.03 / 71.39 / 72.35 / 73.08 → 74.67 / 71.65 / 72.90 / 73.84
//	all, low-FP    66.95 / 63.42 / 65.53 / 66.20 → 67.51 / 64.06 / 65.87 / 66.79
//	all, low-FN    79.30 / 75.90 / 77.55 / 77.85 → 79.97 / 76.83 / 78.48 / 78.71
//
// Judging seeds 101–110, looked at once after the change was frozen,
// before → after:
//
//	synthCounts    70.79 / 67.31 / 67.64 / 69.35 → 70.63 / 67.66 / 67.85 / 69.35
//	synthHourly    78.97 / 77.35 / 77.69 / 77.23 → 79.93 / 79.44 / 79.87 / 79.83
//	synthIrregular 61.00 / 58.92 / 59.46 / 60.69 → 60.64 / 58.10 / 59.51 / 60.69
//	synthShift     80.17 / 79.77 / 79.79 / 79.52 → 81.18 / 78.91 / 79.46 / 79.52
//	all            72.73 / 70.84 / 71.15 / 71.69 → 73.10 / 71.03 / 71.67 / 72.35
//	all, low-FP    65.43 / 62.10 / 63.69 / 64.63 → 65.87 / 62.25 / 64.49 / 65.06
//	all, low-FN    78.12 / 76.52 / 76.45 / 76.48 → 78.48 / 76.76 / 76.83 / 77.26
//
// Per seed, before → after: 101 72.74 / 71.53 / 70.61 / 70.14 → 72.51 /
// 69.15 / 70.19 / 71.79, 102 72.93 / 72.05 / 72.00 / 72.23 → 74.47 /
// 73.59 / 73.53 / 73.77, 103 73.84 / 71.06 / 70.24 / 72.03 → 76.04 /
// 73.05 / 75.01 / 75.12, 104 65.14 / 64.17 / 64.17 / 64.17 → 66.05 /
// 65.09 / 65.09 / 65.09, 105 72.46 / 70.56 / 70.13 / 72.46 → 72.87 /
// 71.05 / 70.93 / 72.72, 106 76.58 / 75.07 / 75.22 / 75.62 → 76.51 /
// 74.99 / 75.13 / 75.53, 107 70.85 / 67.91 / 69.91 / 70.14 → 69.53 /
// 68.92 / 68.59 / 68.82, 108 78.34 / 75.84 / 77.43 / 77.83 → 79.03 /
// 75.81 / 78.12 / 78.57, 109 70.65 / 68.04 / 69.77 / 70.54 → 69.38 /
// 65.72 / 67.18 / 69.27, 110 73.80 / 72.16 / 71.99 / 71.80 → 74.57 /
// 72.92 / 72.93 / 72.77. The hourly family's own best thresholds stop
// scattering below the others' (101–104: 0.205–0.346 → 0.353–0.402; seeds
// 1–30 mean 0.359 → 0.398), and its false-alarm rows at 0.37 rise 773 →
// 865 (seeds 1–30) while its detections rise more. What it costs: the
// 5-minute families' rows are unchanged, but the folds that hold them
// out choose higher thresholds now that the hourly family prefers them,
// and the traffic-like family's curve falls off its cliff above 0.37
// (LOCO −2.04 on 1–30 and −0.82 on 101–110; shift LOCO −0.27 and −0.86).
// NAB is unchanged. TestRatioChangepointFindsAFactor: an hourly price
// whose afternoon is ten times its night, multiplied by 0.75 or 1.3 at
// midnight, scores a median 0.83 in the next 12 hours over ten cases
// (0.41 without), with 11 alarms on five unchanged 30-day series (9).
//
// Tried in this round and rejected (development seeds 1–30 and NAB,
// in-sample / LOCO / LOFO / label-free, against 74.03 / 71.39 / 72.35 /
// 73.08 and NAB 72.99 / 71.29 / 71.20 / 72.99):
//   - The ratio changepoint on every positive series, not only hourly
//     ones: 74.56 / 71.83 / 72.96 / 73.90 (hourly +2.7 to +3.3, traffic-like
//     +0.40 / −0.52 / +0.24 / +0.81, counts −0.3 to −0.9), but NAB 72.49 /
//     70.79 / 70.70 / 72.49, low-FP 65.01: five more false alarms, one
//     each on art_daily_no_noise, art_daily_jumpsdown,
//     ec2_network_in_257a54, elb_request_count_8c0756 and
//     ec2_request_latency_system_failure. With each value's share of the
//     ratio statistic bounded at 4 of its mean sizes (a spike is the
//     residual's): 74.11 / 71.35 / 72.70 / 73.34, NAB 72.44 / 70.84 / 70.75
//     / 72.44. With the Bonferroni weights made 8 (record 8/3) so that the
//     six tailed reciprocals sum to one again: NAB 72.80 / 69.93 / 71.16 /
//     72.79 (stuck left at 7: 72.90 / 70.08; not run on the synthetic
//     corpus).
//   - The stuck detector's prior for q2 at mean q1 instead of one half
//     (commit ae80257, reverted in 51497ec): until a series shows that
//     its repeats cluster, a repeat is taken to repeat again no more often
//     than any value repeats its predecessor, so a sensor whose readings
//     never repeat is flagged after 4 frozen readings instead of 22
//     (TestStuckSensorFlaggedEarly, with it). It is the traffic-like
//     family's cliff: its curve at 0.40 goes from 47.10 to 63.85 and
//     its own best threshold from 0.347 to 0.369. Alone, development
//     seeds 1–30: 75.13 / 72.74 / 73.25 / 74.18 (traffic-like 69.08 /
//     67.30 / 67.32 / 66.99, counts 72.91 / 68.72 / 70.51 / 72.62, hourly
//     76.77 / 75.11 / 75.07 / 76.14, shift 81.77 / 79.83 / 80.10 / 80.97;
//     low-FP 68.51 / 65.27 / 66.52 / 67.30); with the ratio changepoint
//     75.80 / 73.29 / 73.92 / 74.94 (low-FP 69.18 / 65.75 / 66.80 / 67.89;
//     shift LOCO 78.25). Judging seeds 101–110, looked at once: alone
//     74.13 / 72.53 / 72.18 / 73.04 (traffic-like 66.15 / 65.27 / 64.87 /
//     66.05; low-FP 67.30 / 64.68 / 64.78 / 65.98), with the ratio
//     changepoint 74.49 / 72.54 / 72.62 / 73.69. But NAB 72.81 / 71.21 /
//     71.01 / 72.81 (low-FP 65.22, low-FN 77.63; false-alarm rows 71 →
//     77): rogue_agent_key_hold (1.059 → 0.967) and rogue_agent_key_updown
//     (0.433 → 0.323), whose real runs are not anomalies, raise stuck
//     alarms. NAB's LOCO falls by 0.08, so by the judging rule it was
//     reverted; it is the largest traffic-like gain measured so far, and
//     a candidate to reconsider if the rule allows such a NAB cost (taken
//     up for runs at values the series has not rested at: the round
//     above, which keeps its gain and NAB's figures). Two
//     other forms of the same prior were measured: a prior that is never
//     forgotten (q2 = w·q1 + (1−w)·the repeats' own rate, w = 100/(100 +
//     their effective count)): NAB 67.91 / 66.21 / 66.21 / 67.91 (long
//     series with many repeats keep suspecting every run); and, by
//     mistake first, the prior's weight taken as 102/(repeats + 2) also
//     beyond the 500 repeats where the learning rate stops falling: NAB
//     73.30 / 71.81 / 71.61 / 73.30, synthetic 75.79 / 73.28 / 73.97 /
//     74.93 with the ratio changepoint, its NAB gain (ec2_disk_write_bytes_c0d644
//     −0.30 → +1.71) an artefact of that weight on a file with many
//     repeats; not proposed, as it would be chosen on NAB.
//   - (After the judging, on top of the ratio changepoint, whose figures
//     they are compared with: 74.67 / 71.65 / 72.90 / 73.84, NAB
//     unchanged; neither was judged.) Where the traffic-like false alarms
//     come from (at 0.37, seeds 1–10): residual alarms at the rush hours'
//     onsets on the first scored days and the Monday (27 rows on day 7
//     of the files), spot alarms on the first scored day (21 rows), and
//     the expectation at a rush onset far below it (0.11 against 0.42 on
//     a Wednesday at 07:12): the blend's weights follow each
//     forecaster's error over the last ~100 readings, so after a quiet
//     night, and more after a weekend on which the daily profile
//     mispredicted the missing rush hours, the slow level forecaster
//     carries the blend into the next rush hour. The blend weighted by
//     errors learned at SlowAlpha (a day and a half of 5-minute data)
//     instead: the Monday's residual rows 27 → 11, but 74.24 / 71.78 /
//     72.76 / 73.39 (traffic-like 63.37 / 59.97 / 61.29 / 61.86) and NAB
//     71.27 / 71.27 / 69.27 / 71.27, low-FP 64.49. A daily profile's local
//     roughness (the mean |difference| between a slot and its seen
//     neighbours, the error a reading's slot misplaced by one would
//     make, and while the profile rests on a few days how noisy that
//     time of day is) as a floor under its error in the scale: NAB 69.73
//     / 65.22 / 66.39 / 69.59; during the profile's first four periods
//     only: NAB 71.30 / 69.69 / 69.59 / 69.89, synthetic 74.40 / 71.52 /
//     73.16 / 73.64, traffic-like 64.48 / 59.73 / 62.82 / 63.07 with more
//     false-alarm rows at 0.37 (616 against 566).
//
// Posterior predictive tails (the previous round, commit fd14102). The tails'
// exponential extrapolation used its estimated mean excess as if it were
// known; early in a stream, or on a short file, it rests on a few dozen
// excesses, and the plug-in tail then called a stream's first moderate
// extremes one in a million. The traffic-like family's false alarms at
// 0.37 (seeds 1–30) fell most on its first scored weekday (Tuesday: 170
// rows → 101; 699 → 566 over all days); TestFewerEarlyFalseAlarms: 100 clean
// seasonal 5-minute series raise 41 alarms in their first three days
// with the plug-in tail and 13 with the predictive one. At steady state
// (n = 99, 5 % above the threshold, weight 7, no RateStep) the excess
// that meets AlarmLevel moves from 4.06 to 4.15 mean excesses. No setting was added or chosen: the
// cap of 99 is the variance-equivalent count of the mean excess's
// weighting at its slowest rate (0.02). From the commands above with
// --synth /tmp/team/h12-synth --seeds 1-30 --calibration (and
// --synth /tmp/team/h12-judge-synth --seeds 91-100 for the judging
// seeds), at 2c569c9 and at fd14102. Development seeds 1–30, before →
// after (standard, in-sample / LOCO / LOFO / label-free):
//
//	synthCounts    72.66 / 68.23 / 70.40 / 71.97 → 72.82 / 68.71 / 70.98 / 72.61
//	synthHourly    76.92 / 75.96 / 75.91 / 76.19 → 76.67 / 75.53 / 75.25 / 76.14
//	synthIrregular 63.81 / 59.90 / 61.77 / 62.31 → 64.94 / 61.03 / 62.93 / 62.59
//	synthShift     81.66 / 80.71 / 80.81 / 81.05 → 81.69 / 80.29 / 80.23 / 80.97
//	all            73.76 / 71.20 / 72.22 / 72.88 → 74.03 / 71.39 / 72.35 / 73.08
//	all, low-FP    66.03 / 61.62 / 64.74 / 65.32 → 66.95 / 63.42 / 65.53 / 66.20
//	all, low-FN    79.26 / 76.11 / 77.63 / 77.87 → 79.30 / 75.90 / 77.55 / 77.85
//
// (false-alarm rows at 0.37: counts 1,848 → 1,761, hourly 882 → 773,
// traffic-like 699 → 566; per seed the LOCO rose on 14 seeds and fell
// on 14, in-sample rose on 20.) Judging seeds 91–100, looked at once
// after the change was frozen, before → after:
//
//	synthCounts    71.84 / 66.47 / 68.27 / 71.22 → 71.74 / 70.05 / 69.17 / 71.71
//	synthHourly    74.53 / 73.10 / 73.44 / 73.71 → 73.97 / 72.46 / 73.06 / 73.03
//	synthIrregular 64.79 / 62.38 / 62.73 / 64.12 → 65.87 / 63.55 / 63.79 / 65.08
//	synthShift     77.83 / 76.28 / 76.17 / 76.16 → 77.99 / 75.90 / 76.36 / 76.41
//	all            72.25 / 69.56 / 70.15 / 71.30 → 72.39 / 70.49 / 70.60 / 71.56
//	all, low-FP    64.51 / 61.46 / 63.73 / 63.48 → 65.12 / 62.41 / 63.64 / 64.45
//	all, low-FN    77.84 / 72.99 / 76.28 / 76.39 → 77.84 / 74.16 / 76.40 / 76.42
//
// Per seed, before → after: 91 75.69 / 70.42 / 73.24 / 75.00 → 76.16 /
// 73.08 / 73.97 / 75.63, 92 66.40 / 62.81 / 62.02 / 66.00 → 68.25 /
// 64.45 / 64.50 / 67.69, 93 67.34 / 66.87 / 65.51 / 66.22 → 68.10 /
// 67.40 / 67.11 / 66.64, 94 77.53 / 76.66 / 76.49 / 76.16 → 77.82 /
// 76.58 / 75.40 / 77.09, 95 70.53 / 67.69 / 68.51 / 68.27 → 72.26 /
// 69.32 / 70.19 / 69.97, 96 72.18 / 69.00 / 70.29 / 70.36 → 71.19 /
// 69.73 / 69.27 / 69.15, 97 71.56 / 69.82 / 70.76 / 71.47 → 70.08 /
// 68.40 / 70.02 / 70.08, 98 75.80 / 69.27 / 73.07 / 75.28 → 75.22 /
// 73.53 / 73.25 / 74.99, 99 72.60 / 71.52 / 71.63 / 72.16 → 73.06 /
// 72.03 / 72.09 / 72.79, 100 72.83 / 71.51 / 69.99 / 72.09 → 71.78 /
// 70.39 / 70.15 / 71.51. The families' own best thresholds draw
// together (hourly 0.331 → 0.369 on 91–100, 0.363 → 0.359 on 1–30;
// traffic-like 0.322 → 0.343 and 0.343 → 0.347), which is where the
// counts' LOCO gains (+3.58 on 91–100): fewer folds hold them out at a
// low threshold. What it costs: the hourly family, short files whose
// tails rest on few excesses, loses 0.05–0.7 on every column of both
// ranges, and shift's LOCO 0.4 (its LOFO 0.6 on 1–30). On NAB it removes one false alarm from
// each of ec2_cpu_utilization_5f5533, ec2_cpu_utilization_c6585a and
// ec2_request_latency_system_failure (raw +0.11 each) and one just
// after art_daily_nojump's window (0.696 → 0.751), and loses no
// detection (false-alarm rows 75 → 71).
//
// Tried in that round and rejected (development seeds 1–30 and NAB,
// in-sample / LOCO / LOFO / label-free, against the predictive tails'
// 74.03 / 71.39 / 72.35 / 73.08 and NAB 72.99 / 71.29 / 71.20 / 72.99):
//   - n counted in runs of excesses rather than excesses (each tail's
//     share of excesses that start a run, learned at the mean excess's
//     rate, times n; 16 bytes a tail), since the changepoint and shift
//     statistics are moving averages whose excesses come in runs: 74.07
//     / 71.34 / 72.45 / 73.01, NAB 72.19 / 71.31 / 70.83 / 70.16, low-FP
//     64.63 / 61.69 (the threshold in-sample falls to 0.358).
//   - Recurrence reaching back three days instead of one (12 to 84 hours;
//     a slot keeps the highest of its days within reach), for the
//     traffic-like family's Monday rush hours, which 154 of its 566
//     false-alarm rows at 0.37 had matched 2–4 days earlier: 73.93 /
//     70.65 / 72.27 / 72.21 (traffic-like LOCO +1.9, but hourly −1.3 /
//     −1.3 / −0.9 / −2.7, whose ±3 recurrence slots are ±3 hours, and
//     counts LOCO −3.5), NAB 72.75 / 71.05 / 70.95 / 72.75 (false-alarm
//     rows 71 → 58, low-FP 67.06, but detections lost).
//
// What still fails on the traffic-like family (seeds 1–30, after): of
// its 720 windows, the recalibrations of occupancy sensors (a fraction,
// multiplicative noise) are found in 5 of 77 at 0.37 and those of
// travel-time sensors in 29 of 80, and its stuck occupancy and travel-time
// sensors peak at a median 0.39–0.40, at the holdoff's cliff; its
// false alarms are rush-hour onsets (07:00–09:00 and 16:00–18:00: 498 of
// 566 rows), on the first scored weekdays and the Monday after the
// weekend.
//
// Synthetic corpus with the held episodes (HeldLearn 0.1, commit after
// 040667f; standard, in-sample / LOCO / LOFO / label-free, development
// seeds 1–30, before → after):
//
//	synthCounts    72.57 / 67.58 / 70.41 / 71.97 → 72.66 / 68.23 / 70.40 / 71.97
//	synthHourly    74.44 / 73.36 / 72.99 / 73.30 → 76.92 / 75.96 / 75.91 / 76.19
//	synthIrregular 63.97 / 61.70 / 62.12 / 62.31 → 63.81 / 59.90 / 61.77 / 62.31
//	synthShift     81.60 / 80.53 / 80.85 / 81.05 → 81.66 / 80.71 / 80.81 / 81.05
//	all            73.15 / 70.79 / 71.59 / 72.16 → 73.76 / 71.20 / 72.22 / 72.88
//	all, low-FP    65.53 / 61.46 / 64.23 / 64.80 → 66.03 / 61.62 / 64.74 / 65.32
//
// Judging seeds 81–90, looked at once, before → after: all 71.62 / 68.84
// / 69.94 / 70.67 → 72.64 / 69.90 / 71.22 / 71.89 (low-FP 64.25 / 61.44
// / 62.46 / 63.67 → 65.17 / 61.99 / 63.59 / 64.69, low-FN 76.96 / 73.71
// / 75.55 / 75.38 → 77.89 / 75.49 / 75.92 / 76.67); hourly 72.17 / 69.42
// / 70.44 / 69.37 → 75.82 / 73.05 / 73.66 / 74.25, counts 73.08 / 67.34
// / 70.71 / 73.39 → 73.22 / 68.31 / 71.30 / 73.39, traffic-like 61.97 /
// 60.35 / 60.59 / 61.42 → 62.14 / 59.78 / 61.31 / 61.42, shift 79.28 /
// 78.24 / 78.00 / 78.48 → 79.39 / 78.48 / 78.61 / 78.48. Per seed
// (in-sample / LOCO): 81 70.46 / 61.28 → 70.11 / 58.41, 82 69.69 /
// 69.00 → 71.10 / 70.41, 83 64.44 / 61.52 → 66.87 / 65.91, 84 72.27 /
// 71.54 → 73.97 / 72.60, 85 72.02 / 70.42 → 73.09 / 71.81, 86 67.75 /
// 63.10 → 69.61 / 65.86, 87 73.73 / 70.03 → 74.45 / 69.92, 88 71.65 /
// 70.63 → 72.23 / 70.93, 89 80.79 / 78.35 → 81.61 / 80.68, 90 73.42 /
// 72.51 → 73.37 / 72.51. The hourly family's own best threshold moves
// toward the others' (seeds 1–30 0.332 → 0.363, 81–90 0.294 → 0.321);
// its false-alarm rows at 0.37 rise 778 → 882 (seeds 1–30: a held
// alarm's rows no longer make the next noise extreme of its size
// ordinary), while its detections rise more. The traffic-like LOCO falls
// (−1.80 and −0.57) only through the thresholds the folds choose: its
// rows, 5-minute data, are unchanged (its own curve is the same).
// TestHeldEpisodeDoesNotHideTheNext: a second day at twice the price,
// eleven days after the first, scores 0.43 against 0.39.
//
// Tried for it and rejected (seeds 1–30 and NAB, in-sample / LOCO / LOFO
// / label-free, against 73.15 / 70.79 / 71.59 / 72.16 and NAB 72.64 /
// 70.94; every series, not only hourly ones, unless said):
//   - The held rows at 0.1 on every series: 72.04 / 66.85 / 70.23 /
//     71.15, NAB 68.45 / 66.17. Hourly +2.3 / +2.9, but counts 65.60 /
//     61.29 / 64.36 / 61.49: a news burst at a random time never becomes
//     ordinary, since only the daily-phase recurrence lets it count.
//   - An episode's first row in full and the rest at 0.1 (a cap of one
//     row per episode): 73.43 / 69.46 / 71.99 / 73.00, low-FP 64.43 /
//     58.71 / 61.08 / 63.48, NAB 72.23 / 70.10 (counts 70.64 / 64.35,
//     traffic-like LOCO 56.28: false alarms rise in every family).
//   - The held rows not counted until a later event at or above the
//     alarm level (outside a holdoff) or a recurrence commits them
//     (their mass kept aside per tail bin, 1.6 KB more state): 73.02 /
//     70.45 / 71.32 / 72.12, low-FP 64.26 / 59.70 / 62.48 / 63.32, NAB
//     73.21 / 71.72 / 71.67 / 72.74 (low-FP 65.57): each event's first row is
//     judged before its predecessor's rows are counted, so false alarms rise
//     in every family (counts 1,848 → 2,250 rows at 0.37). Holding back
//     only the first 24 rows after an alarm: 73.08 / 70.40 / 71.48 /
//     72.15, NAB 73.22 / 71.78; with the long-run mean, spread and range
//     (spot, record) learning held rows at the same weight: 72.64 / 69.78
//     / 71.04 / 71.61, NAB 73.13 / 72.82 (hourly falls: a new level's
//     range then stays surprising). On hourly series only: 73.39 / 70.95
//     / 71.71 / 72.41 (24 rows: 73.37 / 71.01 / 71.73 / 72.37), NAB
//     unchanged; below the plain weight and with more state.
//   - HeldLearn 0.03 and 0.3 on hourly series: 73.74 / 71.24 / 72.20 /
//     72.80 and 73.63 / 70.94 / 71.96 / 72.70 (low-FP 65.95 / 61.23 /
//     64.44 / 65.21 and 65.95 / 61.85 / 64.43 / 65.20); 0.1, the value
//     tried first, kept.
//
// Seeds 31–70 at HEAD (every seed a previous round judged on; standard,
// in-sample / LOCO / LOFO / label-free): counts 71.16 / 62.43 / 68.78 /
// 70.92, hourly 72.79 / 72.10 / 71.90 / 72.22, traffic-like 63.96 /
// 60.19 / 62.05 / 63.09, shift 79.84 / 77.45 / 77.99 / 77.75, all 71.94 /
// 68.04 / 70.18 / 71.00 (low-FP 64.55 / 60.98 / 62.73 / 63.77, low-FN
// 77.46 / 73.82 / 75.87 / 75.85).
//
// This round: why one threshold did not suit the counts family, and
// the count spreads (tried, rejected). "anomaly nab -calibration"
// scores each family on its own (its best threshold, its score on a grid
// of thresholds) and prints, per seed, the threshold each held-out family
// was scored at. On development seeds 1–30, before this round:
//
//	family (own best, mean)   0.28   0.30   0.32   0.34   0.36   0.37   0.38   0.40   0.45
//	synthCounts    (0.397)   45.56  56.46  64.34  68.76  71.19  71.97  71.10  69.67  65.84
//	synthHourly    (0.332)   73.25  73.49  72.89  73.74  73.08  73.30  72.52  70.13  64.19
//	synthIrregular (0.338)   58.99  60.68  62.39  62.97  62.41  62.33  57.25  47.32  42.73
//	synthShift     (0.346)   78.94  79.83  80.66  80.93  80.87  81.05  79.18  75.64  65.83
//
// The counts' mean curve peaks at 0.37 like the others' (their label-free
// score was already within 0.6 of in-sample), so their scores were not
// miscalibrated per observation: at 0.37 they raised 0.51 false-alarm
// rows per 1,000 scored rows, the shift family 0.49, traffic-like 1.03,
// hourly 2.14. What sets them apart is the slope below 0.37. A count
// file has 8,000–12,000 rows for its 1–3 windows (NAB's realTweets about
// 15,800), five times a traffic-like file's, so the same false alarms per
// row cost five times as much per window, and the curve falls from 72 to
// 56 at 0.30 while the others lose at most 1.7. The hourly family's
// curve is flat down to 0.17 (its files are short, and a later anomaly in a file scores
// low because the tails have counted an earlier one's 24 rows: a day at
// twice the price, 11 error scales off, scores 0.17 when the same file
// had one eleven days before), so on seeds 4, 5, 10, 27 and 30 its own
// best lay at 0.17–0.30 and the folds that held counts out chose
// 0.28–0.33 there. Nearly every count false alarm was a burst upward
// (1,794 of 1,848 rows at 0.37; median 7.5 times the past day's median),
// and a file's busiest eight hours raised 8 times the false alarms per
// row of its quietest eight (0.96 against 0.12 per 1,000 rows at 0.37):
// on the square-root scale gamma–Poisson noise (shape 1.5–6 in the
// family) and bursts that multiply the rate grow with the rate, so one
// spread judged busy hours too leniently and quiet ones too strictly.
//
// Count spreads (commit f23dafa, reverted): a count series divided u by
// the spread residuals had at its expected count, relative to the
// series' (16 bands of expected count, powers of two: [0,1), [1,3),
// [3,7), …; the mean |u| of each learned at SlowAlpha, each value's
// share bounded at 4, the ratio at least 1/4; 64 bytes of state), so a
// busy hour's overdispersed noise and a quiet night's near-Poisson noise
// were each judged as they are. Development seeds 1–30, with and without:
//
//	standard               with                           without
//	synthCounts       73.23 / 69.00 / 71.39 / 73.13   72.51 / 68.31 / 70.41 / 71.97
//	synthHourly       74.47 / 73.33 / 73.13 / 73.30   74.45 / 73.31 / 73.00 / 73.30
//	synthIrregular    64.70 / 61.42 / 62.28 / 62.68   63.94 / 61.47 / 61.94 / 62.33
//	synthShift        81.65 / 80.27 / 80.66 / 81.05   81.56 / 80.46 / 80.95 / 81.05
//	all               73.51 / 71.01 / 71.86 / 72.54   73.12 / 70.89 / 71.57 / 72.16
//	all, low-FP       65.89 / 62.31 / 64.43 / 65.13   65.52 / 61.59 / 64.33 / 64.81
//	all, low-FN       78.97 / 75.54 / 77.34 / 77.49   78.61 / 75.60 / 76.94 / 77.08
//
// (traffic-like files whose sensors report whole miles per hour or
// seconds are counts too). NAB 72.64 / 70.94 / 70.95 / 72.64 → 73.27 /
// 71.77 / 71.48 / 73.27 (low-FP 65.31 → 66.34, low-FN 77.52 → 77.94);
// it moves two files, ec2_disk_write_bytes_c0d644 (raw −0.30 → +0.18)
// and nyc_taxi (4.19 → 4.41). The false alarms at 0.37 hardly change in number (1,848 →
// 1,882 rows); what the family gains is detections, the quiet hours'
// anomalies. It does not remove the slope below 0.37 (56.39 at 0.30),
// which comes from the files' length, not from the scores' calibration.
//
// Judging seeds 71–80, looked at once, with and without (per seed 52
// files, 96 windows):
//
//	standard               with                           without
//	synthCounts       71.42 / 58.92 / 71.03 / 72.27   70.09 / 59.44 / 68.54 / 71.49
//	synthHourly       72.31 / 71.98 / 71.94 / 71.19   72.57 / 72.19 / 72.10 / 71.19
//	synthIrregular    64.85 / 60.23 / 62.92 / 63.55   64.30 / 61.98 / 62.24 / 62.97
//	synthShift        81.03 / 78.14 / 80.26 / 78.65   81.30 / 78.65 / 79.80 / 78.65
//	all               72.40 / 67.32 / 71.54 / 71.42   72.06 / 68.07 / 70.67 / 71.07
//	all, low-FP       64.83 / 60.34 / 63.38 / 64.06   64.52 / 60.42 / 63.10 / 63.73
//	all, low-FN       77.68 / 73.89 / 76.75 / 76.29   77.43 / 73.83 / 75.78 / 75.92
//
// Per seed, with (without): 71 75.68 / 69.13 / 75.67 / 73.30 (75.96 / 69.74
// / 75.95 / 74.21), 72 76.01 / 68.66 / 75.07 / 75.33 (75.66 / 71.69 /
// 73.75 / 74.48), 73 71.03 / 62.25 / 70.29 / 69.09 (71.22 / 63.15 /
// 70.48 / 69.19), 74 71.42 / 66.13 / 70.69 / 71.25 (71.54 / 68.45 /
// 70.57 / 71.48), 75 75.31 / 70.60 / 73.39 / 73.65 (75.32 / 72.59 /
// 72.26 / 72.55), 76 73.10 / 69.65 / 71.33 / 72.19 (72.25 / 69.84 /
// 70.59 / 72.19), 77 72.75 / 71.85 / 72.05 / 72.75 (72.52 / 71.59 /
// 70.58 / 72.52), 78 69.31 / 68.45 / 68.35 / 68.56 (68.43 / 67.70 /
// 67.47 / 67.74), 79 70.40 / 59.17 / 69.51 / 69.26 (68.81 / 59.11 /
// 66.14 / 67.61), 80 69.01 / 67.33 / 69.01 / 68.78 (68.92 / 66.81 /
// 68.92 / 68.75).
//
// In-sample, LOFO and label-free rise on the judging seeds too (+0.34,
// +0.87, +0.35; counts +1.3 / +2.5 / +0.8 and traffic-like +0.6 /
// +0.7 / +0.6), but LOCO falls 0.75: the counts family, better with
// them at 0.38–0.40 (71.69 and 70.35 against 70.77 and 69.01), pulls the folds
// that hold another family out above the alarm level, where the
// others' curves fall off the holdoff's cliff (traffic-like 62.97 at
// 0.37, 59.07 at 0.38, 51.72 at 0.40): on seed 72 the traffic-like fold
// moved 0.366 → 0.390 and the hourly one 0.359 → 0.377 (seed LOCO 71.69
// → 68.66), on 75 the shift fold 0.342 → 0.392, on 79 hourly 0.360 →
// 0.386. The counts' own held-out thresholds did not move (seeds 71–80:
// 0.259–0.380 before and after; counts LOCO 59.44 → 58.92). So the
// counts' LOCO gap is not theirs to close: it needs the other families'
// own best thresholds to stop scattering (hourly 0.17–0.42 across seeds)
// and the cliff above the alarm level to go. Seeds 31–70, which no
// choice of this round had seen, with (without): counts 71.31 / 60.54 /
// 68.71 / 70.71 (71.16 / 62.43 / 68.78 / 70.92), hourly 72.92 / 72.15 /
// 71.80 / 72.22 (72.79 / 72.10 / 71.90 / 72.22), traffic-like 63.92 /
// 60.44 / 61.92 / 62.98 (63.96 / 60.19 / 62.05 / 63.09), shift 79.58 /
// 77.33 / 77.81 / 77.75 (79.84 / 77.45 / 77.99 / 77.75), all 71.94 /
// 67.62 / 70.06 / 70.91 (71.94 / 68.04 / 70.18 / 71.00), low-FP 64.44 /
// 60.69 / 62.41 / 63.57 (64.55 / 60.98 / 62.73 / 63.77): no gain. Over
// the 50 seeds it had not been chosen on, LOCO falls (−0.75 and −0.42,
// the counts' own −0.52 and −1.89) and the rest moves by less than the
// seeds' noise, so it was reverted: the development seeds' gain (+0.39
// / +0.12 / +0.29 / +0.38) and NAB's (two files) did not generalise.
// TestCountSpreadsJudgeCountsByTheirRate, with it, showed what it does
// on a clean case: a burst of 80 at a night's rate of 3, under
// gamma–Poisson noise of shape 2 and a day's rate of 150, scored 0.48
// against 0.14, with 7 false alarms in 30 days against 12.
//
// Also noticed: the traffic-like generator sets a recalibration factor
// (0.75 or 1.3) rather than multiplying it, so a second recalibration in
// a file draws the factor already in force half the time: 25 of the 221
// recalibration windows of seeds 1–30 hold no change at all, 11 % of
// that kind and 3.5 % of the family's windows (left as it was in that
// round, so its figures stay comparable with earlier rounds; fixed in the
// next, below).
//
// Generator fix (the round after): a recalibration now multiplies the
// factor in force by 0.75 or 1.3, so every recalibration window holds a
// change. The same random draws, so only files with two recalibrations
// change. HEAD's development seeds 1–30 on the fixed corpus (before):
// counts 72.57 / 67.58 / 70.41 / 71.97 (72.51 / 68.31 / 70.41 / 71.97;
// the counts' rows did not change, only the thresholds the folds chose),
// hourly 74.44 / 73.36 / 72.99 / 73.30, traffic-like 63.97 / 61.70 /
// 62.12 / 62.31 (63.94 / 61.47 / 61.94 / 62.33), shift 81.60 / 80.53 /
// 80.85 / 81.05, all 73.15 / 70.79 / 71.59 / 72.16 (73.12 / 70.89 /
// 71.57 / 72.16); low-FP 65.53 / 61.46 / 64.23 / 64.80, low-FN 78.64 /
// 75.61 / 77.01 / 77.07. Figures of earlier rounds are on the old corpus.
//
// Also tried in this round and rejected (development seeds 1–30 and NAB,
// in-sample / LOCO / LOFO / label-free):
//   - The count spreads learned at 0.003 or 0.01 instead of SlowAlpha
//     (0.002): 73.52 / 71.05 / 72.10 / 72.60 and 73.44 / 71.02 / 71.92 /
//     72.53, NAB 73.57 / 71.87 / 71.78 / 73.57 and 71.65 / 67.55 / 69.86 /
//     71.65 (0.005: NAB 73.37 / 71.67); SlowAlpha was chosen as it adds
//     no setting, and 0.003's edge is within the seeds' noise.
//   - (With the count spreads.) The same spreads for every positive
//     series that is not a count, by its forecast relative to the
//     long-run mean (bands of half an octave around it), for occupancy and prices whose noise grows with the
//     level: 73.60 / 70.25 / 71.91 / 72.53, NAB 70.59 / 68.89 / 68.89 /
//     70.59 (a quarter octave: NAB 72.41 / 70.72 / 70.62 / 72.41), as the
//     error scale that followed the level did before.
//   - (Without the count spreads.) Scores as tail probabilities over the
//     history seen, p·(n/3000)^γ (a file's false alarms then grow with the logarithm of its length,
//     not the length, which is what NAB's per-window costs reward): γ = 1
//     69.94 / 67.76 / 68.43 / 69.13 (hourly −9), NAB 69.92 / 68.22 /
//     68.22 / 69.72; γ = 0.5 NAB 70.78 / 68.81 / 67.51 / 70.28; n/5000 NAB
//     69.69 / 64.51. Early rows of every file score higher, and a live
//     detector's alarms would grow rarer with its age.
//   - (With the count spreads.) A holdoff that lets through every score
//     above the alarm that started it (Breakthrough 0.001), so the first row at or above any
//     threshold is detected whatever alarms below it came first: the
//     cliff above the alarm level goes (traffic-like 58.74 at 0.40
//     against 47.55, counts' own best 0.43), but a rising event raises a
//     row at each new high: 72.86 / 70.18 / 70.58 / 71.58, NAB 64.47 /
//     62.97 / 62.68 / 64.47, low-FP 49.21.
//   - (Without the count spreads; measured, not proposed.) AlarmLevel
//     0.39 or 0.41, to move the holdoff's cliff above the thresholds the
//     folds choose: 72.88 / 70.04 / 70.76 / 71.69 and 72.54 / 69.64 /
//     70.49 / 70.11 (counts LOCO 67.60 and 66.72 against 68.31), NAB
//     71.17 / 69.37 / 69.38 / 65.60 and 69.87 / 68.07 / 68.08 / 62.53:
//     below the alarm level the holdoff no longer follows the alarms the
//     folds count, and their repeats cost more than the cliff did.
//
// The rounds before.
//
// Synthetic corpus, mean over seeds 51–60 (drawn after that round's
// choice and looked at once; per seed 52 files, 96 windows: 12 series
// with 1–3 planted anomalies and one clean series per family), now and
// (in brackets) at commit 85de5c6, before the unseen slots borrowed:
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              72.36     59.81   69.75    71.74   (71.43 / 56.30 / 69.12 / 71.74)
//	synthHourly              69.89     68.47   68.22    68.56   (70.29 / 68.73 / 68.57 / 68.57)
//	synthIrregular           62.94     57.54   60.48    62.50   (61.45 / 56.65 / 59.58 / 60.35)
//	synthShift               78.67     77.21   77.14    77.66   (79.28 / 77.23 / 76.93 / 77.66)
//	all                      70.97     65.76   68.90    70.11   (70.61 / 64.73 / 68.55 / 69.58)
//	all, reward_low_FP       63.51     59.52   61.18    62.73   (63.22 / 58.93 / 61.68 / 62.30)
//	all, reward_low_FN       76.62     72.73   74.56    75.04   (76.33 / 72.67 / 74.51 / 74.48)
//
// Per seed (standard, all files, in-sample / LOCO / LOFO / label-free),
// now: 51 76.32 / 75.47 / 75.30 / 74.28, 52 64.56 / 63.13 / 64.56 /
// 64.56, 53 70.26 / 68.38 / 69.35 / 70.26, 54 72.15 / 70.87 / 71.19 /
// 70.02, 55 75.23 / 74.12 / 74.19 / 73.51, 56 71.04 / 60.49 / 66.92 /
// 71.04, 57 73.49 / 67.78 / 69.62 / 72.87, 58 67.84 / 50.44 / 65.42 /
// 67.21, 59 64.79 / 61.39 / 62.34 / 64.08, 60 73.98 / 65.48 / 70.08 /
// 73.30; before: 51 77.63 / 76.84 / 76.67 / 75.44, 52 65.04 / 62.82 /
// 65.04 / 65.04, 53 69.57 / 67.69 / 68.66 / 69.57, 54 72.14 / 67.79 /
// 71.18 / 70.05, 55 72.07 / 70.17 / 69.73 / 70.84, 56 70.86 / 59.38 /
// 67.86 / 70.72, 57 72.89 / 70.64 / 68.97 / 71.87, 58 67.68 / 51.16 /
// 65.53 / 66.94, 59 64.44 / 56.16 / 60.79 / 63.86, 60 73.79 / 64.65 /
// 71.09 / 71.47.
//
// Seeds 41–50 (the previous round's judging seeds) now: counts 73.05 /
// 68.60 / 70.53 / 71.13, hourly 71.01 / 70.87 / 70.94 / 71.28, irregular
// 65.20 / 62.23 / 63.83 / 64.28, shift 81.29 / 79.78 / 80.06 / 79.69, all
// 72.64 / 70.37 / 71.34 / 71.60 (low-FP 65.60 / 63.30 / 64.13 / 64.58,
// low-FN 77.74 / 74.36 / 76.30 / 76.38); at 85de5c6:
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              73.96     66.48   69.73    71.13
//	synthHourly              70.66     70.45   70.66    70.80
//	synthIrregular           61.36     58.37   60.98    61.06
//	synthShift               80.81     79.95   80.30    79.69
//	all                      71.70     68.81   70.42    70.67
//	all, reward_low_FP       64.69     61.66   63.29    63.64
//	all, reward_low_FN       76.90     73.90   75.32    75.45
//
// Per seed at 85de5c6 (standard, all files, in-sample / LOCO / LOFO / label-free):
// 41 67.26 / 64.64 / 66.98 / 66.25, 42 70.79 / 68.86 / 69.84 / 69.38,
// 43 75.86 / 73.27 / 73.75 / 74.10, 44 69.19 / 67.33 / 67.25 / 68.14,
// 45 66.69 / 58.41 / 65.72 / 65.37, 46 74.77 / 74.14 / 73.86 / 73.80,
// 47 76.19 / 72.05 / 75.21 / 75.00, 48 74.70 / 71.58 / 74.00 / 74.57,
// 49 70.39 / 69.88 / 69.43 / 69.29, 50 71.12 / 67.98 / 68.14 / 70.81.
//
// The same seeds with the previous defaults (RateStep off, Breakthrough
// 0.6): counts 68.87 / 48.26 / 66.62 / 71.43, hourly 63.23 / 55.72 /
// 58.30 / 54.08, irregular 62.31 / 61.06 / 61.17 / 61.11, shift 81.12 /
// 80.35 / 80.28 / 79.69, all 68.88 / 61.35 / 66.59 / 66.58 (low-FP
// 61.78 / 54.47 / 60.35 / 60.49, low-FN 74.51 / 67.63 / 72.06 / 70.84).
//
// Seeds 31–40 now: counts 71.54 / 61.09 / 68.78 / 71.01, hourly 76.57 /
// 76.01 / 76.06 / 76.55, irregular 63.95 / 60.14 / 61.81 / 63.03, shift
// 80.37 / 78.53 / 78.31 / 78.84, all 73.11 / 68.94 / 71.24 / 72.36
// (low-FP 65.95 / 62.12 / 64.09 / 65.13, low-FN 78.60 / 74.70 / 77.22 /
// 77.20). At 85de5c6 / before it (the judging seeds of the round before):
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              71.20     62.23   69.08    71.01   (71.00 / 53.43 / 68.45 / 71.45)
//	synthHourly              77.56     76.71   76.96    77.39   (67.40 / 63.14 / 64.75 / 61.14)
//	synthIrregular           62.56     59.01   60.39    60.48   (61.77 / 59.55 / 60.87 / 60.75)
//	synthShift               80.19     79.11   78.67    78.84   (80.82 / 79.62 / 80.32 / 78.85)
//	all                      72.88     69.26   71.28    71.93   (70.25 / 63.94 / 68.60 / 68.05)
//	all, reward_low_FP       65.64     60.99   64.11    64.72   (62.81 / 54.35 / 60.24 / 61.72)
//	all, reward_low_FN       78.38     74.97   77.27    76.77   (75.99 / 69.50 / 72.54 / 72.48)
//
// Unseen slots (this round, on). The traffic-like family's false alarms
// clustered at the rush hours' edges (scores of 0.37 or more outside
// the windows after probation, seeds 1–30: 254 of 669 between 07:00 and
// 08:00, 155 between 17:00 and 18:00), on the first weekdays, the first
// Saturday and the Monday after it, and a slot no reading had yet
// fallen in forecast the bare level: steps jittered by a minute, 8 % of
// readings missing and dark hours leave 5-minute slots empty for days.
// Borrowing the
// neighbouring slot's value while the profile fills in, development
// seeds 1–30 (in-sample / LOCO / LOFO / label-free):
//
//	standard               now                            before
//	synthCounts       72.51 / 68.31 / 70.41 / 71.97   72.30 / 67.37 / 69.80 / 71.97
//	synthHourly       74.45 / 73.31 / 73.00 / 73.30   74.00 / 72.70 / 72.86 / 73.34
//	synthIrregular    63.94 / 61.47 / 61.94 / 62.33   62.50 / 59.90 / 60.66 / 60.81
//	synthShift        81.56 / 80.46 / 80.95 / 81.05   81.73 / 80.80 / 80.72 / 81.05
//	all               73.12 / 70.89 / 71.57 / 72.16   72.63 / 70.20 / 71.01 / 71.79
//	all, low-FP       65.52 / 61.59 / 64.33 / 64.81   65.07 / 60.83 / 63.72 / 64.49
//	all, low-FN       78.61 / 75.60 / 76.94 / 77.08   78.18 / 74.83 / 76.23 / 76.70
//
// On the judging seeds 51–60 (table above) every standard column over
// all files rises (+0.36 / +1.03 / +0.35 / +0.53), the traffic-like
// family by 0.9–2.2; what it costs there: hourly −0.40 / −0.26 / −0.35 /
// −0.01, shift in-sample −0.61, and the low-FP LOFO over all files
// (61.68 → 61.18, while the standard LOFO rises 68.55 → 68.90). On 31–40 the all-files LOCO falls
// 0.32 and LOFO 0.04 (counts LOCO −1.1: folds choose other thresholds),
// on 41–50 every column rises. The label-free gap on 51–60 is 0.86 on
// the mean, above 2 on seeds 51 (2.04) and 54 (2.13). Borrowing for
// the whole series instead (7 periods or more) gives NAB 71.27 / 69.57
// / 69.57 / 71.27: rogue_agent_key_hold, a file of days-long gaps,
// loses a detection (score 0.404) in its second window (raw 1.06 →
// −0.45); 5 periods give the same NAB figures (synthetic 73.16 / 71.02 /
// 71.58 / 72.17), 3 and 4 leave NAB as it was (3: 72.97 / 70.48 / 71.39
// / 71.97), so the limit of 4 sits at NAB's edge and was placed with
// NAB's figures in view. With the stuck level below at 0.5, the whole
// series gave 73.18 / 71.08 / 71.32 / 72.18 and two neighbours either
// side instead of one 73.19 / 70.93 / 71.41 / 72.19 (NAB as above).
//
// Tried in this round and rejected (development seeds 1–30 as above;
// NAB in-sample / LOCO / LOFO / label-free):
//   - A stuck run's score jumping to a level (0.45, 0.5, 0.6 or 0.7) at
//     the reading whose own stuck score reaches AlarmLevel, instead of
//     climbing by about 0.035 a reading into the holdoff: at 0.40 it
//     finds 85 of 91 stuck occupancy sensors against 24, and NAB is
//     bit-identical, but the thresholds the folds choose move up and
//     the other families pay: 0.5 alone 72.72 / 70.29 / 70.94 / 71.82
//     (LOFO −0.07; hourly LOFO −0.35, shift LOCO −0.54); with the
//     borrowed slots 73.13 / 70.91 / 71.34 / 72.16 against 73.12 /
//     70.89 / 71.57 / 72.16 (low-FP LOFO 63.49 against 64.33).
//   - The square-root scale for series whose first twelve values lie in
//     [0,1] (occupancy, with the stuck level at 0.5): synthetic 73.30 /
//     71.32 / 71.65 / 72.22 (hourly +2, irregular +0.4 to +0.7), but NAB
//     72.13 / 70.87 / 70.37 / 71.17, low-FP 63.90: ec2_cpu_utilization
//     24ae8d and c6585a (percentages below 1 at first) and
//     rogue_agent_key_hold pass the test, as with the log scale before.
//   - A coarse weekly profile for series too fine for the weekly one
//     (steps under 30 minutes): an offset per day of week and hour (168
//     float32, about 0.9 KB), learned from the daily forecaster's
//     residual (running mean per slot, then SeasonAlpha per visit),
//     used once every weekday had been seen on two dates. Added to the
//     daily forecast, with the daily profile and its level learning the
//     value less the offset: 73.07 / 70.74 / 71.72 / 72.09 (counts LOCO
//     −0.59), NAB 72.54 / 70.84 / 70.85 / 72.54, low-FP 65.11 (false-alarm
//     rows 75 → 76, realKnownCause 73.85 → 73.56); the same
//     with the offsets learning clipped residuals gave identical figures;
//     with the daily profile learning the raw value 73.00 / 70.75 /
//     71.43 / 72.07; each weekday corrected from its second date on
//     72.46 / 69.87 / 70.95 / 71.49 (shift −2.1: a 14-day file's level
//     change is taken for a weekday's habit). As a fourth forecaster
//     in the blend (the daily forecast plus the offset, weighted by its
//     own error; the daily profile unchanged): 73.22 / 71.26 / 71.81 /
//     72.17 (low-FP LOFO 64.33 → 63.98), NAB 72.44 / 70.73 / 70.74 /
//     72.44 (false-alarm rows 75 → 77, realKnownCause 73.85 → 73.26),
//     low-FP 64.90; on
//     the judging seeds 61–70, looked at once, 70.98 / 67.24 / 69.33 /
//     69.83 against 71.04 / 67.10 / 69.24 / 69.91 (in-sample and
//     label-free fall; traffic-like 63.54 / 60.78 / 61.83 / 62.56 against
//     63.75 / 60.84 / 62.08 / 62.56). The traffic-like files cover 6–10
//     days, too few for any weekly memory, and the counts' errors are
//     their news bursts, not their weekends: rejected. Seeds 61–70 at
//     HEAD: 71.04 / 67.10 / 69.24 / 69.91 (counts 67.70 / 60.22 / 66.06
//     / 69.78, hourly 73.68 / 73.05 / 72.40 / 72.49, shift 79.04 / 74.28
//     / 76.45 / 74.82; low-FP 63.15 / 58.98 / 61.52 / 62.65).
//
// Development seeds 1–30 in the previous round, on which its choices were made:
// 72.63 / 70.20 / 71.01 / 71.79 (before 71.00 / 66.46 / 69.13 / 69.28;
// counts 72.30 / 67.37 / 69.80 / 71.97, hourly 74.00 / 72.70 / 72.86 /
// 73.34, irregular 62.50 / 59.90 / 60.66 / 60.81, shift 81.73 / 80.80 /
// 80.72 / 81.05; low-FP 65.07 / 60.83 / 63.72 / 64.49, before 63.66 /
// 59.20 / 61.65 / 62.92; low-FN 78.18 / 74.83 / 76.23 / 76.70, before
// 76.52 / 72.50 / 75.03 / 73.79).
//
// The label-free threshold is within 2 points of the label-optimised one
// on NAB (0.00), on the means (seeds 1–30 0.84, 31–40 0.95, 41–50 1.03;
// before 1.72, 2.20, 2.31), on the hourly family (41–50 −0.14, before
// 9.15) and on every seed of 41–50 (largest 1.76, seed 43; before six of
// ten seeds missed, by up to 3.97); not yet on every seed of the others
// (2: 2.83, 3: 2.12, 36: 2.36; before ten of 1–30 and five of 31–40
// missed, by up to 6.44). Still unmet: the counts family's LOCO (66.48
// on 41–50, 48.26 before) stays 7.5 below its in-sample figure: the
// other families still choose thresholds down to 0.30 in some folds,
// where the counts' news bursts raise false alarms (0.33 a day at 0.31
// against 0.15 at 0.37, seeds 1–30); and the traffic-like family stayed
// near 61, a little lower than before (see below; 62.9–65.2 in-sample
// since this round's unseen slots).
//
// Calibration per unit of time (RateStep 600, on) and a lower holdoff
// breakthrough (Breakthrough 0.3, was 0.6). At 0.37 on seeds 1–10 the
// hourly family raised 0.022 false alarms a day, the 5-minute families
// 0.14–0.19: per observation about the same (5–9·10⁻⁴), per day a
// seventh, so the best threshold for hourly data lay lower than
// everyone else's, the label-free threshold missed it by 6 points, and
// the other families' folds chose low thresholds for the counts. RateStep
// counts a coarse series' tail probabilities per 600 s of data (hourly
// scores rise by log10 6 / 6 = 0.13). Alone it leaves a cliff above the
// alarm level: an alarm a little above 0.37 starts the holdoff (100
// observations, four days on hourly data), and unless a later score
// beats it by Breakthrough the rest of the event is damped, so a fold
// that chooses 0.38–0.40 loses those events (with RateStep 300 alone,
// synthetic LOCO fell to 65.76). Breakthrough 0.3 lets a score that
// beats the alarm by 0.3 through. The grid, on the default of the
// moment (NAB in-sample / LOCO / LOFO / label-free; synthetic seeds 1–30
// likewise, base 71.76 / 70.07 / 70.07 / 71.76 and 71.00 / 66.46 /
// 69.13 / 69.28): RateStep 300: NAB 72.64 / 70.95 / 70.95 / 72.64,
// synthetic 71.25 / 65.76 / 69.69 / 70.40; RateStep 600: 72.74 / 71.04 /
// 71.05 / 72.74, synthetic 71.61 / 67.85 / 70.17 / 70.67; Breakthrough
// 0.3: NAB 71.66 / 69.97 (one more false alarm, in
// ec2_disk_write_bytes_c0d644), synthetic 71.46 / 67.35 / 69.62 / 69.76;
// Breakthrough 0.2 alone: NAB 71.56 / 69.87; RateStep 300 with
// Breakthrough 0.1, 0.2 and 0.3: NAB 71.34 / 69.65, 72.44 / 70.75 and
// 72.54 / 70.85, synthetic 72.14 / 69.01 / 70.48 / 71.29 (0.2) and 72.18
// / 68.93 / 70.59 / 71.34 (0.3); RateStep 600 with Breakthrough 0.25,
// 0.3 (kept) and 0.4: NAB 72.54 / 70.84, 72.64 / 70.94 and 72.64 /
// 70.94, synthetic – , 72.63 / 70.20 / 71.01 / 71.79 and 72.45 / 69.96 /
// 70.84 / 71.60; RateStep 450 with Breakthrough 0.3: NAB as 600;
// RateStep 900 with Breakthrough 0.3: NAB 71.59 / 70.88 / 69.88 / 71.08
// (LOFO under the floor), synthetic 72.80 / 69.71 / 71.38 / 71.85. On
// NAB, RateStep moves only its two coarse files: ambient_temperature
// (hourly) −0.54 → +0.74 raw, nyc_taxi (30 minutes) 4.40 → 4.19. (Before
// the hour spreads, RateStep 300 had cost NAB: 71.27 / 69.57, below.)
// RateStep leaves series sampled every 10 minutes or faster alone, so
// NAB's 5-minute files and the live one-minute metrics score as before;
// TestShopIncidentsClassified passes unchanged.
//
// What it costs: the traffic-like family, 5-minute data that RateStep
// does not touch, loses a little on 41–50 (in-sample −0.95, LOCO −2.69,
// LOFO −0.19, label-free −0.05; on 31–40 LOCO −0.54, LOFO −0.48, and on
// 1–30 LOCO −0.74), and shift's in-sample −0.31 / LOCO −0.40 on 41–50
// (LOFO −1.65 on 31–40). Its stuck sensors raise a score that grows with
// each repeated reading (about 0.035 a step); the first to pass 0.37
// starts the holdoff and the rest of the run is damped, so at a
// threshold of 0.40 a quarter of its windows go undetected (0.758 of
// windows detected at 0.37, 0.565 at 0.40, seeds 1–30), and folds now
// choose such thresholds more often. A lower breakthrough for the stuck
// detector alone (0.1, on RateStep 300 with Breakthrough 0.3) took the
// family's LOCO from 57.97 to 59.30 (synthetic 72.24 / 69.18 / 70.59 /
// 71.36) but cost NAB 0.4 (72.14 / 70.45; 0.05: 71.64 / 69.95, its long
// real runs are not anomalies): rejected.
//
// Hour spreads (HourSpreadStep 3600, on). The synthetic hourly family
// has noise that grows at night; judged by the whole day's spread, its
// nights raised most of its false alarms (at 0.37, seeds 1–10: 112
// false alarms, most between 01:00 and 05:00, and 72 of 240 windows
// missed) and its daytime anomalies scored low. Before / after, standard
// in-sample / LOCO / LOFO / label-free: seeds 1–20 70.86 / 65.53 / 68.89
// / 69.14 → 71.08 / 66.27 / 69.09 / 69.43 (hourly 68.37 / 64.05 / 65.35
// / 62.54 → 68.49 / 65.57 / 66.45 / 63.67); seeds 21–30 70.83 / 64.91 /
// 69.19 / 68.56 → 70.85 / 66.84 / 69.22 / 68.99; seeds 31–40 69.92 /
// 62.04 / 67.61 / 67.49 → 70.25 / 63.94 / 68.60 / 68.05 (low-FP 62.45 /
// 54.05 / 59.93 / 61.27 → 62.81 / 54.35 / 60.24 / 61.72; low-FN 75.78 /
// 68.06 / 73.39 / 71.87 → 75.99 / 69.50 / 72.54 / 72.48: LOFO −0.85, the
// one column it lowers there). The hourly family's own in-sample figure,
// at the corpus-wide threshold, moves +0.1, −1.3 and −0.1 on the three
// ranges while its label-free one gains 1.1–2.2 (the gap to the best
// threshold narrows from 9.1 to 6.0 on 21–30): it mostly makes one
// threshold fit hourly data better. NAB moves by 0.01 (realKnownCause
// 71.03 → 71.02: ambient_temperature, its only hourly file). The
// prior was chosen on seeds 1–20 between starting each hour's learning
// rate at 1/3 (falling to SeasonAlpha) and SeasonAlpha from the start,
// which is kept (71.14 / 65.66 / 68.86 / 69.56 against 71.08 / 66.27 /
// 69.09 / 69.43); applying it from 30-minute steps instead takes NAB
// LOCO to 69.96 (nyc_taxi), and from 4 minutes (every NAB file) to
// 64.68 / 59.18, as the previous round's 48 time-of-day spreads did.
// The price, in TestHourSpreadJudgesHoursByTheirNoise:
// a night's own Gaussian extremes are no longer hidden among the noisy
// and quiet hours' mixture (5 false alarms in 60 days against 3), while a
// day-time spike of six day-time noise units scores 0.61 against 0.08.
//
// The figures for the families before this round's generators (seed 1
// in-sample / LOCO / LOFO / label-free 72.46 / 69.71 / 69.04 / 70.84, and
// seeds 2–5) are not comparable: the families are now longer and
// harder (news bursts of every size as normal, hourly files of 3 weeks
// with missing days, sensors whose noise grows with the level).
//
// RateStep in the previous round, before the hour spreads (rejected
// then, on since this round at 600 with Breakthrough 0.3, above). Scores
// were tail probabilities per observation, so one threshold meant 12
// times fewer false alarms per day on hourly data than on 5-minute data.
// RateStep 300 multiplies the tail probabilities of a
// series coarser than 5 minutes by 300 s over its step (per day alike;
// finer series are left alone: made per day, the shop's one-minute
// metrics lost their planted drop and performance incidents). It does
// what it is for on the synthetic corpus: the hourly family's
// label-free gap goes from 5.8 to −0.1 (seeds 11–20) and the mean gap
// from 1.7 to 0.6; the means move 70.38 / 64.93 / 68.36 / 68.63 → 70.74 /
// 65.21 / 69.07 / 69.84 (seeds 1–10), 71.35 / 66.13 / 69.41 / 69.66 →
// 72.56 / 68.52 / 71.45 / 71.97 (11–20), 70.83 / 64.91 / 69.19 / 68.56
// → 70.32 / 65.82 / 69.31 / 69.11 (21–30, looked at once). But NAB moves
// to 71.27 / 69.57 / 69.58 / 71.27: nyc_taxi (30 minutes) and
// ambient_temperature (hourly) alarm earlier in their windows and also
// raise 5 more false alarms, which takes the cross-validated figure
// under the floor of 70. The square root of the ratio (a compromise,
// tried first) gave 71.67 / 67.64 / 69.46 / 70.30 (1–10),
// 72.98 / 70.01 / 71.30 / 72.00 (11–20) and NAB 71.58 / 69.88 / 69.89 /
// 71.48. NAB's scoring itself leans toward per-observation probabilities:
// its windows cover 10 % of each file's rows and a false alarm costs the
// same whatever the file's span, so the alarms a file can afford go with
// its rows, not its days; a false alarm per day is what an operator
// counts. Whether per-time odds help NAB's hourly realAdExchange (short
// files, about 1,600 rows) the project still cannot measure.
//
// AlarmLevel. 0.37 (0.38 before) is the level with the best mean LOCO
// standard score over synthetic seeds 1–3 on the grid 0.32, 0.33, 0.34,
// 0.345, …, 0.38 (76.99; 0.38: 76.00); seeds 4 and 5 were drawn after the
// choice. It moved NAB from 71.36 / 69.66 / 69.67 / 70.19 (in-sample /
// LOCO / LOFO / label-free) to the table of the rounds that followed
// (71.76 / 70.07 / 70.07 / 71.76, RateStep off and Breakthrough 0.6; the
// level was not searched again with this round's settings). NAB's figures for
// levels 0.32, 0.35, 0.36 and 0.40 were seen before the choice (LOCO
// 68.32, 68.33, 71.62, 68.50): NAB moves by ±2 points between
// neighbouring levels because single detections sit at the threshold (in
// realAWSCloudwatch, 0.370 against 0.371 is 3 points), so the NAB LOCO
// margin over 70 is within that noise. Choosing the level on NAB's labels
// inside the cross-validation (a candidate grid of 0.34–0.40) gives LOCO
// 68.96: tuning it on NAB overfits. Re-checked on this round's families
// (seeds 1–10, in-sample / LOCO / LOFO / label-free): 0.34 70.15 / 64.70
// / 68.61 / 69.31, 0.35 70.58 / 64.30 / 68.93 / 69.13, 0.36 70.53 / 63.90
// / 68.91 / 69.14, 0.37 70.38 / 64.93 / 68.36 / 68.63, 0.38 70.46 / 65.96
// / 68.31 / 68.38: no level is better on every column, so 0.37 stays.
//
// Tried in this round and rejected (NAB in-sample / LOCO; synthetic
// means over seeds 1–10, in-sample / LOCO / LOFO / label-free). Each was
// measured on the default of the moment: RateStep at the square root
// (NAB 71.58 / 69.88, synthetic 71.67 / 67.64 / 69.46 / 70.30), in full
// (71.27 / 69.57; 70.74 / 65.21 / 69.07 / 69.84) or off (71.76 / 70.07;
// 70.38 / 64.93 / 68.36 / 68.63). Square root: neighbouring daily slots
// learning each value at a quarter or half the rate, to smooth profiles
// that see one value per slot per day (NAB 70.87 / 67.78 and 67.15 /
// 60.97); the record detector at the common weight 7 or at 20 (NAB 66.61
// / 60.91, 64.07 / 59.98: the record detector carries NAB). In full: the
// residual divided by the recent mean |u| when above one, a GARCH-like
// volatility scale (power 0.5: NAB 72.11 / 70.41, synthetic 1–10 within
// ±0.25, but seeds 11–20 down 1.4–2.1 on every column; power 1: NAB LOCO
// 64.05); a record's excess capped by the residual beyond 2 or 4 error
// scales, so a learned new level breaks no records (+0.1 at 2, too little
// to keep; NAB LOCO 66.59 at 4); a generalised Pareto shape fitted to
// each tail's excesses by moments, capped at 0.2 or 0.5 (synthetic within
// ±0.2, NAB 69.59 / 67.90 and 68.44 / 66.73). Off: an error scale that
// follows the expectation for positive series, noise proportional to the
// level (half of it: synthetic +0.4 to +1.1 on every column, NAB 68.93 /
// 67.80; all of it: NAB 67.59 / 65.75); seasonal slots that average their
// first values (rate max(1/visits, SeasonAlpha)) instead of keeping the
// first one with weight 0.9^k, for short series (NAB 66.07 / 64.53,
// synthetic 70.10 / 65.54 / 67.87 / 67.95); the Pareto shape (cap 0.3)
// for count series only, for bursts on bursts (NAB 71.75 / 70.06,
// synthetic 1–10 +0.13 / +1.23 / +0.04 / +0.13, but seeds 11–20 71.34 /
// 66.16 / 69.23 / 69.69 against 71.35 / 66.13 / 69.41 / 69.66: no gain).
//
// Tried on 2026-12-02 and rejected (on the default before the hour
// spreads; NAB in-sample / LOCO; synthetic means over seeds 1–20,
// in-sample / LOCO / LOFO / label-free, against 70.86 / 65.53 / 68.89 /
// 69.14, low-FP in-sample 63.53): ShiftAlpha 0.05, 0.03 or 0.2 instead
// of 0.1, a slower changepoint for the sensors' recalibrations, which
// the rush hours' runs of one-signed residuals hide (69.19 / 62.37 /
// 67.04 / 66.86 and 69.15 / 62.93 / 66.93 / 66.71: hourly −6, NAB
// 70.12 / 68.13 and 68.28 / 64.90; 0.2: 70.78 / 66.58 / 69.26 / 69.15
// but NAB 69.76 / 66.41); the seasonal profiles interpolating between
// the starts of neighbouring slots when the slots are as wide as the
// step, for jittered timestamps (70.86 / 65.41 / 68.81 / 69.11, NAB
// 71.75 / 70.06); a series whose first twelve values all lie strictly
// between 0 and 1 scored on a logit scale log((v+ε)/(1−v+ε)), ε = 0.005,
// for occupancy (70.11 / 64.51 / 67.59 / 68.24: the hourly prices below 1
// are not fractions and the logit stretches them near 1) or on a log
// scale log(v+ε) (71.11 / 65.29 / 69.01 / 69.53, low-FP 64.16; hourly
// +0.3 / +1.6 / +0.6 / +1.2, irregular +0.7 / −1.2 / −0.1 / +0.3, but NAB
// 71.56 / 68.28: two ec2_cpu_utilization files, percentages that start
// below 1, pass the test; a range test cannot tell a fraction from a
// small percentage or price); Saturdays and Sundays with a daily profile
// of their own, the workday profile learning workdays only and joining
// the weekend blend with the error it makes on weekends (70.71 / 66.58 /
// 68.26 / 69.06: LOCO +1.1 from counts, but shift −1.7 and NAB 69.06 /
// 67.57, artificialWithAnomaly 87.81 → 70.92; it also takes the state
// to about 7.8 KB); the square-root scale only for counts whose first
// values vary at least half as much as Poisson counts (variance over
// mean ≥ 0.5), since whole miles per hour vary far less (NAB unchanged,
// 70.91 / 64.71 / 68.79 / 69.27: irregular +0.1 / +0.1 / +0.3 / +0.5, but
// quiet count files lose the scale, counts LOCO −3.3); the daily
// profile learning Saturdays and Sundays at a quarter of SeasonAlpha, a
// lighter form of the weekend profile (70.80 / 64.96 / 68.39 / 69.20, NAB
// 68.44 / 66.75: realKnownCause 71.03 → 60.71). None was run on
// seeds 31–40. Those seeds, looked at once with the default, give
// 69.92 / 62.04 / 67.61 / 67.49 (counts 68.42 / 48.68 / 65.86 / 71.45,
// hourly 67.49 / 61.82 / 63.72 / 58.91, irregular 62.94 / 57.95 / 61.15 /
// 60.75, shift 80.83 / 79.70 / 79.71 / 78.85; low-FP 62.45 / 54.05 /
// 59.93 / 61.27).
//
// Tried in the previous round and rejected on the cross-validated figures
// (NAB LOCO / seed-1 LOCO of the previous synthetic families, against
// 70.07 / 69.71 unless said):
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
// BenchmarkObserve -benchtime 2000000x -count 3 -benchmem -cpu 1 gives
// 0.66–0.91 µs per observation (BenchmarkObserve) and 0.74–0.87 µs
// (BenchmarkObserveSynth, fresh detectors over the synthetic corpus, its
// hourly files included) on a shared 2-core machine under load 5 (the
// previous round: 0.87–1.04 and 0.60–1.04 µs under load 7.7; after this
// round's unseen slots 0.45–0.70 and 0.78–0.81 µs under load 3.5; the
// figures follow the machine's load; with this round's rejected count
// spreads 0.38 µs and 0.43–0.48 µs under load 4.4, and 6,520 bytes), no
// allocations, 6,464 bytes of state per series (6,456 before HeldLearn,
// a setting; with it 0.52–0.62 µs and 0.57–0.99 µs under load 7.6;
// TestDetectorStateSize holds it under 8 KB). RateStep, Breakthrough and
// HeldLearn add no state and no work per observation beyond a setting.
// The posterior predictive tails add no state and one logarithm per
// tail probability beyond the threshold: 0.34–0.70 µs and 0.38–0.66 µs
// (before them, in the same session, 0.33–0.51 and 0.76–0.89 µs; load
// 2.5–2.9), 6,464 bytes. The ratio changepoint adds a tail and two
// floats (6,872 bytes) and, on hourly series, a logarithm per
// observation: 0.75–0.80 µs and 0.68–0.98 µs under load 7.3. The
// resting values add 64 bytes (6,936) and, on a repeat, a scan of four
// slots: 0.75–1.14 µs and 0.78–0.97 µs against 0.76–0.79 µs and
// 0.86–1.19 µs without them, in the same session under load 6.7.
// The first observations' buffers (the count test's twelve values and the
// nine steps that decide the sampling interval, 232 bytes) live apart
// and are dropped once both are decided, so a long-lived series holds
// 6,712 bytes: at 6,936 a Detector fell in Go's 8,192-byte allocation
// class and the anomaly service's heap per metric (TestBudget) passed
// its 8 KB budget (8,364 B); now the 6,784-byte class, 48,692 B a tier
// against 58,560. Scores are the same to the byte (NAB, seeds 1–2).
//
// Caveat: most settings other than AlarmLevel were chosen on the NAB
// subset's labels before cross-validation existed, so the NAB figures,
// the cross-validated ones included, are optimistic; only the threshold
// is cross-validated. A threshold above AlarmLevel loses points sharply
// (alarms start the holdoff; less since Breakthrough 0.3, but the stuck
// detector's rising runs still do), hence the cap.
//
// The sixth of the anom rounds (branch resid; kept: the daily
// changepoint, Config.DayShiftAlpha 0.05, DayShiftClip 3, DayShiftSpan
// 900, DayShiftMaxStep 600). Aim: the traffic-like family's
// recalibrations, with the statistic the round after the count
// dispersion measured best (the daily forecaster's own residual, EWMA
// 0.05, clip 3, in the ratio changepoint's slot, rejected there for
// NAB), against the two references it left untried: the daily profile
// averaged over neighbouring slots, and the weekly profile once it is
// ready. From
//
//	go build -o /tmp/team/resid-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/resid-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/resid-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/resid-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/resid-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// against a0b7cad (development seeds 1–30 76.07 / 73.85 / 74.52 /
// 75.07, NAB 73.45 / 71.76 / 71.66 / 73.45, low-FP 66.97 / 65.08, 66
// false-alarm rows: the figures above, reproduced; in-sample / LOCO /
// LOFO / label-free), with a replay (not committed) of seeds 1–10's
// traffic-like files that draws each window's kind and sensor again
// from the generator's seed: windows found at 0.37, and false-alarm
// rows counted as alarms outside the windows on every row. At a0b7cad
// it finds 14 / 3 / 12 of 22 / 24 / 28 recalibrations (speed /
// occupancy / travel time), 77 of 79 incidents and 87 of 87 stuck
// sensors, with 163 false-alarm rows. The experiments' settings were
// Config fields, off by default, until one was kept. In order:
//   - The statistic as the earlier round had it: the same figures to
//     the digit (synthetic 76.74 / 74.85 / 75.34 / 75.84, NAB 73.00 /
//     71.30 / 71.30 / 72.90, 72 false-alarm rows); recalibrations 14 /
//     7 / 17, 195 false-alarm rows. Scaled by its own mean absolute size
//     rather than the daily forecaster's error: the same figures.
//   - Against the daily profile averaged over the slots within ±15
//     minutes (a half hour, the weekly profile's slot on 5-minute data:
//     7 slots of 5 minutes; chosen before any run, no other width run),
//     in units of its own mean size: synthetic 76.42 / 74.51 / 74.73 /
//     75.67, NAB 73.05 / 71.36 / 71.36 / 73.05, low-FP 66.17 / 64.48,
//     70 rows; recalibrations 14 / 5 / 17, 200 rows. The daily
//     artificial files' false alarms are gone; new ones remain on
//     cpu_utilization_asg_misconfiguration (06-14 20:49, inside an hour
//     at twice its load that the labels do not count),
//     ec2_request_latency_system_failure (days 2 and 4) and nyc_taxi.
//     With the span taken in whole slots (none on nyc_taxi's
//     half-hourly data, where rounding had given one): NAB 73.15 /
//     71.46 / 71.46 / 73.05, 69 rows. An EWMA at 0.05 already averages
//     some 40 slots of the reference, so the smoothing narrows one
//     reading's residual (the noise of two readings to that of 8/7 of
//     one) more than the EWMA's: it costs part of the synthetic gain as
//     well as the artificial files' alarms.
//   - Counted only while the daily forecaster's error is below the
//     level forecaster's (the earlier round's form closest to NAB):
//     synthetic 76.49 / 74.85 / 74.94 / 75.75 (traffic-like 70.89 /
//     69.60 / 69.56 / 69.95), NAB 73.25 / 71.56 / 71.56 / 73.15, low-FP
//     66.57 / 64.48, 68 rows (cpu_utilization_asg_misconfiguration and
//     nyc_taxi left). The smoothed reference's own error in place of the
//     daily forecaster's: NAB 73.15 / 71.46. The EWMA's rate per 5
//     minutes of data rather than per observation (0.26 on half-hourly
//     data): NAB 72.55 / 70.86 (nyc_taxi 4.389 → 3.510).
//   - Only on series sampled every 10 minutes or finer (RateStep's
//     boundary; the EWMA's 20 observations are 100 minutes there, 10
//     hours on nyc_taxi's half-hourly data): synthetic the same (no
//     family lies between 10 minutes and an hour), NAB 73.35 / 71.66 /
//     71.56 / 73.35, low-FP 66.77 / 64.88, 67 rows; recalibrations 14 /
//     6 / 15, 189 rows.
//   - The weekly profile as the reference once it is ready. It never
//     ran on 5-minute data: a week of 5-minute slots is 2,016 floats,
//     8 KB alone, so the profile switches off, and the earlier round's
//     weekly agreement only ever acted on nyc_taxi. Where it runs
//     (before the 10-minute bound): NAB 73.25 / 71.56 / 71.46 / 73.25,
//     nyc_taxi's new alarms moved to 07-12 02:00 and 10-11 10:00,
//     Saturdays of holiday weekends. Kept running out of the blend at
//     30-minute slots on 5-minute data, with the 10-minute bound: NAB
//     73.15 / 71.46 / 71.36 / 73.15, 69 rows, synthetic 76.31 / 74.50 /
//     74.63 / 75.57: cpu_utilization_asg_misconfiguration's alarm goes,
//     but art_daily_small_noise, art_daily_jumpsup and art_daily_nojump
//     gain one each. A slot keeps its first reading at 0.9^k, and a
//     30-minute slot's first reading at a sharp daily edge lies far
//     from its later ones, whose one-signed residuals the EWMA adds up.
//   - The coarse slots the mean of their first week's readings (rate
//     1/k for a slot's k-th reading in its first period, k from the
//     reading's offset in the slot and the step; no state): NAB the
//     same as a0b7cad on every file and column, synthetic 76.48 /
//     74.60 / 74.86 / 75.70.
//   - The package tests then failed TestFewerEarlyFalseAlarms: 41
//     alarms in the first three days of 100 clean 5-minute sinusoids
//     (bound 25; 13 at a0b7cad). The statistic begins after a day, and
//     its tail, from a few hundred rows that an EWMA at 0.05 makes
//     strongly dependent, takes its first swings for extremes. Counted
//     only after a warm-up of its own (as many of its rows as the
//     detector's warm-up): 23. Its tail also no longer learns the rows
//     before it begins as zeros (no change here, where the detector's
//     warm-up ends as it begins; on per-minute data the warm-up is 5
//     hours).
//
// The candidate, frozen: development seeds 1–30 76.49 / 74.60 / 74.88 /
// 75.70 (low-FP 69.59 / 66.54 / 67.23 / 68.28, low-FN 81.51 / 79.24 /
// 80.01 / 80.47; counts 73.88 / 70.50 / 71.37 / 72.39, hourly 79.38 /
// 78.76 / 78.58 / 79.19, traffic-like 71.09 / 69.51 / 69.48 / 69.98,
// shift 81.62 / 79.64 / 80.07 / 81.25); NAB the same on every file;
// recalibrations 14 / 6 / 15 (35 of 74; 29), incidents 76 of 79,
// stuck 87 of 87, 190 false-alarm rows (163). It passed the gate
// (synthetic LOCO +0.75 and label-free +0.63; NAB LOCO, label-free and
// low-FP LOCO unchanged) and was judged once on seeds 151–160, which
// nobody had looked at, before and after:
//
//	GOMAXPROCS=1 /tmp/team/resid-bin-TAG nab --synth /tmp/team/resid-synth-151-160 --seeds 151-160 --per-family 12 --out /tmp/team/resid-res/TAG/j151 --label-free-rate 0.1
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              74.51     69.50   72.08    73.85    (74.54 / 65.92 / 73.05 / 73.93)
//	synthHourly              78.20     78.06   77.86    77.94    (78.49 / 77.65 / 77.39 / 77.94)
//	synthIrregular           66.58     64.63   65.08    66.12    (64.41 / 63.24 / 63.27 / 63.59)
//	synthShift               80.82     77.19   78.20    79.12    (79.62 / 75.47 / 77.39 / 78.51)
//	all                      75.03     72.35   73.30    74.26    (74.27 / 70.57 / 72.78 / 73.49)
//	all, reward_low_FP       68.28     65.53   65.71    66.88    (67.94 / 64.15 / 65.85 / 66.47)
//	all, reward_low_FN       79.86     76.56   78.51    78.91    (78.87 / 75.38 / 77.49 / 78.02)
//
// LOCO +1.78 and label-free +0.77, so it is kept. Lower rows: counts'
// in-sample, LOFO and label-free (−0.03, −0.97, −0.08), hourly
// in-sample (−0.29; its files do not get the statistic, the shared
// thresholds move), low-FP LOFO (−0.14). Seeds 131–140 again (the
// table above): 74.20 / 71.43 / 72.92 / 73.45 → 75.07 / 72.66 / 73.86 /
// 74.24. TestDailyChangepointFindsARecalibration: 20 travel-time series
// with weekday rush hours, ×1.3 at 22:00 on a Thursday, are found
// within 6 hours in 17 (7 at a0b7cad), and the same series unchanged
// raise no alarm in those hours (×0.75: 17 against 16).
//
// What it costs. The first weekend: a first week's profile has rush
// hours on Saturday too, and the weekly profile is not ready to say
// otherwise, so a Saturday morning without them is a shift. In
// TestTravelTimesJudgedByProportion (a ×0.75 at 08:20 on the first
// Saturday) the alarms before the change rise from 38 to 48, and
// their holdoffs hide three of the five changes found (2 of 20 now;
// the test's bounds moved from 4 and 40 to 2 and 50, and it now also
// asks the count scale to beat the square root's, 0 and 50). Early
// alarms on clean seasonal data, 13 → 23 in three days of 100 series
// (the bound stays 25). Speed and memory: 468–484 ns and 556–605 ns
// per observation (BenchmarkObserve, BenchmarkObserveSynth; a0b7cad
// 376–466 and 453–551 ns in the same session, load 2.4), the
// smoothed reference's seven slots and the weekly profile's updates on
// fine series; 6,784 bytes of state (6,728; the profiles' step sits
// beside their flags, so the new fields are three floats and four
// settings), no allocations; TestBudget's anomaly service 48,625 →
// 49,522 B a tier, in its budget.
//
// Noticed, not touched: the tails count an EWMA's rows as independent
// excesses, so a smooth statistic's first swings look rare (the early
// alarms above; the blend's changepoint shares this at 0.1). Nothing
// in a first week tells a weekend from a recalibration. The NAB alarms
// the rejected forms added fall on events a reader would call
// anomalous (cpu_utilization_asg_misconfiguration's hour at twice its
// load, nyc_taxi's holiday Saturdays); the labels do not count them.
//
// The seventh of the anom rounds (branch ess; no code kept, not judged:
// seeds 161–170 stay unseen). Aim: what the sixth round noticed, that
// the tails count an EWMA's rows as independent excesses. The blend's
// changepoint (ShiftAlpha 0.1), the shift detector (VarAlpha 0.05, on
// |u|) and the ratio changepoint (0.1, hourly series) or the daily
// changepoint (DayShiftAlpha 0.05, fine series) are EWMAs; an EWMA at
// rate a has the variance of (2−a)/a independent values, 19 at 0.1
// and 39 at 0.05. The tail's posterior predictive takes n, the excess
// count up to excessN, as the evidence for its mean excess, so a
// smooth statistic's first swings look rare. From
//
//	go build -o /tmp/team/ess-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/ess-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/ess-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/ess-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/ess-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// at 1231af2 (the anomaly code of bf92d0b), which reproduces the
// figures above: NAB 73.45 / 71.76 / 71.66 / 73.45 (in-sample / LOCO /
// LOFO / label-free), low-FP 66.97 / 65.08, low-FN 78.06, 66
// false-alarm rows; development seeds 1–30 76.49 / 74.60 / 74.88 /
// 75.70, low-FP 69.59 / 66.54, low-FN 81.51 / 79.24. Early alarms
// (TestFewerEarlyFalseAlarms, 100 clean 5-minute sinusoids, three
// days): 23, of which 10 from the daily changepoint, 11 residual, 2
// record. Each form was a Config field, EWMAEvidence, off by default,
// switched on by --config '{"EWMAEvidence":true}' for the three tails
// at once. The gate: synthetic LOCO and label-free up, NAB LOCO,
// label-free and low-FP LOCO not down. In order:
//   - Each excess worth a/(2−a) of one in the posterior predictive
//     (0.053 at 0.1, 0.026 at 0.05), excessN scaled too: n = a/(2−a) ·
//     min(nexc, excessN). NAB 66.72 / 65.19 / 64.99 / 65.49, low-FP
//     59.84 / 58.51, low-FN 71.15, 70 rows (at 0.366); synthetic 75.10
//     / 72.06 / 73.32 / 73.91 (counts LOCO 70.50 → 66.17, hourly
//     in-sample 79.38 → 75.68). Early alarms 13 (none from the daily
//     changepoint). Rejected.
//   - The same with excessN as it was, n = min(a/(2−a) · nexc,
//     excessN) (the form as the task put it; the first read the cap as
//     a count of rows too): NAB 67.21 / 65.62 / 65.42 / 67.21, low-FP
//     60.83 / 59.34, low-FN 71.47, 65 rows; synthetic 75.09 / 71.82 /
//     73.26 / 74.00. Early alarms 13. Rejected. In a 4,032-row NAB file
//     the changepoint's 140–150 excess rows are worth 7–8 values and
//     the shift detector's 50–60 under 2, so the cap never comes into
//     it. NAB loses the windows these tails found
//     late in short files: ec2_cpu_utilization_53ea38 1.403 → −2.220
//     (its alarms of 02-19 20:10 and 02-23 21:10 score 0.397 and 0.403
//     at main, 0.303 and 0.286 here), elb_request_count_8c0756 1.697 →
//     −0.138, rogue_agent_key_hold 1.059 → −0.451; art_daily_jumpsup
//     and art_daily_nojump gain (0.751 → 0.861).
//   - Why the first form fails: a/(2−a) is the evidence in the mean of
//     a whole EWMA, not in its excesses. A scratch simulation (400,000
//     rows of unit Gaussian noise) puts the excesses over the 95 %
//     quantile of |EWMA at 0.1| in runs of 2.5 rows, 4.5 rows a
//     cluster when runs less than 19 rows apart are joined; of the
//     EWMA at 0.05 of |noise|, 3.8 and 10.4 rows, not 39. So the second
//     form counts clusters: an excess more than (2−a)/a rows after the
//     previous one starts a new cluster, and n is the cluster count
//     (capped at excessN; the mean excess still learns from every
//     excess). State: a float and an int32 more per tail (376 → 392
//     bytes). NAB 70.66 / 64.50 / 68.20 / 67.22, low-FP 62.73 / 57.07,
//     low-FN 76.04 / 69.00, 81 rows (at 0.353); synthetic 75.86 /
//     73.85 / 74.33 / 75.02 (low-FP 69.11 / 66.66, low-FN 80.77 /
//     78.44; hourly 77.28 / 75.87 / 76.13 / 76.85, shift 82.11 / 80.08
//     / 80.78 / 81.29). Early alarms 14 (daily changepoint 10 → 1).
//     Rejected. Real residuals cluster more than noise: at the end of
//     ec2_cpu_utilization_53ea38 the changepoint's tail has 140
//     excesses in 21 clusters and the shift detector's 57 in 5
//     (elb_request_count_8c0756 148 in 32 and 47 in 9,
//     rogue_agent_key_hold 60 in 7 and 66 in 5,
//     machine_temperature_system_failure 795 in 35 and 909 in 29), so
//     n falls from 99 and 57 to 21 and 5. At 0.37 the same four
//     windows go as in the second reading of the first form (both of
//     ec2_cpu_utilization_53ea38's, elb_request_count_8c0756's first,
//     rogue_agent_key_hold's second: 48 → 44 of 55 found; 43 in the
//     first reading, which also loses one of nyc_taxi's).
//
// Where the cost lies (diagnostics, the cluster form on one tail at a
// time; not candidates): the blend's changepoint alone, NAB 71.93 /
// 67.42 / 68.67 / 71.83, low-FP LOCO 60.19, synthetic 76.57 / 74.74 /
// 75.15 / 75.79; the shift detector alone, NAB 72.50 / 70.95 / 70.85
// / 70.43, synthetic 76.50 / 74.59 / 74.92 / 75.71; the ratio or
// daily changepoint alone, NAB the same to the file, synthetic 75.84 /
// 73.97 / 74.11 / 75.05 (hourly, the ratio changepoint's family,
// 79.38 → 77.55). No tail passes the gate alone: NAB's windows lean
// on the blend's changepoint and the shift detector, the synthetic
// hourly family's on the ratio changepoint. In every form the scores
// fall, so the best in-sample threshold moves under the cap (NAB
// 0.353, seeds 0.33–0.40), where the label-free threshold cannot
// follow. AlarmLevel, Weights and Decades were chosen with the tails
// as they are; a heavier tail is partly a recalibration that they
// would have to follow. Not judged: no form passed the gate, so seeds
// 161–170 stay unseen.
//
// Noticed, not touched: the early alarms the sixth round added come
// from the daily changepoint alone, and the cluster form on its tail
// alone leaves NAB unchanged to the file; on the synthetic corpus its
// fine families move both ways (counts 73.88 → 73.51 in-sample,
// irregular 71.09 → 70.23, shift 81.62 → 82.05) while the hourly
// family loses with the ratio changepoint. Applying it to the daily
// changepoint only was not tried: that would choose the tails by their
// scores.
//
// The eighth of the anom rounds (branch logres; no code kept, not
// judged: seeds 161–170 stay unseen). Aim: issue 12's worst synthetic
// case, the occupancy sensor's recalibration (a gain ×0.75 or ×1.3,
// multiplicative noise of 0.125–0.375 in log units). The daily
// changepoint measures v − ref in units of its mean absolute size,
// which rush hours set; the thought was that a gain change at night is
// small against it. The one change tried: the residual as a log ratio,
// log(v/ref), in units of its own decayed mean |log(v/ref)| (the ratio
// changepoint's form), a row with ref ≤ 0 skipped. A Config field,
// DayShiftLog, off by default, on with --config '{"DayShiftLog":true}'.
// From
//
//	go build -o /tmp/team/logres-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/logres-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/logres-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/logres-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/logres-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// at 312a4a2, which reproduces the figures above (NAB 73.45 / 71.76 /
// 71.66 / 73.45, low-FP 66.97 / 65.08, 66 false-alarm rows; seeds 1–30
// 76.49 / 74.60 / 74.88 / 75.70, low-FP 69.59 / 66.54, low-FN 81.51 /
// 79.24, 3,990 false-alarm rows at 0.37). The gate: synthetic LOCO and
// label-free up, NAB LOCO, label-free and low-FP LOCO not down.
//   - With no floor on the log ratio's error scale (the raw form has
//     1e-9 + 1e-6·|slowMean|): NAB 73.05 / 71.36 / 71.26 / 73.05,
//     low-FP 66.17 / 64.28, 70 rows. art_daily_no_noise, flat to the
//     digit, gains an alarm (0 → −0.110).
//   - The candidate, the raw floor carried into log units (floor/ref):
//     NAB 73.15 / 71.46 / 71.36 / 73.15, low-FP 66.37 / 64.48, low-FN
//     77.86 / 76.12, 69 rows; seeds 1–30 76.30 / 74.52 / 74.95 / 75.55,
//     low-FP 69.13 / 66.01, low-FN 81.30 / 79.41, 4,107 rows at 0.37
//     (counts 1,811 → 1,879, shift 695 → 738, irregular 619 → 625,
//     hourly unchanged). Rejected at the gate on all five columns.
//
// What moved. NAB: two of its 20/80 square waves with additive noise
// gain a night-time alarm, art_daily_small_noise (0 → −0.220; 04-07
// 08:55 at 18.9 scores 0.075 → 0.470, 04-09 00:05 0.026 → 0.372) and
// art_daily_jumpsdown (0.861 → 0.751; 04-08 04:00 at 22.0, 0.068 →
// 0.440). Additive noise is four times larger, in log units, at 20
// than at 80, and the ±900 s reference mixes the 09:00 edge into
// 08:55. Synthetic (windows found at 0.37 within the window, by the
// planted kind; a scratch test re-draws the kinds): occupancy
// recalibrations 14 → 15 of 77 (4 gained, 3 lost; median lag 16 → 12
// rows), travel-time recalibrations 46 → 47 of 80, speed ones 46 of
// 64 both, one travel-time incident gained; one counts window and one
// shift step lost. The log form mends little because the raw form
// already sees the change: in the 6 hours after each of the 77 onsets
// the raw daily statistic's |EWMA| in its standard errors passes 4 in
// 68 (the log form 66).
//
// Where the occupancy recalibrations are lost instead (scratch
// diagnostics on seeds 1–30, the raw form at 312a4a2; nothing
// changed): 32 of the 77 are not counted for most of the 6 hours,
// because the reference forecasts worse than the level forecaster
// there; 23 of the 25 never counted begin on a Saturday or Sunday,
// all 25 before the weekly profile is ready, while the daily profile
// expects weekday rush hours. Of the 45 counted, the
// statistic passes 4 in 39 and 6 in 21, yet 10 are found. The tail
// decides: what a statistic of 7 would score at the onset (its tail's
// p-value alone, times its weight and the rate factor) has median
// 0.62 in the 22 counted before the weekly profile is ready (8 found)
// and 0.094 in the 23 after it (2 found; none of the 23 would alarm at
// 7). By then a median 29 % of the rows the tail has learned were rows
// it was not counting (its reference forecasting worse than the level
// forecaster, as on the weekends above), where the daily profile was
// wrong and the statistic large; before it, a median of none.
//
// Noticed, not touched: the daily changepoint's tail learns every row
// it scores, counted or not (observe's learning loop skips only rows
// before dayScored), so a weekend the daily profile mispredicts
// teaches it that large values are ordinary. Learning it only from
// counted rows is the next thing to try; it was not tried here (one
// change a round).
//
// The ninth of the anom rounds (branch countlearn; no code kept, not
// judged: seeds 161–170 stay unseen). Aim: the eighth round's lead,
// the daily changepoint's tail learning rows it does not count. The
// one change tried: that tail learns a row only when the statistic is
// counted (dayCounts: its reference forecasts better than the level
// forecaster and the statistic has had its own warm-up), so the tail
// describes the statistic where its p-values are used. No constant
// changed. A Config field, DayShiftLearnCounted, off by default, on
// with --config '{"DayShiftLearnCounted":true}'. From
//
//	go build -o /tmp/team/countlearn-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/countlearn-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/countlearn-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/countlearn-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/countlearn-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// at 94253bd, which reproduces the figures above (NAB 73.45 / 71.76 /
// 71.66 / 73.45, low-FP 66.97 / 65.08, low-FN 78.06 / 76.32, 66
// false-alarm rows; seeds 1–30 76.49 / 74.60 / 74.88 / 75.70, low-FP
// 69.59 / 66.54, low-FN 81.51 / 79.24, 3,990 false-alarm rows at
// 0.37). The gate: synthetic LOCO and label-free up, NAB LOCO,
// label-free and low-FP LOCO not down.
//   - The candidate: NAB 72.85 / 71.16 / 71.16 / 72.85, low-FP 65.57 /
//     63.88, low-FN 77.66 / 75.93, 74 rows; seeds 1–30 76.35 / 74.54 /
//     74.88 / 75.51, low-FP 69.19 / 66.03, low-FN 81.36 / 79.09, 4,071
//     rows at 0.37 (counts 1,811 → 1,889, irregular 619 → 623, shift
//     695 → 694, hourly unchanged). Rejected at the gate on all five
//     columns. Package tests with it on by default: one alarm on an
//     unchanged series in TestDailyChangepointFindsARecalibration
//     (want none; 17 of 20 found either way); TestFewerEarlyFalseAlarms
//     23 → 18 of bound 25.
//
// What moved. NAB: the square waves art_daily_jumpsdown (0.861 →
// 0.421; alarms at 04-03 13:20, 04-04 11:40, 04-06 11:25, 04-08 11:20)
// and art_daily_jumpsup (0.751 → 0.641; 04-03 06:30) and
// art_daily_small_noise (0 → −0.110; 04-07 17:55) gain day-time alarms
// in their first eight days, and cpu_utilization_asg_misconfiguration one on
// 06-11 15:09 (−0.006 → −0.116). Synthetic (windows found at 0.37, by
// the planted kind; the eighth round's scratch script re-drawing the
// kinds): occupancy recalibrations 14 → 12 of 77 (2 gained, 4 lost),
// travel-time ones 46 → 45 of 80, speed ones 46 → 47 of 64, shift
// windows 672 → 671.
//
// Why (scratch diagnostics, nothing kept). The rows dropped are of two
// kinds: those before the statistic's own warm-up ends (ndayErr below
// the detector's warm-up; about a day of 5-minute data right after the
// daily profile is ready, when the statistic is still large) and those
// where the reference forecasts worse than the level forecaster.
// Dropping only the second kind (a diagnostic, not a candidate): NAB
// 73.25 / 71.56 / 71.46 / 73.25, low-FP 66.57 / 64.68, 68 rows
// (asg_misconfiguration's alarm above, and ec2_disk_write_bytes_1ef3de
// 0.804 → 0.694 with an alarm on 03-06 00:54); seeds 1–30 76.57 /
// 74.76 / 75.20 / 75.85, occupancy recalibrations 14 of 77 both,
// travel-time ones 46 → 49. So the square waves' new alarms come from
// the first kind: a tail that starts learning only when counting
// starts is young when the first week's ordinary day-time values
// arrive. And the second kind, though it helps the synthetic corpus,
// still costs NAB. On the occupancy recalibrations the change does
// what the eighth round expected of the tail and no more: of the 23
// counted after the weekly profile is ready, what a statistic of 7
// would score at the onset has median 0.094 → 0.177, and 6 rather
// than none would alarm at 7, yet 2 are found either way (and 8 of the
// 22 counted before it). The counted rows alone already hold values
// large enough to make the recalibration's statistic look ordinary.
//
// Noticed, not touched: on travelTimes (the dayshift test's series), a
// ×1.3 recalibration at 22:00 on the second Monday, Tuesday or
// Wednesday, after the first weekend, is found within 6 hours in none
// of 20 (2 of 20 with the change), against 17 of 20 on the first
// Thursday (a scratch test; no holdoff hides them: at main no row of
// the 6 hours scores 0.37 even before damping). The first weekend and the week after it, not the
// tail's inputs alone, are where the daily changepoint loses its
// recalibrations.
//
// The tenth of the anom rounds (branch week2; no code kept, not judged:
// seeds 161–170 stay unseen). Aim: the ninth round's last note. On
// travelTimes a ×1.3 recalibration at 22:00 is found within 6 hours in
// 17 of 20 on the first Thursday and in none of 20 on the second
// Monday, Tuesday, Wednesday or Thursday (2 on the second Friday).
//
// Why (scratch tests on travelTimes, nothing kept; the quantities
// printed every half hour around a second Tuesday's onset for seeds
// 1–4, on the count scale). Not the counting: the reference is the
// weekly profile from the second Monday 00:00, its error 0.44 against
// the level forecaster's 1.09–1.20, so the statistic is counted. Not
// the weekly profile's slots: before the onset the residual against
// them stays within about two error scales. Not the error scale:
// dayErr is 0.44–0.47 at the onset, 0.38–0.45 on the first Thursday
// (its memory is about 8 hours, the weekend long gone). The statistic
// sees the change: it passes 6 within an hour, 7 within 90 minutes,
// and reaches 8–10 in the second hour. The tail does not: at the onset
// a statistic of 7 would score 0.084–0.089 (tail threshold 6.1, mean
// excess 2.9–3.2), against 0.47–1 on the first Thursday (threshold
// 2.2–4.1, mean excess 0.2–0.5). Of the about 2,270 rows the tail has learned by the second
// Tuesday's evening, every one with a statistic above 6 (110, 109 and
// 110 in seeds 1–3) falls on the first weekend, Saturday morning to
// Sunday night, while the reference is still the daily profile and
// expects weekday rush hours; most are not counted (7 or fewer, early
// on Saturday, are). No weekday row passes 6, before or after the
// weekly profile takes over. So the tail still holds the first
// weekend's residuals against a profile the detector has since
// replaced.
//
// The one change tried: when the reference becomes the weekly profile,
// the daily changepoint's tail starts again, and the statistic is
// counted again only after a fresh warm-up (the detector's, 300 rows
// of 5-minute data). A new reference makes a new statistic; the old
// tail does not describe it. No constant added. A Config field,
// DayShiftWeekRestart, off by default, on with --config
// '{"DayShiftWeekRestart":true}' (the diff is kept at
// /tmp/team/week2-candidate.diff). From
//
//	go build -o /tmp/team/week2-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/week2-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/week2-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/week2-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/week2-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// at c51a07d, which reproduces the figures above (NAB 73.45 / 71.76 /
// 71.66 / 73.45, low-FP 66.97 / 65.08, low-FN 78.06 / 76.32, 66
// false-alarm rows; seeds 1–30 76.49 / 74.60 / 74.88 / 75.70, low-FP
// 69.59 / 66.54, low-FN 81.51 / 79.24, 3,990 false-alarm rows at
// 0.37). The gate: synthetic LOCO and label-free up, NAB LOCO,
// label-free and low-FP LOCO not down.
//   - The candidate: NAB 73.35 / 71.66 / 71.56 / 73.35, low-FP 66.77 /
//     64.88, low-FN 77.99 / 76.26, 67 rows; seeds 1–30 76.41 / 74.44 /
//     74.71 / 75.60, low-FP 69.50 / 66.51, low-FN 81.47 / 79.29, 4,037
//     rows at 0.37 (counts 1,811 → 1,838, irregular 619 → 635, shift
//     695 → 699, hourly unchanged). Rejected at the gate on all five
//     columns.
//   - A diagnostic, not a candidate: the tail started again with no
//     fresh warm-up (counted at once). NAB 72.95 / 71.26 / 71.16 /
//     72.95, low-FP 65.97 / 64.08, 71 rows (the square waves
//     art_daily_jumpsdown 0.861 → 0.751, art_daily_jumpsup and
//     art_daily_nojump 0.751 → 0.641, and grok_asg_anomaly 0.504 →
//     0.394 gain alarms); seeds 1–30 76.41 / 74.37 / 74.87 / 75.65,
//     4,080 rows. A young tail that is counted at once costs more.
//
// What moved. On travelTimes (×1.3 at 22:00, found within 6 hours of
// 20, main → candidate): second Monday 0 → 0 (still in the fresh
// warm-up), Tuesday 0 → 4, Wednesday 0 → 13, Thursday 0 → 18, Friday
// 2 → 18; the first week unchanged (Thursday and Friday 17, Saturday
// 7, Sunday 10); the unchanged series alarm in those hours only on the
// first Friday (1 both). So the unit test the round set out to add (a
// second Tuesday, most of 20 found) fails with the change too. On the
// second Tuesday counting began again 20 hours before the onset and
// the tail has about 540 rows; it learns the recalibration's own
// statistic fast (seed 1: its threshold 2.7 at the onset, 6.1 three
// hours later), where the first Thursday's tail had about 830 rows. NAB: one false alarm,
// art_daily_small_noise 0 → −0.110 (04-09 14:00 scores 0.307 →
// 0.412), about 12 hours after counting began again (the file starts on
// Tuesday 04-01, the weekly profile is ready on 04-08). Synthetic
// (windows found at 0.37 within the window, by the planted kind; the
// eighth round's scratch script): recalibrations that begin on or
// after 03-12, the day after the irregular family's weekly profile is
// ready, are 38 of 221 (occupancy 14, speed 11, travel 13), found 13
// → 15 (occupancy 2 → 3, speed 6 → 7, travel 5 both); the 183 before
// it unchanged (93). Lost: two shift windows that begin on Monday
// 03-11, the day the statistic is not counted (seed 8 Shift_11, seed
// 10 Shift_08), one on 03-14 (seed 8 Shift_08) and one occupancy
// incident (seed 10 Irregular_05); gained: one shift window, one
// counts window. False-alarm rows after probation: counts 1,526 →
// 1,553, occupancy 249 → 255, speed 149 → 153, travel 146 → 152,
// shift 695 → 699.
//
// Noticed, not touched: the synthetic corpus holds few of the cases
// this round aimed at (38 of its 221 recalibrations begin after the
// first weekend's switch), so its figures can only lose on this
// change's cost. The change does what the diagnosis says from the
// second Wednesday on; what it cannot mend is a tail that must be young
// when the reference changes. The ninth round's tail, learning only
// counted rows, was young at its start the same way. Weighting the old
// tail down at the switch, rather than dropping it, was not tried: it
// needs a constant.
//
// The eleventh of the anom rounds (branch wkend; no code kept, not
// judged: seeds 161–170 stay unseen). Aim: the sixth round's first
// weekend and the tenth round's diagnosis, with one change. The daily
// profile is learned on weekdays in a first week, so it is no
// reference for the first Saturday and Sunday: a weekend without rush
// hours looks like a shift (the sixth round's cost), and those rows
// fill the daily changepoint's tail with about 110 statistics above 6
// that hide the second week's recalibrations (the tenth's diagnosis).
//
// The one change tried: on a Saturday or Sunday (UTC) while the
// reference is still the daily profile (the weekly profile not ready),
// the daily changepoint is skipped: neither counted nor learned, its
// EWMA, its error scale dayErr and its tail left as they were. The
// rest of the detector unchanged. No constant added. A Config field,
// DayShiftWeekendWait, off by default, on with --config
// '{"DayShiftWeekendWait":true}' (the diff is kept at
// /tmp/team/wkend-candidate.diff). From
//
//	go build -o /tmp/team/wkend-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/wkend-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/wkend-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/wkend-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/wkend-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// at 9f6aae8, which reproduces the figures above (NAB 73.45 / 71.76 /
// 71.66 / 73.45, low-FP 66.97 / 65.08, low-FN 78.06 / 76.32; seeds
// 1–30 76.49 / 74.60 / 74.88 / 75.70, low-FP 69.59 / 66.54, low-FN
// 81.51 / 79.24, 3,990 false-alarm rows at 0.37). The gate: synthetic
// LOCO and label-free up, NAB LOCO, label-free and low-FP LOCO not
// down.
//   - The candidate: NAB 73.35 / 71.66 / 71.56 / 73.35, low-FP 66.77 /
//     64.88, low-FN 77.99 / 76.26 (one more false alarm, 129
//     detections after probation against 128); seeds 1–30 76.52 /
//     74.59 / 75.20 / 75.75, low-FP 69.58 / 66.44, low-FN 81.58 /
//     79.33, 3,977 rows at 0.37 (counts 1,811 → 1,826, irregular 619 →
//     580, shift 695 → 706, hourly 865 both). Rejected at the gate:
//     NAB LOCO, label-free and low-FP LOCO down, synthetic LOCO down
//     by 0.01 (label-free up 0.05, LOFO up 0.32).
//
// What moved. On travelTimes (×1.3 at 22:00, found within 6 hours of
// 20, main → candidate; scratch test, nothing kept): first Thursday
// and Friday 17 both; second Monday 0 → 15, Tuesday 0 → 17,
// Wednesday 0 → 19, Thursday 0 → 18, Friday 2 → 17. The unchanged
// series alarm in those hours only on the first Friday (1 both). So
// the change does what the tenth round's diagnosis says, from the
// second Monday on, with no fresh warm-up. The package tests pass with
// it on by default: TestTravelTimesJudgedByProportion 5 of 20 found
// with 45 false alarms (2 and 48 at main; square-root scale 1 and 47,
// at main 0 and 50), so the sixth round's old bounds (found >= 4,
// alarms <= 40) would hold for the found but not for the alarms;
// TestDailyChangepointFindsARecalibration 17 of 20, no alarm on the
// unchanged series (as at main); TestFewerEarlyFalseAlarms passes (its
// three days hold no weekend).
//
// Where it costs. Alarm rows (score >= 0.37, inside windows or not,
// all 30 seeds; the files start on Monday 03-04, the weekly profile
// is ready on Monday 03-11), main → candidate. The first weekend
// gains as meant: irregular Saturday 261 → 189, shift Saturday 126 →
// 116 and Sunday 115 → 112. The switch day loses: Monday 03-11 shift
// 148 → 171, counts 146 → 154, irregular 254 → 263 (irregular also
// 80 → 86, 42 → 49, 32 → 35 and 8 → 12 on 03-12 to 03-15, some of them
// recalibrations found). On NAB the one new alarm is the same kind:
// art_daily_jumpsup 0.751 → 0.641, 04-08 12:10 scores 0.280 → 0.381,
// twelve hours after the weekly profile took over (the file starts on
// Tuesday 04-01). There the statistic is the same at main and with
// the change (the EWMA's memory is hours: 0.72 in its units, about 4.5
// as scored, dayErr 2.29 both); only its tail differs. So the first
// weekend's rows, wrong as they are, did a second job at main: they
// kept the tail wide when the reference switches to a weekly profile
// that has seen each slot once, and whose residuals on its first day
// are larger than the smoothed daily profile's. Without them a young
// weekly reference's first swings look rare.
//
// Noticed, not touched: the tenth round (a fresh tail at the switch)
// and this one (no weekend in the tail) meet the same cost from two
// sides: at the switch the tail holds nothing that describes residuals
// against a weekly profile one week old. What would describe them is
// the weekly profile's own first days, which no tail has seen. The
// synthetic corpus starts every file on a Monday, so its first weekend
// and its switch day fall on the same dates in every seed.
//
// The twelfth of the anom rounds (branch agetail; no code kept, not
// judged: seeds 161–170 stay unseen). Aim: the step between the tenth
// round (the tail started again at the switch) and the eleventh (no
// first weekend in the tail). At the moment the daily changepoint's
// reference becomes the weekly profile, what its tail learned against
// the daily profile stays only as a prior worth at most one day of
// rows (86400 seconds over the sampling step: 288 on 5-minute data).
// The old rows describe a different statistic; they should guide the
// new reference's first days, not outvote them.
//
// The one change tried: a tail method, shrink(maxRows), that scales
// every count, the total and the excess count nexc alike when the
// tail's decayed weight (total over the next row's weight) is larger,
// and sums the mass above the threshold again. The quantile, the
// threshold bin and the mean excess do not move. The detector calls it
// once, on the daily changepoint's tail, on the first row whose
// reference is the weekly profile. No constant added. A Config field,
// DayShiftWeekPrior, off by default, on with --config
// '{"DayShiftWeekPrior":true}' (the diff is kept at
// /tmp/team/agetail-candidate.diff, the scratch tests at
// /tmp/team/agetail-scratch). From
//
//	go build -o /tmp/team/agetail-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/agetail-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/agetail-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/agetail-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/agetail-res/TAG/synth --label-free-rate 0.1 --calibration --config '{...}'
//
// at 5c5846d, which reproduces the figures above (NAB 73.45 / 71.76 /
// 71.66 / 73.45, low-FP 66.97 / 65.08, low-FN 78.06 / 76.32, 66
// false-alarm rows; seeds 1–30 76.49 / 74.60 / 74.88 / 75.70, low-FP
// 69.59 / 66.54, low-FN 81.51 / 79.24, 3,990 false-alarm rows at
// 0.37). The gate: synthetic LOCO and label-free up, NAB LOCO,
// label-free and low-FP LOCO not down.
//   - The candidate: NAB the same on every file and column (73.45 /
//     71.76 / 71.66 / 73.45, low-FP 66.97 / 65.08, 66 rows; 18 files'
//     scores move, by up to 0.16, and no row crosses 0.37); seeds 1–30
//     76.46 / 74.52 / 74.87 / 75.66, low-FP 69.52 / 66.43, low-FN
//     81.45 / 79.23, 3,985 rows at 0.37 (counts 1,811 → 1,809, shift
//     695 → 692, irregular and hourly unchanged). Rejected at the
//     gate: synthetic LOCO −0.08 and label-free −0.04 (shift LOCO
//     79.64 → 79.37 and label-free 81.25 → 80.92; counts label-free
//     72.39 → 72.53). The package tests pass with it on by default:
//     TestTravelTimesJudgedByProportion 2 of 20 found with 48 false
//     alarms (as at main), TestDailyChangepointFindsARecalibration 17
//     of 20 with no alarm on the unchanged series (as at main),
//     TestFewerEarlyFalseAlarms passes.
//
// What moved. On travelTimes (×1.3 at 22:00, found within 6 hours of
// 20, main → candidate; scratch test, nothing kept): first Thursday
// and Friday 17 both; second Monday to Friday 0 / 0 / 0 / 0 / 2 both.
// The target did not move at all. In the synthetic corpus (windows
// found at 0.37, scratch comparison of the two runs) the windows that
// change are mostly shift windows that begin within days of the
// switch, Monday 03-11: three lost (seed 8 Shift_11 and seed 10
// Shift_08 on 03-11, seed 8 Shift_08 on 03-14), one gained (seed 2
// Shift_08, 03-16), nine found later than at main (up to 11 hours:
// seed 19 Shift_06, 03-12 10:45 → 21:50) and three earlier. Counts:
// one gained (seed 25 Counts_11, 04-03), two found later and two
// earlier, by minutes to hours.
//
// Why (scratch diagnostics on travelTimes seeds 1–3 and on seed 10
// Shift_08). Scaling keeps each bin's share of the tail, and the
// share is what the histogram part of the p-value reads; the tail is
// never rarer than what its histogram counted. On travelTimes the tail
// holds 1,677 rows at the switch, 126 of them above 6 (7.5 %); after
// the shrink 289 rows, 21.6 above 6, the same 7.5 %. By the second
// Tuesday's onset it has 820 rows, 21 above 6 (2.6 %, against 5.6 %
// at main): a statistic of 7 scores 0.14 (0.085 at main). For 0.37 a
// daily changepoint's tail probability must be below about 0.00086
// (weight 7, 5-minute data), so the old weekend rows, at any weight
// that leaves them a share above that, keep the recalibration
// ordinary; the shrink only makes new rows outweigh them sooner. And
// new rows include the recalibration's own: in its first four hours
// the tail learns 42 rows above 6 of the change itself, twice what
// the prior kept. On
// a series whose first weekend is no shift (seed 10 Shift_08: 1,667
// rows, 2.9 above 6) the shrink costs what it cannot give back: the
// evidence that large values are rare. Its floor, one row in the
// tail's weight, rises from 1/1,668 to 1/290; a statistic of 7 scores
// 0.50 rather than 0.60 at the switch; and the shift that begins at
// 02:10 fills the small tail with its own rows: at 08:30 a statistic
// of 7 scores 0.39 (0.53 at main), and where main alarms, 08:45
// (statistic 6.4, score 0.42), the candidate does not; no row of the
// window reaches 0.37. The tail method did what it was asked (a
// scratch test on 2,000 rows of |2·N(0,1)|: weight 1,932 → 288, the
// threshold bin and the share above it unchanged, p-values at 1–7
// within 13 %; at 9 lower, 0.00076 → 0.00032, where the histogram's
// share falls under half the raised floor and the exponential takes
// over).
//
// Noticed, not touched: weighting the old tail down is not between
// the tenth and eleventh rounds in effect. Their gains on travelTimes
// came from tails with no first-weekend rows at all; any prior that
// keeps those rows' share above the 0.37 level (about one row in a
// thousand) leaves the second week as it is, and any prior small
// enough to free it is a restart, with the tenth round's young-tail
// cost. What the tail lacks at the switch is not less old evidence but
// evidence on the new statistic; the weekly profile's first week,
// replayed against itself, is the only source of it, and no detector
// keeps those residuals.
//
// The thirteenth of the anom rounds (branch daykind; kept: the day
// kinds, Config.DayShiftDayKind, on in the defaults; judged on phased
// seeds 161–170). Aim: issue 12 on series that start on any day, as
// real ones do. Phased (see Start phase), main loses about 2.5 points
// on seeds 1–30, and the part that holds on seeds 31–60 is the
// irregular family's missed level changes, dearest when a file starts
// on a Saturday or Sunday.
//
// Why (a scratch test, nothing kept: seeds 1–30 phased, every
// irregular window around whose centre a day's mean moves by more
// than 12 %, each row's daily changepoint printed: its statistic, its
// tail probability as it would score, whether it was counted and why
// not). Of the 48 such windows missed in files that start on a
// Saturday or Sunday, in 47 no row's tail probability would reach
// 0.37, counted or not, though the statistic is high (its best in
// the window 9.0 in units of its EWMA's spread, median; 8 or more in
// 29): the tail's threshold is 4.1–11.1 (median 9.1), and a median
// 3.8 % of the rows it has learned (quartiles 0.6–8.9 %) lie above
// the window's best statistic. At that best row 23 of the 47 were
// not counted either (the reference's error above the level
// forecaster's); one window would have scored but was not counted;
// none was lost to the warm-up. The tail rows above (3,724 in those
// windows) are rows of the other kind of day than the file's first:
// 3,366 are weekdays of the file's first week, against a daily
// profile whose slots were first learned on a Saturday or Sunday and
// move a tenth of the way a day, so every weekday rush hour is a
// shift. In files that start on a weekday, 52 % of such rows (4,124
// of 7,925) are the first weekend's, the rest weekdays, judged by a
// profile the weekend has moved or has yet to. So the
// statistic is high, not low; it is unscored because the tail is
// full, of days judged against a reference learned on the other
// kind. Monday 00:00 starts, unphased, have tail thresholds of 3.3
// (median) in the first week's windows they find, with no learned
// row above the window's statistic (5.5 and 2 in those they miss).
//
// The change: until the weekly profile is ready, the daily
// changepoint's reference is a profile of the row's own kind of day,
// weekdays or Saturday and Sunday (UTC), over the daily profile's
// level, at the weekly profile's slot width (48 half hours), each
// slot the mean of its readings in its kind's first day and then
// learned at SeasonAlpha, clipped as the profiles are, with its own
// mean absolute error for the counting rule. A row of a kind whose
// profile has not yet seen a whole day (its rows' steps summed) is
// neither counted nor learned; the rows of a kind are counted only
// after its profile has had a warm-up of its own, as many rows as
// the detector's (the second variant; the first had none). No
// constant added: the calendar's two kinds of day, the weekly
// profile's slots, the existing warm-up. A Config field, off until
// kept, on with --config '{"DayShiftDayKind":true}'. From
//
//	go build -o /tmp/team/daykind-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/daykind-bin-main nab --synth /tmp/team/daykind-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/daykind-res/gen1 --label-free-rate 0.1 --synth-phase
//	GOMAXPROCS=1 /tmp/team/daykind-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/daykind-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/daykind-bin-TAG nab --synth /tmp/team/daykind-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/daykind-res/TAG/synthP --label-free-rate 0.1 --calibration --synth-phase --config '{...}'
//	GOMAXPROCS=1 /tmp/team/daykind-bin-TAG nab --synth /tmp/team/resid-synth-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/daykind-res/TAG/synthU --label-free-rate 0.1 --calibration --config '{...}'
//
// at 62cda7b, which reproduces the figures above (NAB 73.45 / 71.76
// / 71.66 / 73.45, low-FP 66.97 / 65.08, 66 false-alarm rows; phased
// seeds 1–30 73.94 / 71.80 / 72.09 / 73.14, irregular 66.11 / 63.16 /
// 63.81 / 64.65, low-FP 66.83 / 63.00, 4,116 false-alarm rows at
// 0.37; unphased 76.49 / 74.60 / 74.88 / 75.70; in-sample / LOCO /
// LOFO / label-free). The gate, fixed before any run: phased LOCO and
// label-free up, NAB LOCO, label-free and low-FP LOCO not down;
// unphased reported.
//   - No warm-up of a kind's own: phased 74.67 / 72.19 / 72.79 / 73.89
//     (irregular 69.26 / 66.36 / 67.16 / 67.97, counts 71.18 / 67.44 /
//     68.51 / 70.32, shift 79.11 / 76.67 / 77.73 / 78.29), low-FP
//     67.48 / 64.02, 4,145 rows; NAB 73.37 / 71.68 / 71.58 / 73.37,
//     low-FP 66.81 / 64.92, 67 rows. Down on NAB: art_noisy loses a
//     false alarm, but ec2_cpu_utilization_fe7f93 (starts Friday 14:27)
//     gains one on Monday 16:37, two hours after its weekday profile,
//     half Friday afternoon and half Monday morning, had seen a whole
//     day, and machine_temperature_system_failure (starts Monday) one
//     on its first Sunday, 15:35, judged against the one Saturday: a
//     young profile's first residuals, counted at once.
//   - With it, the candidate: phased 74.59 / 72.27 / 72.53 / 73.82
//     (LOCO +0.47, label-free +0.68), low-FP 67.49 / 64.07 / 64.95 /
//     66.23, low-FN 79.78 / 77.23 / 78.30 / 78.57, 4,094 rows
//     (irregular 615 → 579, counts 1,840 → 1,854, shift and hourly
//     unchanged); by family, irregular 68.83 / 66.08 / 66.52 / 67.50,
//     counts 71.06 / 67.66 / 68.37 / 70.48, hourly 79.24 / 78.15 /
//     77.69 / 78.99 (its files do not get the statistic; the shared
//     thresholds move), shift 79.22 / 77.20 / 77.54 / 78.32. NAB
//     73.55 / 71.86 / 71.76 / 73.55, low-FP 67.17 / 65.28, low-FN
//     78.12 / 76.39, 65 rows: only art_noisy moves (−0.110 → 0). It
//     passed the gate. Unphased (Monday 00:00, not gating): 76.33 /
//     74.75 / 74.78 / 75.45 (LOCO +0.15, label-free −0.25; irregular
//     70.99 / 69.02 / 69.10 / 69.29, 619 → 564 rows; counts 73.43 /
//     70.86 / 71.14 / 72.21, 1,811 → 1,852 rows; shift 81.39 / 80.36 /
//     80.17 / 81.13, 695 → 716 rows), low-FP 69.25 / 65.93, 3,990 →
//     3,997 rows: where every file starts on a Monday, the first
//     weekdays had a reference of their kind already, and the change
//     mostly leaves the first weekend out, for want of a whole
//     weekend day and then of its own warm-up.
//
// What moved (the scratch test again, the candidate): level-change
// windows found at 0.37 in files that start on a Saturday or Sunday
// 55 → 69 of 103, in files that start on a weekday 168 → 169 of 277;
// in the Saturday and Sunday starts' missed windows the tail's
// threshold falls to 6.1 (median) with 4 learned rows above the
// window's statistic in the first week (9.1 and 20 at main), 6.2 and
// 53 after it (7.4 and 71). On travelTimes (×1.3 at 22:00, found
// within 6 hours of 20; scratch tests, nothing kept),
// series that start on Monday 00:00: first Thursday and Friday 17 →
// 18 each, second Monday to Friday 0 / 0 / 0 / 0 / 2 → 6 / 5 / 5 / 8
// / 10 (the eleventh round, which left the whole first weekend out,
// had 15–19; here the first Sunday is learned, against the Saturday,
// and what that costs was not measured); series
// that start on Saturday 00:00: 0 on every day from the first Monday
// to the second Friday, now 0 / 0 on the first Monday and Tuesday
// (the weekday profile is ready on Tuesday, counted from Wednesday
// 01:00), then 7 / 9 / 8 on Wednesday to Friday, 12 / 9 on the
// weekend, 11 / 14 / 10 / 13 / 10 in the second week. The unchanged
// series raise no alarm in those hours, but for one on the first
// Friday of the Monday starts (both). The package tests pass with it
// on: TestTravelTimesJudgedByProportion 5 of 20 found with 43 false
// alarms (2 and 48 at main; square-root scale 1 and 44), within its
// bounds, which stay; TestDailyChangepointFindsARecalibration 18 of
// 20 (17), no alarm on the unchanged series; TestFewerEarlyFalseAlarms
// 20 alarms (23; bound 25). New, TestDayKindAfterAWeekendStart: the
// Thursday recalibration on series that start on a Saturday, 0 of 20
// found at main, 9 with the day kinds (bound 6). Speed and memory
// (BenchmarkObserve and BenchmarkObserveSynth, GOMAXPROCS=1, 6 runs
// each, interleaved, load about 1, ~/go/bin/benchstat): 477–607 →
// 494–663 ns and 506–610 → 525–662 ns per observation, no significant
// change (p = 0.13 and 0.31), no allocations; state 6,784 → 7,224
// bytes (two profiles of 48 float32 and three numbers each), which put
// a Detector in Go's 8,192-byte class again (with the 8-byte header of
// a large object with pointers) and the anomaly service's TestBudget
// past its 8 KB per metric (8,364 B). Since, detectors share one Config
// (a pointer, not a 320-byte copy) and the bools sit together: 6,896
// bytes, the 6,912-byte class, 49,590 B a tier (49,593 before the day
// kinds); TestDetectorStateSize now bounds a new detector's heap bytes.
//
// Judged once on phased seeds 161–170, which nobody had looked at,
// before and after:
//
//	GOMAXPROCS=1 /tmp/team/daykind-bin-TAG nab --synth /tmp/team/daykind-synthP-161-170 --seeds 161-170 --per-family 12 --out /tmp/team/daykind-res/TAG/j161 --label-free-rate 0.1 --synth-phase
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              73.91     70.00   70.52    73.25    (73.99 / 70.27 / 72.25 / 73.40)
//	synthHourly              79.94     78.80   78.65    79.45    (80.26 / 79.45 / 79.35 / 79.45)
//	synthIrregular           65.65     64.63   64.24    64.21    (64.77 / 62.64 / 62.34 / 62.31)
//	synthShift               79.78     77.59   77.53    78.18    (79.30 / 76.29 / 77.15 / 77.97)
//	all                      74.82     72.75   72.73    73.77    (74.58 / 72.16 / 72.77 / 73.28)
//	all, reward_low_FP       67.43     63.86   64.51    66.08    (67.14 / 63.80 / 64.75 / 65.54)
//	all, reward_low_FN       80.04     78.10   78.33    78.55    (79.72 / 77.64 / 78.44 / 78.06)
//
// LOCO +0.59 and label-free +0.49, so it is kept, on by default. Of
// the 28 figures, 17 are higher, 10 lower and one the same: every
// counts figure (LOFO −1.73), hourly's in-sample, LOCO and LOFO (its
// scores do not change, its label-free is the same; the thresholds
// chosen on the other families move), and the all rows' LOFO (−0.04,
// −0.24, −0.11).
//
// Noticed, not touched: the counts family loses on both corpora (its
// files are 5-minute series and get the statistic; why it loses was
// not measured). A kind profile's half-hour
// slot learns at SeasonAlpha from each of its readings, six a day on
// 5-minute data, where a daily slot learns from one: it takes a
// recalibration in faster than the daily profile did, in the days
// before the weekly profile is ready. The kind profiles sit on the
// daily profile's level, which the daily profile's own weekday and
// weekend mismatch drags in a first week; a level of their own would
// cost two numbers more and was not tried. A kind's first whole day
// may be pieced from two calendar days (a Friday afternoon and a
// Monday morning), which is what cost fe7f93 without the warm-up.
// The membudget TestBudget was not run (not this package's; 440 more
// bytes a metric, about 7.5 KB of its 8 KB per metric by the last
// measured overhead).
//
// The fourteenth of the anom rounds (branch countkind; no code kept,
// not judged: phased seeds 171–180 were not generated and stay
// unseen). Aim: the thirteenth round's last note, why the counts
// family loses with the day kinds. Measured on phased seeds 1–30
// (the thirteenth round's corpus, not regenerated), main (b4bc93c)
// against --config '{"DayShiftDayKind":false}'. From
//
//	go build -o /tmp/team/countkind-bin-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/countkind-bin-TAG nab --data /work/shared/data/nab/data --out /tmp/team/countkind-res/TAG/nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file --config '{...}'
//	GOMAXPROCS=1 /tmp/team/countkind-bin-TAG nab --synth /tmp/team/daykind-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/countkind-res/TAG/synthP --label-free-rate 0.1 --calibration --synth-phase --config '{...}'
//
// main gives NAB 73.55 / 71.86 / 71.76 / 73.55, low-FP 67.17 / 65.28,
// 65 false-alarm rows; phased 74.59 / 72.27 / 72.53 / 73.82, counts
// 71.06 / 67.66 / 68.37 / 70.48 with 1,854 false-alarm rows at 0.37.
// Without the day kinds: phased 73.94 / 71.80 / 72.09 / 73.14, counts
// 71.46 / 68.43 / 69.15 / 70.58 with 1,840 rows.
//
// First, a premise that does not hold. Every counts file gets the
// daily changepoint, not only the busy ones: the count scale maps a
// zero to 2√(3/8) (or its negative-binomial form), which is positive,
// so a zero never marks a count series non-positive. All 390 files
// are scored by it; 384 have zeros, 160 are on Anscombe's scale.
//
// Where the loss comes from. A scratch binary flipped the day kinds
// for the counts files only (everything else as main): all 74.64 /
// 72.35 / 72.78 / 73.85, counts 71.23 / 67.96 / 68.90 / 70.58. So of
// the counts LOCO loss (−0.77), −0.47 is the other families' choice
// of threshold and −0.30 the counts files' own scores; of LOFO
// (−0.78), −0.25 and −0.53; of in-sample (−0.40), −0.23 and −0.17;
// label-free (−0.10) is all their own. Each seed's counts LOCO
// threshold, chosen on the other three families, moved in 13 seeds:
// 7 down by 0.005–0.034 (seed 1 0.341 → 0.307) and 6 up by
// 0.001–0.027. The counts curve is steep below 0.37 and flat above
// (0.32: 61.55 → 61.41, 0.37: 70.58 → 70.48, 0.40: 67.94 → 67.74;
// best 0.385 both, 73.38 → 73.36), so the falls cost more than the
// rises give. At fixed thresholds counts loses 0.20 or less from 0.32
// up (0.14 at 0.32, 0.10 at 0.37, 0.20 at 0.40), 0.35 and 0.66 at 0.28
// and 0.30.
//
// The counts files' own part (a scratch test replaying the 390 files
// both ways, nothing kept; rows after probation outside the windows,
// at 0.37). No window is found or lost; 2 are found later (5 and 50
// minutes) and 4 earlier. 49 false-alarm rows appear only with the
// day kinds and 35 only without (1,840 → 1,854); 43 and 24 of them
// are led by the daily changepoint. Before the weekly profile is
// ready, 26 against 21, all 26 on weekdays, 25 of them counted rows:
// 14 before the weekday kind had judged 600 of its rows (it counts
// from the 300th), 12 between 600 and 1,200, none later. After it,
// 23 against 14, 9 against 4 within a day of the switch. On
// Anscombe's scale 22 against 13; on the negative-binomial
// scale 27 against 22. Weekend rows 11 against 12: not the weekend
// dip. In the first week the kind reference is counted on 259,651
// rows (88,871 for the smoothed daily profile) with a mean statistic
// of 1.20 (1.53): it forecasts better than the level forecaster far
// more often, and its residuals are smaller. So the daily
// changepoint's tail learns a lighter first week. At the switch to the
// weekly profile its threshold is 4.07 → 3.33 (median of 390), and a
// statistic of 6 has tail probability 0.0113 → 0.0036 (8: 0.00033 →
// 0.00005). The weekly profile's first slots are each the mean of one
// day's six readings, where the weekday kind had learned from five
// days; its residuals were not measured, but the extra alarms after
// the switch (and the variant below) say they are scored as rarer than
// they are. The cost is small in rows (14 of 1,840) and larger in
// LOCO, where the other families pull the threshold down into counts'
// steep part. Not isolated: the kinds' first-day means as such, and
// the count scale's units against the kinds' (both scales lose rows,
// the Anscombe files more).
//
// The one variant tried: a Config field, DayShiftKindKeep (off by
// default), under which the kinds keep learning after the weekly
// profile is ready and a row's kind stays the daily changepoint's
// reference while its mean absolute error is below the weekly
// profile's. No constant added: the same rule that lets a reference
// count only while it beats the level forecaster. The diff is kept at
// /tmp/team/countkind-candidate.diff. The gate, fixed before the run:
// phased LOCO and label-free up, NAB LOCO, label-free and low-FP LOCO
// not down. With --config '{"DayShiftKindKeep":true}':
//   - NAB 73.69 / 72.00 / 71.90 / 73.69, low-FP 67.31 / 65.42, low-FN
//     78.22 / 76.48, 65 rows; only art_load_balancer_spikes moves
//     (0.509 → 0.662).
//   - Phased 74.72 / 72.26 / 72.90 / 73.94 (LOCO −0.01, label-free
//     +0.12), low-FP 67.63 / 63.96 / 64.95 / 66.39, low-FN 79.92 /
//     77.61 / 78.25 / 78.68, 4,094 → 4,073 rows at 0.37. By family:
//     counts 71.52 / 67.77 / 69.22 / 70.71, shift 79.45 / 77.28 /
//     77.96 / 78.53, irregular 68.81 / 65.90 / 66.57 / 67.52, hourly
//     79.10 / 78.07 / 77.84 / 78.99 (its scores do not change; the
//     thresholds chosen on the others do).
//   - After the weekly profile is ready a kind stays the reference on
//     62 % of the counts rows, 70 % of shift's and 60 % of irregular's.
//     Windows at 0.37 (scratch comparison with main): counts 4 found
//     and 2 lost, 11 earlier and 4 later, 1 more false-alarm row;
//     shift 1 found, 9 earlier and 16 later, 19 fewer rows (14 of them
//     on the switch day); irregular 1 found and 1 lost, 3 fewer rows.
//
// Rejected at the gate: phased LOCO 72.27 → 72.26 (irregular 66.08 →
// 65.90, hourly 78.15 → 78.07), though label-free, LOFO and every
// NAB column rise. Seeds 171–180 were not generated.
//
// Noticed, not touched: counts LOCO depends on where the other
// families put the threshold more than on its own scores, because its
// curve below 0.37 is steep; any change that helps irregular at lower
// thresholds will read as a counts loss. The variant did what the
// diagnosis asked of it on counts and shift (the switch day's false
// alarms fall), so the statistic's change of reference at the switch
// remains a cost worth another look, on other seeds than these.
//
// The fifteenth of the anom rounds (branch counts; no code kept, not
// judged: phased seeds 171–180 were not generated and stay unseen).
// Aim: where the counts family's points go, and one or two principled
// candidates for the largest cause (issue 12 asks for discreteness and
// bursts: Poisson or negative-binomial noise, zero runs, spikes that
// recur). From
//
//	go build -o /tmp/team/bin-counts-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/bin-counts-TAG nab --data /work/shared/data/nab/data --out /tmp/team/out-counts/TAG-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file [--config '{...}']
//	GOMAXPROCS=1 /tmp/team/bin-counts-TAG nab --synth /tmp/team/counts-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/out-counts/TAG-synth --label-free-rate 0.1 --synth-phase [--config '{...}']
//
// (about 1 s and 45 s; the first synthetic run wrote the corpus), main
// at cb9dd0a gives NAB 73.55 / 71.86 / 71.76 / 73.55 (in-sample / LOCO
// / LOFO / label-free), low-FP 67.17 / 65.28 / 65.28 / 67.17, low-FN
// 78.12 / 76.39 / 76.32 / 78.12, 65 false-alarm rows; phased seeds
// 1–30 74.59 / 72.27 / 72.53 / 73.82, counts 71.06 / 67.66 / 68.37 /
// 70.48, low-FP 67.49 / 64.07 / 64.95 / 66.23, low-FN 79.78 / 77.23 /
// 78.30 / 78.57: the fourteenth round's figures.
//
// Where the points go. A scratch test (not kept; it and the hooks it
// needs are at /tmp/team/counts-diag_counts_test.go.txt and
// /tmp/team/counts-scratch-all.diff) replays the 390 counts files of
// seeds 1–30 through a copy of synthCounts that also returns the news
// burst's state, and scores them with nab.Sweep (standard profile) at
// 0.37, the label-free threshold:
//   - 720 windows: 410 bursts (11 missed), 187 surges (60 missed), 123
//     silences (none missed). Each found window loses 0.12–0.14 of its
//     reward to lateness, which is what a detection at the onset costs
//     in a window centred on it, so lateness (82 raw points) is mostly
//     the windows' shape. The 71 missed windows cost 142 raw points,
//     the 1,854 false-alarm rows 200.9: false alarms are the largest
//     loss, then the surges.
//   - The false-alarm rows by detector: residual 870, record 552, spot
//     174, changepoint 146, daily changepoint 52, shift 34, stuck 26;
//     1,834 are first alarms (20 break through a holdoff). 1,163 fall
//     while a normal news burst adds more than 30 % to the rate (957
//     while it more than doubles it): 378 on the burst's first row,
//     534 one to five rows later (the onset scored under the threshold
//     and the burst, not yet in the forecast, is still there), 251
//     later. The large normal bursts, ×4–7 the rate (the upper few
//     per cent of the generator's lognormal sizes, one or two a file),
//     score 0.4–0.9; the planted bursts are ×11–31.
//   - By file age: false-alarm rows per 1,000 scored rows in the file's
//     first to sixth week 1.02, 0.63, 0.42, 0.34, 0.33, 0.41 (the first
//     two weeks hold 998 of the 1,854 rows and 35 % of the scored
//     rows); per day from the first weekend, outside windows, 0.71 and
//     0.75 on its two days, 1.45 on the first Monday, 0.85–1.02 on
//     Tuesday to Friday, 0.59–0.66 the week after. Early rows alarm in
//     every detector; 96 rows are a record tail's first positive value
//     (its p-value is then about one over the rows it has learned).
//   - Not the cause: the file's base rate and its gamma shape (the
//     rows per file are about the same in every band), its count scale
//     (799 rows on 160 Anscombe files, 1,055 on 230 negative-binomial
//     ones), the expected count (0.46–0.77 per 1,000 rows in every
//     band from under 0.5 to over 8), zeros (125 rows).
//   - Missed surges (×3–5 for 6 hours or more) peak at 0.18–0.365,
//     mostly residual or spot at the onset. Over the one traced (seed
//     1, Counts_10, ×3.3) the changepoint reaches 8–9, which the news
//     bursts make ordinary (tail probability about 10^-2.5), and the
//     daily changepoint 8.8 (10^-2.8), which stops being counted
//     part-way into the surge, when its reference's error passes the
//     level forecaster's. A
//     statistic with a memory of 10–20 rows cannot tell a surge from a
//     burst that decays over 4–34 rows. At 0.33 150 surges are found,
//     at 0.30 166 (with 3,176 and 5,106 false-alarm rows).
//   - The record detector's rows hardly depend on the threshold: 562
//     at 0.30, 552 at 0.37, 392 at 0.45 (half of the 796 there).
//
// Diagnostics, counts at 0.37 (false-alarm rows, windows missed;
// main 1,854 and 71; scratch switches, not candidates): the count
// scale's negative-binomial size set to the file's true gamma shape
// 2,029 and 85 (busy files only 2,056 and 84), CountDispersion 0 or
// 160 1,868 and 70, 1,893 and 69: the scale is not the cause. The
// record detector at weight 7 1,739 and 76, off 1,602 and 78;
// RangeAlpha 0 1,669 and 77 (record rows 552 → 172; the other families'
// rows fall too, hourly 869 → 864, irregular 579 → 548, shift 792 →
// 651, windows found −1, −2, −7), but NAB 70.50 / 66.94 / 68.70 /
// 70.50, low-FP 64.52 / 62.62: the forgetting range carries NAB. The
// residual detector on the innovation of an AR(1) of u (the lag-one
// coefficient learned at ErrAlpha) 2,025 and 68; resting values never
// records 1,848 and 71; the daily changepoint counted whatever its
// reference's error 1,902 and 71.
//
// The gate, fixed before any candidate ran: phased seeds 1–30 overall
// LOCO and label-free up; NAB LOCO, label-free and low-FP LOCO not
// down; TestBudget and TestDetectorStateSize pass; BenchmarkObserve at
// most 2 µs. Judging, once and only if it passed: phased seeds
// 171–180.
//   - Candidate 1, a generalised Pareto tail: beyond a tail's
//     threshold the exponential's posterior predictive becomes a
//     generalised Pareto tail whose shape is the method-of-moments
//     estimate from the excesses, (1 − m²/s²)/2 in [0, 1/2), when that
//     exceeds the Lomax's 1/n (one more decayed mean, of the squared
//     excess; diff at /tmp/team/counts-candidate-gpd.diff, bin
//     /tmp/team/bin-counts-c1). NAB 70.66 / 68.97 / 68.87 / 70.66,
//     low-FP 64.47 / 62.77, low-FN 74.99 / 73.25; phased 74.07 / 71.61
//     / 72.00 / 73.20 (counts 70.87 / 67.15 / 67.87 / 70.30, hourly
//     77.54 / 76.74 / 76.45 / 77.37, irregular 68.65 / 65.95 / 66.60 /
//     67.58, shift 79.23 / 76.58 / 77.06 / 77.54), low-FP 66.86 /
//     63.76, low-FN 79.27 / 76.65. Counts at 0.37: 1,806 rows, 75
//     windows missed. Rejected: every gate figure falls. The heavier
//     tail takes the planted anomalies' scores down with the normal
//     bursts', as the seventh round's evidence counts did.
//   - Candidate 2, tails by side: a Config field, SideTails (off by
//     default; --config '{"SideTails":true}'), under which a surprise
//     with a side (the residual, the changepoint's mean, the distance
//     from the long-run mean, a record above or below the range, the
//     ratio or daily changepoint) is judged beyond its tail's
//     threshold by twice the two-sided p-value times the share of the
//     tail's excesses on its side (Laplace's rule of succession, then
//     the mean excess's rate): count noise and bursts are skewed, so a
//     rise would be judged by the rises and a fall by the falls. No
//     constant added; the state stays at 6,896 bytes (the threshold
//     bin as an int32 beside a float32 share). Diff at
//     /tmp/team/counts-candidate-sidetails.diff, bin
//     /tmp/team/bin-counts-c2clean; off, NAB is identical to main's
//     output. On: NAB 72.13 / 68.93 / 68.54 / 67.46, low-FP 62.57 /
//     59.60, low-FN 77.78 / 74.44, 100 rows at its in-sample 0.348;
//     phased 74.15 / 71.49 / 72.33 / 73.14 (counts 71.06 / 65.68 /
//     68.61 / 69.40, hourly 79.13 / 78.05 / 78.03 / 78.57, irregular
//     67.24 / 65.45 / 65.67 / 66.53, shift 79.16 / 76.77 / 77.01 /
//     78.05), low-FP 67.38 / 64.43, low-FN 79.12 / 76.50. Counts at
//     0.37: 1,639 rows (residual rises 825 → 574) but bursts missed 11
//     → 22 and surges 60 → 68, and falls alarm more (residual 45 → 79,
//     changepoint 4 → 52 rows). Rejected: the planted bursts are rises
//     too, and a minority side's small share makes its modest
//     extremes rare.
//
// Neither candidate passed, so seeds 171–180 were not generated. The
// branch has no code change.
//
// Noticed, not tried: the surges want a statistic whose memory is
// longer than the news bursts' decay (about 3 hours), such as the
// level forecaster (FastAlpha, about 4 hours on 5-minute data) against
// the seasonal reference; that is a tail more (376 bytes), which the
// 6,912-byte class does not have unless the tails' histograms shrink
// (float32 counts). The first two weeks' excess of false alarms is the
// young tails' and is the same in every detector; both changes that
// made the tails heavier everywhere (the seventh round's evidence
// counts, this round's Pareto shape) lost more windows than false
// alarms, so a change limited to a tail's young phase is what remains
// untried. The forgetting range makes most of the counts family's
// record rows (552 → 172 without it) and a third of the shift
// family's (483 → 318), and carries NAB's windows; a record that only
// repeats a level the series reached before (an all-time range beside
// the forgetting one) was not tried.
//
// The sixteenth of the anom rounds (branch record; no code kept:
// judged on phased seeds 171–180, now used, and rejected). Aim: the
// record detector's false alarms on the counts family (the fifteenth
// round's 552 rows at 0.37), with the forgetting range it needs for
// NAB. From
//
//	go build -o /tmp/team/bin-record-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/bin-record-TAG nab --data /work/shared/data/nab/data --out /tmp/team/out-record/TAG-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file [--config '{...}']
//	GOMAXPROCS=1 /tmp/team/bin-record-TAG nab --synth /tmp/team/counts-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/out-record/TAG-ph --label-free-rate 0.1 --synth-phase
//
// main at 96d2bcd gives the fifteenth round's figures: NAB 73.55 /
// 71.86 / 71.76 / 73.55, low-FP 67.17 / 65.28, low-FN 78.12 / 76.39;
// phased seeds 1–30 74.59 / 72.27 / 72.53 / 73.82 (counts 71.06 /
// 67.66 / 68.37 / 70.48, hourly 79.24 / 78.15 / 77.69 / 78.99,
// irregular 68.83 / 66.08 / 66.52 / 67.50, shift 79.22 / 77.20 /
// 77.54 / 78.32).
//
// What the record detector does. Its surprise is the distance beyond
// the range [lo, hi] in units of the range's width, and like every
// other surprise it is calibrated by a tail of its own (weight 7/3),
// so "a calibrated tail instead of a fixed mapping" was already the
// case. The range takes every value and falls back toward the
// long-run mean at RangeAlpha (0.0001) a row: over a 4,032-row file
// (two weeks of 5-minute data) its distance from the mean shrinks by
// a third. A record smaller than a twentieth of the range (tailMin)
// lands in the tail's first bin and is never surprising.
//
// Why NAB needs the forgetting. With --config '{"RangeAlpha":0}' NAB
// is 70.50 / 66.94 / 68.70 / 70.50, and two files carry the loss:
// art_load_balancer_spikes 0.509 → −1.220 and
// ec2_disk_write_bytes_c0d644 −0.303 → −2.166 (also
// ec2_request_latency_system_failure 1.920 → 1.816 and
// ec2_disk_write_bytes_1ef3de 0.804 → 0.751; ec2_cpu_utilization
// c6585a, fe7f93 and cpu_utilization_asg_misconfiguration gain). Both
// windows are found by a record that is also a new all-time high:
// load_balancer's at 2014-04-11 09:15 (3.225, on Anscombe's scale
// 3.795 against a forgetting high of 3.639 and an all-time high of
// 3.719), c0d644's second at 2014-04-10 14:35 (8.64e8, the file's
// highest). Without forgetting the range's width has grown to the
// earlier peak and the excess is measured from it, so load_balancer's
// record (0.076 of a width of 2.4) falls under tailMin and c0d644's
// scores below the threshold. So NAB needs the size the forgetting
// range gives a new high, not the re-records it allows.
//
// The gate, fixed before any candidate ran: phased seeds 1–30 overall
// LOCO and label-free up; NAB LOCO, label-free and low-FP LOCO not
// down; TestBudget and TestDetectorStateSize pass; BenchmarkObserve at
// most 2 µs. Judging, once and only if it passed: phased seeds
// 171–180.
//   - Candidate 1, RecordAllTime: an all-time range beside the
//     forgetting one (two float32, rounded outward; the state 6,896 →
//     6,904 bytes, the most the 6,912-byte class holds with its header;
//     a new detector 7,152 heap bytes; TestBudget passes), and a value
//     beyond the forgetting range counts as a record only if it is
//     also beyond every earlier value, its size still measured against
//     the forgetting range. No constant added. Diff at
//     /tmp/team/record-candidate-alltime.diff, bin
//     /tmp/team/bin-record-c1. NAB 73.76 / 72.07 / 71.97 / 73.76,
//     low-FP 67.68 / 65.79, low-FN 78.26 / 76.53 (fe7f93 0.580 → 0.644,
//     asg_misconfiguration −0.006 → 0.214, 1ef3de 0.804 → 0.751);
//     phased 74.71 / 72.30 / 72.63 / 73.94 (counts 71.67 / 68.06 /
//     68.25 / 70.95, hourly 78.97 / 78.18 / 77.67 / 78.99, irregular
//     68.99 / 66.07 / 66.73 / 67.55, shift 79.21 / 76.89 / 77.85 /
//     78.25), low-FP 67.81 / 64.51, low-FN 79.84 / 77.25.
//     BenchmarkObserve 421 ns (main 417; GOMAXPROCS=1, -benchtime 2s).
//     A scratch test (not kept; /tmp/team/record-diag_test.go.txt,
//     REC_CORPUS=dir go test -run TestScratchDiag; it counts alarm rows
//     after a file's first 15 % outside its windows, so its totals are
//     not the fifteenth round's) at 0.37: counts false-alarm rows 1,555
//     → 1,437 (record 435 → 194, but residual 791 → 854 and spot 149
//     → 207 take over many of the rows), windows found 649 → 646 of
//     720; hourly unchanged (869 rows; its records are new extremes);
//     irregular 579 → 573; shift 792 → 781 (record 483 → 468), 653 →
//     652 found. Passed the gate.
//   - Candidate 2, the record graded by the slower range: its size is
//     the distance beyond the all-time range, still in units of the
//     forgetting range's width (no constant added; a scratch build,
//     bin /tmp/team/bin-record-c2). NAB 72.19 / 68.63 / 70.40 / 72.19,
//     low-FP 66.21 / 64.32, low-FN 76.61 / 74.84: load_balancer is lost
//     as with RangeAlpha 0. Phased (run for the record after it had
//     failed) 74.86 / 72.34 / 72.78 / 73.99, counts 71.48 / 67.86 /
//     68.28 / 71.13, low-FP 68.19 / 64.43. Rejected at the gate.
//
// Judged once, candidate 1 against main on phased seeds 171–180
// (--synth /tmp/team/record-synthP-171-180 --seeds 171-180
// --per-family 12 --synth-phase, the corpus written by main's run):
// main 73.45 / 71.33 / 71.60 / 72.62 (counts 72.86 / 68.36 / 70.15 /
// 71.57), low-FP 66.57 / 63.66, low-FN 78.52 / 75.04; candidate 1
// 73.37 / 71.17 / 71.39 / 72.42 (counts 72.41 / 67.77 / 69.59 / 70.97,
// hourly 76.85 / 76.17 / 76.11 / 76.72, irregular 64.10 / 62.44 /
// 61.68 / 62.92, shift 80.11 / 78.30 / 78.17 / 79.06), low-FP 66.61 /
// 64.43, low-FN 78.41 / 74.87. LOCO −0.16 and label-free −0.20:
// rejected, and the code reverted.
//
// Why it failed (the scratch test on seeds 171–180, after judging,
// nothing changed): counts false-alarm rows 500 → 457 (record 152 →
// 63), but counts windows found 219 → 215 of 240 (irregular 179 →
// 178), and the first detection changes in 19 windows, all first
// found by a record on main. The 5 windows lost, each found on main by a record:
// two counts silences (a count of 1; an ordinary quiet night outside
// the windows had reached 0 a week or more before, at rows 3,374 and
// 3,623), two planted anomalies that return to the level of the
// file's earlier planted one (an irregular dip to 17, a counts rise
// to 10 after 14), and a counts rise to 131 that a normal burst had
// passed (181). The forgetting range is what lets an anomaly register
// as a record when the file has been as far out before, in normal
// noise or in an earlier anomaly; the false alarms it removes (0.11
// raw points each) weigh less than the windows it loses (about 1
// each).
//
// Next to try (not tried, as this round's judging seeds are spent):
// the all-time check on the high side only (NAB's two windows are
// highs, and two of the five lost windows are silences, record lows),
// though the repeated planted anomalies would still be lost on the
// high side; or an all-time range that itself forgets, much more
// slowly than RangeAlpha, which adds a constant. Either should be
// judged on seeds from 181.
//
// The seventeenth of the anom rounds (branch young; no code kept, not
// judged: phased seeds 181–190 were not generated and stay unseen).
// Aim: the fifteenth round's excess of false alarms in a file's first
// two weeks, which it laid to young tails: measure it on the other
// families and NAB, confirm it is the tails' youth, and try one or two
// changes limited to a tail's young phase. From
//
//	go build -o /tmp/team/bin-young-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/bin-young-TAG nab --data /work/shared/data/nab/data --out /tmp/team/out-young/TAG-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file
//	GOMAXPROCS=1 /tmp/team/bin-young-TAG nab --synth /tmp/team/counts-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/out-young/TAG-ph --label-free-rate 0.1 --synth-phase
//
// main at 1bcd680 gives the sixteenth round's figures: NAB 73.55 /
// 71.86 / 71.76 / 73.55 (in-sample / LOCO / LOFO / label-free), low-FP
// 67.17 / 65.28, low-FN 78.12 / 76.39, 65 false-alarm rows; phased
// seeds 1–30 74.59 / 72.27 / 72.53 / 73.82, low-FP 67.49 / 64.07,
// low-FN 79.78 / 77.23.
//
// Where and when. A scratch test (not kept: /tmp/team/young-diag_test.go.txt
// with the hook /tmp/team/young-scratch-hook.diff; YD_DATA=dir go test
// -run TestYoungDiag) counts alarm rows after a file's first 15 %,
// outside its windows (so counts' total is the sixteenth round's
// 1,555, not the fifteenth's 1,854), per 1,000 such rows by week of
// file age. Beside each it replays the file with every tail replaced
// by the tail the file ends with (the mature counterfactual; the
// forecasters and statistics are the same, the holdoff is the
// factual one). Week 1, 2, 3, … (last column: week 6, or 7 and later):
//   - counts 1.03, 0.72, 0.48, 0.39, 0.35, 0.42; mature tails 0.64,
//     0.46, 0.42, 0.37, 0.36, 0.35. By component, weeks 1 / 2 / 3–6:
//     residual 0.48 / 0.32 / 0.20–0.26, record 0.31 / 0.22 / 0.09–0.13,
//     changepoint 0.12 / 0.07 / 0.02 or less, shift 0.05 / 0.01 / 0.01 or less,
//     spot 0.06 / 0.05 / 0.04–0.06 (flat).
//   - irregular (files of about ten days) 1.22, 0.45; mature 0.54,
//     0.29. Week 1: residual 0.38, changepoint 0.34, spot 0.25,
//     record 0.16; week 2: residual 0.19, record 0.18, ratio 0.04, the
//     rest 0.01 or less.
//   - shift (two weeks) 0.78, 0.58; mature 0.52, 0.50. The record
//     carries it in both weeks (0.43, 0.39), the residual falls 0.17 →
//     0.05.
//   - hourly 3.51, 4.05, 3.68, 3.14, 2.69, 1.70, 1.20; mature 3.93,
//     2.32, 1.55, 1.19, 1.45, 0.92, 1.03: at 168 rows a week its tails
//     stay young for about five weeks, and the mature tails take off
//     the middle weeks' excess, not the first's (the ratio changepoint
//     and the record, 1.1 and 1.4 in week 2, 0.2 and 0.1 from week 7).
//   - NAB: realAWSCloudwatch 0.72, 0.32 (15 and 9 rows; mature 0.43,
//     0.35), realKnownCause 2.11, 0.73, then 0–0.74 (mature 1.40, 0.73),
//     artificialWithAnomaly 0.36, 0.20.
//
// So the early excess holds in every family and on NAB, in the
// residual, the record and the changepoints alike. The mature tails
// remove about 40 % of counts' first-week rate and 55 % of
// irregular's, but counts' first week stays at 0.64 against 0.35–0.37
// later: the rest is the statistics' own youth (the forecasters and
// profiles), which the tails only pass on. The counterfactual is an
// upper bound on the tails' share: the final tail has also learned
// the file's later bursts and planted anomalies.
//
// How young the raising tails are (weeks 1–2, alarm rows): counts 699
// rows, by the raising tail's excess count under 10 227 (the record
// tails, which stay under 10 all file long: 242 of the later rows too),
// 10–30 17, 30–100 356, 100–300 99 (later rows: mostly 100–300, 508);
// by the rows it has learned, 1,000–3,000 for 574. Irregular: excess
// counts under 10 215, 10–30 242, 30–100 121; shift: under 10 464
// (record), 10–30 116, 30–100 181. Every alarm row but 7 (counts), 1
// (irregular) and none (shift, hourly) is judged beyond its tail's
// threshold, by the exponential. The mean excess there is not a young
// estimate's bias: against the mean excess of the histogram's bins
// above the threshold (bin midpoints), log(m/m_bins) at the alarm rows
// is −0.09, −0.10, then −0.06 to −0.10 on counts (seeds 1–10),
// −0.14 then −0.06 on irregular and shift.
//
// What "a p-value that accounts for few rows" already is. Beyond the
// threshold the p-value is pu·(1 + x/(n·m))^−n, with pu = (mass above
// the threshold + one row)/(rows + one row), Laplace's rule, and the
// Lomax, the exponential's posterior predictive for its mean excess: a
// Beta-binomial p-value in place of the plug-in is the code as it
// stands, and so is its posterior predictive for the rate. At n of
// 30–100 the Lomax differs from the plug-in exponential by a few per
// cent (x of 5 means: e^−4.77 at n = 50, e^−5 plug-in); the young
// tails are light because their 30–100 excesses have not yet met the
// statistic's rare large values (a normal burst of ×4–7 comes once or
// twice a file), which no estimate inside the exponential model can
// know. What the model leaves out is its shape.
//
// The gate, fixed before any candidate ran: phased seeds 1–30 overall
// LOCO and label-free up; NAB LOCO, label-free and low-FP LOCO not
// down; TestBudget and TestDetectorStateSize pass; BenchmarkObserve at
// most 2 µs. Judging, once and only if it passed: phased seeds
// 181–190.
//   - Candidate 1, the shape's uncertainty: a generalised Pareto shape
//     fitted to nexc excesses has a standard error of 1/sqrt(nexc) at
//     shape 0, so beyond the threshold the tail became the average over
//     a half-normal shape of that spread, by its two-point
//     Gauss–Hermite rule: (2·Lomax + GPD(ξ = sqrt(3/nexc) + 1/n, scale
//     m))/3. nexc is not capped, so the spread shrinks with the tail's
//     age (the heavier point's ξ is 0.18 at 100 excesses, 0.06 at
//     1,000); no constant added, no state. Diff /tmp/team/young-candidate-shape.diff, bin
//     /tmp/team/bin-young-c1. NAB 68.38 / 62.95 / 65.12 / 65.92,
//     low-FP 60.22 / 55.17, low-FN 74.07 / 71.15 (99 rows at its
//     in-sample 0.337; realAWSCloudwatch LOCO 66.80 → 55.54); phased
//     73.34 / 70.52 / 71.83 / 72.11 (counts 71.39 / 67.37 / 69.70 /
//     71.17, hourly 73.54 / 71.88 / 72.23 / 72.43, irregular 68.52 /
//     65.84 / 67.35 / 66.92, shift 79.92 / 76.98 / 78.03 / 77.92),
//     low-FP 66.94 / 63.72, low-FN 78.20 / 75.76. Rejected: the counts
//     family gains (label-free 70.48 → 71.17, LOFO 68.37 → 69.70), but
//     "young" by excess count is the whole of a NAB file and of an
//     hourly one, and there the heavier tail takes the windows' scores
//     down as the seventh round's cluster counts did.
//   - Candidate 2, excesses only over a quantile: until a tail holds
//     1/q rows (20 at TailQuantile 0.05) no row can lie in its upper q,
//     and its threshold is merely above the largest value yet, so an
//     excess then (the first row's whole value over bin 0, a new
//     maximum's overhang in its bin) says nothing of the mean excess;
//     the tail counted excesses only once q·total reached one row. No
//     constant, no state. Diff /tmp/team/young-candidate-quantile.diff,
//     bin /tmp/team/bin-young-c2. NAB 71.46 / 68.15 / 69.67 / 71.46,
//     low-FP 64.68 / 61.27, low-FN 76.12 / 74.39, 69 rows
//     (iio_us-east-1_i-a2eb1cd9_NetworkIn −0.355 → −2.220,
//     ec2_cpu_utilization_5f5533 1.723 → 1.397; grok_asg_anomaly
//     0.504 → 0.614); phased 73.90 / 71.31 / 71.88 / 73.16 (counts
//     70.53 / 66.09 / 67.67 / 69.89, hourly 78.20 / 77.28 / 77.24 /
//     78.00, irregular 67.77 / 65.27 / 65.81 / 66.90, shift 79.10 /
//     76.60 / 76.81 / 77.86), low-FP 66.54 / 62.92, low-FN 79.21 /
//     76.29. Rejected: every gate figure falls. Those first rows'
//     excesses weigh equally with the rest of a young tail's first 50
//     (1/excessAlpha), the first row's whole value over bin 0 the most;
//     without them young tails move both ways (NAB loses a window and
//     gains four false-alarm rows). The code as it stands depends on
//     them, a calibration by accident that AlarmLevel and Weights
//     were chosen with.
//
// Neither candidate passed, so seeds 181–190 were not generated. The
// branch has no code change.
//
// Noticed, not tried: any tail heavier while young has now lost NAB
// three times (the seventh round's cluster counts, candidate 1 here,
// and the warm-up tails of the count-dispersion round), because NAB's
// files are two weeks long and found their windows with young tails;
// a change to the first weeks must leave NAB's young tails as they
// are, which a rule by age alone cannot. Half of counts' first-week
// excess is not the tails' (the mature counterfactual leaves 0.64
// against 0.35): the residual and the changepoints in week 1 come from
// young forecasters; the daily and weekly profiles' ages at those rows
// were not measured. The first row's excess over bin 0 (candidate 2)
// is an accident worth replacing by a deliberate starting mean excess,
// but only with AlarmLevel recalibrated beside it.
//
// The eighteenth of the anom rounds (branch hourly; no code kept, not
// judged: phased seeds 181–190 were not generated and stay unseen).
// Aim: the seventeenth round's long early excess of false alarms on the
// hourly family (3.51, 4.05, 3.68, 3.14, 2.69 per 1,000 rows in weeks 1–5,
// 1.20 from week 7): which component, whether the seasonal profiles
// (one reading per slot a day or a week at 24 points a day) are still
// young, and whether something counts in rows where it should count in
// time. From
//
//	go build -o /tmp/team/bin-hourly-TAG ./services/anomaly
//	GOMAXPROCS=1 /tmp/team/bin-hourly-TAG nab --data /work/shared/data/nab/data --out /tmp/team/out-hourly/TAG-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file
//	GOMAXPROCS=1 /tmp/team/bin-hourly-TAG nab --synth /tmp/team/counts-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/team/out-hourly/TAG-synth --label-free-rate 0.1 --synth-phase
//
// main at 019be2d gives the seventeenth round's figures: NAB 73.55 /
// 71.86 / 71.76 / 73.55 (in-sample / LOCO / LOFO / label-free), low-FP
// 67.17 / 65.28, low-FN 78.12 / 76.39; phased seeds 1–30 74.59 / 72.27
// / 72.53 / 73.82, hourly 79.24 / 78.15 / 77.69 / 78.99, low-FP 67.49 /
// 64.07, low-FN 79.78 / 77.23.
//
// It is not youth. The seventeenth round's scratch test (extended, not
// kept: /tmp/team/hourly-diag_test.go.txt with the hook
// /tmp/team/young-scratch-hook.diff; YD_FAM=Hourly YD_DATA=dir go test
// -v -run TestYoungDiag; alarm rows at 0.37 after a file's first 15 %,
// outside its windows, 869 in all) splits the hourly rows by whether
// the file's first window has begun. Per 1,000 rows, by week of file
// age (a long file's first week lies in its first 15 %):
//   - the 30 files with no windows (one a seed), weeks 2–6: 7 weeks
//     long or more 3.20, 4.49, 3.95, 3.16, 3.18, then 3.66 from week
//     7 (70 rows); shorter 3.37, 5.43, 4.13, 2.95, 3.73 (37 rows):
//     flat.
//   - rows before the first window: files of 7 weeks or more, weeks
//     2–6, 4.33, 4.37, 3.96, 4.34, 3.56 (447 rows); shorter files,
//     weeks 1–5, 3.78, 4.25, 4.76, 5.17, 2.82 (204 rows): flat too.
//   - rows after the first window has begun: 0.5–1.0 in every week
//     (111 rows).
//
// So the rate falls where the planted anomalies begin, not with age,
// and the week of that fall is the corpus's: onsetRows puts the first
// onset after row 600 (after 30 % of a file under 1,000 rows), which
// is two days of 5-minute data but 25 days of hourly data (the first
// window begins 1.2–7.9 weeks into an hourly file, median 4.3).
// The residual's rate before the first window does not fall with age
// either (1.08, 1.88, 1.74, 2.67 in weeks 2–5 of the long files), so
// the daily and weekly profiles' youth does not show in the false
// alarms; the record's does a little (1.65, 0.82, 0.44, 0.52: a new
// extreme is ever rarer, as in any stationary series). The holdoff
// does not make the later rows quiet (36–50 % of the rows are held
// before, after and on clean files alike; per 1,000 rows not held,
// files of 7 weeks or more: 6.9 before the first window, 1.3 after,
// 5.7 on clean files). Most likely the tails have learned the planted
// events (a day at twice the price, a collapse, a level change), whose
// rows below the alarm level learn in full (not traced row by row).
// The seventeenth round's mature counterfactual has learned them too,
// which is why it took the middle weeks' excess off (4.33
// → 2.52, 1.81, 1.40, 2.15 before the first window) but barely the
// clean files' late weeks (3.66 → 3.53).
//
// Rows or time? Per day the rate is the others': 4 per 1,000 hourly
// rows is 0.10 a day, the counts family's 0.35–0.48 per 1,000 of its
// later 5-minute rows 0.10–0.14 a day, the label-free budget 0.1:
// RateStep (tail probabilities per 10 minutes of data) does what it
// was set for; at the same rate a day, an hourly file must alarm on
// 12 times the share of its rows a 5-minute file does. What still
// counts in rows is the synthetic corpus's onset floor, not the
// detector.
//
// Which component. By the hour of day (UTC, 3-hour blocks from 0:00;
// the generator's noise is 1.8 times larger around 4:00): residual 45,
// 68, 40, 50, 51, 69, 41, 40 (flat: the hour spreads work); ratio
// changepoint 28, 59, 54, 24, 15, 3, 7, 13 (night and morning);
// record 18, 72, 15, 3, 24, 20, 2, 2; changepoint 9, 4, 5, 4, 12, 13,
// 27, 18. Of the statistics built on the forecast error, the ratio
// changepoint is the one judged by the whole day's spread (ratioErr);
// the residual, changepoint and shift are judged by the hour's. Windows found at 0.37: 665 of 720 (first of
// one 117 of 120, of two 110 and 116, of three 109, 109, 104).
//
// The gate, fixed before any candidate ran: phased seeds 1–30 overall
// LOCO and label-free up; NAB LOCO, label-free and low-FP LOCO not
// down; TestBudget and TestDetectorStateSize pass; BenchmarkObserve at
// most 2 µs. Judging, once and only if it passed: phased seeds
// 181–190.
//   - Candidate 1, the ratio changepoint by its hour: log(v/expected)
//     over ratioErr is divided by the same hour ratio as the residual
//     (the hour's spread over the day's, at least 1/4). No constant,
//     no state. Diff /tmp/team/hourly-candidate-c1.diff, bin
//     /tmp/team/bin-hourly-c1. NAB's figures identical to main's (its
//     one hourly file, ambient_temperature_system_failure, changes its
//     scores but not its 16 rows at 0.37 nor its 0.741); phased 74.55 / 72.08 / 72.63 / 73.74 (hourly
//     79.09 / 77.87 / 77.62 / 78.67), low-FP 67.49 / 64.11, low-FN
//     79.73 / 77.63. The ratio's alarms spread evenly over the day
//     (39, 40, 35, 45, 18, 10, 24, 36) but grow 203 → 247 rows (903 in
//     all), windows 664: the residual's hour spread is an additive
//     one, so busy afternoons are taken for noisy ones. Rejected.
//   - Candidate 2, the same with the hour's level taken out: the log
//     ratio is about the residual over the level, so its hour's spread
//     relative to the day's is the residual's hour ratio times the
//     daily profile's level over its forecast for the hour (once the
//     profile is ready; at least 1/4). No constant, no state. Diff
//     /tmp/team/hourly-candidate-c2.diff, bin /tmp/team/bin-hourly-c2.
//     NAB's figures identical to main's (the same for that file);
//     phased 74.55 / 72.30 / 72.79 / 73.64
//     (hourly 78.92 / 77.97 / 77.57 / 78.28; the other families' files
//     are unchanged and move only through the thresholds chosen across
//     families), low-FP 67.42 / 63.81, low-FN 79.69 / 77.56. Ratio
//     alarms 24, 30, 39, 36, 23, 21, 25, 36 (234 rows, 894 in all),
//     windows 660. Rejected: label-free falls.
//
// Both move the ratio's alarms across the day without reducing them:
// the tail calibrates the statistic's mixture over the hours, so its
// alarm rate is set by the tail, not by which hours carry it; evened
// out, the ratio alarms more from 15:00 to 24:00 (candidate 1: 24 and
// 36 rows against 7 and 13) and finds no more windows.
//
// Neither candidate passed, so seeds 181–190 were not generated. The
// branch has no code change.
//
// Noticed, not tried: the hourly family's early weeks are its only
// anomaly-free stretch, so "weeks 1–6" measures the clean rate and
// later weeks a rate the planted events have quieted; onsetRows's
// floor of 600 rows, taken in time (two days, say) would make the
// families comparable by age but changes the corpus every earlier
// figure was measured on. If the planted events' rows below the alarm
// level, learned in full, are what cuts the later false alarms five
// times, they may also cost later windows (the third of three found
// 104 of 120 against 109–117): to trace row by row first, then a
// HeldLearn that covers an episode by its time (a day) whatever its
// rows' scores would be the candidate.
package anomaly
