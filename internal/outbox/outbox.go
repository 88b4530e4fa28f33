// Package outbox stores a service's outputs in the order they were made,
// one at a time, retrying each with its Nats-Msg-Id until it is stored.
//
// A stateful consumer (the forecaster, the anomaly service) advances its
// per-series state as it handles a tick; the tick's output must then be
// stored whatever happens, or the redelivered tick finds the state already
// past it and the output is never made: a permanent gap. Handing the output
// to an outbox instead of the bus runtime's fire-and-forget publish keeps it
// until stored, so the state may move on at once, and a failed publish is
// retried rather than re-derived.
//
// Outputs leave strictly in order, each only after the one before was
// stored, so on every subject the stream holds a gap-free prefix of what was
// made: after a crash the service rebuilds its state by replay and resumes
// after the last output stored, losing nothing that was queued.
package outbox

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
)

// Publisher stores one message, returning once the stream has stored it (or
// dropped it as a duplicate of one stored). *bus.Bus is one.
type Publisher interface {
	Publish(ctx context.Context, o bus.Out) error
}

// Config bounds an outbox.
type Config struct {
	// Limit is how many outputs may wait; Add blocks beyond it, so a store
	// that refuses outputs slows the consumer instead of growing memory.
	Limit int
	// AttemptTimeout bounds one publish attempt (default 10s).
	AttemptTimeout time.Duration
	// MaxBackoff caps the growing delay between attempts (default 5s).
	MaxBackoff time.Duration
	// DrainTimeout bounds how long Drain waits on shutdown (default 5s).
	DrainTimeout time.Duration
}

func (c *Config) defaults() {
	if c.Limit <= 0 {
		c.Limit = 8192
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 10 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 5 * time.Second
	}
}

// Outbox queues outputs and stores them in order. Add and Run may be called
// from different goroutines.
type Outbox struct {
	cfg Config
	pub Publisher
	log zerolog.Logger

	mu      sync.Mutex
	queue   []bus.Out
	changed chan struct{} // closed and replaced whenever queue changes

	retries prometheus.Counter
}

// New returns an empty outbox publishing through pub; name labels its log
// lines and its retry counter (headroom_outbox_retries_total{service}).
func New(cfg Config, pub Publisher, name string, log zerolog.Logger, reg prometheus.Registerer) (*Outbox, error) {
	cfg.defaults()
	o := &Outbox{cfg: cfg, pub: pub, log: log.With().Str("part", "outbox").Logger(), changed: make(chan struct{}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_outbox_retries_total",
			Help: "Output publishes that failed and were retried with the same id.", ConstLabels: prometheus.Labels{"service": name}})}
	if reg != nil {
		if err := reg.Register(o.retries); err != nil {
			return nil, fmt.Errorf("outbox metrics: %w", err)
		}
	}
	return o, nil
}

// signal wakes every waiter; the caller holds mu.
func (o *Outbox) signal() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// Add queues outs behind every output queued before, waiting while the
// outbox is full. It fails only when ctx ends before there is room.
func (o *Outbox) Add(ctx context.Context, outs ...bus.Out) error {
	for _, out := range outs {
		for {
			o.mu.Lock()
			if len(o.queue) < o.cfg.Limit {
				o.queue = append(o.queue, out)
				o.signal()
				o.mu.Unlock()
				break
			}
			wait := o.changed
			o.mu.Unlock()
			select {
			case <-ctx.Done():
				return fmt.Errorf("outbox full (%d outputs): %w", o.cfg.Limit, ctx.Err())
			case <-wait:
			}
		}
	}
	return nil
}

// Pending is how many outputs wait to be stored.
func (o *Outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// head returns the oldest output and a channel closed at the next change.
func (o *Outbox) head() (bus.Out, bool, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) == 0 {
		return bus.Out{}, false, o.changed
	}
	return o.queue[0], true, o.changed
}

func (o *Outbox) pop() {
	o.mu.Lock()
	o.queue[0] = bus.Out{}
	o.queue = o.queue[1:]
	if len(o.queue) == 0 {
		o.queue = nil // let the backing array go
	}
	o.signal()
	o.mu.Unlock()
}

// Run stores queued outputs in order until ctx ends, each retried with a
// growing delay until stored.
func (o *Outbox) Run(ctx context.Context) {
	for {
		out, ok, changed := o.head()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				continue
			}
		}
		if err := o.store(ctx, out); err != nil {
			return // ctx ended
		}
		o.pop()
	}
}

// store publishes out until stored or ctx ends.
func (o *Outbox) store(ctx context.Context, out bus.Out) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, o.cfg.AttemptTimeout)
		err := o.pub.Publish(actx, out)
		cancel()
		if err == nil {
			if attempt > 1 {
				o.log.Info().Str("msg_id", out.Msg.MsgID()).Int("attempts", attempt).Msg("output stored after retries")
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		o.retries.Inc()
		ev := o.log.Debug()
		if attempt == 1 || attempt%10 == 0 {
			ev = o.log.Warn()
		}
		ev.Err(err).Str("msg_id", out.Msg.MsgID()).Int("attempt", attempt).Int("pending", o.Pending()).Msg("output not stored, retrying with the same id")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Duration(attempt)*100*time.Millisecond, o.cfg.MaxBackoff)):
		}
	}
}

// Drain waits until every queued output is stored, ctx ends or DrainTimeout
// passes, and reports how many are left; Run must still be running. A
// service calls it on shutdown, after its consumer has stopped.
func (o *Outbox) Drain(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.DrainTimeout)
	defer cancel()
	for {
		o.mu.Lock()
		n, changed := len(o.queue), o.changed
		o.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-changed:
		}
	}
}
