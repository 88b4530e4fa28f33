package policy

import (
	"math"
	"time"
)

// The weekly guard (AppConfig.WeeklyRises) remembers, for every 5-minute
// bucket of the last two weeks, the largest rise a tick of that bucket saw
// over its lead window (the peak over the window to the level at the
// tick), as a 4-bit code, and expects again a rise of a level bin's width
// (×2) or more that came at this time of the week in each of the two
// weeks: a scheduled weekly match. One week cannot tell a match from a
// random launch or spike (the fifth round of internal/scaleeval's
// EXPERIMENTS.md), two can; the 4-bit code holds two weeks in 2 KB.
const (
	// weekBucket is the width of a bucket in minutes, and weekBuckets
	// the buckets of a week.
	weekBucket  = 5
	weekBuckets = 7 * 1440 / weekBucket
	// dayBuckets is the buckets of a day.
	dayBuckets = 1440 / weekBucket
	// weekSeen is how many past weeks must each have seen the rise.
	weekSeen = 2
	// weekCodes is the highest code: codes 1..weekCodes hold a rise of
	// 2·2^((c−1)/4), quarter steps of a level bin's width (×2) from one
	// bin's width, rounded down, so a rise is never expected larger than
	// it came; code 0 is a rise under a bin's width (or none).
	weekCodes = 15
	// weekMinRise is the least rise the guard keeps: a level bin's width,
	// as the jump cut's (demand.cutAt).
	weekMinRise = 2.0
)

// weekly is the weekly guard's memory.
type weekly struct {
	codes []byte    // bucket b's code in the nibble of slot b mod 2·len(codes)
	pend  []weekObs // ticks whose lead window has not passed
	first int64     // the first bucket written
	last  int64     // the last bucket written (cleared up to it)
	init  bool
	// fromStart reads rises against the level at the first tick of
	// each bucket (start) rather than each tick's own.
	fromStart bool
	cur       int64   // the bucket of the last tick observed
	start     float64 // the level at the first tick of bucket cur
	curInit   bool
	// rising is how many buckets of the ring hold a rise (a code over
	// 0): the tier's own rate of rises, for the schedule's test against
	// chance.
	rising int
	// vers holds, in 2 bits a slot beside the codes, the verdict on a
	// schedule tested at the slot's bucket: verCame, verMissed or 0
	// (none tested); tests lists the buckets whose schedule is being
	// tested and whose rises have not all resolved yet.
	vers  []byte
	tests []int64
}

// A schedule's verdicts (weekly.vers): its rise came (the bucket's code
// over 0) or did not.
const (
	verCame   = 1
	verMissed = 2
)

type weekObs struct {
	t     time.Time
	level float64
}

// newWeekly sizes the memory for weekSeen weeks of buckets and the lead
// window h: the guard reads a bucket weekSeen weeks back while it writes
// the buckets of ticks a lead window back, so the ring holds that many
// buckets more.
func newWeekly(h time.Duration) *weekly {
	lag := int(h/(weekBucket*time.Minute)) + 2
	n := weekSeen*weekBuckets + lag
	return &weekly{codes: make([]byte, (n+1)/2), vers: make([]byte, (n+1+3)/4), tests: make([]int64, 0, lag+2)}
}

func (w *weekly) slots() int64 { return int64(2 * len(w.codes)) }

// slot is bucket b's place in the ring, for the codes and the verdicts.
func (w *weekly) slot(b int64) int64 {
	n := w.slots()
	return (b%n + n) % n
}

func (w *weekly) get(b int64) byte {
	s := w.slot(b)
	return (w.codes[s/2] >> (4 * (s % 2))) & 0xf
}

func (w *weekly) set(b int64, c byte) {
	switch old := w.get(b); {
	case old == 0 && c > 0:
		w.rising++
	case old > 0 && c == 0:
		w.rising--
	}
	s := w.slot(b)
	sh := 4 * (s % 2)
	w.codes[s/2] = w.codes[s/2]&^(0xf<<sh) | c<<sh
}

func (w *weekly) ver(b int64) byte {
	s := w.slot(b)
	return (w.vers[s/4] >> (2 * (s % 4))) & 3
}

func (w *weekly) setVer(b int64, v byte) {
	s := w.slot(b)
	sh := 2 * (s % 4)
	w.vers[s/4] = w.vers[s/4]&^(3<<sh) | v<<sh
}

func weekCode(r float64) byte {
	if !(r >= weekMinRise) {
		return 0
	}
	return byte(min(weekCodes, 1+int(math.Floor(4*math.Log2(r/weekMinRise)+1e-9))))
}

func weekRise(c byte) float64 { return weekMinRise * math.Exp2(float64(c-1)/4) }

func bucketOf(t time.Time) int64 {
	m := t.Unix() / 60
	if m < 0 && m%weekBucket != 0 {
		return m/weekBucket - 1
	}
	return m / weekBucket
}

// observe records the level at t and resolves every earlier tick whose
// lead window h has passed: its rise, the peak over the window (peak, from
// the tier's recent loads) to its level, kept in its bucket if larger.
func (w *weekly) observe(t time.Time, level float64, h time.Duration, peak func(from, to time.Time) (float64, bool)) {
	done := 0
	for _, p := range w.pend {
		end := p.t.Add(h)
		if t.Before(end) {
			break
		}
		done++
		pk, ok := peak(p.t, end)
		if !ok || !(p.level > 0) {
			continue
		}
		b := bucketOf(p.t)
		if w.init && b <= w.last-w.slots() {
			continue
		}
		if !w.init || b-w.last >= w.slots() {
			w.first, w.last, w.init = b, b-1, true
			clear(w.codes)
			clear(w.vers)
			w.rising = 0
		}
		for ; w.last < b; w.last++ {
			w.set(w.last+1, 0)
			w.setVer(w.last+1, 0)
		}
		w.verify(b)
		if c := weekCode(pk / p.level); c > w.get(b) {
			w.set(b, c)
		}
	}
	w.pend = append(w.pend[:0], w.pend[done:]...)
	if b := bucketOf(t); !w.curInit || b != w.cur {
		w.cur, w.start, w.curInit = b, level, true
	}
	if w.fromStart {
		level = w.start
	}
	w.pend = append(w.pend, weekObs{t, level})
}

