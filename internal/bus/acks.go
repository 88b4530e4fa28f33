package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Acks tracks a producer's asynchronous publishes until the stream confirms
// them, so one the server refuses (the user may not publish the subject, no
// stream takes it) is reported with its reason rather than counted as sent.
// Bus.Flush only waits; it does not say whether each publish was stored.
// A publish the server refuses for the user's permissions is dropped, and
// its future would only time out: Acks learns of the refusal as the
// server sends it, so Wait and Poll report it at once, naming that
// publish's message and its own refusal.
// An Acks is used by one goroutine; Wait bounds how many it holds.
type Acks struct {
	b       *Bus
	pending []tracked
	stored  int    // confirmed so far, named in a refusal
	gen     uint64 // the bus's refusals seen at the last Poll
}

// tracked is one publish and how many refusals of its subject the bus had
// seen before it was sent: one more is its own.
type tracked struct {
	f       jetstream.PubAckFuture
	refused uint64
}

// NewAcks returns an empty tracker of b's publishes.
func (b *Bus) NewAcks() *Acks {
	gen, _ := b.async.generation()
	return &Acks{b: b, gen: gen}
}

// Publish publishes o asynchronously (as PublishAsync) and tracks it.
func (a *Acks) Publish(o Out) error {
	n := a.b.async.count(publishKey(o.Subject))
	f, err := a.b.PublishAsync(o)
	if err != nil {
		return err
	}
	a.pending = append(a.pending, tracked{f, n})
	return nil
}

// Refusals returns a channel closed when the server next refuses anything
// on the connection: a caller waiting for something else (a replay's
// pacing) selects on it, then calls Poll.
func (a *Acks) Refusals() <-chan struct{} {
	_, changed := a.b.async.generation()
	return changed
}

// refusal is the server's refusal of t's publish, or nil: a refusal of its
// subject seen after it was sent while no acknowledgement came.
func (a *Acks) refusal(t tracked) error {
	select {
	case <-t.f.Ok():
		return nil
	default:
	}
	_, refusal := a.b.async.since(publishKey(t.f.Msg().Subject), t.refused)
	return refusal
}

// refusedErr names t's message, its subject, the publishes stored before
// it and the server's refusal, and drops the publishes up to it.
func (a *Acks) refusedErr(i int, err error) error {
	f := a.pending[i].f
	a.pending = a.pending[i+1:]
	return fmt.Errorf("publish %s to %s not stored (%d stored before it): %w", f.Msg().Header.Get(jetstream.MsgIDHeader), f.Msg().Subject, a.stored, err)
}

// Poll, without waiting, counts the publishes acknowledged so far (in
// order) and returns the first tracked publish the server refused, if a
// refusal arrived since the last Poll.
func (a *Acks) Poll() error {
	i := 0
	for ; i < len(a.pending); i++ {
		select {
		case <-a.pending[i].f.Ok():
			a.stored++
			continue
		default:
		}
		break
	}
	a.pending = a.pending[i:]
	gen, _ := a.b.async.generation()
	if gen == a.gen {
		return nil
	}
	a.gen = gen
	for i, t := range a.pending {
		if err := a.refusal(t); err != nil {
			return a.refusedErr(i, err)
		}
	}
	return nil
}

// Wait waits for every tracked publish in order and returns the first
// refusal, naming its message id, subject, how many were stored before it
// and the server's reason: the refusal of that publish's subject as it
// arrives, or (a publish that timed out) the last error the server
// reported on the connection.
func (a *Acks) Wait(ctx context.Context) error {
	for i, t := range a.pending {
		for acked := false; !acked; {
			changed, refusal := a.b.async.since(publishKey(t.f.Msg().Subject), t.refused)
			if refusal != nil {
				if refusal = a.refusal(t); refusal != nil {
					return a.refusedErr(i, refusal)
				}
				changed = nil // acknowledged after all: Ok is ready
			}
			select {
			case <-t.f.Ok():
				a.stored++
				acked = true
			case err := <-t.f.Err():
				if last := a.b.LastError(); last != nil {
					err = fmt.Errorf("%w (the server last reported: %v)", err, last)
				}
				return a.refusedErr(i, err)
			case <-changed:
			case <-ctx.Done():
				a.pending = a.pending[i:]
				return fmt.Errorf("waiting for %d publishes: %w", len(a.pending), ctx.Err())
			}
		}
	}
	a.pending = a.pending[:0]
	gen, _ := a.b.async.generation()
	a.gen = gen
	return nil
}
