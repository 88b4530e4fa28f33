package forecast

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

// TestFitBefore: an origin's forecast is the one a fresh series fed the
// window before it makes, never touching buckets at or after the origin;
// an origin before any bucket has no data.
func TestFitBefore(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(21 * defaultDay)
	b := Buckets{Start: t0, Step: cfg.Step, Values: y}
	o := b.Time(18 * defaultDay)
	pts, _, lo, err := FitBefore(b, cfg, o, 12)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18*defaultDay - cfg.Window; lo != want {
		t.Errorf("trained from bucket %d, want %d", lo, want)
	}
	want, _, err := mustFeedFrom(t, cfg, b, lo, 18*defaultDay).Forecast(12)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pts, want) || !pts[0].Time.Equal(o) {
		t.Fatalf("forecast differs from a series fed the window before the origin")
	}
	// The future after the origin plays no part.
	scrambled := slices.Clone(y)
	for i := 18 * defaultDay; i < len(scrambled); i++ {
		scrambled[i] = 1e6
	}
	again, _, _, err := FitBefore(Buckets{Start: t0, Step: cfg.Step, Values: scrambled}, cfg, o, 12)
	if err != nil || !slices.Equal(again, pts) {
		t.Fatalf("forecast moved when the buckets after the origin changed (err %v)", err)
	}
	if _, _, _, err := FitBefore(b, cfg, t0.Add(-time.Hour), 12); !errors.Is(err, ErrNoData) {
		t.Errorf("origin before the data: err %v, want ErrNoData", err)
	}
}

// mustFeedFrom returns a series fed b's buckets [lo, hi).
func mustFeedFrom(tb testing.TB, cfg Config, b Buckets, lo, hi int) *Series {
	tb.Helper()
	s := NewSeries(cfg)
	for j := lo; j < hi; j++ {
		if err := s.Observe(b.Time(j), b.Values[j]); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// TestScoreOrigin: an origin is scored against the buckets its points
// fall on (those past the data unknown), scaled by the seasonal-naive
// error of the buckets trained on.
func TestScoreOrigin(t *testing.T) {
	b := Buckets{Start: t0, Step: time.Minute, Values: []float64{1, 3, 1, 3, 1, 3}}
	o := b.Time(4)
	pts := []Point{
		{Time: o, Yhat: 2, Lo80: 0, Hi80: 4, Lo95: 0, Hi95: 4},
		{Time: b.Time(5), Yhat: 2, Lo80: 0, Hi80: 4, Lo95: 0, Hi95: 4},
		{Time: b.Time(6), Yhat: 2, Lo80: 0, Hi80: 4, Lo95: 0, Hi95: 4},
	}
	if got := b.Actuals(pts); got[0] != 1 || got[1] != 3 || !math.IsNaN(got[2]) {
		t.Fatalf("actuals %v, want [1 3 NaN]", got)
	}
	var s Scorer
	s.ScoreOrigin(b, 1, 0, o, pts) // lag 1 over 1,3,1,3: scale 2
	got := s.Scores()
	if got.Points != 2 || math.Abs(got.MASE-0.5) > 1e-12 || got.Coverage80 != 1 {
		t.Errorf("scores %+v, want 2 points, MASE 0.5 (errors of 1 over a scale of 2), full coverage", got)
	}
}
