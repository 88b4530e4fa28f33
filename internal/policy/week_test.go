package policy

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestWeeklyGuardMeetsATwiceSeenSurge: a 10-minute tier (a database) on a
// flat load with a surge to three times it at the same time of the week in
// each of three weeks (a weekly match), and another surge at another time
// of the week in the second week only (a random launch), then again at
// that time in the third. In the third week the weekly guard, having seen
// the match in each of the last two weeks, provisions for it before it
// starts; the launch, seen in one week, is not expected. Without the guard
// the policy only reacts to both.
func TestWeeklyGuardMeetsATwiceSeenSurge(t *testing.T) {
	const week = 7 * 1440
	rng := rand.New(rand.NewPCG(147, 147))
	n := 3*week + 1440
	load := normalLoad(rng, n, 100, 3)
	surge := func(from int) {
		for i := from; i < from+30; i++ {
			load[i] *= 3
		}
	}
	match := 2*1440 + 1200 // Wednesday 20:00 of each week
	launch := 4*1440 + 660 // Friday 11:00, in the second and third weeks
	for w := 0; w < 3; w++ {
		surge(w*week + match)
	}
	surge(week + launch)
	surge(2*week + launch)
	run := func(on bool) []Decision {
		c := webOnly(15 * time.Minute)
		c.Tiers[0].LeadTime = 10 * time.Minute
		c.SkillQuantiles, c.WeeklyRises = nil, on
		return loop(mustApp(t, c), load, nil, nil)
	}
	need := int(math.Ceil(300 / 10.0)) // capacity 10 per replica
	before := func(at int) int { return 2*week + at - 3 }
	on, off := run(true), run(false)
	if d := on[before(match)]; d.To < need-2 || d.Inputs["weekly_ratio"] < 2 {
		t.Fatalf("with the guard: wants %d three minutes before the third week's match (needs about %d), inputs %v", d.To, need, d.Inputs)
	}
	// The scale-up that meets the match says it expects the weekly rise.
	upsSay(t, on[before(match)-10:before(match)+1], "at this time of the week in each of the last 2 weeks")
	if d := off[before(match)]; d.To >= need-2 {
		t.Fatalf("without the guard the policy already wants %d before the match: the test shows nothing", d.To)
	}
	if d := on[before(launch)]; d.To >= need/2 || d.Inputs["weekly_ratio"] != 0 {
		t.Fatalf("the guard expects a launch seen in one week: wants %d, inputs %v", d.To, d.Inputs)
	}
	if d := on[week+match-3]; d.Inputs["weekly_ratio"] != 0 {
		t.Fatalf("the guard fired in the second week, with one week of memory: %v", d.Inputs)
	}
	// A 3-minute tier keeps no weekly memory: its ramp guard meets a
	// surge's ramp.
	c := webOnly(15 * time.Minute)
	c.SkillQuantiles = nil
	if a := mustApp(t, c); a.tiers[0].wk != nil {
		t.Fatal("a 3-minute tier has the weekly memory")
	}
}

// TestWeeklyCode: rises under a level bin's width (×2) code 0; above, the
// code rounds down in quarter steps of a bin's width and saturates, so a
// rise is never expected larger than it came; each bucket keeps its own
// nibble; a gap longer than the memory forgets it.
func TestWeeklyCode(t *testing.T) {
	for _, r := range []float64{0, 1, 1.99, math.NaN()} {
		if c := weekCode(r); c != 0 {
			t.Fatalf("rise %v coded %d, want 0", r, c)
		}
	}
	prev := byte(0)
	for r := 2.0; r < 40; r *= 1.01 {
		c := weekCode(r)
		if c < prev || c < 1 || c > weekCodes || weekRise(c) > r*(1+1e-9) {
			t.Fatalf("rise %v coded %d (decoded %v) after %d", r, c, weekRise(c), prev)
		}
		if c < weekCodes && weekRise(c)*math.Pow(2, 0.25) <= r {
			t.Fatalf("rise %v coded %d: more than a step below", r, c)
		}
		prev = c
	}
	h := 11 * time.Minute
	w := newWeekly(h)
	for b := int64(0); b < 8; b++ {
		w.set(b, byte(b*2%16))
	}
	for b := int64(0); b < 8; b++ {
		if w.get(b) != byte(b*2%16) {
			t.Fatalf("bucket %d holds %d", b, w.get(b))
		}
	}
	peak := func(v float64) func(from, to time.Time) (float64, bool) {
		return func(from, to time.Time) (float64, bool) { return v, true }
	}
	w = newWeekly(h)
	for i := 0; i < 2*7*1440; i++ {
		w.observe(at(i), 100, h, peak(300))
	}
	if r, ok := w.rise(at(2 * 7 * 1440)); !ok || r < 2.5 || r > 3 {
		t.Fatalf("two weeks of a rise to ×3: %v %v", r, ok)
	}
	w.observe(at(5*7*1440), 100, h, peak(300)) // three weeks unseen
	if _, ok := w.rise(at(5*7*1440 + 20)); ok {
		t.Fatal("a rise expected from weeks unseen")
	}
}

