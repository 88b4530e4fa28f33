package scaleeval

import (
	"strings"
	"testing"
	"time"
)

// TestCheckMinutes: whole minutes in order pass (gaps too); a row off the
// minute, or not after the one before, is named.
func TestCheckMinutes(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	at := func(d ...time.Duration) []time.Time {
		var ts []time.Time
		for _, x := range d {
			ts = append(ts, t0.Add(x))
		}
		return ts
	}
	for _, c := range []struct {
		times []time.Time
		want  string // "" for none
	}{
		{at(0, time.Minute, 5*time.Minute), ""},
		{at(0, 90*time.Second), "data row 2: time 2026-01-05T00:01:30Z is not a whole minute"},
		{at(0, time.Minute, time.Minute), "data row 3: time 2026-01-05T00:01:00Z is not after data row 2's"},
		{at(time.Millisecond), "data row 1: time 2026-01-05T00:00:00.001Z is not a whole minute"},
	} {
		err := checkMinutes(c.times)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("checkMinutes(%v) = %v, want %q", c.times, err, c.want)
		}
	}
}
