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
// Expectation. Three forecasters run side by side: a slow exponential level,
// a daily and a weekly additive profile (level plus one slot per step of the
// period, at most 336 slots, float32, indexed by event time so gaps are
// fine; the weekly one only runs when a week fits in 336 slots). Each
// tracks its mean absolute one-step error; the expectation is their blend
// weighted by inverse squared error, and the blended error is the scale.
//
// Five surprises; the first three come from the standardised residual
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
//     range: a level the series has never reached.
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
// penalty), and the score is −log10(min w·p)/6, clamped to [0,1], so a score
// means the same tail probability on every series.
//
// Sparse alarms. A score at or above Config.AlarmLevel is an alarm. For
// Config.Holdoff observations after an alarm, scores are multiplied by
// Config.HoldoffDamp, so an event raises one high score at its onset rather
// than a run of them. A score is also damped when the same time of day,
// give or take Config.RecurWidth daily slots, scored about as high 12 to 36
// hours earlier: a nightly job is part of the series, not news. The first
// Config.Warmup observations are learned but not scored, and the tails do
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
// after ClassifierConfig.CloseAfter ticks without either.
package anomaly
