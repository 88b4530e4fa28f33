// Package outbox stores a service's outputs in the order they were made on
// each subject, retrying each with its Nats-Msg-Id until it is stored.
//
// A stateful consumer (the forecaster, the anomaly service) advances its
// per-series state as it handles a tick; the tick's output must then be
// stored whatever happens, or the redelivered tick finds the state already
// past it and the output is never made: a permanent gap. Handing the output
// to an outbox instead of the bus runtime's fire-and-forget publish keeps it
// until stored, so the state may move on at once, and a failed publish is
// retried rather than re-derived.
//
// On each subject outputs leave strictly in order, each only after the one
// before was stored, so the stream holds a gap-free prefix of what was made
// there: after a crash the service rebuilds its state by replay and resumes
// after the last output stored on each subject, losing nothing that was
// queued. Subjects are spread over a few workers, so one round trip per
// output does not bound a service with many series.
package outbox

import (
	"context"
	"fmt"
	"hash/fnv"
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
	// Workers is how many outputs may be in flight at once, on different
	// subjects (default 16).
	Workers int
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
	if c.Workers <= 0 {
		c.Workers = 16
	}
}

// Outbox queues outputs and stores them in order per subject. Add and Run
// may be called from different goroutines.
type Outbox struct {
	cfg Config
	pub Publisher
	log zerolog.Logger

	mu      sync.Mutex
	shards  [][]bus.Out     // a subject always maps to the same shard, one worker each
	n       int             // outputs queued in all shards
	changed chan struct{}   // closed and replaced whenever an output leaves
	wake    []chan struct{} // per shard: an output was added

	retries prometheus.Counter
}

// New returns an empty outbox publishing through pub; name labels its log
// lines and its retry counter (headroom_outbox_retries_total{service}).
func New(cfg Config, pub Publisher, name string, log zerolog.Logger, reg prometheus.Registerer) (*Outbox, error) {
	cfg.defaults()
	o := &Outbox{cfg: cfg, pub: pub, log: log.With().Str("part", "outbox").Logger(), changed: make(chan struct{}),
		shards: make([][]bus.Out, cfg.Workers), wake: make([]chan struct{}, cfg.Workers),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_outbox_retries_total",
			Help: "Output publishes that failed and were retried with the same id.", ConstLabels: prometheus.Labels{"service": name}})}
	for i := range o.wake {
		o.wake[i] = make(chan struct{}, 1)
	}
	if reg != nil {
		if err := reg.Register(o.retries); err != nil {
			return nil, fmt.Errorf("outbox metrics: %w", err)
		}
	}
	return o, nil
}

// signal wakes every Add and Drain waiting; the caller holds mu.
func (o *Outbox) signal() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// shard is the index of subject's shard.
func (o *Outbox) shard(subject string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(subject))
	return int(h.Sum32() % uint32(len(o.shards)))
}

// Add queues outs behind every output queued before on their subjects,
// waiting while the outbox is full. It fails only when ctx ends before there
// is room.
func (o *Outbox) Add(ctx context.Context, outs ...bus.Out) error {
	for _, out := range outs {
		i := o.shard(out.Subject)
		for {
			o.mu.Lock()
			if o.n < o.cfg.Limit {
				o.shards[i] = append(o.shards[i], out)
				o.n++
				o.mu.Unlock()
				select {
				case o.wake[i] <- struct{}{}:
				default: // already woken
				}
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
	return o.n
}

// head returns shard i's oldest output.
func (o *Outbox) head(i int) (bus.Out, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.shards[i]) == 0 {
		return bus.Out{}, false
	}
	return o.shards[i][0], true
}

func (o *Outbox) pop(i int) {
	o.mu.Lock()
	q := o.shards[i]
	q[0] = bus.Out{}
	if q = q[1:]; len(q) == 0 {
		q = nil // let the backing array go
	}
	o.shards[i] = q
	o.n--
	o.signal()
	o.mu.Unlock()
}

// Run stores queued outputs, in order on each subject, until ctx ends, each
// retried with a growing delay until stored.
func (o *Outbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range o.shards {
		wg.Go(func() { o.work(ctx, i) })
	}
	wg.Wait()
}

// work stores shard i's outputs one at a time.
func (o *Outbox) work(ctx context.Context, i int) {
	for {
		out, ok := o.head(i)
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-o.wake[i]:
				continue
			}
		}
		if err := o.store(ctx, out); err != nil {
			return // ctx ended
		}
		o.pop(i)
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
		n, changed := o.n, o.changed
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
