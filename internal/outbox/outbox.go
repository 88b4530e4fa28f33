// Package outbox stores a service's outputs in the order they were made on
// each subject, retrying each with its Nats-Msg-Id until it is stored.
//
// A stateful consumer (the forecaster, the anomaly service) advances its
// per-series state as it handles a tick; the tick's output must then be
// stored whatever happens, or the redelivered tick finds the state already
// past it and the output is never made: a permanent gap. Handing the output
// to an outbox keeps it until stored, so the state may move on at once, and
// a failed publish is retried rather than re-derived. AddThen says what to
// do once an output is stored: a stage acknowledges the tick it was made
// from there, so no tick is acknowledged while its output could be lost.
//
// On each subject outputs leave in order. With an asynchronous publisher
// (*bus.Bus) up to Config.Window of them are in flight on one connection at
// once, each sent once (no client-side resend that could overtake the ones
// behind it), so the stream receives them in the order made and one round
// trip per output does not bound a busy series. Results are taken in the
// order sent on each subject, the subjects independently: an output no
// acknowledgement comes for (a stream without a leader, a slow or
// partitioned server) holds its own subject until its AttemptTimeout, the
// other subjects' results being taken as they come meanwhile (within
// patience, 50 ms). An output leaves the outbox only once it is stored,
// and those before it on its subject were. When one is refused, its
// subject stops sending, waits for the results of those already in
// flight, and retries the refused output alone, with a growing delay,
// until it is stored; then the window resumes from the output after it.
// Those behind it were refused too, or the stream drops them as
// duplicates of their ids when they are sent again: nothing is lost while
// the process lives, and the stream holds a gap-free, ordered prefix of
// what was made on each subject, so after a crash the service rebuilds its
// state by replay and resumes after the last output stored on each subject.
// An output the server refuses the user for its permissions (nats.conf) is
// known refused as that refusal reaches the connection (the server drops
// the publish, so no acknowledgement ever comes: bus.RefusableFuture), not
// at AttemptTimeout; its retries, each a permissions violation in the
// server's log, follow the shared schedule of such refusals (250 ms
// doubling to bus.RefusedRetryMax), the other failures' 100 ms more at
// each attempt up to MaxBackoff; each kind is logged as a warning at the
// first failure of its kind in a row and every tenth after.
// The one exception is a store that starts accepting again exactly between
// two outputs of a window (the first refused, the next stored): it is
// logged, and the refused one is stored after its successor. The sender
// checks before each output it sends that its subject's oldest was not
// refused meanwhile, so this takes a store that accepts again within the
// round trip of the refused output; but should the process then stop
// before the refused one is stored, the replay resumes after the last
// output stored and never makes it again. Blocked
// (headroom_outbox_blocked_subjects) counts the subjects waiting on a
// refused output, so an operator sees a stalled series as one number.
//
// A synchronous publisher (tests) has one output in flight per subject, and
// at most Config.Workers at once.
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

// AsyncPublisher also sends a message without waiting for the stream; the
// future reports its acknowledgement, or the server's refusal of it for
// the user's permissions as that arrives (Refused). Messages sent one after
// the other reach the store in that order, each once: no resend of its own
// behind the caller's back, which could overtake the messages sent after
// it. *bus.Bus is one.
type AsyncPublisher interface {
	Publisher
	PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error)
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
	// Window is how many outputs of one subject may be in flight at once
	// with an AsyncPublisher (default 64).
	Window int
	// Workers is how many outputs a synchronous Publisher may be storing
	// at once, on different subjects (default 16).
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
	if c.Window <= 0 {
		c.Window = 64
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
}

// entry is one queued output and what to call once it is stored.
type entry struct {
	out    bus.Out
	stored func() // nil: nothing
}

// subject is one subject's queue.
type subject struct {
	name string
	// queue holds the outputs not yet known stored, oldest first; the first
	// sent of them are in flight.
	queue []entry
	sent  int
	// failed: the head was refused. The subject sends nothing until the
	// results of those in flight are in, then retries the head alone.
	failed   bool
	retrying bool // the head's retry is in flight
	attempt  int  // refusals of the head in a row
	// run counts the refusals of the head in a row of one kind: the
	// server's permission refusals (bus.IsRefused), which set the head's
	// retry schedule, or other failures.
	run     bus.FailureRun
	retryAt time.Time // when the head may be retried
	ready   bool      // listed in Outbox.ready
	// behind holds the outputs sent behind the refused head that were
	// told refused for the user's permissions: a refusal names the
	// subject alone, so one of them may have been told the head's and be
	// stored after all, its acknowledgement coming later (see
	// storedAhead).
	behind []inflight
	// swept is the number of the completer's last sweep that found an
	// output of s in flight without its outcome (the completer's alone).
	swept uint64
}

