package sim

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

type step struct {
	at          int // minute
	desired     int // -1: no SetDesired, only Advance
	wantReady   int
	wantBooting int
}

func TestCluster(t *testing.T) {
	cases := []struct {
		name  string
		ready int
		steps []step
	}{
		{"boot then ready after delay", 2, []step{
			{1, 5, 2, 3}, {2, -1, 2, 3}, {3, -1, 2, 3}, {4, -1, 5, 0},
		}},
		{"reduction cancels booting first", 2, []step{
			{1, 6, 2, 4}, {2, 4, 2, 2}, {4, -1, 4, 0},
		}},
		{"reduction below ready stops ready replicas at once", 4, []step{
			{1, 6, 4, 2}, {2, 1, 1, 0}, {5, -1, 1, 0},
		}},
		{"staggered boots keep their own ready times", 1, []step{
			{1, 2, 1, 1}, {2, 3, 1, 2}, {4, -1, 2, 1}, {5, -1, 3, 0},
		}},
		{"cancel newest boot keeps oldest", 1, []step{
			{1, 2, 1, 1}, {2, 3, 1, 2}, {3, 2, 1, 1}, {4, -1, 2, 0},
		}},
		{"same desired is a no-op", 3, []step{
			{1, 3, 3, 0}, {2, 3, 3, 0},
		}},
		{"negative desired is zero", 3, []step{
			{1, -5, 0, 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCluster(Config{BootDelay: 3 * time.Minute}, t0, tc.ready)
			for _, s := range tc.steps {
				if s.desired != -1 {
					c.SetDesired(minute(s.at), s.desired)
				}
				r, b := c.Advance(minute(s.at))
				if r != s.wantReady || b != s.wantBooting {
					t.Fatalf("minute %d: ready %d booting %d, want %d %d", s.at, r, b, s.wantReady, s.wantBooting)
				}
			}
		})
	}
}

func TestClusterFailuresDeterministic(t *testing.T) {
	run := func(seed int64) (int, int) {
		c := NewCluster(Config{BootDelay: time.Minute, FailureRate: 0.5, Seed: seed}, t0, 1)
		for i := 1; i <= 200; i++ {
			c.SetDesired(minute(i), 1+i%7)
		}
		r, _ := c.Advance(minute(300))
		return r, c.Failed()
	}
	r1, f1 := run(7)
	r2, f2 := run(7)
	if r1 != r2 || f1 != f2 {
		t.Fatalf("same seed differs: %d/%d vs %d/%d", r1, f1, r2, f2)
	}
	if f1 == 0 {
		t.Fatal("failure rate 0.5 produced no failures")
	}
	c := NewCluster(Config{BootDelay: time.Minute, FailureRate: 1}, t0, 1)
	c.SetDesired(minute(1), 4)
	if r, b := c.Advance(minute(2)); r != 1 || b != 0 || c.Failed() != 3 {
		t.Fatalf("rate 1: ready %d booting %d failed %d", r, b, c.Failed())
	}
}

func BenchmarkCluster(b *testing.B) {
	b.ReportAllocs()
	c := NewCluster(Config{BootDelay: 3 * time.Minute}, t0, 1)
	for i := 0; i < b.N; i++ {
		c.SetDesired(minute(i), 5+i%11)
		c.Advance(minute(i))
	}
}