// base is the level an expected rise multiplies at t, the tick just
// observed: the level at its bucket's first tick when rises are read
// from there (fromStart), else level, the tick's own.
func (w *weekly) base(level float64) float64 {
	if w.fromStart && w.curInit {
		return w.start
	}
	return level
}

// held reports whether bucket b is in the memory.
func (w *weekly) held(b int64) bool {
	return w.init && b >= w.first && b <= w.last && b > w.last-w.slots()
}

// rise returns the smaller of the rises kept for t's bucket one and two
// weeks ago, and ok when both came to a level bin's width or more. With
// schedule, a rise a week ago is also expected when the same time of day
// saw one on another remembered day (the larger of those days' rises,
// capped by the week-ago one): a schedule, where the other days rising at
// that time of day are more than the tier's rises explain by chance
// (coincidence). Every such schedule is tested (test, verify), and it is
// expected only where the last one tested at this time of day within the
// memory came (verified): a first coincidence is tested without being
// acted on, and a schedule that missed is dropped.
//
// The second result says which: weekSeen for the weeks, 1 for a schedule,
// 0 for none.
func (w *weekly) rise(t time.Time, schedule bool) (float64, int) {
	b := bucketOf(t)
	week := b - weekBuckets
	if !w.held(week) {
		return 0, 0
	}
	c := w.get(week)
	if c == 0 {
		return 0, 0
	}
	if two := b - weekSeen*weekBuckets; w.held(two) && w.get(two) > 0 {
		return weekRise(min(c, w.get(two))), weekSeen
	}
	if !schedule {
		return 0, 0
	}
	r, ok := w.coincidence(b, c)
	if !ok {
		return 0, 0
	}
	w.test(b)
	if !w.verified(b) {
		return 0, 0
	}
	return r, 1
}

// coincidence is the schedule's condition at bucket b, whose week-ago
// bucket kept code c > 0: the same time of day saw a rise on other
// remembered days, more of them than the tier's rises explain by chance
// (unlikelyByChance). It returns the rise to expect, the smaller of the
// week-ago one and the largest other day's.
func (w *weekly) coincidence(b int64, c byte) (float64, bool) {
	week := b - weekBuckets
	other, days, seen := byte(0), 0, 0
	for k := int64(1); k < weekSeen*weekBuckets/dayBuckets; k++ {
		if at := b - k*dayBuckets; at != week && w.held(at) {
			days++
			if g := w.get(at); g > 0 {
				other, seen = max(other, g), seen+1
			}
		}
	}
	if other == 0 || !w.unlikelyByChance(days, seen) {
		return 0, false
	}
	return weekRise(min(c, other)), true
}

// verify gives its verdict on each schedule tested at a bucket before b,
// whose ticks have all resolved once a tick of b has: it came when the
// bucket kept a rise (a code over 0, the test every rise the guard keeps
// passes), else it missed. A bucket the memory no longer holds gets none.
func (w *weekly) verify(b int64) {
	done := 0
	for _, f := range w.tests {
		if f >= b {
			break
		}
		done++
		if w.held(f) {
			v := byte(verMissed)
			if w.get(f) > 0 {
				v = verCame
			}
			w.setVer(f, v)
		}
	}
	w.tests = append(w.tests[:0], w.tests[done:]...)
}

// test notes that a schedule is expected at bucket b, for verify.
func (w *weekly) test(b int64) {
	if n := len(w.tests); n == 0 || w.tests[n-1] < b {
		w.tests = append(w.tests, b)
	}
}

// verified reports whether the schedule at b's time of day came the last
// time one was tested there: the nearest remembered day (of the two weeks
// before b) with a verdict at that time of day has verCame. With none a
// schedule is not yet trusted.
func (w *weekly) verified(b int64) bool {
	for k := int64(1); k < weekSeen*weekBuckets/dayBuckets; k++ {
		if at := b - k*dayBuckets; w.held(at) {
			if v := w.ver(at); v != 0 {
				return v == verCame
			}
		}
	}
	return false
}

// unlikelyByChance reports whether seen of days other days rising at one
// time of day is more than the tier's rises explain by chance. With p the
// share of remembered buckets that hold a rise, chance puts seen or more
// of days at a given time of day with the binomial tail P(X ≥ seen); the
// guard asks this of each bucket a week ago that held a rise, p·weekBuckets
// of them a week, so chance alone makes p·weekBuckets·P(X ≥ seen) schedules
// a week. The coincidence counts only when that is under one: on a tier
// whose rises are rare, one other day at the same time of day is a
// schedule; on a tier with many random rises it takes more days.
func (w *weekly) unlikelyByChance(days, seen int) bool {
	n := min(w.last-w.first+1, w.slots())
	if n <= 0 || seen <= 0 {
		return false
	}
	p := float64(w.rising) / float64(n)
	if p >= 1 {
		return false
	}
	// P(X < seen) for X ~ Binomial(days, p), term by term.
	below, term := 0.0, math.Pow(1-p, float64(days))
	for j := 0; j < seen; j++ {
		below += term
		term *= float64(days-j) / float64(j+1) * p / (1 - p)
	}
	return p*weekBuckets*max(0, 1-below) < 1
}
