// Package anomaly scores streaming metrics for anomalies and correlates a
// tier's metrics into incidents. It is pure: values and event times in,
// scores and incidents out; no I/O, no wall clock, deterministic.
//
// This comment describes the detector as it stands, the classifier, the
// synthetic corpus and the current figures, each with the command that
// produces it. The experiment rounds that chose the settings, with every
// rejected candidate and its figures, are in EXPERIMENTS.md in this
// directory; a round named here, such as "the sixth of the anom rounds",
// is a section there.
//
// # Detector
//
// A Detector follows one series. Each observation costs O(1) time (a few
// fixed-size loops) and the state has a fixed size (about 7 KB), whatever
// the stream's length. It learns from the stream only: every observation is
// scored first and learned after, so there is no look-ahead.
//
// Input. The sampling interval is inferred from the data: the median of the
// first nine steps sets the seasonal slot widths (a first step that is not
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
// Score.Expected stay in the series' own units (the count dispersion, in
// EXPERIMENTS.md, chose the scale and k).
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
// that (a slot still empty then lies in a long gap; the unseen slots
// round).
//
// Seven surprises; the first three come from the standardised residual
// u = (v − expected)/scale, which on hourly or coarser series
// (Config.HourSpreadStep) is further divided by its hour of day's spread
// relative to the day's (the mean |u| of each of the 24 hours, learned at
// SeasonAlpha, each value's share bounded at 4, the ratio at least 1/4),
// so a noisy night and a quiet afternoon are each judged by their own
// noise; a 5-minute series has too many points per hour for one value a
// day to tell them apart, and stays on the whole day's scale (the hour
// spreads round):
//
//   - residual: |u|, a spike or dip at one point;
//   - changepoint: |EWMA of u|, a level shift that persists (CUSUM-like);
//   - shift: EWMA of |u|, a change of spread between the recent window and
//     the reference the scale learned;
//   - spot: |v − long-run mean| / long-run spread, a value outside the
//     series' usual range;
//   - record: how far v passes the highest or lowest value seen so far (a
//     range that slowly falls back toward the mean), in units of that
//     range, counted only if v also passes every value of the current and
//     the previous week (Config.WeekRange; the weekly profile's weeks,
//     from Thursday 00:00 UTC): a level the series has never reached, or
//     not for a week or two (the forgetting range alone re-records a
//     weekly peak or a quiet night's floor a few days on; the nineteenth
//     of the anom rounds);
//   - stuck: a value repeated exactly, k times in a row (a frozen sensor, a
//     silent counter), scored directly by its chance q1·q2^(k−1) under the
//     series' own repeat rates (q1: a value repeats the one before; q2: a
//     repeat is repeated again, learned behind 100 pseudo-repeats whose
//     mean is one half for a run at one of the series' resting values,
//     the four values it has repeated at most, and q1 for a run at any
//     other value), made 10⁴ times more conservative since runs
//     cluster; a run that began before the warm-up ended (a flat line) is
//     not scored (the resting values round);
//   - ratio (series judged by hour spreads, hourly or coarser, that have
//     only been positive): the changepoint again, on log(v/expected) in
//     units of its own decayed mean size, so a change by a factor (a
//     price level that doubles, a recalibrated sensor) weighs as much in
//     a quiet hour as in a busy one (the ratio changepoint round); on series sampled every 10 minutes
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
//     at 0.01, so the change stays in this residual (the sixth of the
//     anom rounds chose the daily changepoint, the thirteenth the day
//     kinds).
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
// called one in a million (the posterior predictive tails round). The price is a learning period: with one or
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
// counted in full it made the next event of its size ordinary (the held
// episodes round). The tail probabilities are merged by a weighted Bonferroni
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
// planted incidents (the calibration per unit of time round, which also
// lowered Config.Breakthrough to 0.3).
//
// Spot in the merge. Spot is a second test of the residual's surprise
// on slow data: a value outside the long-run range is, at nearly every
// such row, also a forecast error. Its term counts only where the
// residual corroborates it at its own tail level, the residual's p at or
// below Config.TailQuantile; elsewhere the value is one the forecasters
// expected, as a daily peak is, and spot's term is left out. Dropping a
// term keeps the minimum a valid bound (P(p_spot ≤ α and p_res ≤ q) ≤ α
// whatever their dependence). The recurrence check below still
// remembers the score with spot's term in: yesterday's peaks, which spot
// scores and the gate drops, are what damps today's (gated there too,
// phased LOCO fell 0.17; the fifty-first and fifty-third anom rounds).
//
// Sparse alarms. A score at or above Config.AlarmLevel is an alarm. For
// Config.Holdoff observations after an alarm, scores are multiplied by
// Config.HoldoffDamp (Score.Held), so an event raises one high score at its
// onset rather than a run of them, unless a score exceeds the alarm that
// started the holdoff by Config.Breakthrough; once a day of event time has
// passed since the alarm, a score that merely reaches the alarm's escapes
// too, a second event rather than the first one's aftermath (on hourly
// data the 100 rows are four days; on 5-minute data they end within the
// day). A score is also damped when
// the same time of day, give or take Config.RecurWidth daily slots, scored
// about as high 12 to 36 hours earlier: a nightly job is part of the series, not news.
// On NAB it works mostly as a next-day holdoff: of the 147 rows out of the
// label windows it damps with surprise ≥ 0.37, 123 follow an alarm 12 to 36
// hours earlier, and 15 scored as high on both of the last two days
// (EXPERIMENTS.md section 76; asking for both days lost 2.1 LOCO points).
// "As high" is Config.RecurRatio of today's surprise before the score's
// clamp at 1, so a row many decades out does not recur from an ordinary
// hour that scored 0.4 (on hourly data, often a held row; the
// fifty-sixth of the anom rounds). The first
// Config.Warmup observations (at most Config.WarmupDays of data, at least
// Config.MinWarmup observations) are learned but not scored, and the tails do
// not learn from them (they mostly measure the forecasters' own learning).
//
// Settings. Every series gets DefaultConfig (the anomaly service and the
// NAB runs alike); a Config field that is zero switches its mechanism off
// where its comment says so. The defaults and what they mean:
//
//	FastAlpha        0.02    the level forecaster's smoothing (about 4 hours of 5-minute data)
//	LevelAlpha       0.01    the daily and weekly profiles' level
//	SeasonAlpha      0.1     a seasonal slot per visit after its first period (whose readings it averages);
//	                         also the hour spreads and the day-kind profiles
//	SeasonClip       0       bound on what one value teaches a slot, in the profile's errors (off)
//	ErrAlpha         0.01    the forecasters' mean absolute errors (about the last 100 readings)
//	SlowAlpha        0.002   the long-run mean and spread (spot)
//	RangeAlpha       0.0001  how fast the record range falls back toward the long-run mean, per row
//	WeekRange        true    a record must also pass the current and the previous week (from Thursday 00:00 UTC)
//	ShiftAlpha       0.1     the changepoint's EWMA of u (and the ratio changepoint's)
//	VarAlpha         0.05    the shift detector's EWMA of |u|
//	StuckScale       1e4     the stuck probability made this many times more conservative
//	TailHalfLife     20000   the surprise histograms' half-life, in observations
//	TailQuantile     0.05    the upper mass above which a tail is the fitted exponential;
//	                         also the residual's p at or below which spot counts
//	Weights          7, 7, 7, 7, 7/3, 7, 7
//	                         Bonferroni weights: residual, changepoint, shift, spot, record, stuck, ratio
//	Decades          6       the −log10 tail probability that scores 1
//	AlarmLevel       0.37    the score that is an alarm (and caps the label-free threshold)
//	Holdoff          100     observations damped after an alarm
//	HoldoffDamp      0.3     the damping factor in the holdoff
//	Breakthrough     0.3     how far a held score must beat the alarm to escape the holdoff
//	                         (for the alarm's own day; after it, reaching the alarm is enough)
//	RecurWidth       3       daily slots either side that count as "the same time yesterday"
//	RecurRatio       0.4     yesterday's score relative to today's (unclamped) that makes today recur
//	RecurDamp        0.4     the damping of a recurring score
//	Warmup           300     observations learned, not scored
//	WarmupDays       2       the warm-up's cap in time
//	MinWarmup        100     the warm-up's floor in observations
//	Counts           true    integer series on the count scale
//	CountDispersion  40      the negative-binomial size k of the count scale
//	HourSpreadStep   3600    steps this coarse or coarser judge u by its hour's spread
//	RateStep         600     steps coarser than this count tail probabilities per 600 s
//	HeldLearn        0.1     an alarm episode's weight in the tails (hour-spread series)
//	DayShiftAlpha    0.05    the daily changepoint's EWMA
//	DayShiftClip     3       its clip, in its own error scales
//	DayShiftSpan     900     half-width (s) of the daily profile average it is judged against
//	DayShiftMaxStep  600     the coarsest step that gets the daily changepoint
//	DayShiftDayKind  true    the day-kind references before the weekly profile is ready
//
// Fixed in the code: profiles of at most 336 slots (maxSlots), an unseen
// slot borrowing its neighbour for 4 periods (fillPeriods), the count
// test on 12 values (countSamples) and the step from the median of the
// first 9 steps (stepSamples), hour spreads bounded at 4 with a ratio of at
// least 1/4, the stuck prior's 100 pseudo-repeats and 4 resting-value
// slots, tails of 40 log-spaced bins from 0.05 (tailMin: a surprise
// under 0.05 lands in the first bin, never surprising) and a mean
// excess worth at most 99 excesses (excessN, from its slowest rate
// 0.02). How each was chosen, and what the others measured, is in
// EXPERIMENTS.md.
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
// with planted anomalies and NAB-style windows, and SynthCorpusWith an
// opt-in fifth whose meters go dark for days:
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
//   - synthGaps, opt-in (SynthOptions.Families, "-synth-families" naming
//     it; without it the corpus is the four above, the same to the byte:
//     TestSynthDefaultCorpusUnchanged checks seeds 1, 5, 17 and 30, plain
//     and phased, by sha256): a building's electricity use per hour, 1,680
//     to 2,520 readings with a working-day profile, a weekend dip and a
//     slow random-walk drift that goes on while the meter is dark; outages
//     of 1 to 7 days with no rows, 2 to 4 a file that the series simply
//     resumes after and one more before each anomaly of the first kind
//     (about 4 a file, 15 % of the clock dark; the median step stays an
//     hour); planted, at rates fixed before the detector ran on it: half
//     a level that changed while the meter was dark (0.65 or 1.5 times,
//     from the first reading after an outage, lasting), a sixth each a
//     spike of 2–4 times for 1–3 hours, a collapse to 5–20 % for 6–18
//     hours, and the same lasting change without an outage. Its files'
//     random streams are its own (family 4), so they are the same whichever
//     other families come with it.
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
// asks). The start phase round in EXPERIMENTS.md measured what the
// phase costs the detector of the time (about 2.5 points on seeds 1–30,
// most of it the irregular family's missed level changes in files that
// start in a weekend); the thirteenth of the anom rounds (the day kinds)
// took part of it back, and every current figure on the synthetic
// corpus below is phased unless it says otherwise.
//
// Seeds. One seed is too noisy to judge by, so changes are developed on
// a range and judged once on seeds nobody has looked at. Spent: seeds
// 1–30 (and 31–60 for a wider view) are the development seeds, phased
// since the thirteenth round; 61–160 each judged one round (61–70 a
// coarse weekly profile, 71–80 the count spreads, 81–90 the held
// episodes, 91–100 the posterior predictive tails, 101–110 the ratio
// changepoint, 111–120 the resting values, 121–130 the count dispersion,
// 131–140 and 141–150 kept-back checks, 151–160 the daily changepoint);
// phased 161–170 judged the day kinds and phased 171–180 the sixteenth
// round's record candidate; phased 181–190 judged the nineteenth
// round's weekly record range; phased 191–200 the twenty-second round's
// Breakthrough margin for the alarm's day; phased 201–210 the
// twenty-third round's day-kind forecaster where the series shows the
// week (rejected); phased 211–220 the twenty-seventh round's young kind
// scored on its scaled residual (rejected); phased 221–230 the
// thirty-fourth round's alarm episodes learned at HeldLearn's weight on
// jittered clocks (rejected); phased 231–240 the fifty-third round's spot
// counted only with the residual in its tail (kept); phased 241–250 the
// fifty-sixth round's recurrence on today's unclamped surprise (kept).
// Unused: 251 and up, phased or not.
//
// # Results
//
// One configuration (DefaultConfig) for every series. Normalised NAB
// scores; in-sample picks the threshold on the whole corpus,
// leave-one-category-out (LOCO) and leave-one-file-out (LOFO) on the other
// categories or files, label-free uses one fixed threshold: an alarm
// budget of 0.1 detections per day of unlabelled data, capped at
// AlarmLevel 0.37 (both corpora hit the cap: the budget alone gives 0.394
// on NAB and more than 0.37 on every synthetic seed). The figures are
// those of the detector since the fifty-sixth of the anom rounds (the
// recurrence judging today's surprise before its clamp). That round, the
// fifty-third (spot counted only with the residual in its tail) and the
// twenty-second (the Breakthrough margin for the alarm's own day) changed
// no NAB figure, so the NAB table's brackets still hold the
// figures before the nineteenth round (the record's weekly range,
// Config.WeekRange), where they differ; the synthetic tables' brackets
// hold the figures from the nineteenth round to the twenty-second.
//
// NAB subset (35 files, 55 windows; artificialNoAnomaly's five files have
// no windows and score 0 raw), from
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --data /work/shared/data/nab/data --out /tmp/anomaly-nab --windows /work/shared/data/nab/labels/combined_windows.json --label-free-rate 0.1 --per-file
//
// (about a second; --per-file adds each file's raw score), in-sample /
// LOCO / LOFO / label-free, 62 false-alarm rows at the in-sample
// threshold 0.370 (65 before the weekly range), 125 detections after
// probation (128):
//
//	standard               in-sample   LOCO    LOFO   label-free
//	artificialWithAnomaly    88.26     88.26   88.26    88.26
//	realAWSCloudwatch        69.92     66.82   66.82    69.92    (69.91 / 66.80 / 66.80 / 69.91)
//	realKnownCause           75.24     75.24   74.95    75.24    (74.66 / 74.66 / 74.37 / 74.66)
//	all                      73.76     72.07   71.97    73.76    (73.55 / 71.86 / 71.76 / 73.55)
//	reward_low_FP
//	artificialWithAnomaly    84.59     84.59   84.59    84.59
//	realAWSCloudwatch        65.34     62.24   62.24    65.34    (65.14 / 62.04 / 62.04 / 65.14)
//	realKnownCause           66.03     65.45   65.45    66.03    (64.87 / 64.29 / 64.29 / 64.87)
//	all                      67.68     65.79   65.79    67.68    (67.17 / 65.28 / 65.28 / 67.17)
//	reward_low_FN
//	artificialWithAnomaly    92.17     92.17   92.17    92.17
//	realAWSCloudwatch        73.28     70.10   70.10    73.28    (73.27 / 70.09 / 70.09 / 73.27)
//	realKnownCause           81.74     81.74   81.55    81.74    (81.35 / 81.35 / 81.16 / 81.35)
//	all                      78.26     76.53   76.46    78.26    (78.12 / 76.39 / 76.32 / 78.12)
//
// Synthetic corpus, phased (every file on its own weekday and time of
// day), development seeds 1–30 (30 × 52 files, 2,880 windows), from
//
//	GOMAXPROCS=1 go run ./services/anomaly nab --synth /tmp/anomaly-synthP-1-30 --seeds 1-30 --per-family 12 --out /tmp/anomaly-synthP-res --label-free-rate 0.1 --synth-phase
//
// (about two minutes; the first run writes the corpus; --calibration adds
// each family's own best threshold and its score on a grid of
// thresholds, and per seed the threshold each held-out family was scored
// at; --seed-csv FILE writes every seed's score per profile, protocol and
// family at full precision, seed,profile,protocol,part,score,fp, from
// which a round pairs two builds seed by seed for its bootstrap), mean
// over the seeds, in-sample / LOCO / LOFO / label-free:
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              71.44     67.85   68.13    70.87    (71.31 / 67.85 / 68.20 / 70.87)
//	synthHourly              80.32     79.47   79.03    80.33    (79.16 / 78.18 / 77.70 / 78.99)
//	synthIrregular           69.07     66.07   66.59    67.55    (69.01 / 66.06 / 66.61 / 67.54)
//	synthShift               79.21     77.22   77.58    78.25    (79.15 / 77.29 / 77.78 / 78.24)
//	all                      75.01     72.66   72.83    74.25    (74.66 / 72.35 / 72.57 / 73.91)
//	reward_low_FP
//	synthCounts              60.78     56.07   57.13    57.61    (60.93 / 56.61 / 57.51 / 57.61)
//	synthHourly              74.00     72.50   72.99    72.63    (73.58 / 72.35 / 72.56 / 72.38)
//	synthIrregular           63.54     59.53   60.34    63.26    (63.38 / 59.55 / 60.40 / 63.23)
//	synthShift               72.76     68.48   70.26    72.89    (72.93 / 69.05 / 70.38 / 72.87)
//	all                      67.77     64.14   65.18    66.60    (67.70 / 64.39 / 65.22 / 66.52)
//	reward_low_FN
//	synthCounts              78.35     73.65   76.18    77.20    (78.46 / 72.92 / 76.18 / 77.20)
//	synthHourly              85.18     84.62   84.41    85.17    (83.50 / 82.85 / 82.65 / 83.45)
//	synthIrregular           73.42     70.73   71.61    71.38    (73.15 / 70.83 / 71.70 / 71.37)
//	synthShift               84.06     82.24   82.63    82.36    (84.10 / 82.24 / 82.62 / 82.35)
//	all                      80.25     77.81   78.71    79.03    (79.80 / 77.21 / 78.29 / 78.59)
//
// With the opt-in synthGaps family (the same command with
// --synth-families synthCounts,synthHourly,synthIrregular,synthShift,synthGaps
// and a fresh --synth folder; 30 × 65 files, 3,600 windows), phased 1–30:
// synthGaps 77.57 / 75.64 / 76.12 / 77.31, all 75.40 / 73.42 / 73.79 /
// 74.86; the four other families' label-free figures are the table's
// (EXPERIMENTS.md section 80).
//
// Phased seeds 161–170, which judged the day kinds once (the same
// command with --seeds 161-170 and a fresh --synth folder):
//
//	standard               in-sample   LOCO    LOFO   label-free
//	synthCounts              74.60     70.51   71.32    73.94    (74.60 / 70.53 / 71.27 / 73.94)
//	synthHourly              80.06     79.00   78.89    79.53    (79.93 / 78.83 / 78.79 / 79.45)
//	synthIrregular           65.62     64.61   64.31    64.18    (65.62 / 64.61 / 64.26 / 64.18)
//	synthShift               79.88     77.66   77.70    78.24    (79.88 / 77.66 / 77.74 / 78.24)
//	all                      75.04     72.94   73.06    73.97    (75.01 / 72.90 / 73.02 / 73.95)
//	all, reward_low_FP       67.48     63.97   64.23    66.18    (67.76 / 64.16 / 64.49 / 66.47)
//	all, reward_low_FN       80.28     78.34   78.53    78.79    (80.15 / 78.19 / 78.43 / 78.68)
//
// Phased seeds 171–180, run once for the sixteenth of the anom rounds
// (--seeds 171-180): all 73.84 / 71.72 / 71.60 / 73.02 (73.49 / 71.40 /
// 71.51 / 72.62 before the twenty-second round; counts 72.72 / 68.91 /
// 69.41 / 71.79, hourly 78.28 / 77.53 / 77.50 / 78.31, irregular 64.21 /
// 62.44 / 61.68 / 62.92, shift 80.14 / 77.99 / 77.81 / 79.06), low-FP
// 66.81 / 64.45 / 64.96 / 65.44, low-FN 79.00 / 75.71 / 77.49 / 77.74.
// Phased seeds 181–190, run once to judge the nineteenth of the anom
// rounds (--seeds 181-190): 74.86 / 72.55 / 73.35 / 73.72 (74.23 / 72.02
// / 72.73 / 73.11 before the twenty-second round, 74.11 / 71.93 / 72.84 /
// 73.04 before the nineteenth; counts 71.92 / 70.53 / 70.74 / 71.44,
// hourly 77.55 / 75.91 / 76.79 / 76.29, irregular 68.58 / 64.16 / 66.64
// / 66.67, shift 81.38 / 79.58 / 79.23 / 80.47), low-FP 68.02 / 65.42 /
// 65.57 / 66.32, low-FN 79.99 / 77.92 / 78.99 / 78.45. Phased seeds
// 191–200, run once to judge the twenty-second (--seeds 191-200): 75.06
// / 72.04 / 73.15 / 74.12 (74.90 / 71.97 / 73.04 / 73.97 before; counts
// 73.16 / 66.07 / 70.49 / 72.00, hourly 79.03 / 78.83 / 78.69 / 79.28,
// irregular 67.39 / 64.70 / 64.66 / 65.23, shift 80.66 / 78.57 / 78.77 /
// 79.96), low-FP 68.19 / 65.04 / 66.55 / 66.12, low-FN 80.31 / 77.87 /
// 78.05 / 79.03. Phased seeds 201–210, run once as the twenty-third
// round's base (its candidate was rejected, so these are the current
// detector's figures on seeds no round had seen): 74.65 / 72.82 / 72.87
// / 73.83 (counts 70.02 / 68.05 / 67.13 / 68.75, hourly 78.45 / 78.13 /
// 77.71 / 78.89, irregular 68.82 / 66.20 / 67.29 / 68.24, shift 81.33 /
// 78.90 / 79.35 / 79.43), low-FP 67.19 / 63.71 / 65.43 / 65.97, low-FN
// 79.95 / 78.45 / 78.16 / 78.66. Phased seeds 211–220, run once as the
// twenty-seventh round's base (its candidate was rejected): 75.10 /
// 72.87 / 72.96 / 73.56 (counts 74.36 / 70.36 / 71.50 / 72.28, hourly
// 78.72 / 78.12 / 78.01 / 79.17, irregular 67.27 / 64.76 / 64.26 /
// 64.66, shift 80.03 / 78.22 / 78.09 / 78.14), low-FP 67.66 / 64.83 /
// 65.11 / 65.96, low-FN 80.65 / 78.94 / 79.22 / 78.42. Without --synth-phase every file starts
// on Monday 00:00 UTC (the corpus of every round before the thirteenth);
// seeds 1–30 so, the same command without --synth-phase and with a fresh
// --synth folder, give 76.46 / 74.84 / 74.75 / 75.54 (76.41 / 74.75 /
// 74.76 / 75.49 before the twenty-second round; counts 73.74 / 70.75 /
// 70.86 / 72.23, hourly 79.65 / 78.98 / 78.77 / 79.42, irregular 70.72 /
// 69.24 / 69.29 / 69.32, shift 81.71 / 80.40 / 80.07 / 81.20), low-FP
// 69.18 / 65.64 / 66.26 / 67.98, low-FN 81.50 / 79.64 / 80.03 / 80.34.
//
// Cost per observation and bytes per series. A Detector's state is 6,904
// bytes (6,896 before the weekly range; Go's 6,912-byte size class),
// whatever the stream's length; a new
// detector takes 7,152 heap bytes while its startup buffers (the count
// test's twelve values and the steps that decide the sampling interval)
// live, and drops them once both are decided. Observe allocates nothing.
// The anomaly service allocates about 49.5 KB a tier of 7 metrics
// (TestBudget in internal/membudget, budget 8,192 B a metric: 49,590 B
// in the thirteenth round, 49,522 B on 2026-12-03). From
//
//	GOMAXPROCS=1 go test -count=1 -run TestDetectorStateSize -v ./internal/anomaly/
//	GOMAXPROCS=1 go test ./internal/anomaly -run '^$' -bench BenchmarkObserve -benchtime 2000000x -count 3 -benchmem -cpu 1
//	GOMAXPROCS=1 go test -count=1 -run TestBudget -v ./internal/membudget/
//
// BenchmarkObserve (one seasonal 5-minute series) takes 0.4–1.0 µs per
// observation and BenchmarkObserveSynth (fresh detectors over the
// synthetic corpus, hourly files included) 0.5–1.0 µs, following the
// machine's load: 578–1,028 ns in the fifty-sixth round at load about 4
// (main's build 585–814 ns just after), 462–476 ns in the fifty-third round (main's build
// 437–447 ns just before, load about 1.1), 417 ns in the sixteenth round
// (-benchtime 2s), 494–663 and 525–662 ns in the thirteenth at load
// about 1, 642–807 and 845–1,014 ns on 2026-12-03 under load 3.8.
//
// Caveat: most settings other than AlarmLevel were chosen on the NAB
// subset's labels before cross-validation existed, so the NAB figures,
// the cross-validated ones included, are optimistic; only the threshold
// is cross-validated. A threshold above AlarmLevel loses points sharply
// (alarms start the holdoff; less since Breakthrough 0.3, but the stuck
// detector's rising runs still do), hence the cap.
//
// # Experiments
//
// The settings above were chosen in rounds: a gate fixed before the
// candidates ran (which development figures must rise and which must
// not fall), candidates measured on development data only (the NAB
// subset and synthetic seeds 1–30), and a candidate that passed judged
// once on unused seeds, then kept, or reverted and written up (the
// earliest rounds by a looser form of the same rule).
// EXPERIMENTS.md in this directory holds every round in order, from the
// first cross-validated configuration to the latest of the anom rounds:
// what each aimed at, every candidate kept or rejected with its
// figures and the commands that produced them, the diagnoses, and what
// each left to try. Its index table names each round as this comment
// and the Config comments cite it.
package anomaly
