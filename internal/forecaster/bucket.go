package forecaster

import (
	"time"
)

// bucketer folds ticks into fixed event-time buckets and reports each bucket
// when a tick of a later bucket arrives.
type bucketer struct {
	step  time.Duration
	start time.Time // current bucket's start; zero before the first tick
	sum   float64
	n     int
}

// add folds value v at t. When t falls in a later bucket than the current
// one, it returns the closed bucket's start and mean (closed=true) before
// starting the new one. Ticks older than the current bucket are ignored (late).
func (b *bucketer) add(t time.Time, v float64) (start time.Time, mean float64, closed bool, late bool) {
	bs := t.Truncate(b.step)
	switch {
	case b.start.IsZero():
		b.start = bs
	case bs.Before(b.start):
		return time.Time{}, 0, false, true
	case bs.After(b.start):
		if b.n > 0 {
			start, mean, closed = b.start, b.sum/float64(b.n), true
		}
		b.start, b.sum, b.n = bs, 0, 0
	}
	b.sum += v
	b.n++
	return start, mean, closed, false
}
