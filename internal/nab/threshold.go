package nab

import "sort"

// ThresholdScore is the corpus total at one threshold.
type ThresholdScore struct {
	// Threshold is the lowest score counted as a detection.
	Threshold float64
	// Score is the raw NAB score at this threshold.
	Score float64
	// TP, TN, FP and FN count rows (not windows), as NAB reports them.
	TP, TN, FP, FN int
}

// ScoreByThreshold sweeps the threshold down through every distinct score of
// rows (NAB's calcScoreByThreshold), starting at 1.1 where nothing is
// detected. Rows are the concatenated sweeps of one or more files for
// profile p; window ids must be distinct across files.
func ScoreByThreshold(rows []Row, p Profile) []ThresholdScore {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rows[order[a]].Score > rows[order[b]].Score })

	// Every scored window starts as a miss.
	best := map[int]float64{}
	var tn, fn int
	for _, r := range rows {
		if r.Window < 0 {
			tn++
			continue
		}
		fn++
		best[r.Window] = -p.FN
	}
	windowSum := -p.FN * float64(len(best))
	fpSum := 0.0
	tp, fp := 0, 0

	var out []ThresholdScore
	cur := 1.1
	for _, i := range order {
		r := rows[i]
		if r.Score != cur {
			out = append(out, ThresholdScore{Threshold: cur, Score: windowSum + fpSum, TP: tp, TN: tn, FP: fp, FN: fn})
			cur = r.Score
		}
		if r.Window < 0 {
			fp++
			tn--
			fpSum += r.Weight
			continue
		}
		tp++
		fn--
		if old := best[r.Window]; r.Weight > old {
			windowSum += r.Weight - old
			best[r.Window] = r.Weight
		}
	}
	out = append(out, ThresholdScore{Threshold: cur, Score: windowSum + fpSum, TP: tp, TN: tn, FP: fp, FN: fn})
	return out
}

// Best returns the threshold score with the highest total; ties go to the
// higher threshold, as NAB's stable sort does.
func Best(scores []ThresholdScore) ThresholdScore {
	var b ThresholdScore
	for i, s := range scores {
		if i == 0 || s.Score > b.Score {
			b = s
		}
	}
	return b
}

// At returns the threshold score that applies at threshold t: the row for the
// lowest listed threshold that is still >= t (detections are scores >= t).
// It returns the first row when every listed threshold is below t.
func At(scores []ThresholdScore, t float64) ThresholdScore {
	var m ThresholdScore
	for i, s := range scores {
		if i == 0 || s.Threshold >= t {
			m = s
			continue
		}
		break
	}
	return m
}