// TestWeeklyGuardLeavesADailyRise: the same 10-minute tier with a sale to
// three times the load at 20:00 every day (or every day but Tuesday):
// each week's buckets see it, but it is a daily rise, the seasonal guard's,
// and the weekly guard stands aside over the sale's lead window and its
// first minutes on every day of the third week, Wednesday too, whose
// Tuesday had no sale (one remembered day with the rise is enough).
// Without the stand-aside the weekly guard's larger expectation would add
// to the seasonal guard's.
func TestWeeklyGuardLeavesADailyRise(t *testing.T) {
	const week = 7 * 1440
	for _, skip := range []int{-1, 1} { // -1: every day; 1: not on Tuesdays
		rng := rand.New(rand.NewPCG(148, 148))
		n := 3*week + 1440
		load := normalLoad(rng, n, 100, 3)
		for d := 0; d*1440 < n; d++ {
			if d%7 == skip {
				continue
			}
			for i := d*1440 + 1200; i < min(n, d*1440+1230); i++ {
				load[i] *= 3
			}
		}
		c := webOnly(15 * time.Minute)
		c.Tiers[0].LeadTime = 10 * time.Minute
		c.SkillQuantiles = nil
		ds := loop(mustApp(t, c), load, nil, nil)
		for d := 2*7 + 1; d < 3*7; d++ { // the third week
			sale := d*1440 + 1200
			for i := sale - 11; i <= sale+5; i++ {
				if r := ds[i].Inputs["weekly_ratio"]; r != 0 {
					t.Fatalf("skip %d: the weekly guard expects the daily sale of day %d at minute %d: %v", skip, d, i-sale, ds[i].Inputs)
				}
			}
		}
	}
}

// TestWeeklyGuardIsCausal: a 10-minute tier with the weekly guard, over
// three weeks of weekly matches: scrambling the load after a minute of the
// third week, just before its match, leaves every decision up to that
// minute as it was and changes later ones, so the guard reads only past
// weeks.
func TestWeeklyGuardIsCausal(t *testing.T) {
	const week = 7 * 1440
	rng := rand.New(rand.NewPCG(148, 148))
	n := 3*week + 120
	load := normalLoad(rng, n, 100, 3)
	match := 2*1440 + 1200
	for w := range 3 {
		for i := w*week + match; i < w*week+match+30 && i < n; i++ {
			load[i] *= 3
		}
	}
	k := 2*week + match - 5
	scrambled := append([]float64(nil), load...)
	for i := k + 1; i < n; i++ {
		scrambled[i] = 500 * rng.Float64()
	}
	run := func(l []float64) []Decision {
		c := webOnly(15 * time.Minute)
		c.Tiers[0].LeadTime = 10 * time.Minute
		c.SkillQuantiles, c.WeeklyRises = nil, true
		return loop(mustApp(t, c), l, nil, nil)
	}
	full, other := run(load), run(scrambled)
	if !reflect.DeepEqual(full[:k+1], other[:k+1]) {
		t.Fatalf("a future scrambled after minute %d changed earlier decisions", k)
	}
	if reflect.DeepEqual(full[k+1:], other[k+1:]) {
		t.Fatalf("scrambling after minute %d changed nothing later: the test scrambles nothing", k)
	}
	if full[k].Inputs["weekly_ratio"] < 2 {
		t.Fatalf("the guard does not expect the match at minute %d (inputs %v): the test does not reach it", k, full[k].Inputs)
	}
}
