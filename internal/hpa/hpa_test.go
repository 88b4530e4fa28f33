package hpa

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func TestRaw(t *testing.T) {
	c := DefaultConfig(0.5)
	cases := []struct {
		name                 string
		current, ready, want int
		util                 float64
	}{
		{"inside tolerance holds", 4, 4, 4, 0.54},
		{"just outside tolerance scales", 4, 4, 5, 0.56},
		{"scale up ceil(ready × util / target)", 4, 4, 8, 0.9},
		{"booting replicas do not count", 6, 3, 6, 0.9},
		{"scale down", 10, 10, 4, 0.2},
		{"no ready replica keeps current", 3, 0, 3, 0.9},
	}
	for _, tc := range cases {
		if got := c.Raw(tc.current, tc.ready, tc.util); got != tc.want {
			t.Errorf("%s: Raw(%d, %d, %v) = %d, want %d", tc.name, tc.current, tc.ready, tc.util, got, tc.want)
		}
	}
}

type sync struct {
	after          time.Duration // since t0
	current, ready int
	util           float64
	want           int
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name  string
		syncs []sync
	}{
		{"scale-up limited to max(+4, ×2) per 15 s", []sync{
			{0, 1, 1, 10, 5},                 // wants 20, +4 wins
			{time.Minute, 5, 5, 4, 10},       // wants 40, ×2 wins
			{2 * time.Minute, 10, 10, 1, 20}, // wants 20
		}},
		{"changes inside the period count against the limit", []sync{
			{0, 1, 1, 10, 5},
			{5 * time.Second, 5, 1, 10, 5}, // period start 1: limit max(5, 2)
			{20 * time.Second, 5, 1, 10, 10},
		}},
		{"scale-down waits for the 5-minute stabilisation", []sync{
			{0, 8, 8, 1, 16},
			{time.Minute, 16, 16, 0.1, 16},
			{4 * time.Minute, 16, 16, 0.1, 16},
			{5 * time.Minute, 16, 16, 0.1, 4}, // the 16 of minute 0 left the window
		}},
		{"bounds 1..200", []sync{
			{0, 150, 150, 10, 200},
			{10 * time.Minute, 2, 2, 0, 1},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(DefaultConfig(0.5))
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.syncs {
				if got := a.Decide(t0.Add(s.after), s.current, s.ready, s.util); got != s.want {
					t.Fatalf("sync %d at %s: got %d, want %d", i, s.after, got, s.want)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{},
		func() Config { c := DefaultConfig(1.5); return c }(),
		func() Config { c := DefaultConfig(0.5); c.Min, c.Max = 3, 2; return c }(),
		func() Config { c := DefaultConfig(0.5); c.UpPolicies = nil; return c }(),
	} {
		if _, err := New(c); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	b.ReportAllocs()
	a, _ := New(DefaultConfig(0.7))
	n := 5
	for i := 0; i < b.N; i++ {
		n = a.Decide(t0.Add(time.Duration(i)*time.Minute), n, n, 0.5+float64(i%7)/10)
	}
}
