package forecast

import (
	"math"
	"testing"
	"time"
)

func TestOrigins(t *testing.T) {
	end := time.Date(1995, 8, 28, 13, 30, 0, 0, time.UTC)
	start := end.Add(-7 * 24 * time.Hour)
	got := Origins(start, end, 6*time.Hour, time.Hour)
	if len(got) != 28 {
		t.Fatalf("got %d origins, want 28", len(got))
	}
	if want := time.Date(1995, 8, 21, 18, 0, 0, 0, time.UTC); !got[0].Equal(want) {
		t.Errorf("first origin %s, want %s", got[0], want)
	}
	if want := time.Date(1995, 8, 28, 12, 0, 0, 0, time.UTC); !got[len(got)-1].Equal(want) {
		t.Errorf("last origin %s, want %s", got[len(got)-1], want)
	}
	// An origin whose hour would cross the end is left out; the start is
	// inclusive.
	got = Origins(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 6, 59, 0, 0, time.UTC), 6*time.Hour, time.Hour)
	if len(got) != 1 || got[0].Hour() != 0 {
		t.Errorf("got %v, want only midnight", got)
	}
}

func TestSeasonalNaiveMAE(t *testing.T) {
	y := []float64{1, 2, 3, 2, 4, math.NaN(), 1}
	// Pairs (lag 3): |2-1| + |4-2| + skip NaN + |1-2| = 4 over 3.
	if got := SeasonalNaiveMAE(y, 3); math.Abs(got-4.0/3) > 1e-12 {
		t.Errorf("got %v, want 4/3", got)
	}
	if got := SeasonalNaiveMAE(y[:2], 3); !math.IsNaN(got) {
		t.Errorf("too short: got %v, want NaN", got)
	}
}

func TestScorer(t *testing.T) {
	var s Scorer
	pts := []Point{
		{Yhat: 10, Lo80: 8, Hi80: 12, Lo95: 6, Hi95: 14},
		{Yhat: 10, Lo80: 8, Hi80: 12, Lo95: 6, Hi95: 14},
		{Yhat: 10, Lo80: 8, Hi80: 12, Lo95: 6, Hi95: 14},
	}
	s.Add(2, []float64{11, 15, math.NaN()}, pts)
	got := s.Scores()
	if got.Points != 2 || got.Origins != 1 {
		t.Fatalf("points %d origins %d, want 2 and 1", got.Points, got.Origins)
	}
	if want := (0.5 + 2.5) / 2; math.Abs(got.MASE-want) > 1e-12 {
		t.Errorf("MASE %v, want %v", got.MASE, want)
	}
	if want := (200.0/21 + 1000.0/25) / 2; math.Abs(got.SMAPE-want) > 1e-9 {
		t.Errorf("sMAPE %v, want %v", got.SMAPE, want)
	}
	if got.Coverage80 != 0.5 || got.Coverage95 != 0.5 || got.Width80 != 4 {
		t.Errorf("coverage %v/%v width %v, want 0.5/0.5/4", got.Coverage80, got.Coverage95, got.Width80)
	}
	if got.StepCoverage80[0] != 1 || got.StepCoverage80[1] != 0 {
		t.Errorf("step coverage %v", got.StepCoverage80)
	}
}

// TestScorerCounts: an origin without a forecast (Miss) is counted apart
// and scored nowhere, and the points of an origin without a MASE scale (a
// window shorter than the season and a bucket) count in the other means
// but not in MASE, which MASEPoints says.
func TestScorerCounts(t *testing.T) {
	pts := []Point{{Yhat: 10, Lo80: 8, Hi80: 12, Lo95: 6, Hi95: 14}, {Yhat: 10, Lo80: 8, Hi80: 12, Lo95: 6, Hi95: 14}}
	actual := []float64{11, 13}
	nan := math.NaN()
	for _, tc := range []struct {
		name                             string
		scales                           []float64 // one origin scored per scale
		misses                           int
		origins, missed, points, masePts int
		mase                             float64 // NaN: no point has a scale
	}{
		{"all scaled", []float64{2, 2}, 0, 2, 0, 4, 4, 1},
		{"one unscaled", []float64{2, nan}, 0, 2, 0, 4, 2, 1},
		{"zero scale", []float64{0, 2}, 0, 2, 0, 4, 2, 1},
		{"missed origins", []float64{2}, 3, 1, 3, 2, 2, 1},
		{"only misses", nil, 2, 0, 2, 0, 0, nan},
		{"no scale at all", []float64{nan}, 1, 1, 1, 2, 0, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Scorer
			for _, sc := range tc.scales {
				s.Add(sc, actual, pts)
			}
			for range tc.misses {
				s.Miss()
			}
			got := s.Scores()
			if got.Origins != tc.origins || got.Missed != tc.missed || got.Points != tc.points || got.MASEPoints != tc.masePts {
				t.Errorf("origins %d missed %d points %d MASE points %d, want %d %d %d %d",
					got.Origins, got.Missed, got.Points, got.MASEPoints, tc.origins, tc.missed, tc.points, tc.masePts)
			}
			if math.IsNaN(tc.mase) != math.IsNaN(got.MASE) || !math.IsNaN(tc.mase) && math.Abs(got.MASE-tc.mase) > 1e-12 {
				t.Errorf("MASE %v, want %v", got.MASE, tc.mase)
			}
		})
	}
}
