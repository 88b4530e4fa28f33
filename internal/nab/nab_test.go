package nab

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)

// file builds an n-row file at 5-minute steps with score 1 at the given rows
// and one window per [l, r] pair of row indices.
func file(n int, hits []int, wins ...[2]int) File {
	f := File{Name: "f.csv", Times: make([]time.Time, n), Scores: make([]float64, n)}
	for i := range f.Times {
		f.Times[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
	}
	for _, h := range hits {
		f.Scores[h] = 1
	}
	for _, w := range wins {
		f.Windows = append(f.Windows, Window{Start: f.Times[w[0]], End: f.Times[w[1]]})
	}
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScaledSigmoid(t *testing.T) {
	cases := []struct{ x, want float64 }{
		{-1, 0.9866142981514305},
		{0, 0},
		{0.5, -0.8482836399575129},
		{3, -1},
		{10, -1},
	}
	for _, c := range cases {
		if got := ScaledSigmoid(c.x); !near(got, c.want) {
			t.Errorf("ScaledSigmoid(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

func TestProbationLength(t *testing.T) {
	cases := []struct{ n, want int }{{20, 3}, {4032, 604}, {10000, 750}, {22695, 750}, {0, 0}}
	for _, c := range cases {
		if got := ProbationLength(c.n, DefaultProbation); got != c.want {
			t.Errorf("ProbationLength(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestOptimizeHandComputed checks single-file totals worked out by hand from
// NAB's rules (probation switched off so every row counts).
func TestOptimizeHandComputed(t *testing.T) {
	std := Profiles()[0]
	lowFP := Profiles()[1]
	lowFN := Profiles()[2]
	win := [2]int{100, 104} // width 5
	cases := []struct {
		name      string
		p         Profile
		f         File
		want      float64
		threshold float64
	}{
		{"first row of window earns tpWeight", std, file(200, []int{100}, win), 1, 1},
		// position -(104-102+1)/5 = -0.6; sigma(-0.6)/sigma(-1).
		{"middle of window earns less", std, file(200, []int{102}, win), 0.9174286804284079, 1},
		{"only the first detection counts", std, file(200, []int{100, 101, 103}, win), 1, 1},
		// FP at 106: position (106-104)/(5-1) = 0.5 -> 0.11*sigma(0.5).
		{"fp after window is discounted", std, file(200, []int{100, 106}, win), 1 - 0.09331120039532642, 1},
		{"fp after window low-FP profile", lowFP, file(200, []int{100, 106}, win), 1 - 0.18662240079065284, 1},
		// A lone FP before the window makes detecting worse than not: -1-0.11
		// at threshold 1 against -1 at 1.1.
		{"fp before window: best is to detect nothing", std, file(200, []int{30}, win), -1, 1.1},
		{"miss costs fnWeight twice in low-FN", lowFN, file(200, nil, win), -2, 1.1},
		{"no windows no detections", std, file(200, nil), 0, 1.1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Optimize([]File{c.f}, c.p, 0)
			if !near(got.Score, c.want) || got.Threshold != c.threshold {
				t.Errorf("Optimize = %+v, want score %v at threshold %v", got, c.want, c.threshold)
			}
		})
	}
}

func TestScoreByThresholdSweep(t *testing.T) {
	std := Profiles()[0]
	f := file(200, []int{30, 100}, [2]int{100, 104})
	f.Scores[30] = 0.5
	rows, _ := Sweep(f, std, 0, 0)
	got := ScoreByThreshold(rows, std)
	// Thresholds 1.1 (nothing), 1 (the window hit), 0.5 (plus an FP before
	// any window at full cost), 0 (everything).
	if len(got) != 4 {
		t.Fatalf("got %d thresholds, want 4: %+v", len(got), got)
	}
	want := []struct{ th, score float64 }{{1.1, -1}, {1, 1}, {0.5, 1 - 0.11}}
	for i, w := range want {
		if got[i].Threshold != w.th || !near(got[i].Score, w.score) {
			t.Errorf("row %d = %+v, want threshold %v score %v", i, got[i], w.th, w.score)
		}
	}
	if got[1].TP != 1 || got[1].FN != 4 || got[1].FP != 0 || got[1].TN != 195 {
		t.Errorf("counts at threshold 1 = %+v, want TP 1 FN 4 FP 0 TN 195", got[1])
	}
	if a := At(got, 0.7); a.Threshold != 1 {
		t.Errorf("At(0.7) picked threshold %v, want 1", a.Threshold)
	}
	if a := At(got, 0.5); a.Threshold != 0.5 {
		t.Errorf("At(0.5) picked threshold %v, want 0.5", a.Threshold)
	}
}

func TestProbationIgnoresEarlyRows(t *testing.T) {
	std := Profiles()[0]
	// 200 rows: probation is 30 rows, so an FP at row 10 is free.
	f := file(200, []int{10, 100}, [2]int{100, 104})
	if got := Optimize([]File{f}, std, DefaultProbation); !near(got.Score, 1) {
		t.Errorf("score %v, want 1 (FP in probation ignored)", got.Score)
	}
	// A window wholly inside probation is not scored at all.
	g := file(200, nil, [2]int{0, 2})
	if got := Optimize([]File{g}, std, DefaultProbation); !near(got.Score, 0) {
		t.Errorf("score %v, want 0 (window in probation ignored)", got.Score)
	}
}

func TestScoreNormalises(t *testing.T) {
	a := file(200, []int{100}, [2]int{100, 104})
	b := file(200, nil, [2]int{50, 54})
	res := Score([]File{a, b}, Profiles(), 0)
	if len(res) != 3 {
		t.Fatalf("got %d results, want 3", len(res))
	}
	// standard: raw 1 - 1 = 0, null -2, perfect 2 -> 50.
	std := res[0]
	if !near(std.Raw, 0) || !near(std.Null, -2) || !near(std.Perfect, 2) || !near(std.Score, 50) {
		t.Errorf("standard = %+v, want raw 0 null -2 perfect 2 score 50", std)
	}
	// low FN: raw 1 - 2 = -1, null -4, perfect 2 -> 100*3/6 = 50.
	fn := res[2]
	if !near(fn.Raw, -1) || !near(fn.Null, -4) || !near(fn.Score, 50) {
		t.Errorf("reward_low_FN_rate = %+v, want raw -1 null -4 score 50", fn)
	}
	// A perfect detector scores 100 and the null detector 0.
	perfect := []File{file(200, []int{100}, [2]int{100, 104}), file(200, []int{50}, [2]int{50, 54})}
	for _, r := range Score(perfect, Profiles(), 0) {
		if !near(r.Score, 100) {
			t.Errorf("%s perfect detector scored %v, want 100", r.Profile.Name, r.Score)
		}
	}
	for _, r := range Score(NullFiles(perfect), Profiles(), 0) {
		if !near(r.Score, 0) {
			t.Errorf("%s null detector scored %v, want 0", r.Profile.Name, r.Score)
		}
	}
}

func TestThresholdSharedAcrossFiles(t *testing.T) {
	std := Profiles()[0]
	// File a's window is hit at 0.9, file b has a false positive at 0.95.
	a := file(200, nil, [2]int{100, 104})
	a.Scores[100] = 0.9
	b := file(200, nil)
	b.Scores[5] = 0.95
	got := Optimize([]File{a, b}, std, 0)
	if got.Threshold != 0.9 || !near(got.Score, 1-0.11) {
		t.Errorf("Optimize = %+v, want threshold 0.9 score 0.89", got)
	}
	per := FileScores([]File{a, b}, std, 0, got.Threshold)
	if !near(per[0], 1) || !near(per[1], -0.11) {
		t.Errorf("FileScores = %v, want [1 -0.11]", per)
	}
}

func TestSweepEdgeRules(t *testing.T) {
	std := Profiles()[0]
	// A one-row window: a hit on it earns tpWeight; a false positive after
	// it is costed as far away (NAB would divide by zero).
	f := file(200, []int{100, 101}, [2]int{100, 100})
	rows, used := Sweep(f, std, 0, 7)
	if used != 1 {
		t.Fatalf("used %d window ids, want 1", used)
	}
	if rows[100].Window != 7 || !near(rows[100].Weight, 1) {
		t.Errorf("window row = %+v, want window 7 weight 1", rows[100])
	}
	if rows[101].Window != -1 || !near(rows[101].Weight, -0.11) {
		t.Errorf("row after one-row window = %+v, want weight -0.11", rows[101])
	}
	// A window straddling the end of probation (30 rows of 200): only its
	// later rows are scored, still weighed by the whole window.
	g := file(200, []int{32}, [2]int{25, 34})
	rows, _ = Sweep(g, std, DefaultProbation, 0)
	if len(rows) != 170 {
		t.Fatalf("got %d scored rows, want 170", len(rows))
	}
	// Row 32 is the 3rd scored row; position -(34-32+1)/10 = -0.3.
	want := ScaledSigmoid(-0.3) / ScaledSigmoid(-1)
	if rows[2].Window != 0 || !near(rows[2].Weight, want) {
		t.Errorf("row 32 = %+v, want weight %v", rows[2], want)
	}
	// Windows come sorted whatever their order in the labels.
	h := file(200, nil, [2]int{150, 154}, [2]int{100, 104})
	rows, _ = Sweep(h, std, 0, 0)
	if rows[100].Window != 0 || rows[150].Window != 1 {
		t.Errorf("window ids %d and %d, want 0 then 1 in time order", rows[100].Window, rows[150].Window)
	}
}