// future is a publish's outcome: bus.RefusableFuture, or syncFuture.
type future interface {
	Ok() <-chan *bus.PubAck
	Err() <-chan error
	Refused() (<-chan struct{}, error)
	Done()
}

// inflight is one output sent, waiting for its result.
type inflight struct {
	s     *subject
	id    string
	at    time.Time
	f     future
	err   error // the send itself failed
	retry bool  // sent alone, as the retry of a refused head
}

// Outbox queues outputs and stores them in order per subject. Add and Run
// may be called from different goroutines.
type Outbox struct {
	cfg   Config
	pub   Publisher
	async AsyncPublisher // nil: pub is synchronous
	log   zerolog.Logger
	sem   chan struct{} // bounds a synchronous publisher's calls
	// patience is the const patience (a test's own where it sets it).
	patience time.Duration

	mu       sync.Mutex
	subjects map[string]*subject
	ready    []*subject    // subjects that may have something to send
	n        int           // outputs queued
	changed  chan struct{} // closed and replaced whenever an output leaves
	wake     chan struct{} // the sender has something to look at

	retries prometheus.Counter
	blocked prometheus.GaugeFunc
}

// New returns an empty outbox publishing through pub; name labels its log
// lines and its retry counter (headroom_outbox_retries_total{service}).
func New(cfg Config, pub Publisher, name string, log zerolog.Logger, reg prometheus.Registerer) (*Outbox, error) {
	cfg.defaults()
	o := &Outbox{cfg: cfg, pub: pub, log: log.With().Str("part", "outbox").Logger(), changed: make(chan struct{}), patience: patience,
		subjects: map[string]*subject{}, wake: make(chan struct{}, 1),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_outbox_retries_total",
			Help: "Output publishes that failed and were retried with the same id.", ConstLabels: prometheus.Labels{"service": name}})}
	if a, ok := pub.(AsyncPublisher); ok {
		o.async = a
	} else {
		o.cfg.Window = 1
		o.sem = make(chan struct{}, cfg.Workers)
	}
	o.blocked = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "headroom_outbox_blocked_subjects",
		Help: "Subjects whose oldest output was refused, or not acknowledged within its attempt's timeout: nothing after it leaves until it is stored.", ConstLabels: prometheus.Labels{"service": name}},
		func() float64 { return float64(o.Blocked()) })
	if reg != nil {
		for _, c := range []prometheus.Collector{o.retries, o.blocked} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("outbox metrics: %w", err)
			}
		}
	}
	return o, nil
}

// signal wakes every Add and Drain waiting; the caller holds mu.
func (o *Outbox) signal() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// markReady lists s for the sender; the caller holds mu.
func (o *Outbox) markReady(s *subject) {
	if !s.ready {
		s.ready = true
		o.ready = append(o.ready, s)
	}
}

func (o *Outbox) wakeSender() {
	select {
	case o.wake <- struct{}{}:
	default: // already woken
	}
}

// Add queues outs behind every output queued before on their subjects,
// waiting while the outbox is full. It fails only when ctx ends before there
// is room.
func (o *Outbox) Add(ctx context.Context, outs ...bus.Out) error {
	for _, out := range outs {
		if err := o.AddThen(ctx, out, nil); err != nil {
			return err
		}
	}
	return nil
}

