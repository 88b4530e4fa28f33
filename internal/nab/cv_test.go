package nab

import (
	"bytes"
	"strings"
	"testing"
)

// TestEvaluateInSampleMatchesScore checks that the in-sample protocol over
// the corpus is NAB's own corpus score.
func TestEvaluateInSampleMatchesScore(t *testing.T) {
	a := file(200, nil, [2]int{100, 104})
	a.Name = "catA/a.csv"
	a.Scores[100] = 0.9
	a.Scores[150] = 0.4
	b := file(200, nil, [2]int{60, 64})
	b.Name = "catB/b.csv"
	b.Scores[5] = 0.95
	b.Scores[62] = 0.5
	files := []File{a, b}
	want := Score(files, Profiles(), 0)
	evals, err := Evaluate([][]File{files}, Profiles(), 0, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evals {
		if e.Protocol != InSample {
			continue
		}
		all := e.Parts[len(e.Parts)-1]
		var w Result
		for _, r := range want {
			if r.Profile.Name == e.Profile.Name {
				w = r
			}
		}
		if all.Name != "all" || !near(all.Raw, w.Raw) || !near(all.Score, w.Score) || all.Thresholds[0] != w.Threshold {
			t.Errorf("%s in-sample all = %+v, want raw %v score %v at %v", e.Profile.Name, all, w.Raw, w.Score, w.Threshold)
		}
	}
}

// twoCategories returns a file of category catA whose window is hit at 0.9
// only and one of catB whose window is hit at 0.5, with a false positive
// at 0.6: alone, A's best threshold is 0.9 and B's is 0.5.
func twoCategories() (a, b File) {
	a = file(200, nil, [2]int{100, 104})
	a.Name = "catA/a.csv"
	a.Scores[100] = 0.9
	b = file(200, nil, [2]int{60, 64})
	b.Name = "catB/b.csv"
	b.Scores[60] = 0.5
	b.Scores[150] = 0.6
	return a, b
}

// TestEvaluateHoldsOut builds two categories whose best thresholds differ,
// so each held-out category is scored at the other's threshold.
func TestEvaluateHoldsOut(t *testing.T) {
	a, b := twoCategories()
	std := Profiles()[0]
	evals, err := Evaluate([][]File{{a, b}}, []Profile{std}, 0, 0.7)
	if err != nil {
		t.Fatal(err)
	}
	get := func(proto, name string) Part {
		for _, e := range evals {
			if e.Protocol != proto {
				continue
			}
			for _, p := range e.Parts {
				if p.Name == name {
					return p
				}
			}
		}
		t.Fatalf("no %s part %s", proto, name)
		return Part{}
	}
	// Held-out A is scored at B's 0.5: hit (1). Held-out B at A's 0.9: miss (−1).
	if p := get(LOCO, "catA"); !near(p.Raw, 1) || p.Thresholds[0] != 0.5 {
		t.Errorf("LOCO catA = %+v, want raw 1 at 0.5", p)
	}
	if p := get(LOCO, "catB"); !near(p.Raw, -1) || p.Thresholds[0] != 0.9 {
		t.Errorf("LOCO catB = %+v, want raw -1 at 0.9", p)
	}
	// Corpus: raw 0, null −2, perfect 2 → 50.
	if p := get(LOCO, "all"); !near(p.Score, 50) {
		t.Errorf("LOCO all = %+v, want 50", p)
	}
	// Label-free at 0.7 detects A's window only.
	if p := get(LabelFree, "all"); !near(p.Raw, 0) {
		t.Errorf("label-free all = %+v, want raw 0", p)
	}
	// In-sample takes 0.5: both windows, one false positive.
	if p := get(InSample, "all"); !near(p.Raw, 2-0.11) {
		t.Errorf("in-sample all = %+v, want raw 1.89", p)
	}
	var buf bytes.Buffer
	WriteTable(&buf, evals)
	if !strings.Contains(buf.String(), "leave-cat-out") || !strings.Contains(buf.String(), "catB") {
		t.Errorf("table lacks columns or rows:\n%s", buf.String())
	}
}

// TestEvaluateChoosesCandidate checks that a tuned setting (a second
// candidate scoring) is chosen on the training files only.
func TestEvaluateChoosesCandidate(t *testing.T) {
	a := file(200, nil, [2]int{100, 104})
	a.Name = "catA/a.csv"
	b := file(200, nil, [2]int{60, 64})
	b.Name = "catB/b.csv"
	// Candidate 0 finds both windows; candidate 1 only A's, but earlier
	// there is nothing to gain: with A held out, B's training prefers 0.
	a0, b0 := a, b
	a0.Scores = append([]float64(nil), a.Scores...)
	b0.Scores = append([]float64(nil), b.Scores...)
	a0.Scores[100], b0.Scores[60] = 0.8, 0.8
	a1, b1 := a, b
	a1.Scores = append([]float64(nil), a.Scores...)
	b1.Scores = append([]float64(nil), b.Scores...)
	a1.Scores[100] = 0.8
	evals, err := Evaluate([][]File{{a0, b0}, {a1, b1}}, Profiles()[:1], 0, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evals {
		if e.Protocol == LOCO {
			for _, p := range e.Parts[:2] {
				if p.Candidates[0] != 0 {
					t.Errorf("LOCO %s chose candidate %d, want 0", p.Name, p.Candidates[0])
				}
			}
		}
	}
	if _, err := Evaluate([][]File{{a0, b0}, {a1}}, Profiles()[:1], 0, 0.5); err == nil {
		t.Error("mismatched candidates accepted")
	}
}

func TestRateThreshold(t *testing.T) {
	// 200 rows of 5 minutes: probation 30 rows, so 169 steps = 0.587 days
	// after it. Scores 0.9, 0.8 and 0.7 after probation, 0.95 inside it.
	f := file(200, nil)
	f.Scores[10] = 0.95
	f.Scores[50], f.Scores[60], f.Scores[70] = 0.9, 0.8, 0.7
	// Two detections in 0.587 days is 3.4 per day.
	th, days := RateThreshold([]File{f}, DefaultProbation, 3.5)
	if !near(days, 169.0*5/60/24) {
		t.Errorf("days %v, want %v", days, 169.0*5/60/24)
	}
	if th <= 0.7 || th > 0.8 {
		t.Errorf("threshold %v, want just above 0.7 (two detections)", th)
	}
	if th, _ := RateThreshold([]File{f}, DefaultProbation, 0); th <= 0.9 {
		t.Errorf("zero budget threshold %v, want above every score", th)
	}
	// RateAt counts what a threshold lets through after probation, over
	// the same days: RateThreshold's choice holds the budget.
	for _, c := range []struct {
		t    float64
		want int
	}{{th, 2}, {0.7, 3}, {0.9, 1}, {0.96, 0}} {
		n, d := RateAt([]File{f}, DefaultProbation, c.t)
		if n != c.want || d != days {
			t.Errorf("RateAt(%v) = %d detections over %v days, want %d over %v", c.t, n, d, c.want, days)
		}
	}
}

// TestMeanCalibration averages best thresholds and scores, sums
// false-positive rows, and refuses runs of different shapes.
func TestMeanCalibration(t *testing.T) {
	mk := func(best, score float64, fp int) []Calibration {
		return []Calibration{{Name: "all", Best: best, BestScore: score, At: []float64{score, score - 10}, FP: []int{fp, fp / 2}}}
	}
	got, err := MeanCalibration([][]Calibration{mk(0.3, 60, 4), mk(0.4, 80, 6)})
	if err != nil {
		t.Fatal(err)
	}
	c := got[0]
	if !near(c.Best, 0.35) || !near(c.BestScore, 70) || !near(c.At[1], 60) || c.FP[0] != 10 || c.FP[1] != 5 {
		t.Errorf("mean %+v, want best 0.35 at 70, 60 at the second threshold, FP [10 5]", c)
	}
	short := mk(0.3, 60, 4)
	short[0].At = short[0].At[:1]
	if _, err := MeanCalibration([][]Calibration{mk(0.3, 60, 4), short}); err == nil {
		t.Error("calibrations at different thresholds averaged without an error")
	}
	if _, err := MeanCalibration(nil); err == nil {
		t.Error("no runs averaged without an error")
	}
}

// TestMean checks that averaging runs averages each part's normalised
// score, adds up its counts and keeps each threshold once.
func TestMean(t *testing.T) {
	mk := func(score, raw float64, th float64) []Evaluation {
		return []Evaluation{{Protocol: InSample, Profile: Profiles()[0], Parts: []Part{
			{Name: "all", Files: 2, Windows: 3, Raw: raw, Null: -3, Perfect: 3, Score: score, Thresholds: []float64{th}, Candidates: []int{0}, FP: 1},
		}}}
	}
	got, err := Mean([][]Evaluation{mk(60, 1, 0.5), mk(80, 2, 0.5), mk(70, 0, 0.4)})
	if err != nil {
		t.Fatal(err)
	}
	p := got[0].Parts[0]
	if !near(p.Score, 70) || p.Files != 6 || p.Windows != 9 || !near(p.Raw, 3) || p.FP != 3 || len(p.Thresholds) != 2 {
		t.Errorf("mean part %+v, want score 70, 6 files, 9 windows, raw 3, 3 FP, thresholds [0.5 0.4]", p)
	}
	if _, err := Mean([][]Evaluation{mk(60, 1, 0.5), nil}); err == nil {
		t.Error("runs of different shapes averaged without an error")
	}
}

// TestCalibrateScoresEachCategoryAlone builds two categories whose best
// thresholds differ (as in TestEvaluateHoldsOut): each must report its own
// best threshold and score, and its false positives at the thresholds
// asked for.
func TestCalibrateScoresEachCategoryAlone(t *testing.T) {
	a, b := twoCategories()
	std := Profiles()[0]
	cal := Calibrate([]File{a, b}, std, 0, []float64{0.5, 0.9})
	if len(cal) != 3 || cal[0].Name != "catA" || cal[1].Name != "catB" || cal[2].Name != "all" {
		t.Fatalf("parts %+v, want catA, catB, all", cal)
	}
	if cal[0].Best != 0.9 || !near(cal[0].BestScore, 100) {
		t.Errorf("catA best %v at %v, want 100 at 0.9", cal[0].BestScore, cal[0].Best)
	}
	if cal[1].Best != 0.5 || cal[1].BestScore >= 100 || cal[1].BestScore <= 0 {
		t.Errorf("catB best %v at %v, want between 0 and 100 at 0.5 (one false positive)", cal[1].BestScore, cal[1].Best)
	}
	if cal[1].FP[0] != 1 || cal[1].FP[1] != 0 || cal[1].At[1] != 0 {
		t.Errorf("catB at 0.5/0.9: fp %v, scores %v; want 1 and 0 false positives, and the null score at 0.9", cal[1].FP, cal[1].At)
	}
	if !near(cal[1].At[0], cal[1].BestScore) {
		t.Errorf("catB at its best threshold scores %v, want %v", cal[1].At[0], cal[1].BestScore)
	}
}
