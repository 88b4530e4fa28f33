package limits

// Dropped is what a stage remembers of series whose state it does not
// hold: the event time (ms) of each one's last output stored, so a
// rebuild from the stream outputs none of them again, and which series
// were evicted for idleness and not yet rebuilt, so a runtime replays
// their history when they come back. The forecaster and the anomaly
// service key it by app and tier, the decider marks whole apps
// (Key{App: app}). It holds a few dozen bytes per series the streams
// still record; it is not safe for concurrent use.
type Dropped struct {
	sent    map[Key]int64
	evicted map[Key]struct{}
}

// NewDropped returns an empty Dropped.
func NewDropped() Dropped {
	return Dropped{sent: map[Key]int64{}, evicted: map[Key]struct{}{}}
}

// SetSent records the event time of k's last output stored, as read from
// the stream when a partition is taken over.
func (d Dropped) SetSent(k Key, ms int64) { d.sent[k] = ms }

// Sent returns the event time of k's last output stored, if known.
func (d Dropped) Sent(k Key) (int64, bool) {
	ms, ok := d.sent[k]
	return ms, ok
}

// Evict records that k's state was dropped for idleness after an output
// at lastOut (ms) was stored or queued (Keep), and marks it for Returning.
func (d Dropped) Evict(k Key, lastOut int64) {
	d.Keep(k, lastOut)
	d.Mark(k)
}

// Keep records that k's outputs up to lastOut (ms) are stored or queued,
// keeping the later of that and what was known.
func (d Dropped) Keep(k Key, lastOut int64) { d.sent[k] = max(d.sent[k], lastOut) }

// Mark marks k for Returning without recording an output.
func (d Dropped) Mark(k Key) { d.evicted[k] = struct{}{} }

// Held clears k's mark: its state is held again.
func (d Dropped) Held(k Key) { delete(d.evicted, k) }

// Returning reports, once, that k was evicted and is back.
func (d Dropped) Returning(k Key) bool {
	if _, ok := d.evicted[k]; !ok {
		return false
	}
	delete(d.evicted, k)
	return true
}

// Forget drops everything remembered of app's series: a member handing
// the app's partition over.
func (d Dropped) Forget(app string) {
	for k := range d.sent {
		if k.App == app {
			delete(d.sent, k)
		}
	}
	for k := range d.evicted {
		if k.App == app {
			delete(d.evicted, k)
		}
	}
}
