package limits

import (
	"time"
)

// Idle tells a stage's state when its series have gone idle, so their
// memory can be dropped. Time is the inputs' arrival: the stream's stored
// timestamp of each message, which a runtime gives with Arrive before the
// input. Without it (the offline evaluations, which feed inputs in event
// order) an input arrives at its event time.
//
// Arrival, not event time, is what says a series went quiet: a shadow
// replay of last week's traffic arrives now, next to live series, and must
// not be dropped because its event times are old; a single pushed tick
// stamped now must not evict every replaying app. Stored timestamps are
// part of the stream, so a rebuild replays the same evictions.
type Idle struct {
	after   int64 // ms; 0 keeps every series
	arrival int64 // arrival of the next input (ms), 0: its event time
	newest  int64 // newest arrival seen
	swept   int64 // newest at the last sweep
}

// NewIdle returns an Idle that calls series idle after d without input;
// d <= 0 never does.
func NewIdle(d time.Duration) Idle { return Idle{after: d.Milliseconds()} }

// Arrive sets the arrival time of the next input; the zero time means its
// event time.
func (i *Idle) Arrive(t time.Time) {
	i.arrival = 0
	if !t.IsZero() {
		i.arrival = t.UnixMilli()
	}
}

// Seen records an input with event time ts (ms). It returns the input's
// arrival time (ms), to keep as its series' last input, and, every eighth
// of the idle limit of arrival time, due with the cutoff before which a
// series' last input makes it idle.
func (i *Idle) Seen(ts int64) (at int64, due bool, cutoff int64) {
	at = ts
	if i.arrival > 0 {
		at = i.arrival
	}
	if at <= i.newest {
		return at, false, 0
	}
	i.newest = at
	if i.after <= 0 || i.newest-i.swept < max(i.after/8, 1) {
		return at, false, 0
	}
	i.swept = i.newest
	return at, true, i.newest - i.after
}
