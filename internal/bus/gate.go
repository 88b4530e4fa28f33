package bus

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Gate holds a service's input back while the service cannot take it:
// its outputs cannot be stored and what it holds of them is at its bound.
// A handler refusing an input for that returns Gate.Refuse's error, which
// closes the gate; the consumers given the gate (ConsumerSpec.Gate) then
// stop fetching and keep the messages already fetched, the refused one
// first, in order and unacknowledged, telling the server every third of
// AckWait that they are in progress, and hand them to the handler again
// once the service opens the gate (Open). Nothing is nakked meanwhile: a
// nak counts a delivery, against MaxDeliver, past which the runtime
// dead-letters the message, so an outage of any
// length would lose inputs that sit durably in their streams. (A message
// the server was sending as the consumer stopped is lost in flight with
// its subscription: it is topped up from the stream at the next delivery
// after the pause, or redelivered once its AckWait has passed, one more
// delivery each pause, not each nak delay; see gap.go.) A rebuild
// whose handler refuses waits for the gate likewise, without counting an
// attempt: a take-over's, or a returning app's, in place; a gap's top-up
// or a take-over's top-up on its first delivery, which run in the
// consumer's delivery callback, by pausing the consumer as a live
// refusal does, the message in hand kept first, and going on from the
// refused message once the gate opens (waiting in the callback, the
// consumer would go on fetching, and what its client held would be
// redelivered each AckWait).
//
// While closed, headroom_bus_input_paused{service,reason} is 1 for the
// reason it was closed with; one line is logged when it closes, and one
// when it opens. Gates of one service name (several inputs' gates, or
// several buses' sharing a registry) share the series: it is 1 while any
// of them is closed for the reason.
type Gate struct {
	service string
	log     zerolog.Logger
	paused  *pausedGauge

	mu     sync.Mutex
	reason string // why it is closed, "" while open
	cause  error
	since  time.Time
	opened chan struct{} // closed while the gate is open
}

// NewGate returns an open gate of service's input; reasons lists the
// reasons it may be closed for, whose series of
// headroom_bus_input_paused start at 0.
func (b *Bus) NewGate(service string, reasons ...string) *Gate {
	opened := make(chan struct{})
	close(opened)
	g := &Gate{service: service, log: b.log.With().Str("service", service).Logger(), paused: b.metrics.inputPaused, opened: opened}
	for _, r := range reasons {
		g.paused.WithLabelValues(service, r)
	}
	return g
}

// backpressure marks an input refused because the service's gate is closed.
type backpressure struct{ err error }

func (p backpressure) Error() string { return p.err.Error() }
func (p backpressure) Unwrap() error { return p.err }

// IsBackpressure reports whether err was returned by Gate.Refuse.
func IsBackpressure(err error) bool {
	var p backpressure
	return errors.As(err, &p)
}

// Refuse closes the gate for reason (a short word: it labels the gauge;
// err says more, in the log) unless it is closed already, and returns err
// marked so that the runtime keeps the input for when the gate opens
// instead of retrying it. Refuse(…, nil) closes the gate and returns nil.
func (g *Gate) Refuse(reason string, err error) error {
	g.mu.Lock()
	if g.reason == "" {
		g.reason, g.cause, g.since = reason, err, time.Now()
		g.opened = make(chan struct{})
		g.paused.closed(g.service, reason, +1)
		g.log.Warn().Str("reason", reason).AnErr("cause", err).
			Msg("input paused: its consumers stop fetching and keep what they fetched, unacknowledged, until the service can take input again")
	}
	g.mu.Unlock()
	if err == nil {
		return nil
	}
	return backpressure{err}
}

// Open opens the gate, if closed: the consumers hand the handler what they
// kept, in order, and fetch again.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reason == "" {
		return
	}
	g.paused.closed(g.service, g.reason, -1)
	g.log.Info().Str("reason", g.reason).Dur("paused_for", time.Since(g.since)).Msg("input resumed")
	g.reason, g.cause = "", nil
	close(g.opened)
}

// Paused returns why the gate is closed, "" while it is open.
func (g *Gate) Paused() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reason
}

// openCh returns a channel closed once the gate is open (at once if it is).
func (g *Gate) openCh() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.opened
}

// wait returns once the gate is open, or ctx's error once ctx ends.
func (g *Gate) wait(ctx context.Context) error {
	select {
	case <-g.openCh():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
