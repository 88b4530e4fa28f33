package forecaster

import (
	"testing"
	"time"
)

func TestBucketer(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := bucketer{step: 5 * time.Minute}
	type res struct {
		start  time.Time
		mean   float64
		closed bool
		late   bool
	}
	steps := []struct {
		at   time.Duration
		v    float64
		want res
	}{
		{1 * time.Minute, 10, res{}},
		{2 * time.Minute, 20, res{}},
		{6 * time.Minute, 7, res{t0, 15, true, false}},                      // closes [0,5) with the mean of 10 and 20
		{1 * time.Minute, 99, res{late: true}},                              // older than the current bucket
		{21 * time.Minute, 3, res{t0.Add(5 * time.Minute), 7, true, false}}, // a gap: closes [5,10)
		{24 * time.Minute, 5, res{}},
	}
	for i, s := range steps {
		start, mean, closed, late := b.add(t0.Add(s.at), s.v)
		if got := (res{start, mean, closed, late}); got != s.want {
			t.Fatalf("step %d: got %+v, want %+v", i, got, s.want)
		}
	}
}
