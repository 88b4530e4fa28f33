package bus

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// heldAcks holds back, for one partition durable, the acknowledgement of
// messages its take-over's rebuild handled whose handler deferred it
// (Msg.Defer) and whose work is not stored yet. Live delivery then brings
// each of them again and skips it as handled; it is acknowledged only once
// the work is stored, as if live delivery had handled it. An entry lives
// from the handler's Defer until both the work is stored and the live
// delivery came; the partition's worker drops them all when it stops.
type heldAcks struct {
	acked func() // counts an acknowledgement

	mu      sync.Mutex
	pending map[uint64]*heldAck // by stream sequence
}

// heldAck is one rebuilt message's state: its work stored, its live
// delivery waiting for that.
type heldAck struct {
	stored bool
	jm     jetstream.Msg
}

func newHeldAcks(acked func()) *heldAcks {
	return &heldAcks{acked: acked, pending: map[uint64]*heldAck{}}
}

// deferSeq is Msg.Defer for the rebuilt message seq: the returned function
// marks its work stored and acknowledges its live delivery if that came.
func (h *heldAcks) deferSeq(seq uint64) func() {
	h.mu.Lock()
	e := &heldAck{}
	h.pending[seq] = e
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		e.stored = true
		jm := e.jm
		if jm != nil && h.pending[seq] == e {
			delete(h.pending, seq)
		}
		h.mu.Unlock()
		if jm != nil {
			if jm.Ack() == nil {
				h.acked()
			}
		}
	}
}

// hold takes the live delivery jm of the rebuilt message seq: it reports
// false when jm may be acknowledged now (its work is stored, or it deferred
// nothing), true when its acknowledgement waits for the work.
func (h *heldAcks) hold(seq uint64, jm jetstream.Msg) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.pending[seq]
	if e == nil {
		return false
	}
	if e.stored {
		delete(h.pending, seq)
		return false
	}
	e.jm = jm
	return true
}
