package nab

import (
	"math"
	"sort"
	"time"
)

// DefaultProbation is NAB's probationary fraction of every file.
const DefaultProbation = 0.15

// Profile is one NAB cost profile.
type Profile struct {
	// Name is the NAB name of the profile, e.g. "standard".
	Name string
	// TP is the reward for a detection at the very start of a window.
	TP float64
	// FP is the cost of a false positive far from any window.
	FP float64
	// FN is the cost of a window without a detection.
	FN float64
}

// Profiles returns NAB v1's three cost profiles in their usual order.
func Profiles() []Profile {
	return []Profile{
		{Name: "standard", TP: 1, FP: 0.11, FN: 1},
		{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1},
		{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2},
	}
}

// Window is one labelled anomaly window, both ends included.
type Window struct {
	// Start is the timestamp of the window's first row.
	Start time.Time
	// End is the timestamp of the window's last row.
	End time.Time
}

// File is one scored data file: a detector's scores and the file's windows.
type File struct {
	// Name identifies the file in results, e.g. "realKnownCause/nyc_taxi.csv".
	Name string
	// Times holds the row timestamps in increasing order.
	Times []time.Time
	// Scores holds the detector's anomaly score for each row.
	Scores []float64
	// Windows holds the file's label windows.
	Windows []Window
}

// Row is one row after the sweep: its score and what a detection there is worth.
type Row struct {
	// Score is the detector's anomaly score.
	Score float64
	// Weight is what a detection at this row adds: positive inside a window,
	// negative outside.
	Weight float64
	// Window is the corpus-wide id of the window holding the row, or -1.
	Window int
}

// ScaledSigmoid is NAB's reward curve: 2·sigmoid(−5x) − 1, and −1 for x >= 3.
// x = −1 is the start of a window, 0 just past its end, positive values are
// distances after the window in window widths.
func ScaledSigmoid(x float64) float64 {
	if x >= 3 {
		return -1
	}
	return 2/(1+math.Exp(5*x)) - 1
}

// ProbationLength returns how many leading rows of an n-row file NAB ignores.
func ProbationLength(n int, probation float64) int {
	return int(math.Min(math.Floor(probation*float64(n)), probation*5000))
}

// windowSpan is a window resolved to row indices.
type windowSpan struct{ left, right int }

// spans resolves windows to row ranges, in start order, dropping windows
// that hold no rows.
func spans(times []time.Time, ws []Window) []windowSpan {
	sorted := append([]Window(nil), ws...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	var out []windowSpan
	for _, w := range sorted {
		// Linear scans: real NAB files repeat or step back a timestamp at
		// clock changes, so times are only nearly sorted.
		l, r := len(times), -1
		for i, t := range times {
			if !t.Before(w.Start) {
				l = i
				break
			}
		}
		for i := len(times) - 1; i >= 0; i-- {
			if !times[i].After(w.End) {
				r = i
				break
			}
		}
		if l <= r {
			out = append(out, windowSpan{l, r})
		}
	}
	return out
}

// Sweep weighs every scorable row of one file for profile p (NAB's
// calcSweepScore). Rows in the probationary period are left out. Window ids
// start at firstWindow so several files can share one sweep; the second
// result is the number of window ids used.
func Sweep(f File, p Profile, probation float64, firstWindow int) ([]Row, int) {
	n := len(f.Times)
	if len(f.Scores) < n {
		n = len(f.Scores)
	}
	sp := spans(f.Times[:n], f.Windows)
	prob := ProbationLength(n, probation)
	maxTP := ScaledSigmoid(-1)
	rows := make([]Row, 0, n-prob)
	w := 0          // next window to enter
	prevRight := -1 // last row of the closest preceding window
	prevWidth := 0
	for i := 0; i < n; i++ {
		for w < len(sp) && sp[w].right < i {
			prevRight, prevWidth = sp[w].right, sp[w].right-sp[w].left+1
			w++
		}
		var weight float64
		win := -1
		if w < len(sp) && i >= sp[w].left {
			width := float64(sp[w].right - sp[w].left + 1)
			pos := -float64(sp[w].right-i+1) / width
			weight = ScaledSigmoid(pos) * p.TP / maxTP
			win = firstWindow + w
		} else {
			pos := 3.0
			if prevRight >= 0 && prevWidth > 1 {
				pos = math.Abs(float64(i-prevRight)) / float64(prevWidth-1)
			}
			weight = ScaledSigmoid(pos) * p.FP
		}
		if i < prob {
			continue
		}
		rows = append(rows, Row{Score: f.Scores[i], Weight: weight, Window: win})
	}
	return rows, len(sp)
}
