package policy

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestCutAtEndsLevelWindowsAtAJump: a jump to another level ends the
// windows of the level-bin ticks before it, so they learn the load up to
// the jump and not the jump; a step within a bin's width, a jump-bin tick
// and a window already past are left alone.
func TestCutAtEndsLevelWindowsAtAJump(t *testing.T) {
	const capacity = 10.0
	win := 10 * time.Minute
	cases := []struct {
		name     string
		base     float64
		bin      int
		recorded int // minute the prediction was recorded
		jumped   float64
		cut      bool
	}{
		{"into a higher bin, ten times the base", 10, levelBin(10, capacity), 5, 100, true},
		{"exactly a bin's width", 10, levelBin(10, capacity), 5, 20, true},
		{"across a bin's edge by a small step", 19, levelBin(19, capacity), 5, 21, false},
		{"within the bin", 20, levelBin(20, capacity), 5, 30, false},
		{"a jump-bin tick", 10, jumpBin, 5, 100, false},
		{"a plateau-bin tick", 10, plateauBin, 5, 100, false},
		{"a window already past", 10, levelBin(10, capacity), -6, 100, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDemand(win, time.Hour, 1000)
			d.record(at(c.recorded), c.base, c.bin, win)
			d.cutAt(at(5), c.jumped, capacity)
			if got := !d.pending[0].cut.IsZero(); got != c.cut {
				t.Fatalf("cut %v, want %v", got, c.cut)
			}
		})
	}

	// Resolved: the cut window learns the peak before the jump, an uncut
	// one the jump.
	bin := levelBin(10, capacity)
	for _, c := range []struct {
		cut  bool
		want float64
	}{{true, 1.2}, {false, 10}} {
		d := newDemand(win, time.Hour, 1000)
		for i := 0; i < 4; i++ {
			d.observe(at(i), 10, 0)
		}
		d.record(at(3), 10, bin, win)
		d.observe(at(4), 12, 0)
		d.observe(at(5), 100, 0)
		if c.cut {
			d.cutAt(at(5), 95, capacity)
		}
		for i := 6; i <= 14; i++ {
			d.observe(at(i), 100, 0)
		}
		if n := d.cal.binLen(bin); n != 1 {
			t.Fatalf("cut %v: %d ratios learned in the level bin, want 1", c.cut, n)
		}
		if r := d.cal.binQuantile(bin, 1); math.Abs(r/c.want-1) > 1e-3 {
			t.Fatalf("cut %v: learned %v, want %v", c.cut, r, c.want)
		}
	}
}

// TestSeasonSeenSoFar: with one day remembered, seen reads that day
// (ratio waits for seasonDays); with none it has nothing.
func TestSeasonSeenSoFar(t *testing.T) {
	s := newSeason()
	load := func(i int) float64 {
		if m := i % 1440; m >= 600 && m < 620 {
			return 400
		}
		return 100
	}
	for i := 0; i < 1440+590; i++ {
		s.observe(at(i), load(i))
	}
	now := at(1440 + 590)
	if _, ok := s.ratio(now, 20*time.Minute, 5*time.Minute); ok {
		t.Fatal("ratio with one day remembered")
	}
	r, ok := s.seen(now, 20*time.Minute, 5*time.Minute)
	if !ok || math.Abs(r-4) > 0.01 {
		t.Fatalf("seen %v %v, want 4 (the rise on the one day remembered)", r, ok)
	}
	if r, ok := s.seen(now, 5*time.Minute, 5*time.Minute); !ok || math.Abs(r-1) > 0.01 {
		t.Fatalf("seen %v %v before the rise, want 1", r, ok)
	}
	s2 := newSeason()
	for i := 0; i < 700; i++ {
		s2.observe(at(i), load(i))
	}
	if _, ok := s2.seen(at(650), 20*time.Minute, 5*time.Minute); ok {
		t.Fatal("seen with no whole day remembered")
	}
}

// TestLongLeadLevelBinsSkipRandomJobs: a 10-minute-lead tier with a
// background of 100 and random jobs of ten times it. The level-bin ticks
// before a job no day saw coming stop at its onset, so the background is
// sized with the background's headroom (about its noise), not a job's
// worth of replicas; a 3-minute-lead tier is left as it was.
func TestLongLeadLevelBinsSkipRandomJobs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	n := 4 * 1440
	load := normalLoad(rng, n, 100, 3)
	for i := 60 + rng.IntN(60); i < n; {
		dur := 20 + rng.IntN(40)
		for j := i; j < min(n, i+dur); j++ {
			load[j] += 1000
		}
		i += dur + 60 + rng.IntN(180)
	}
	run := func(lead time.Duration) []Decision {
		c := guardApp()
		c.SkillQuantiles = nil
		c.Tiers[0].LeadTime, c.Tiers[0].Quantile = lead, 0.95
		return loop(mustApp(t, c), load, nil, nil)
	}
	// The median background ratio over the last day, at minutes with no
	// job within the 15 behind or the 15 ahead.
	bgRatio := func(ds []Decision) float64 {
		var rs []float64
		for i := 3 * 1440; i < n-15; i++ {
			bg := true
			for j := i - 15; j <= i+15; j++ {
				if load[j] > 500 {
					bg = false
				}
			}
			if bg && ds[i].Inputs["jump"] == 0 {
				rs = append(rs, ds[i].Inputs["ratio_q"])
			}
		}
		if len(rs) < 100 {
			t.Fatalf("only %d background minutes", len(rs))
		}
		slices.Sort(rs)
		return rs[len(rs)/2]
	}
	if r := bgRatio(run(10 * time.Minute)); r > 1.5 {
		t.Fatalf("10-minute lead: the background is sized with a ratio of %.2f, a job's worth", r)
	}
}

// TestLongLeadLevelBinsLearnADailyJob: the same job at noon every day is
// cut on the first day only (no day remembered); from the second on the
// seasonal memory has seen it and the level-bin ticks before it learn it.
func TestLongLeadLevelBinsLearnADailyJob(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	n := 4 * 1440
	load := normalLoad(rng, n, 100, 3)
	everyDay(load, 720, 750, func(x float64) float64 { return x + 1000 })
	c := guardApp()
	c.SkillQuantiles = nil
	c.Tiers[0].LeadTime, c.Tiers[0].Quantile = 10*time.Minute, 0.95
	a := mustApp(t, c)
	loop(a, load, nil, nil)
	bin := levelBin(100, 10)
	high := 0
	for _, v := range a.tiers[0].dem.cal.perBin[int8(bin)] {
		if decodeRatio(v) > 5 {
			high++
		}
	}
	// Days 1–3 (day 0 is cut): the ticks whose window reached the onset.
	if high < 3*5 {
		t.Fatalf("%d of the background bin's ratios hold the daily job, want those of days 1–3", high)
	}
}
