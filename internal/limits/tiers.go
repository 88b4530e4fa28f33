package limits

import (
	"time"
)

// Tiers holds a stage's state per tier (the forecaster's, the anomaly
// service's) within the series limits: a new tier is admitted by a Series,
// a tier that has had no tick for the idle limit of arrival time is dropped
// (Idle), and Dropped remembers, per tier, the last output stored before
// this start or before an eviction, and which evicted tiers came back. It
// is pure and not safe for concurrent use.
type Tiers[T any] struct {
	admit   *Series
	idle    Idle
	tiers   map[Key]*Tier[T]
	dropped Dropped
	// remember is how long (ms of arrival time) dropped keeps a series
	// not held; 0 for ever.
	remember int64
}

// Tier is one tier's entry: the stage's own State and what the tracker
// keeps beside it.
type Tier[T any] struct {
	Key   Key
	State T
	// SentTS is the event time (ms) of the last output stored before this
	// process started or the tier was evicted: ticks replayed up to it
	// rebuild the state without outputting again.
	SentTS int64
	// LastTS is the event time (ms) of the last tick folded in. Its output
	// is stored or queued, so a redelivered tick at or before it is
	// skipped without leaving a gap.
	LastTS int64
	// lastSeen is the arrival of its last tick (ms), for idleness.
	lastSeen int64
}

// NewTiers returns an empty tracker admitting at most perApp tiers of an
// app and total in all (0: no limit), dropping tiers idle for idleAfter
// (0: never).
func NewTiers[T any](perApp, total int, idleAfter time.Duration) *Tiers[T] {
	return &Tiers[T]{admit: NewSeries(perApp, total), idle: NewIdle(idleAfter), tiers: map[Key]*Tier[T]{}, dropped: NewDropped()}
}

// RememberFor makes each sweep of idle tiers also forget what is
// remembered of a series not held (its last output stored, its eviction)
// once nothing was recorded of it for d of arrival time (d ≤ 0, the
// default: never). A stage gives its lookback, how far before a
// returning tier's tick it replays the tier's recorded ticks: the record
// of a tier gone that long finds nothing to replay, and without pruning
// every series a stage ever held would cost it a record (~170 B) for
// good. A tier back after that starts as a new one.
func (ts *Tiers[T]) RememberFor(d time.Duration) { ts.remember = max(d.Milliseconds(), 0) }

// Remembered returns how many series not held (or held but once dropped)
// the tracker keeps a record of.
func (ts *Tiers[T]) Remembered() int { return ts.dropped.Len() }

// Arrive gives the arrival time of the next tick: the stream's stored
// timestamp of its message. Idle tiers are dropped by arrival time; without
// Arrive a tick arrives at its event time.
func (ts *Tiers[T]) Arrive(t time.Time) { ts.idle.Arrive(t) }

// Len returns the number of tiers held.
func (ts *Tiers[T]) Len() int { return len(ts.tiers) }

// Get returns app.tier's entry, if held.
func (ts *Tiers[T]) Get(app, tier string) (*Tier[T], bool) {
	t, ok := ts.tiers[Key{App: app, Tier: tier}]
	return t, ok
}

// SetSent records that app.tier's outputs up to event time t were stored
// before this process started.
func (ts *Tiers[T]) SetSent(app, tier string, t time.Time) {
	k := Key{App: app, Tier: tier}
	ts.dropped.SetSent(k, t.UnixMilli())
	if e, ok := ts.tiers[k]; ok {
		e.SentTS = t.UnixMilli()
	}
}

// Returning reports, once, that app.tier was evicted for idleness and is
// back: a runtime replays its recorded ticks before the new one, and the
// outputs they make again are not output (they were stored before).
func (ts *Tiers[T]) Returning(app, tier string) bool {
	return ts.dropped.Returning(Key{App: app, Tier: tier})
}

// Tick returns the entry of app.tier for a tick at event time at (ms),
// making it with newState when the tier is new and admitted (a refused tier
// returns the *Error naming the limit). A tick first sweeps the idle tiers
// when a sweep is due; the tick's own tier counts as seen by it.
func (ts *Tiers[T]) Tick(app, tier string, at int64, newState func() T) (*Tier[T], error) {
	k := Key{App: app, Tier: tier}
	seen, due, cutoff := ts.idle.Seen(at)
	if e, ok := ts.tiers[k]; ok {
		// Seen now, so the sweep keeps it: a tier just rebuilt from its
		// history has only that history's old arrivals.
		e.lastSeen = max(e.lastSeen, seen)
	}
	if due { // first: a tier it evicts is made again below
		ts.Evict(time.UnixMilli(cutoff))
		ts.dropped.Prune(seen, ts.remember)
	}
	e, ok := ts.tiers[k]
	if !ok {
		if err := ts.admit.Admit(app, tier); err != nil {
			return nil, err
		}
		e = &Tier[T]{Key: k, State: newState()}
		e.SentTS, _ = ts.dropped.Sent(k)
		ts.tiers[k] = e
		ts.dropped.Held(k)
	}
	e.lastSeen = max(e.lastSeen, seen)
	return e, nil
}

// Evict drops every tier whose last tick arrived before cutoff and frees its
// place under the series limits; it returns how many were dropped. Tick
// calls it by arrival time; a runtime may call it too.
func (ts *Tiers[T]) Evict(cutoff time.Time) int {
	c, n := cutoff.UnixMilli(), 0
	for k, e := range ts.tiers {
		if e.lastSeen < c {
			delete(ts.tiers, k)
			ts.admit.Forget(k.App, k.Tier)
			// Its last tick's output is stored or queued (and those
			// before this start): a rebuild from its history outputs
			// none of them again. SentTS is the tier's own copy, as
			// its record may have been pruned while it was held.
			ts.dropped.Evict(k, max(e.SentTS, e.LastTS))
			n++
		}
	}
	return n
}

// HoldsApp says whether any tier of app is held.
func (ts *Tiers[T]) HoldsApp(app string) bool { return ts.admit.HasApp(app) }

// Forget drops every tier of app and its place under the series limits: a
// group member calls it for the apps of a partition it hands over, so the
// member taking them is the only one holding their state.
func (ts *Tiers[T]) Forget(app string) {
	for k := range ts.tiers {
		if k.App == app {
			delete(ts.tiers, k)
			ts.admit.Forget(k.App, k.Tier)
		}
	}
	ts.dropped.Forget(app)
}
