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
// An Acks is used by one goroutine; Wait bounds how many it holds.
type Acks struct {
	b       *Bus
	pending []jetstream.PubAckFuture
	stored  int // confirmed so far, named in a refusal
}

// NewAcks returns an empty tracker of b's publishes.
func (b *Bus) NewAcks() *Acks { return &Acks{b: b} }

// Publish publishes o asynchronously (as PublishAsync) and tracks it.
func (a *Acks) Publish(o Out) error {
	f, err := a.b.PublishAsync(o)
	if err != nil {
		return err
	}
	a.pending = append(a.pending, f)
	return nil
}

// Wait waits for every tracked publish in order and returns the first
// refusal, naming its message id, how many were stored before it and the
// last error the server reported on the connection (a refused publish is
// only dropped by the server, so its future fails by timing out).
func (a *Acks) Wait(ctx context.Context) error {
	for i, f := range a.pending {
		select {
		case <-f.Ok():
			a.stored++
		case err := <-f.Err():
			a.pending = a.pending[i+1:]
			if last := a.b.LastError(); last != nil {
				err = fmt.Errorf("%w (the server last reported: %v)", err, last)
			}
			return fmt.Errorf("publish %s not stored (%d stored before it): %w", f.Msg().Header.Get(jetstream.MsgIDHeader), a.stored, err)
		case <-ctx.Done():
			a.pending = a.pending[i:]
			return fmt.Errorf("waiting for %d publishes: %w", len(a.pending), ctx.Err())
		}
	}
	a.pending = a.pending[:0]
	return nil
}
