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
}

type weekObs struct {
	t     time.Time
	level float64
}

// newWeekly sizes the memory for weekSeen weeks of buckets and the lead
// window h: the guard reads a bucket weekSeen weeks back while it writes
// the buckets of ticks a lead window back, so the ring holds that many
// buckets more.
func newWeekly(h time.Duration) *weekly {
	n := weekSeen*weekBuckets + int(h/(weekBucket*time.Minute)) + 2
	return &weekly{codes: make([]byte, (n+1)/2)}
}

func (w *weekly) slots() int64 { return int64(2 * len(w.codes)) }

func (w *weekly) get(b int64) byte {
	s := ((b % w.slots()) + w.slots()) % w.slots()
	return (w.codes[s/2] >> (4 * (s % 2))) & 0xf
}

func (w *weekly) set(b int64, c byte) {
	s := ((b % w.slots()) + w.slots()) % w.slots()
	sh := 4 * (s % 2)
	w.codes[s/2] = w.codes[s/2]&^(0xf<<sh) | c<<sh
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
		}
		for ; w.last < b; w.last++ {
			w.set(w.last+1, 0)
		}
		if c := weekCode(pk / p.level); c > w.get(b) {
			w.set(b, c)
		}
	}
	w.pend = append(w.pend[:0], w.pend[done:]...)
	w.pend = append(w.pend, weekObs{t, level})
}

// rise returns the smaller of the rises kept for t's bucket one and two
// weeks ago, and ok when both came to a level bin's width or more.
func (w *weekly) rise(t time.Time) (float64, bool) {
	if !w.init {
		return 0, false
	}
	b := bucketOf(t)
	c := byte(weekCodes)
	for k := int64(1); k <= weekSeen; k++ {
		at := b - k*weekBuckets
		if at < w.first || at > w.last || at <= w.last-w.slots() {
			return 0, false
		}
		c = min(c, w.get(at))
	}
	if c == 0 {
		return 0, false
	}
	return weekRise(c), true
}
