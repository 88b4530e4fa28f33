package policy

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestSeasonalGuardMeetsDailyDrop: a flat load with a short drop to three
// times the base at 09:00 every day. From the third day on, the seasonal
// guard has seen the drop on both remembered days and provisions for it
// before it starts (the decision a minute before 09:00 covers it); without
// the guard the policy only reacts.
func TestSeasonalGuardMeetsDailyDrop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n := 4 * 1440
	load := normalLoad(rng, n, 100, 3)
	everyDay(load, 540, 545, func(x float64) float64 { return 3 * x })
	run := func(on bool) []Decision {
		c := guardApp()
		c.SkillQuantiles, c.SeasonalPeaks, c.PhasePeaks = nil, on, on
		return loop(mustApp(t, c), load, nil, nil)
	}
	need := int(math.Ceil(300 / 10.0)) // capacity 10 per replica
	before := 3*1440 + 538             // the decision two minutes before the drop on day 4
	withGuard := run(true)
	if d := withGuard[before]; d.To < need-2 || d.Inputs["seasonal_ratio"] < 2 {
		t.Fatalf("with the guard: wants %d before the drop (needs about %d), inputs %v", d.To, need, d.Inputs)
	}
	// The scale-up that meets the drop says it expects the daily rise,
	// not that the current load exceeds the replicas.
	upsSay(t, withGuard[3*1440+530:before+1], "the rise seen at this time of day on each of the last two days")
	if d := run(false)[before]; d.To >= need-2 {
		t.Fatalf("without the guard the policy already wants %d before the drop: the test shows nothing", d.To)
	}
	if d := run(true)[1440+538]; d.Inputs["seasonal_ratio"] != 0 {
		t.Fatalf("the guard fired on day 2, with one day of memory: %v", d.Inputs)
	}
}

// TestSeasonMemoryForgetsGaps: minutes never observed (a gap in the ticks)
// hold nothing, so the guard does not fire on stale days.
func TestSeasonMemoryForgetsGaps(t *testing.T) {
	s := newSeason()
	for i := 0; i < 3*1440; i++ {
		if m := i % 1440; m > 600 && m < 700 && i > 1440 && i < 2*1440 {
			continue // a gap on day 2
		}
		s.observe(at(i), 100)
	}
	if _, ok := s.ratio(at(3*1440+650), 4*time.Minute, 5*time.Minute); ok {
		t.Fatal("a ratio from a day with a gap at that time")
	}
	r, ok := s.ratio(at(3*1440+800), 4*time.Minute, 5*time.Minute)
	if !ok || math.Abs(r-1) > 1e-6 {
		t.Fatalf("flat load: ratio %v %v, want 1", r, ok)
	}
}

// TestSeasonCode checks the 16-bit peak codes: order kept, zero and unseen
// apart, 0.05 % resolution over the loads the traces carry.
func TestSeasonCode(t *testing.T) {
	if seasonCode(0) != seasonZero || seasonCode(-1) != seasonZero || seasonLoad(seasonZero) != 0 || seasonLoad(seasonUnseen) != 0 {
		t.Fatal("zero load is not coded apart")
	}
	prev := seasonCode(0)
	for _, l := range []float64{1e-6, 0.01, 0.0167, 1, 26.5, 4000, 1e6} {
		c := seasonCode(l)
		if c <= prev {
			t.Fatalf("code %d of %v is not above the previous %d", c, l, prev)
		}
		prev = c
		if got := seasonLoad(c); math.Abs(got/l-1) > 3e-4 {
			t.Fatalf("load %v decodes to %v", l, got)
		}
	}
}

// upsSay fails t unless ds hold a scale-up and every scale-up's reason
// names why, the guard that made it.
func upsSay(t *testing.T, ds []Decision, why string) {
	t.Helper()
	ups := 0
	for _, d := range ds {
		if d.Action != ActionUp {
			continue
		}
		ups++
		if !strings.Contains(d.Reason, why) {
			t.Fatalf("a scale-up's reason %q does not say %q", d.Reason, why)
		}
	}
	if ups == 0 {
		t.Fatalf("no scale-up where %q was expected", why)
	}
}
