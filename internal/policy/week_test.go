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
	upsSay(t, on[before(match)-13:before(match)+1], "at this time of the week in each of the last 2 weeks")
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
	if r, by := w.rise(at(2*7*1440), false); by != weekSeen || r < 2.5 || r > 3 {
		t.Fatalf("two weeks of a rise to ×3: %v %v", r, by)
	}
	w.observe(at(5*7*1440), 100, h, peak(300)) // three weeks unseen
	if _, by := w.rise(at(5*7*1440+20), false); by != 0 {
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
// weekly matches: scrambling the load after a minute just before a match
// leaves every decision up to that minute as it was and changes later
// ones, so the guard reads only past weeks and days, and its verdicts on
// schedules only rises already resolved. Three cases: a Wednesday match in
// the third week, expected from the two weeks before; with WeeklySchedule,
// the second Saturday's match, expected from the first week's Saturday and
// both Wednesdays (a schedule) because the schedule tested at the second
// Wednesday came; and the same with no second Wednesday's match, where the
// schedule tested there missed and the Saturday is not expected.
func TestWeeklyGuardIsCausal(t *testing.T) {
	const week = 7 * 1440
	for _, c := range []struct {
		name     string
		schedule bool
		days     []int // the days of a week with a match at 20:00
		skip     int   // a match left out (its first minute; 0: none)
		at       int   // the match before which the future is scrambled
		expect   bool  // the guard expects the match at the scrambled minute
	}{
		{"two weeks", false, []int{2}, 0, 2*week + 2*1440 + 1200, true},
		{"schedule that came", true, []int{2, 5}, 0, week + 5*1440 + 1200, true},
		{"schedule that missed", true, []int{2, 5}, week + 2*1440 + 1200, week + 5*1440 + 1200, false},
	} {
		rng := rand.New(rand.NewPCG(148, 148))
		n := c.at + 120
		load := normalLoad(rng, n, 100, 3)
		for w := 0; w*week < n; w++ {
			for _, d := range c.days {
				if w*week+d*1440+1200 == c.skip {
					continue
				}
				for i := w*week + d*1440 + 1200; i < w*week+d*1440+1230 && i < n; i++ {
					load[i] *= 3
				}
			}
		}
		k := c.at - 5
		scrambled := append([]float64(nil), load...)
		for i := k + 1; i < n; i++ {
			scrambled[i] = 500 * rng.Float64()
		}
		run := func(l []float64) []Decision {
			cf := webOnly(15 * time.Minute)
			cf.Tiers[0].LeadTime = 10 * time.Minute
			cf.SkillQuantiles, cf.WeeklyRises, cf.WeeklySchedule = nil, true, c.schedule
			return loop(mustApp(t, cf), l, nil, nil)
		}
		full, other := run(load), run(scrambled)
		if !reflect.DeepEqual(full[:k+1], other[:k+1]) {
			t.Fatalf("%s: a future scrambled after minute %d changed earlier decisions", c.name, k)
		}
		if reflect.DeepEqual(full[k+1:], other[k+1:]) {
			t.Fatalf("%s: scrambling after minute %d changed nothing later: the test scrambles nothing", c.name, k)
		}
		if got := full[k].Inputs["weekly_ratio"] >= 2; got != c.expect {
			t.Fatalf("%s: the guard expects the match at minute %d: %v, want %v (inputs %v): the test does not reach the case", c.name, k, got, c.expect, full[k].Inputs)
		}
	}
}

// TestWeeklyScheduleMeetsTheSecondWeek: a 10-minute tier on a flat load
// with a match to three times it at 20:00 on Wednesday and Saturday of
// each week, and a launch at 11:00 on the first Thursday and again a week
// later. With WeeklySchedule the second Wednesday's match, a week after the
// first and at the first Saturday's time of day, is a schedule tested but
// not acted on (none tested there has come yet); it comes, so the guard
// meets the second Saturday's match from one past week. The launch's
// repeat, at a time of day seen on no other day, is not expected. Without
// WeeklySchedule the guard waits for a third week. With the second
// Wednesday's match left out (TestWeeklyScheduleMustVerify) the Saturday
// is not expected.
func TestWeeklyScheduleMeetsTheSecondWeek(t *testing.T) {
	const week = 7 * 1440
	matches := []int{2*1440 + 1200, 5*1440 + 1200, 9*1440 + 1200, 12*1440 + 1200}
	launch := 3*1440 + 660
	on, off := scheduleRun(t, matches, launch, true), scheduleRun(t, matches, launch, false)
	need := int(math.Ceil(300 / 10.0)) // capacity 10 per replica
	m := matches[3]
	if d := on[m-3]; d.To < need-2 || d.Inputs["weekly_ratio"] < 2 {
		t.Fatalf("with the schedule: wants %d three minutes before the second Saturday's match (needs about %d), inputs %v", d.To, need, d.Inputs)
	}
	upsSay(t, on[m-16:m-2], "a week ago, and at this time of day on another remembered day (a schedule, which came when last tested here)")
	if d := off[m-3]; d.To >= need-2 || d.Inputs["weekly_ratio"] != 0 {
		t.Fatalf("without the schedule the guard already wants %d before the second Saturday's match: the test shows nothing (%v)", d.To, d.Inputs)
	}
	for _, m := range matches[:3] {
		for i := m - 15; i <= m; i++ {
			if d := on[i]; d.Inputs["weekly_ratio"] != 0 {
				t.Fatalf("the guard expects the match at minute %d with no schedule at its time of day yet come true: %v", m, d.Inputs)
			}
		}
	}
	for i := launch + week - 12; i <= launch+week; i++ {
		if d := on[i]; d.Inputs["weekly_ratio"] != 0 {
			t.Fatalf("the guard expects the launch's repeat at minute %d, seen a week ago at a time of day no other day saw: %v", i-launch-week, d.Inputs)
		}
	}
}

// TestWeeklyScheduleMustVerify: as TestWeeklyScheduleMeetsTheSecondWeek,
// but the second Wednesday has no match: the schedule expected there (the
// first Wednesday a week ago, the first Saturday at the same time of day)
// did not come, so the guard does not expect the second Saturday's match,
// though a week ago and another day rose at its time of day; with the
// Wednesday's match it does. Without the verdicts (the fifty-ninth round's
// C3) it would expect it either way.
func TestWeeklyScheduleMustVerify(t *testing.T) {
	matches := []int{2*1440 + 1200, 5*1440 + 1200, 12*1440 + 1200}
	on := scheduleRun(t, matches, 3*1440+660, true)
	m := matches[2]
	for i := m - 15; i <= m; i++ {
		if d := on[i]; d.Inputs["weekly_ratio"] != 0 {
			t.Fatalf("the guard expects the second Saturday's match at minute %d after the schedule tested on Wednesday missed: %v", i-m, on[i].Inputs)
		}
	}
	with := scheduleRun(t, append([]int{9*1440 + 1200}, matches...), 3*1440+660, true)
	if d := with[m-3]; d.Inputs["weekly_ratio"] < 2 {
		t.Fatalf("with the second Wednesday's match the guard does not expect the Saturday's: the test shows nothing (%v)", d.Inputs)
	}
}

// scheduleRun runs a 10-minute tier over two weeks of a flat load with a
// surge to three times it at each of matches and at launch and a week
// later, with WeeklySchedule on or off.
func scheduleRun(t *testing.T, matches []int, launch int, on bool) []Decision {
	const week = 7 * 1440
	rng := rand.New(rand.NewPCG(149, 149))
	load := normalLoad(rng, 2*week, 100, 3)
	surge := func(from int) {
		for i := from; i < from+30; i++ {
			load[i] *= 3
		}
	}
	for _, m := range matches {
		surge(m)
	}
	surge(launch)
	surge(launch + week)
	c := webOnly(15 * time.Minute)
	c.Tiers[0].LeadTime = 10 * time.Minute
	c.SkillQuantiles, c.WeeklyRises, c.WeeklySchedule = nil, true, on
	return loop(mustApp(t, c), load, nil, nil)
}

// TestWeeklyRiseFromTheBucketStart: a rise that begins inside a 5-minute
// bucket and peaks late is kept, with WeeklySchedule (fromStart), against
// the level at the bucket's first tick (×4 here), where each tick's own
// level, already risen, keeps only ×2; and the expectation multiplies the
// level at its own bucket's first tick.
func TestWeeklyRiseFromTheBucketStart(t *testing.T) {
	const week = 7 * 1440
	h := 11 * time.Minute
	m0 := 2*1440 + 1200 // a bucket's first minute, on a Wednesday
	n := 2*week + m0 + 60
	load := make([]float64, n)
	for i := range load {
		load[i] = 100
		if d := i % week; d >= m0+2 && d < m0+40 {
			load[i] = 200
			if d >= m0+14 && d < m0+20 {
				load[i] = 400
			}
		}
	}
	peak := func(from, to time.Time) (float64, bool) {
		best := 0.0
		for i := int(from.Sub(t0)/time.Minute) + 1; i <= int(to.Sub(t0)/time.Minute) && i < n; i++ {
			best = max(best, load[i])
		}
		return best, true
	}
	for _, c := range []struct {
		fromStart bool
		lo, hi    float64
	}{{false, 1.9, 2.1}, {true, 3.5, 4.1}} {
		w := newWeekly(h)
		w.fromStart = c.fromStart
		for i := 0; i <= 2*week+m0+3; i++ {
			w.observe(at(i), load[i], h, peak)
		}
		r, by := w.rise(at(2*week+m0+3), false)
		if by != weekSeen || r < c.lo || r > c.hi {
			t.Fatalf("fromStart %v: the bucket's rise %v (by %d), want %v to %v", c.fromStart, r, by, c.lo, c.hi)
		}
		want := load[2*week+m0+3]
		if c.fromStart {
			want = load[2*week+m0]
		}
		if b := w.base(load[2*week+m0+3]); b != want {
			t.Fatalf("fromStart %v: the expectation multiplies %v, want %v", c.fromStart, b, want)
		}
	}
}

// TestWeeklyScheduleAgainstChance: the schedule's condition (coincidence: a
// rise a week ago and at the same time of day on other remembered days)
// holds only where so many
// other days rising at that time of day are unlikely by chance on the
// tier: with rare rises one other day is enough; with a rise in every
// tenth bucket one other day, or four, is what chance gives, and it takes
// seven. The memory is filled directly, two weeks of buckets with the
// tier's other rises (never at the time of day read) and a rise a week
// ago; the rising count must match the memory's.
func TestWeeklyScheduleAgainstChance(t *testing.T) {
	for _, c := range []struct {
		name   string
		every  int  // a filler rise in every every-th bucket (0: none)
		others int  // other days rising at the time of day read
		want   bool // a schedule (coincidence)
	}{
		{"rare rises, one other day", 200, 1, true},
		{"rare rises, no other day", 200, 0, false},
		{"a rise every tenth bucket, one other day", 10, 1, false},
		{"a rise every tenth bucket, four other days", 10, 4, false},
		{"a rise every tenth bucket, seven other days", 10, 7, true},
		{"no other rises, one other day", 0, 1, true},
	} {
		w := newWeekly(11 * time.Minute)
		now := bucketOf(at(2 * 7 * 1440))
		w.first, w.last, w.init = now-weekSeen*weekBuckets, now-1, true
		for b := w.first; b <= w.last; b++ {
			w.set(b, 0)
			if c.every > 0 && (b-w.first)%int64(c.every) == 0 && (now-b)%dayBuckets != 0 {
				w.set(b, 3)
			}
		}
		w.set(now-weekBuckets, 5)
		for k, n := 1, 0; n < c.others; k++ {
			if k != 7 { // day 7 back is the week ago
				w.set(now-int64(k)*dayBuckets, 5)
				n++
			}
		}
		scan := 0
		for b := w.first; b <= w.last; b++ {
			if w.get(b) > 0 {
				scan++
			}
		}
		if w.rising != scan {
			t.Fatalf("%s: rising %d, the memory holds %d", c.name, w.rising, scan)
		}
		r, ok := w.coincidence(now, 5)
		if ok != c.want {
			t.Fatalf("%s: rise %v, a schedule %v, want %v (p = %.4f)", c.name, r, ok, c.want, float64(w.rising)/float64(w.last-w.first+1))
		}
		if ok && r != weekRise(5) {
			t.Fatalf("%s: the schedule expects %v, want %v", c.name, r, weekRise(5))
		}
	}
}

// TestWeeklyScheduleVerdicts: with the schedule's condition met at a
// bucket (rare rises; a rise a week ago and on another day at its time of
// day), rise tests it and expects it only where the nearest remembered day
// with a verdict at that time of day says it came; verify gives a tested
// bucket's verdict from its code once a later bucket's tick resolves, and
// a verdict ages out with its bucket.
func TestWeeklyScheduleVerdicts(t *testing.T) {
	fill := func() (*weekly, int64) {
		w := newWeekly(11 * time.Minute)
		now := bucketOf(at(2 * 7 * 1440))
		w.first, w.last, w.init = now-weekSeen*weekBuckets, now-1, true
		for b := w.first; b <= w.last; b++ {
			w.set(b, 0)
			w.setVer(b, 0)
		}
		w.set(now-weekBuckets, 5)
		w.set(now-3*dayBuckets, 5)
		return w, now
	}
	for _, c := range []struct {
		name string
		vers map[int64]byte // days back → the verdict at the time of day
		want int            // rise's second result
	}{
		{"none tested", nil, 0},
		{"came three days ago", map[int64]byte{3: verCame}, 1},
		{"missed a day ago, came three days ago", map[int64]byte{1: verMissed, 3: verCame}, 0},
		{"came a day ago, missed three days ago", map[int64]byte{1: verCame, 3: verMissed}, 1},
		{"missed twelve days ago", map[int64]byte{12: verMissed}, 0},
	} {
		w, now := fill()
		for k, v := range c.vers {
			w.setVer(now-k*dayBuckets, v)
		}
		r, by := w.rise(at(2*7*1440), true)
		if by != c.want || (by == 1 && r != weekRise(5)) {
			t.Fatalf("%s: rise %v by %d, want by %d", c.name, r, by, c.want)
		}
		if len(w.tests) != 1 || w.tests[0] != now {
			t.Fatalf("%s: the schedule at the bucket is not tested: %v", c.name, w.tests)
		}
	}
	// verify: a tested bucket that kept a rise came, one that did not
	// missed; a bucket not yet resolved waits; the ring's reuse of a slot
	// clears its verdict.
	w, now := fill()
	w.test(now - 2)
	w.test(now - 1)
	w.test(now)
	w.set(now-2, 4)
	w.verify(now)
	if v1, v2 := w.ver(now-2), w.ver(now-1); v1 != verCame || v2 != verMissed {
		t.Fatalf("verdicts %d and %d, want came (%d) and missed (%d)", v1, v2, verCame, verMissed)
	}
	if len(w.tests) != 1 || w.tests[0] != now {
		t.Fatalf("tests left %v, want only the unresolved bucket %d", w.tests, now)
	}
	peak := func(from, to time.Time) (float64, bool) { return 100, true }
	old := now - 2
	for i := 0; w.last < old+w.slots(); i++ {
		w.observe(at(2*7*1440+5*i), 100, 11*time.Minute, peak)
	}
	if w.held(old) || w.ver(old+w.slots()) != 0 {
		t.Fatalf("the slot of bucket %d reused with verdict %d", old, w.ver(old+w.slots()))
	}
}
