package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// Start says where a watch begins in its stream; the zero Start is
// StartNew.
type Start struct {
	kind startKind
	at   time.Time
	seq  uint64
}

type startKind int

const (
	startNew startKind = iota
	startAll
	startTime
	startSeq
)

// StartNew starts a watch after the last message stored now: only new ones.
func StartNew() Start { return Start{kind: startNew} }

// StartAll starts a watch at the first message the stream holds.
func StartAll() Start { return Start{kind: startAll} }

// StartTime starts a watch at the first message stored at or after t
// (stored time, not event time).
func StartTime(t time.Time) Start { return Start{kind: startTime, at: t} }

// StartSeq starts a watch at stream sequence seq.
func StartSeq(seq uint64) Start { return Start{kind: startSeq, seq: seq} }

// WatchSpec describes a read-only watch of one kind's stream.
type WatchSpec struct {
	// Kind selects the stream.
	Kind proto.Kind
	// Filters restrict the subjects (published form; the bus adds the
	// partition token); empty watches the whole stream. Filters must not
	// overlap (the server refuses a consumer whose filters do).
	Filters []string
	// Start is where the watch begins (the zero Start: StartNew).
	Start Start
	// Batch is how many messages one pull asks for (0: 256).
	Batch int
	// LeaveConsumer makes Stop leave the watch's consumer to the server,
	// which removes it once idle (inactive), instead of deleting it: for
	// clients that may not delete consumers, such as the all-in-one's
	// read-only observer, whose delete would be refused and logged.
	LeaveConsumer bool
}

// inactive is how long the server keeps a watch's consumer without a
// client pulling from it (a crashed process's watch goes away by itself).
const inactive = 30 * time.Second

// orderedConfig is the ordered consumer configuration of a watch.
func (b *Bus) orderedConfig(spec WatchSpec) jetstream.OrderedConsumerConfig {
	cc := jetstream.OrderedConsumerConfig{InactiveThreshold: inactive}
	switch spec.Start.kind {
	case startNew:
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	case startAll:
		cc.DeliverPolicy = jetstream.DeliverAllPolicy
	case startTime:
		at := spec.Start.at
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &at
	case startSeq:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, spec.Start.seq
	}
	for _, f := range spec.Filters {
		cc.FilterSubjects = append(cc.FilterSubjects, b.storedFilter(spec.Kind, f))
	}
	return cc
}

func (spec WatchSpec) batch() int {
	if spec.Batch > 0 {
		return spec.Batch
	}
	return 256
}

// Watch reads one stream in stored order through an ordered consumer: an
// ephemeral, unacknowledged consumer the client library recreates at the
// right place if it loses it, so nothing is skipped or repeated. It creates
// nothing durable and acknowledges nothing. It is read by one goroutine.
type Watch struct {
	b       *Bus
	spec    WatchSpec
	stream  string
	cons    jetstream.Consumer
	it      jetstream.MessagesContext
	pending uint64
}

// orderedConsumer creates spec's ordered consumer on stream. A user the
// server may not let read the stream is told at once, the error the
// server's refusal (IsRefused), instead of when the request times out.
func (b *Bus) orderedConsumer(ctx context.Context, stream string, spec WatchSpec) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	cc := b.orderedConfig(spec)
	cc.NamePrefix = watchName() // named here, so its refusal is told from another watch's
	err := b.refusable(ctx, createKey(stream, cc.NamePrefix), func(ctx context.Context) error {
		var err error
		cons, err = b.js.OrderedConsumer(ctx, stream, cc)
		return err
	})
	return cons, err
}

// Watch opens a watch of spec.Kind's stream. Read it with Next, then Stop it.
func (b *Bus) Watch(ctx context.Context, spec WatchSpec) (*Watch, error) {
	stream := proto.StreamName(b.cfg.Prefix, spec.Kind)
	cons, err := b.orderedConsumer(ctx, stream, spec)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", stream, err)
	}
	w := &Watch{b: b, spec: spec, stream: stream, cons: cons}
	if ci := cons.CachedInfo(); ci != nil {
		w.pending = ci.NumPending
	}
	return w, nil
}

// Pending returns how many messages matching the filters the stream held
// past the start when the watch opened: 0 means a Next would wait for a
// new message.
func (w *Watch) Pending() uint64 { return w.pending }

// Next returns the next message, waiting for one until ctx ends (then it
// returns an error wrapping ctx's).
func (w *Watch) Next(ctx context.Context) (Record, error) {
	if w.it == nil {
		it, err := w.cons.Messages(jetstream.PullMaxMessages(w.spec.batch()))
		if err != nil {
			return Record{}, fmt.Errorf("watch %s: %w", w.stream, err)
		}
		w.it = it
	}
	jm, err := w.it.Next(jetstream.NextContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return Record{}, fmt.Errorf("watch %s: %w", w.stream, ctx.Err())
		}
		return Record{}, fmt.Errorf("watch %s: %w", w.stream, err)
	}
	return w.b.watched(jm)
}

// Stop ends the watch and deletes its consumer on the server now, rather
// than when the server would find it idle, so many short reads (history
// replays) do not pile consumers up (unless spec.LeaveConsumer).
func (w *Watch) Stop() {
	if w.it != nil {
		w.it.Stop()
	}
	if ci := w.cons.CachedInfo(); ci != nil && !w.spec.LeaveConsumer {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// A user who may not delete consumers is refused at once, and the
		// server removes the consumer once idle.
		_ = w.b.refusable(ctx, deleteKey(w.stream, ci.Name), func(ctx context.Context) error {
			return w.b.js.DeleteConsumer(ctx, w.stream, ci.Name)
		})
	}
}

// watched builds a Record from a message a watch delivered.
func (b *Bus) watched(jm jetstream.Msg) (Record, error) {
	meta, err := jm.Metadata()
	if err != nil {
		return Record{}, fmt.Errorf("watched message on %s: %w", jm.Subject(), err)
	}
	subject, p := proto.SplitStored(b.cfg.Prefix, jm.Subject())
	return Record{Subject: subject, Partition: p, Stream: meta.Stream, Seq: meta.Sequence.Stream, Stored: meta.Timestamp,
		Header: jm.Headers(), Data: jm.Data(), Pending: meta.NumPending}, nil
}

// Follow watches spec.Kind's stream and hands each message to fn, in
// stored order, from the library's delivery goroutine (fn must not block
// long), until ctx ends or stop is called. A message whose metadata cannot
// be read is skipped. Follow returns once the watch is open.
func (b *Bus) Follow(ctx context.Context, spec WatchSpec, fn func(Record)) (stop func(), err error) {
	stream := proto.StreamName(b.cfg.Prefix, spec.Kind)
	cons, err := b.orderedConsumer(ctx, stream, spec)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", stream, err)
	}
	cc, err := cons.Consume(func(jm jetstream.Msg) {
		r, err := b.watched(jm)
		if err != nil {
			return
		}
		fn(r)
	}, jetstream.PullMaxMessages(spec.batch()))
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", stream, err)
	}
	var once sync.Once
	done := make(chan struct{})
	stop = func() {
		once.Do(func() {
			close(done)
			cc.Stop()
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return stop, nil
}

// watchName is a fresh name prefix for a watch's ordered consumer: 22
// hexadecimal digits, as unlikely to repeat as the client's own.
func watchName() string {
	var b [11]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
