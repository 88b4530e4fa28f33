package limits

// Dropped is what a stage remembers of series whose state it does not
// hold: the event time (ms) of each one's last output stored, so a
// rebuild from the stream outputs none of them again, and which series
// were evicted for idleness and not yet rebuilt, so a runtime replays
// their history when they come back. The forecaster and the anomaly
// service key it by app and tier, the decider marks whole apps
// (Key{App: app}). It holds a few dozen bytes per series; Prune forgets
// the series not recorded for longer than the stage replays, so churning
// series do not grow it for ever. It is not safe for concurrent use.
type Dropped struct {
	m map[Key]dropped
}

// dropped is one series' record.
type dropped struct {
	sent int64 // event time (ms) of the last output stored, when hasSent
	// stamp is the time (ms) given to the first Prune after the record
	// was last written; 0 until then (every write makes a new record).
	stamp   int64
	hasSent bool
	evicted bool // marked for Returning
}

// NewDropped returns an empty Dropped.
func NewDropped() Dropped {
	return Dropped{m: map[Key]dropped{}}
}

// SetSent records the event time of k's last output stored, as read from
// the stream when a partition is taken over.
func (d Dropped) SetSent(k Key, ms int64) {
	r := d.m[k]
	d.m[k] = dropped{sent: ms, hasSent: true, evicted: r.evicted}
}

// Sent returns the event time of k's last output stored, if known.
func (d Dropped) Sent(k Key) (int64, bool) {
	r, ok := d.m[k]
	if !ok || !r.hasSent {
		return 0, false
	}
	return r.sent, true
}

// Evict records that k's state was dropped for idleness after an output
// at lastOut (ms) was stored or queued (Keep), and marks it for Returning.
func (d Dropped) Evict(k Key, lastOut int64) {
	d.Keep(k, lastOut)
	d.Mark(k)
}

// Keep records that k's outputs up to lastOut (ms) are stored or queued,
// keeping the later of that and what was known.
func (d Dropped) Keep(k Key, lastOut int64) {
	r := d.m[k]
	d.m[k] = dropped{sent: max(r.sent, lastOut), hasSent: true, evicted: r.evicted}
}

// Mark marks k for Returning without recording an output.
func (d Dropped) Mark(k Key) {
	r := d.m[k]
	d.m[k] = dropped{sent: r.sent, hasSent: r.hasSent, evicted: true}
}

// Held clears k's mark: its state is held again.
func (d Dropped) Held(k Key) {
	if r, ok := d.m[k]; ok {
		d.unmark(k, r)
	}
}

// unmark clears r's mark (k's record), dropping the record when nothing
// is left in it.
func (d Dropped) unmark(k Key, r dropped) {
	if !r.hasSent {
		delete(d.m, k)
		return
	}
	r.evicted = false
	d.m[k] = r
}

// Returning reports, once, that k was evicted and is back.
func (d Dropped) Returning(k Key) bool {
	r, ok := d.m[k]
	if !ok || !r.evicted {
		return false
	}
	d.unmark(k, r)
	return true
}

// Forget drops everything remembered of app's series: a member handing
// the app's partition over.
func (d Dropped) Forget(app string) {
	for k := range d.m {
		if k.App == app {
			delete(d.m, k)
		}
	}
}

// Prune forgets the series whose record was last written more than
// window before now (ms, the stage's arrival time; window ≤ 0 keeps
// everything) and returns how many. A record is stamped with now by the
// first Prune after it is written, so it is kept at least window after
// that, measured by the times later Prunes are given: a stage that
// replays at most window of a series' recorded inputs (its lookback)
// finds none of them for a series written that long ago, and treats its
// next input as a new series'. Call it at each sweep, with the sweep's
// time.
func (d Dropped) Prune(now, window int64) int {
	if window <= 0 {
		return 0
	}
	n := 0
	for k, r := range d.m {
		switch {
		case r.stamp == 0:
			r.stamp = now
			d.m[k] = r
		case r.stamp < now-window:
			delete(d.m, k)
			n++
		}
	}
	return n
}

// Len returns how many series are remembered.
func (d Dropped) Len() int { return len(d.m) }
