package detector_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/detector"
)

// TestScoreSeries: a series is scored point by point through the live
// stage, the same every time; a step back in time is nudged forward, not
// refused; a spike after a quiet day scores far above the quiet points;
// mismatched lengths are refused.
func TestScoreSeries(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	n := 3 * 288
	times := make([]time.Time, n)
	values := make([]float64, n)
	for i := range n {
		times[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
		values[i] = 50 + 10*math.Sin(2*math.Pi*float64(i)/288) + float64(i%7)
	}
	times[100] = times[99] // a clock change repeats a stamp
	spike := n - 10
	values[spike] = 500
	cfg := anomaly.DefaultConfig()
	a, err := detector.ScoreSeries(cfg, "synthetic", times, values)
	if err != nil {
		t.Fatal(err)
	}
	b, err := detector.ScoreSeries(cfg, "synthetic", times, values)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatal("two runs over the same series score differently")
	}
	quiet := slices.Max(a[2*288 : spike])
	if a[spike] <= quiet || a[spike] < cfg.AlarmLevel {
		t.Errorf("spike scores %.3f, the quiet day's highest %.3f (alarm level %.2f)", a[spike], quiet, cfg.AlarmLevel)
	}
	if _, err := detector.ScoreSeries(cfg, "short", times, values[:10]); err == nil || !strings.Contains(err.Error(), "short") {
		t.Errorf("mismatched lengths: err %v, want one naming the series", err)
	}
}
