package executor

import (
	"slices"
	"sync"
	"time"

	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// held is the replica state the executor keeps in memory, within the
// series limits: the bucket is the record, and held caches what this
// member read or wrote of it for the tiers it handles. A tier is admitted
// by a limits.Series (a tier beyond the configured limits is refused), and
// one whose decisions stopped arriving for the idle limit of arrival time
// is dropped, freeing its place; it is read from the bucket again if it
// comes back. A partition taken over or handed on drops its tiers, so a
// member reads what another member committed. Safe for concurrent use.
type held struct {
	mu     sync.Mutex
	admit  *limits.Series
	idle   limits.Idle
	states map[limits.Key]*heldTier
}

// heldTier is one tier's entry: its cached state once loaded (nil: not
// in the bucket) and the bucket revision it was read or written at, its
// partition and the arrival of its last decision.
type heldTier struct {
	st        *proto.ReplicaState
	rev       uint64
	loaded    bool
	partition int
	lastSeen  int64
	// after is what newer read of the tier's decision subject (see
	// afterScan); scanned says it holds a read.
	after   afterScan
	scanned bool
}

// newHeld returns an empty cache admitting at most perApp tiers of an app
// and total in all (0: no limit), dropping tiers idle for idleAfter (0:
// never).
func newHeld(perApp, total int, idleAfter time.Duration) *held {
	return &held{admit: limits.NewSeries(perApp, total), idle: limits.NewIdle(idleAfter), states: map[limits.Key]*heldTier{}}
}

// see admits k, of partition p, for a decision at event time ts (ms)
// stored at stored, and returns the tiers it dropped as idle (never k). A
// tier the limits refuse returns the *limits.Error.
func (h *held) see(k limits.Key, p int, stored time.Time, ts int64) (dropped []limits.Key, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.idle.Arrive(stored)
	at, due, cutoff := h.idle.Seen(ts)
	e, ok := h.states[k]
	if ok {
		// A tier's partition follows its app's hash, which a change of
		// the partition count moves.
		e.lastSeen, e.partition = max(e.lastSeen, at), p
	}
	if due {
		for o, e := range h.states {
			if e.lastSeen < cutoff {
				delete(h.states, o)
				h.admit.Forget(o.App, o.Tier)
				dropped = append(dropped, o)
			}
		}
	}
	if !ok {
		if err := h.admit.Admit(k.App, k.Tier); err != nil {
			return dropped, err
		}
		h.states[k] = &heldTier{partition: p, lastSeen: at}
	}
	return dropped, nil
}

// get returns k's cached state (nil when the bucket has none) and whether
// it is loaded.
func (h *held) get(k limits.Key) (*proto.ReplicaState, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.states[k]
	if !ok || !e.loaded {
		return nil, false
	}
	return e.st, true
}

// set caches st as k's state, read from or written to the bucket at
// revision rev (0: the bucket has no value); k must have been seen (a
// tier dropped meanwhile is not cached again).
func (h *held) set(k limits.Key, st *proto.ReplicaState, rev uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.states[k]; ok {
		e.st, e.rev, e.loaded = st, rev, true
	}
}

// revision returns the bucket revision of k's cached state: 0 when the
// bucket had no value, or none is cached.
func (h *held) revision(k limits.Key) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.states[k]; ok && e.loaded {
		return e.rev
	}
	return 0
}

// unload drops k's cached state, keeping its place under the limits: its
// next get misses, and the state is read from the bucket again.
func (h *held) unload(k limits.Key) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.states[k]; ok {
		e.st, e.rev, e.loaded = nil, 0, false
	}
}

// forget drops the tiers of partition p and frees their places under the
// limits; it returns them.
func (h *held) forget(p int) []limits.Key {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []limits.Key
	for k, e := range h.states {
		if e.partition == p {
			delete(h.states, k)
			h.admit.Forget(k.App, k.Tier)
			out = append(out, k)
		}
	}
	return out
}

// release drops k and frees its place under the limits: a tier refused
// after its admission (the bucket has no room for its state) holds no
// place while it is refused.
func (h *held) release(k limits.Key) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.states[k]; ok {
		delete(h.states, k)
		h.admit.Forget(k.App, k.Tier)
	}
}

// after returns what newer read of k's decision subject, kept by
// setAfter; false when nothing is kept. The chain is the caller's.
func (h *held) after(k limits.Key) (afterScan, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.states[k]
	if !ok || !e.scanned {
		return afterScan{}, false
	}
	a := e.after
	a.chain = slices.Clone(a.chain)
	return a, true
}

// setAfter keeps a, what newer read of k's decision subject, while k is
// held (a tier dropped meanwhile keeps nothing).
func (h *held) setAfter(k limits.Key, a afterScan) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.states[k]; ok {
		e.after, e.scanned = a, true
	}
}

// len returns how many tiers are held.
func (h *held) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.states)
}
