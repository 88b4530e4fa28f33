// Package nab scores anomaly detectors the way the Numenta Anomaly Benchmark
// (NAB v1, nab/sweeper.py with config/profiles.json) does. It is pure: score
// streams and label windows go in, numbers come out; reading files is the
// caller's job.
//
// The rules, as NAB applies them:
//
//   - Probation. The first min(floor(0.15·n), 0.15·5000) rows of every file
//     are ignored: they are neither detections nor misses, and a window whose
//     rows all lie there is not scored.
//   - Detection. A row is a detection when its anomaly score is >= the
//     threshold. One threshold serves the whole corpus.
//   - Windows. Each label window covers the rows whose timestamps lie in
//     [start, end]; its width w is its row count. A detection at row i of a
//     window whose last row is r is worth
//     tpWeight·σs(−(r−i+1)/w)/σs(−1), where σs(x) = 2/(1+e^{5x}) − 1 is the
//     scaled sigmoid (σs(x) = −1 for x >= 3). The earliest row of a window
//     is worth exactly tpWeight. Only the best (that is, the first) detection
//     in a window counts; a window without a detection costs −fnWeight.
//   - False positives. A detection outside every window costs
//     fpWeight·σs(|r−i|/(w−1)), where r and w belong to the closest preceding
//     window, so an alarm just after a window costs almost nothing and one
//     far after it costs fpWeight. Before the first window the cost is the
//     full −fpWeight. Every false positive counts, not only the first.
//   - Threshold optimisation. For each profile, the threshold is swept over
//     every distinct score in the corpus (plus 1.1, which detects nothing),
//     and the threshold with the highest corpus total wins (ties go to the
//     higher threshold).
//   - Normalisation. score = 100·(raw − null)/(perfect − null), where null
//     is the raw score of NAB's null detector (a constant 0.5, put through
//     the same threshold optimisation, so in practice −fnWeight per scored
//     window) and perfect is tpWeight times the number of windows.
//
// The three profiles (tpWeight, fpWeight, fnWeight) are standard (1, 0.11,
// 1), reward_low_FP_rate (1, 0.22, 1) and reward_low_FN_rate (1, 0.11, 2).
//
// # Cross-validation
//
// Evaluate scores a corpus four ways per profile, per category and over the
// corpus. In-sample: one threshold (and, with several candidate scorings,
// one candidate: a tuned detector setting) chosen on the whole corpus, as
// NAB does. Leave-one-category-out: for each category, the threshold and
// candidate that score best on the other categories are used on the
// held-out one. Leave-one-file-out: the same, holding out one file at a
// time. Label-free: one fixed threshold given by the caller, chosen without
// labels. Held-out raw scores add up over the corpus, which is then
// normalised once against its null and perfect scores, so the
// cross-validated figure is comparable with the in-sample one. A threshold
// sweep costs one pass over each file's threshold curve per fold.
//
// Mean averages the evaluations of several corpora of the same shape
// (synthetic corpora from several seeds), part by part: a generated
// corpus is small and one draw is noisy, so changes are judged on the
// mean over many.
//
// Calibrate scores each category, and the corpus, on its own: its best
// threshold and its score and false positives at given thresholds. Where
// the categories' best thresholds lie apart, or one category's score falls
// steeply on one side of the others' (a category of long files pays more
// per window for the same false alarms per row), the thresholds the folds
// choose for it cost it points that no protocol can win back.
//
// Where NAB's Python would fail (a window end missing from the timestamps, a
// one-row window followed by a false positive), this package picks the
// natural reading: windows take the rows inside their limits, and a
// false positive after a one-row window is costed as if far away.
package nab
