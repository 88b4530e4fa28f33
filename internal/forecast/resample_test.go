package forecast

import (
	"math"
	"testing"
	"time"
)

func TestResample(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	tests := []struct {
		name      string
		minutes   []int
		values    []float64
		wantStart time.Time
		want      []float64 // NaN = missing bucket
	}{
		{
			name:      "whole buckets",
			minutes:   []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
			values:    []float64{1, 1, 1, 1, 6, 2, 2, 2, 2, 2},
			wantStart: at(0),
			want:      []float64{2, 2},
		},
		{
			name:      "partial first and last buckets dropped",
			minutes:   []int{3, 4, 5, 6, 7, 8, 9, 10, 11},
			values:    []float64{9, 9, 1, 2, 3, 4, 5, 9, 9},
			wantStart: at(5),
			want:      []float64{3},
		},
		{
			name:      "missing minutes averaged, empty bucket is NaN",
			minutes:   []int{0, 2, 15, 16, 17, 18, 19},
			values:    []float64{1, 3, 4, 4, 4, 4, 4},
			wantStart: at(0),
			want:      []float64{2, math.NaN(), math.NaN(), 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := make([]time.Time, len(tc.minutes))
			for i, m := range tc.minutes {
				ts[i] = at(m)
			}
			b, err := Resample(ts, tc.values, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !b.Start.Equal(tc.wantStart) {
				t.Errorf("start = %s, want %s", b.Start, tc.wantStart)
			}
			if len(b.Values) != len(tc.want) {
				t.Fatalf("got %d buckets %v, want %v", len(b.Values), b.Values, tc.want)
			}
			for i, w := range tc.want {
				g := b.Values[i]
				if math.IsNaN(w) != math.IsNaN(g) || (!math.IsNaN(w) && math.Abs(g-w) > 1e-12) {
					t.Errorf("bucket %d = %v, want %v", i, g, w)
				}
			}
		})
	}
}

func TestResampleErrors(t *testing.T) {
	ts := []time.Time{t0.Add(time.Minute), t0}
	if _, err := Resample(ts, []float64{1, 2}, 5*time.Minute); err == nil {
		t.Error("decreasing times: want an error")
	}
	if _, err := Resample(ts[:1], []float64{1, 2}, 5*time.Minute); err == nil {
		t.Error("length mismatch: want an error")
	}
	if _, err := Resample([]time.Time{t0.Add(time.Minute)}, []float64{1}, 5*time.Minute); err != ErrTooShort {
		t.Errorf("one partial bucket: err = %v, want ErrTooShort", err)
	}
}

func TestBucketsIndex(t *testing.T) {
	b := Buckets{Start: t0, Step: 5 * time.Minute, Values: make([]float64, 10)}
	for _, tc := range []struct {
		t    time.Time
		want int
	}{
		{t0, 0}, {t0.Add(7 * time.Minute), 1}, {t0.Add(-time.Minute), -1}, {t0.Add(-5 * time.Minute), -1}, {b.End(), 10},
	} {
		if got := b.Index(tc.t); got != tc.want {
			t.Errorf("Index(%s) = %d, want %d", tc.t, got, tc.want)
		}
	}
}