// AddThen queues out like Add and calls stored, from the outbox's own
// goroutine, once out is stored (or found stored before): a stage
// acknowledges the input out was made from there, so its input is never
// acknowledged while its output could still be lost. An output the outbox
// drops on shutdown never calls stored.
func (o *Outbox) AddThen(ctx context.Context, out bus.Out, stored func()) error {
	for {
		o.mu.Lock()
		if o.n < o.cfg.Limit {
			s := o.subjects[out.Subject]
			if s == nil {
				s = &subject{name: out.Subject}
				o.subjects[out.Subject] = s
			}
			s.queue = append(s.queue, entry{out: out, stored: stored})
			o.n++
			o.markReady(s)
			o.mu.Unlock()
			o.wakeSender()
			return nil
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

// Blocked is how many subjects wait on a refused output alone: the oldest
// output of each was refused, nothing sent behind it is still in flight,
// and nothing behind it leaves until a retry stores it.
func (o *Outbox) Blocked() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, s := range o.subjects {
		// In flight: nothing, or the refused output's retry alone.
		if s.failed && (s.sent == 0 || s.sent == 1 && s.retrying) {
			n++
		}
	}
	return n
}

// Pending is how many outputs wait to be stored.
func (o *Outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}

// Run stores queued outputs, in order on each subject, until ctx ends, each
// retried with a growing delay until stored.
func (o *Outbox) Run(ctx context.Context) {
	// Results are taken in the order sent on each subject, each
	// subject's independently of the others'. What is in flight is
	// bounded by the outputs queued (Limit), not by the channel: the
	// completer moves what waits in it aside while one is late.
	acks := make(chan inflight, 4096)
	var wg sync.WaitGroup
	wg.Go(func() { o.complete(ctx, acks) })
	o.send(ctx, acks)
	wg.Wait()
}

// toSend is one output the sender takes out of a queue.
type toSend struct {
	s     *subject
	out   bus.Out
	retry bool
}

// send publishes what the subjects' windows allow, until ctx ends.
func (o *Outbox) send(ctx context.Context, acks chan<- inflight) {
	defer close(acks)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []toSend
	for {
		batch = batch[:0]
		var next time.Time // earliest retry not due yet
		o.mu.Lock()
		now := time.Now()
		keep := o.ready[:0]
		for _, s := range o.ready {
			switch {
			case s.failed && s.sent > 0:
				s.ready = false // the completer lists it again once they are in
			case s.failed && now.Before(s.retryAt):
				keep = append(keep, s)
				if next.IsZero() || s.retryAt.Before(next) {
					next = s.retryAt
				}
			case s.failed:
				if len(s.queue) > 0 {
					batch = append(batch, toSend{s: s, out: s.queue[0].out, retry: true})
					s.sent, s.retrying = 1, true
				}
				s.ready = false
			default:
				for s.sent < len(s.queue) && s.sent < o.cfg.Window {
					batch = append(batch, toSend{s: s, out: s.queue[s.sent].out})
					s.sent++
				}
				s.ready = false
			}
		}
		clear(o.ready[len(keep):])
		o.ready = keep
		o.mu.Unlock()

		for _, t := range batch {
			if !t.retry && o.behindRefused(t.s) {
				continue
			}
			in := inflight{s: t.s, id: t.out.Msg.MsgID(), at: time.Now(), retry: t.retry}
			in.f, in.err = o.publish(ctx, t.out)
			select {
			case acks <- in:
			case <-ctx.Done():
				if in.f != nil {
					in.f.Done() // no longer waited on
				}
				return
			}
		}
		clear(batch)
		if len(batch) > 0 {
			continue
		}
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// behindRefused reports whether s's oldest output was refused since the
// sender took an output of s for sending: the output is then not sent (the
// store may accept again by now, and it would be stored ahead of the
// refused one) and leaves the window; it goes again once the refused one is
// stored. The caller does not hold mu.
func (o *Outbox) behindRefused(s *subject) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !s.failed {
		return false
	}
	s.sent--
	if s.sent == 0 {
		o.markReady(s) // its retry may go
	}
	return true
}

// syncFuture is the outcome of a synchronous Publish run aside.
type syncFuture struct {
	ok  chan *bus.PubAck
	err chan error
}

func (f *syncFuture) Ok() <-chan *bus.PubAck { return f.ok }
func (f *syncFuture) Err() <-chan error      { return f.err }

// Refused is nil, nil: a synchronous Publish ends at its refusal itself.
func (f *syncFuture) Refused() (<-chan struct{}, error) { return nil, nil }
func (f *syncFuture) Done()                             {}

// publish sends out without waiting for it to be stored.
func (o *Outbox) publish(ctx context.Context, out bus.Out) (future, error) {
	if o.async != nil {
		f, err := o.async.PublishAsyncOnce(out)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	select {
	case o.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f := &syncFuture{ok: make(chan *bus.PubAck, 1), err: make(chan error, 1)}
	go func() {
		defer func() { <-o.sem }()
		actx, cancel := context.WithTimeout(ctx, o.cfg.AttemptTimeout)
		defer cancel()
		if err := o.pub.Publish(actx, out); err != nil {
			f.err <- err
			return
		}
		f.ok <- &bus.PubAck{}
	}()
	return f, nil
}

// result is a publish's outcome: dup when the store had it already.
type result struct {
	dup bool
	err error
}

// outcome returns in's outcome if it is in, without waiting: stored (nil),
// dup, its error; the server's refusal (bus.IsRefused) as it arrives, since
// the server drops a publish it refuses the user and only the connection
// learns of it: waiting for its acknowledgement would take AttemptTimeout;
// or that AttemptTimeout passed at now. A future keeps its acknowledgement
// until read, so one may be looked at any time after it came. Else it
// returns the channel closed at the connection's next refusal (nil: none).
func (o *Outbox) outcome(in inflight, now time.Time) (result, bool, <-chan struct{}) {
	if in.err != nil {
		return result{err: in.err}, true, nil
	}
	select {
	case ack := <-in.f.Ok():
		return result{dup: ack != nil && ack.Duplicate}, true, nil
	case err := <-in.f.Err():
		return result{err: err}, true, nil
	default:
	}
	changed, refusal := in.f.Refused()
	if refusal != nil {
		return result{err: refusal}, true, nil
	}
	if !now.Before(in.at.Add(o.cfg.AttemptTimeout)) {
		return result{err: fmt.Errorf("no acknowledgement in %s", o.cfg.AttemptTimeout)}, true, nil
	}
	return result{}, false, changed
}

// patience is how long the completer waits on the oldest output in flight
// before it looks whether those sent after it, on other subjects, have
// their outcomes: a round trip's acknowledgement comes well within it, so
// it costs nothing while the store answers, and an output no
// acknowledgement comes for (a stream without a leader, a partitioned
// server) delays the other subjects' outcomes by at most this, not by its
// AttemptTimeout.
const patience = 50 * time.Millisecond

// await waits for in's outcome (outcome) until it is in (true), patience
// passes or a refusal of another subject comes (false), or ctx ends
// (ctx.Err, true).
func (o *Outbox) await(ctx context.Context, in inflight, timer *time.Timer) (result, bool) {
	until := time.Now().Add(o.patience)
	if d := in.at.Add(o.cfg.AttemptTimeout); d.Before(until) {
		until = d
	}
	armed := false
	defer func() {
		if armed && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}()
	for {
		now := time.Now()
		r, ok, changed := o.outcome(in, now)
		if ok {
			return r, true
		}
		if !now.Before(until) {
			return result{}, false
		}
		if !armed {
			timer.Reset(until.Sub(now))
			armed = true
		}
		select {
		case ack := <-in.f.Ok():
			return result{dup: ack != nil && ack.Duplicate}, true
		case err := <-in.f.Err():
			return result{err: err}, true
		case <-changed:
			// A refusal: of in's subject, or of another's, which the
			// caller's sweep then takes at once, so that subject
			// stops sending (behindRefused) within the refusal's
			// round trip, not patience after it.
			until = time.Time{}
		case <-timer.C:
			armed = false
		case <-ctx.Done():
			return result{err: ctx.Err()}, true
		}
	}
}

// complete takes the results of the outputs sent, each subject's in the
// order sent; a stored head leaves its queue, a refused one stops its
// subject's window for a retry. It waits on the oldest output in flight;
// one whose outcome does not come within patience is kept, with those
// sent after it, in late, where each subject's outcomes are then taken as
// they come (sweep): an output no acknowledgement comes for holds only its
// own subject, until its AttemptTimeout.
func (o *Outbox) complete(ctx context.Context, acks <-chan inflight) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var late []inflight // sent, in the order sent, while one was late
	defer func() {
		// What was sent is no longer waited on; the sender closes acks
		// once ctx ends.
		for _, in := range late {
			if in.f != nil {
				in.f.Done()
			}
		}
		for in := range acks {
			if in.f != nil {
				in.f.Done()
			}
		}
	}()
	var sweep uint64 // the current sweep's number (subject.swept)
	for {
		if len(late) == 0 {
			// The common case: the oldest in flight is taken from acks
			// and, its outcome in within patience, done with.
			var in inflight
			select {
			case <-ctx.Done():
				return
			case x, ok := <-acks:
				if !ok {
					return
				}
				in = x
			}
			r, ok := o.await(ctx, in, timer)
			if ctx.Err() != nil {
				if in.f != nil {
					in.f.Done()
				}
				return
			}
			if ok {
				o.result(in, r)
				continue
			}
			late = append(late, in)
		} else {
			r, ok := o.await(ctx, late[0], timer)
			if ctx.Err() != nil {
				return
			}
			if ok {
				o.result(late[0], r)
				late[0] = inflight{}
				late = late[1:]
				continue
			}
		}
		// The oldest is late: take what was sent since, and the outcomes
		// already in of each subject's oldest in flight.
	more:
		for {
			select {
			case in, ok := <-acks:
				if !ok {
					break more
				}
				late = append(late, in)
			default:
				break more
			}
		}
		sweep++
		now := time.Now()
		kept := late[:0]
		for _, in := range late {
			if in.s.swept != sweep {
				r, ok, _ := o.outcome(in, now)
				if ok {
					o.result(in, r)
					continue
				}
				in.s.swept = sweep // the rest of its subject waits on it
			}
			kept = append(kept, in)
		}
		clear(late[len(kept):])
		late = kept
		if len(late) == 0 {
			late = nil // let the backing array go
		}
	}
}

// result applies in's outcome r: its subject's oldest in flight.
func (o *Outbox) result(in inflight, r result) {
	if in.f != nil {
		in.f.Done()
	}
	dup, err := r.dup, r.err
	o.mu.Lock()
	s := in.s
	s.sent--
	if in.retry {
		s.retrying = false
		o.storedAhead(s)
	}
	var attempt int
	var level zerolog.Level
	var wait time.Duration
	var stored func()
	switch {
	case s.failed && !in.retry:
		// Sent behind the refused head: sent again after its retry.
		switch {
		case err == nil && !dup:
			o.storedAheadLine(in, s)
		case bus.IsRefused(err) && in.f != nil:
			s.behind = append(s.behind, in)
		}
	case err == nil:
		stored = s.queue[0].stored
		s.queue[0] = entry{}
		if s.queue = s.queue[1:]; len(s.queue) == 0 {
			s.queue = nil // let the backing array go
		}
		o.n--
		o.signal()
		if s.failed {
			o.log.Info().Str("msg_id", in.id).Int("attempts", s.attempt+1).Msg("output stored after retries")
		}
		s.failed, s.attempt, s.run = false, 0, bus.FailureRun{}
	default:
		s.failed = true
		s.attempt++
		attempt = s.attempt
		wait, level = o.retryAfter(s, err)
		s.retryAt = time.Now().Add(wait)
	}
	switch {
	case s.sent == 0 && len(s.queue) == 0 && !s.failed:
		if o.subjects[s.name] == s {
			delete(o.subjects, s.name)
		}
	case s.sent == 0 || !s.failed:
		o.markReady(s)
	}
	pending := o.n
	o.mu.Unlock()
	o.wakeSender()
	if stored != nil {
		stored()
	}
	if attempt > 0 {
		o.retries.Inc()
		o.log.WithLevel(level).Err(err).Str("subject", in.s.name).Str("msg_id", in.id).Int("attempt", attempt).Dur("retry_in", wait).Int("pending", pending).
			Msg("output not stored, retrying with the same id")
	}
}

// storedAhead logs each output sent behind s's refused head, told refused
// for the user's permissions, that was stored after all: the refusal it
// was told may have been the head's (a refusal names the subject alone,
// bus.RefusableFuture), the store accepting again between the two, and
// its acknowledgement comes after the refusal. It runs at the head's
// retry's result, a retry pause and a round trip after the head's
// refusal, when such an acknowledgement has come. The caller holds mu.
func (o *Outbox) storedAhead(s *subject) {
	for _, in := range s.behind {
		select {
		case ack := <-in.f.Ok():
			if ack != nil && !ack.Duplicate {
				o.storedAheadLine(in, s)
			}
		default:
		}
	}
	clear(s.behind)
	s.behind = nil
}

// storedAheadLine warns that in, sent behind s's refused head, was stored
// ahead of it: should the process stop before the head is stored, the
// replay resumes after in and never makes the head again.
func (o *Outbox) storedAheadLine(in inflight, s *subject) {
	o.log.Warn().Str("msg_id", in.id).Str("subject", s.name).Msg("output stored ahead of a refused one on its subject")
}

// refusedRetry is the wait after a head's first refusal for the user's
// permissions in a row, doubling at each after (bus.RefusedBackoff), as a
// refused publish's (bus.PublishAll).
const refusedRetry = 250 * time.Millisecond

// retryAfter is the wait before the retry of s's head, which failed its
// s.attempt-th attempt in a row with err, and the level of the failure's
// line. A permissions refusal (bus.IsRefused: nats.conf does not let the
// user publish there) heals only when an operator changes the permission,
// and each attempt is a permissions violation line in the server's log:
// the shared schedule, refusedRetry doubling to bus.RefusedRetryMax,
// counted from the last other failure. Any other failure waits 100 ms more
// at each attempt, up to MaxBackoff. Each is logged at the first and every
// tenth failure of its kind in a row (bus.FailureRun, bus.RefusedLevel):
// counted by attempt, an outage that followed refusals went unsaid until
// the attempt's count reached a tenth. The caller holds mu.
func (o *Outbox) retryAfter(s *subject, err error) (time.Duration, zerolog.Level) {
	wait, n := s.run.Wait(err, refusedRetry, min(time.Duration(s.attempt)*100*time.Millisecond, o.cfg.MaxBackoff))
	return wait, bus.RefusedLevel(n, zerolog.WarnLevel)
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
