package anomaly

import (
	"math"
	"testing"
)

// TestRecurrenceJudgesTodayUnclamped: yesterday's score at the same time
// is compared with how surprising today's row really is, not with its
// score clamped at 1. A spike many decades out after an ordinary hour
// (0.45 yesterday) is news; after a row that was off the scale too, or
// when today is about as surprising as yesterday, it recurs. With the
// clamped score, every row off the scale recurred as soon as yesterday
// scored RecurRatio (0.4), which on hourly data an ordinary hour does.
func TestRecurrenceJudgesTodayUnclamped(t *testing.T) {
	cfg := DefaultConfig()
	cases := []struct {
		name                string
		yesterday, surprise float64
		want                bool
	}{
		{"yesterday as high", 0.9, 1.0, true},
		{"off the scale after an ordinary hour", 0.45, 2.0, false},
		{"off the scale after a row off the scale", 1.0, 2.0, true},
		{"just off the scale, yesterday at the ratio", 0.45, 1.1, true},
		{"within the scale, yesterday below the ratio", 0.3, 0.8, false},
		{"p = 0 never recurs", 1.0, math.Inf(1), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDetector(cfg)
			d.daily.init(3600)
			sec := start.Unix() + 14*3600
			y := Score{Value: c.yesterday}
			d.recurrence(sec, &y, c.yesterday, c.yesterday)
			today := Score{Value: math.Min(1, c.surprise)}
			got := d.recurrence(sec+86400, &today, c.surprise, math.Min(1, c.surprise))
			if got != c.want {
				t.Fatalf("yesterday %.2f, today's surprise %.2f: recurs %v, want %v", c.yesterday, c.surprise, got, c.want)
			}
			want := math.Min(1, c.surprise)
			if c.want {
				want *= cfg.RecurDamp
			}
			if math.Abs(today.Value-want) > 1e-12 {
				t.Errorf("today's score %.3f, want %.3f", today.Value, want)
			}
		})
	}
}
