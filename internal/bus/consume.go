package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Msg is a consumed message. Data is only valid during the Handler call:
// a handler that keeps bytes must copy them.
type Msg struct {
	// Subject is the subject the message was published on; a partitioned
	// stream's partition token is stripped into Partition.
	Subject string
	// Partition is the stored subject's partition, -1 when it has none.
	Partition int
	Data      []byte
	Header    nats.Header
	Stream    string
	Seq       uint64
	// Stored is when the stream stored the message (not its event time).
	Stored time.Time
	// Delivered counts deliveries of this message, from 1.
	Delivered uint64

	jm       jetstream.Msg // nil for a message read by a rebuild or a gap's top-up
	filled   bool          // read by a gap's top-up: live, its delivery lost in flight
	before   bool          // read by a rebuild at or below the acknowledgement floor
	acked    func()        // counts an acknowledgement
	held     *heldAcks     // a take-over's rebuild: where a deferred ack waits
	deferred bool
}

// Replayed reports whether the message was read by a rebuild (a take-over,
// or an app returning after its eviction) rather than delivered live: the
// handler has most likely seen it before, so what it counts or warns of
// for it was counted or warned of then. A message whose delivery was lost
// in flight, read from the stream in its place (gap.go), is live.
func (m *Msg) Replayed() bool { return m.jm == nil && !m.filled }

// HandledBefore reports whether the message was read by a rebuild at or
// below its durable's acknowledgement floor (or by an app's returning
// replay): it was handled before, by this member or another, and a
// handler error only skips it, where a message delivered live, or read by
// a rebuild past the floor, is retried and dead-lettered after its last
// delivery. A handler that refuses inputs to bound what it holds, and
// means them to come again, can tell the two apart with it.
func (m *Msg) HandledBefore() bool { return m.before }

// Defer takes the message's acknowledgement from the runtime: a handler
// that returns no outputs and no error leaves the message unacknowledged,
// and the caller calls the returned function once the work the message
// stands for is stored (a stage's outbox, once the message's output is),
// so a crash before that redelivers it. A handler that fails after
// deferring is nakked or dead-lettered as usual. For a message read by a
// rebuild that may not have been handled before, the live delivery that
// follows waits for that function; for another rebuilt message, it does
// nothing.
func (m *Msg) Defer() (ack func()) {
	if m.jm == nil {
		if m.held == nil {
			return func() {}
		}
		return m.held.deferSeq(m.Seq)
	}
	m.deferred = true
	jm, acked := m.jm, m.acked
	return func() {
		if err := jm.Ack(); err != nil {
			return // unacknowledged: redelivered, and the output's id makes it a no-op
		}
		acked()
	}
}

// Handler processes one message and returns the messages to publish in
// response. Returning an error marked Permanent dead-letters the input; any
// other error naks it for redelivery after a delay. Handlers run one at a time
// per consumer, in stream order.
type Handler func(ctx context.Context, m *Msg) ([]Out, error)

// ConsumerSpec describes a durable pull consumer.
type ConsumerSpec struct {
	// Service names the consuming service: the DLQ subject is <prefix>.dlq.<Service>.
	Service string
	// Name is the durable name (unique per stream).
	Name string
	// Kind selects the stream.
	Kind proto.Kind
	// Filters restricts the subjects; empty means the whole stream.
	Filters []string
	// Replay deletes an existing durable of this name first, so delivery
	// starts again from the start of the stream (or StartTime): stateful
	// services rebuild their state this way after a restart. Without Replay an
	// existing durable resumes after its last acknowledged message.
	Replay bool
	// StartTime, when set with a new or replayed consumer, starts delivery at
	// messages stored at or after it.
	StartTime time.Time
	// AckWait is how long a delivered message may stay unacknowledged (default 30s).
	AckWait time.Duration
	// MaxDeliver bounds deliveries of a failing message before it is
	// dead-lettered (default 5). The bus counts them itself: the server's
	// durable delivers without limit (serverMaxDeliver), so a message whose
	// dead letter could not be stored comes back until it is. A delivery
	// past MaxDeliver (the earlier ones never settled: the handler crashed
	// the process or hung past AckWait, or the dead letter failed) is
	// dead-lettered without calling the handler. Every redelivery counts,
	// including a message returned unhandled (kept by a closed Gate as its
	// consumer stopped, a take-over retried, a delivery lost in flight).
	MaxDeliver int
	// NakDelay is the base delay before a failed message is redelivered; it
	// grows linearly with the delivery count (default 500ms).
	NakDelay time.Duration
	// Started, if set, is called once the consumer exists and delivery has begun.
	Started func()
	// Health, if set, is called with the reason when the consumer is found
	// deleted or broken, and with nil once it has been recreated and
	// delivery has resumed. The executor fails /readyz meanwhile.
	Health func(err error)
	// Progress makes the runtime tell the server, every third of AckWait,
	// that a message whose handler is still running is in progress, so a
	// handler slower than AckWait (a driver call) is not redelivered
	// meanwhile. The durable's AckWait is provisioning's, not the
	// service's: this is how a slow handler copes with it.
	Progress bool
	// CheckEvery is how often the consumer's existence is checked besides
	// the errors delivery reports (default 5s).
	CheckEvery time.Duration
	// Gate, when set, holds the consumer back while the service cannot
	// take input: a handler error from Gate.Refuse closes it, and the
	// consumer keeps the refused message and those after it, unhandled and
	// unacknowledged, fetching nothing more, until the service opens it
	// (see Gate). Every input of a service may share one.
	Gate *Gate
	// Group, when set, shares the work with the service's other running
	// copies: see GroupSpec. Replay is then ignored (a group never deletes
	// its durables; GroupSpec.Rebuild replays history instead).
	Group *GroupSpec

	// Set by the group runtime on one partition's consumer: the durable
	// pins one member at a time, and onPinned runs once, on the first
	// delivery (when the server has made this member the partition's only
	// reader), before anything is handled; messages up to the sequence it
	// returns (handled by the partition's rebuild) are then acknowledged
	// without handling, each once held lets it go.
	pinned   bool
	onPinned func(ctx context.Context) (uint64, error)
	// onRepinned, when set, runs before the first message delivered under
	// a pin other than the last message's (GroupSpec.Repinned).
	onRepinned func()
	held       *heldAcks
	// Set on a take-over's first rebuild of several inputs: the gate that
	// merges their messages by stored time, and this input's place in it.
	merge      *mergeGate
	mergeInput int
	// Set on the spec a gap's top-up reads with: its messages after the
	// durable's acknowledgement floor are live.
	gapFill bool
	// Set on the spec of a rebuild run in a consumer's delivery callback
	// (a gap's top-up, a take-over's on its first delivery): a refusal
	// through the service's gate is returned, for the consumer to pause,
	// not waited for there.
	inCallback bool
	// Set on a partition's consumer whose group rebuilds its state
	// (GroupSpec.Rebuild): a gap's top-up hands it the messages another
	// member handled meanwhile, as replays, where others skip them.
	rebuilds bool
}

func (s *ConsumerSpec) defaults() {
	if s.AckWait == 0 {
		s.AckWait = 30 * time.Second
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = 5
	}
	if s.NakDelay == 0 {
		s.NakDelay = 500 * time.Millisecond
	}
	if s.CheckEvery == 0 {
		s.CheckEvery = 5 * time.Second
	}
}

// Decode decodes a consumed message of kind k into v and checks that its
// subject names v's app and tier. Both failures are permanent: the message
// goes to the dead-letter queue.
func (b *Bus) Decode(m *Msg, k proto.Kind, v proto.Keyed) error {
	return Permanent(proto.DecodeOn(b.cfg.Prefix, k, m.Subject, m.Data, v))
}

// pinIDHeader carries, on every message a pinned durable delivers, the id
// of the pin it was delivered under: the server draws a new one each time
// it pins the durable.
const pinIDHeader = "Nats-Pin-Id"

// deliveredPin returns the pin id the server delivered a message under,
// and whether the message also carries Nats-Pin-Id values of its
// publisher's. JetStream stores a publisher's headers as they come,
// Nats-Pin-Id included (nats-server 2.15 neither rejects nor strips it),
// and on delivery to a pinned durable appends its own value after them:
// the server's is the last one, and Header.Get, which returns the first,
// returns a forged one. (A group's member cannot read a durable without a
// pinned priority policy at all: nats.go refuses its priority group.)
func deliveredPin(h nats.Header) (pin string, forged bool) {
	vals := h.Values(pinIDHeader)
	if len(vals) == 0 {
		return "", false
	}
	return vals[len(vals)-1], len(vals) > 1
}

// lostDelivery, set by tests (LoseDelivery, HandleElsewhere), says a
// delivery never reaches the handler: lost in flight, as one is when a
// node dies with it in its outbound buffer, or handled by another reader
// of the durable. The runtime then drops it unhandled and unacknowledged.
var lostDelivery atomic.Pointer[func(consumer string, jm jetstream.Msg, seq, delivered uint64) bool]

type pending struct {
	msg     jetstream.Msg
	futures []jetstream.PubAckFuture
	err     error // set when publishing could not even start
}

// Consume runs a durable pull consumer until ctx ends, then drains it: no new
// messages are fetched, those in flight finish, and their acknowledgements are
// sent before it returns. A consumer deleted or broken meanwhile (by an
// operator, or a server that lost it) is recreated, resuming after the last
// message this process handled, and reported through spec.Health.
func (b *Bus) Consume(ctx context.Context, spec ConsumerSpec, h Handler) error {
	spec.defaults()
	if err := proto.CheckToken("service", spec.Service); err != nil {
		return err
	}
	if spec.Group != nil {
		return b.consumeGroup(ctx, spec.Service, *spec.Group, spec.Started, []GroupInput{{Spec: spec, Handler: h}})
	}
	stream := proto.StreamName(b.cfg.Prefix, spec.Kind)
	if spec.Replay {
		err := b.js.DeleteConsumer(ctx, stream, spec.Name)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("reset consumer %s/%s: %w", stream, spec.Name, err)
		}
	}
	log := b.log.With().Str("consumer", spec.Name).Str("stream", stream).Logger()
	cons, err := b.openConsumer(ctx, stream, spec)
	if err != nil {
		return fmt.Errorf("consumer %s/%s: %w", stream, spec.Name, err)
	}
	b.exportLag(ctx, spec.Kind, spec.Name)           // lag gauges on /metrics (lag.go)
	b.metrics.deadLetters.WithLabelValues(spec.Name) // at 0 until the first: see newMetrics
	b.metrics.forgedPins.WithLabelValues(spec.Name)  // likewise

	b.metrics.deadLettersUnstored.WithLabelValues(spec.Name) // likewise (HeadroomDeadLettersUnstored)
	var keeper *pinKeeper
	stopKeeper := func() {}
	if spec.pinned {
		// Renews the pin while the handler works through the client's
		// buffer, a drain's included: it stops once the drain is over or
		// given up (a handler call that never returns keeps Consume from
		// returning, but not its pin from lapsing), and before Consume
		// returns.
		keeper = newPinKeeper(b.nc, b.apiSubject("CONSUMER.MSG.NEXT."+stream+"."+spec.Name), log)
		kctx, cancelKeeper := context.WithCancel(context.Background())
		keeperDone := make(chan struct{})
		go func() {
			defer close(keeperDone)
			keeper.run(kctx, pinnedTTL)
		}()
		stopKeeper = sync.OnceFunc(func() {
			cancelKeeper()
			<-keeperDone
		})
		defer stopKeeper()
	}

	// Acks wait on the outputs' publish acks; a tracker does this in order so
	// the handler never blocks on a round trip. The channel's capacity bounds
	// the work in flight.
	var firstRetry atomic.Uint64 // lowest sequence nakked for redelivery, 0: none
	retried := func(seq uint64) {
		// A recreated consumer must deliver this one again.
		if n := firstRetry.Load(); n == 0 || seq < n {
			firstRetry.Store(seq)
		}
	}
	track := make(chan pending, 1024)
	trackDone := make(chan struct{})
	go func() {
		defer close(trackDone)
		for p := range track {
			b.settle(ctx, spec, p, retried)
		}
	}()
	// A delivery callback can still run after Consume decided to return (a
	// drain that timed out, a connection closed under it): it then leaves
	// its message unacknowledged, for redelivery, instead of sending on the
	// closed channel.
	var trackMu sync.RWMutex
	trackClosed := false
	defer func() {
		trackMu.Lock()
		trackClosed = true
		close(track)
		trackMu.Unlock()
		<-trackDone
	}()

	handleTime := b.metrics.handleTime.WithLabelValues(spec.Name)
	acked := b.metrics.handled.WithLabelValues(spec.Name, "ack")
	var lastSeq atomic.Uint64 // stream sequence of the last message handled
	lost := make(chan error, 1)
	signalLost := func(err error) {
		select {
		case lost <- err:
		default:
		}
	}
	// Written and read only by onMsg, which runs one call at a time:
	// callMu makes it so across a consumer recreated, whose new
	// subscription delivers while the old one's callback may still run
	// (stopping a consume does not wait for it), a long top-up of a gap
	// or a slow handler.
	var callMu sync.Mutex
	var pinnedDone bool
	var skipThrough uint64
	var pin string  // the pin id of the last delivery, "" until the first
	forgedSeen := 0 // deliveries with a publisher's Nats-Pin-Id in this run
	gaps := newGapTracker(spec)
	held := spec.held // where a topped-up message's deferred ack waits
	if held == nil {
		held = newHeldAcks(acked.Inc)
	}
	b.metrics.deliveryGaps.WithLabelValues(stream) // at 0 until the first, as deadLetters
	b.metrics.gapFilled.WithLabelValues(stream)
	// parked holds, in delivery order, the messages kept unhandled while
	// spec.Gate is closed; callMu guards it. park signals paused, on which
	// the loop below stops fetching (see pause).
	var parked []jetstream.Msg
	paused := make(chan struct{}, 1)
	park := func(jm jetstream.Msg) {
		parked = append(parked, jm)
		select {
		case paused <- struct{}{}:
		default:
		}
	}
	var admit, handle func(jm jetstream.Msg, meta *jetstream.MsgMetadata)
	onMsg := func(jm jetstream.Msg) {
		trackMu.RLock()
		defer trackMu.RUnlock()
		if trackClosed {
			return
		}
		if keeper != nil {
			defer keeper.handling()()
		}
		callMu.Lock()
		defer callMu.Unlock()
		meta, err := jm.Metadata()
		if err != nil {
			log.Error().Err(err).Msg("message without metadata")
			_ = jm.Term()
			return
		}
		if lost := lostDelivery.Load(); lost != nil && (*lost)(spec.Name, jm, meta.Sequence.Stream, meta.NumDelivered) {
			return // a test's delivery lost in flight: never handled, never acknowledged
		}
		gaps.delivered(meta.Sequence.Consumer, time.Now())
		id, forged := deliveredPin(jm.Headers())
		if !spec.pinned && id != "" {
			forged, id = true, "" // the server pins no durable outside a group
		}
		if forged {
			// The client took the publisher's value for its pin id
			// (nats.go reads the first). On a pinned durable its next
			// pull is refused and the ones after carry none, which the
			// server serves only once the pin has lapsed: unpinning now
			// pins the next pull afresh instead (Repinned, before the
			// first message delivered under the new pin). Not in a
			// drain: a partition handed over waits for no pin to be
			// held, and its drain unpins once it is over. On a durable
			// outside a group, which the server does not pin, the next
			// pull is a bad request: the consume is reopened (see
			// errHandler).
			// Warned of once per consumer run: each further one is
			// counted (headroom_bus_forged_pin_headers_total, which
			// HeadroomForgedPinHeaders alerts on) and logged at debug,
			// so a publisher forging every message cannot flood the log.
			ev := log.Debug()
			if forgedSeen++; forgedSeen == 1 {
				ev = log.Warn()
			}
			b.metrics.forgedPins.WithLabelValues(spec.Name).Inc()
			ev.Uint64("seq", meta.Sequence.Stream).Str("subject", jm.Subject()).
				Msg("message published with a Nats-Pin-Id header, which only the server may set")
			if spec.pinned && ctx.Err() == nil {
				b.unpinForged(ctx, stream, spec.Name, log)
			}
		}
		if spec.pinned && id != "" {
			if pin != "" && id != pin {
				// Pinned afresh: another member may have read the
				// durable since the last delivery (GroupSpec.Repinned).
				log.Info().Uint64("seq", meta.Sequence.Stream).Uint64("consumer_seq", meta.Sequence.Consumer).
					Msg("pinned afresh: the durable may have been read by another member meanwhile")
				if spec.onRepinned != nil {
					spec.onRepinned()
				}
			}
			pin = id
			keeper.delivered(id)
		}
		if spec.Gate != nil && (len(parked) > 0 || spec.Gate.Paused() != "") {
			park(jm) // behind what waits already, so order holds
			return
		}
		admit(jm, meta)
	}
	// admit takes a delivered message: the partition's take-over is
	// topped up on the first, one handled already is acknowledged, any
	// other handed to the handler (handle); callMu is held.
	admit = func(jm jetstream.Msg, meta *jetstream.MsgMetadata) {
		if spec.onPinned != nil && !pinnedDone {
			through, err := spec.onPinned(ctx)
			if err != nil && spec.Gate != nil && IsBackpressure(err) {
				// The gate closed on the top-up: taken over, this
				// first, once it opens.
				park(jm)
				return
			}
			if err != nil {
				ev := log.Error()
				if ctx.Err() != nil { // stopping or handing over: expected, not an error
					ev = log.Debug()
				}
				ev.Err(err).Msg("cannot take the partition over yet, will retry")
				_ = jm.NakWithDelay(spec.NakDelay)
				return
			}
			pinnedDone, skipThrough = true, through
		}
		if meta.Sequence.Stream <= skipThrough || gaps.wasFilled(meta.Sequence.Stream) {
			// Handled by the partition's rebuild already, or by a gap's
			// top-up (this is the lost delivery's late redelivery).
			if meta.Sequence.Stream > skipThrough {
				log.Info().Uint64("seq", meta.Sequence.Stream).Uint64("consumer_seq", meta.Sequence.Consumer).
					Uint64("delivered", meta.NumDelivered).Msg("late redelivery of a message topped up: acknowledged without handling")
			}
			lastSeq.Store(max(lastSeq.Load(), meta.Sequence.Stream))
			if held.hold(meta.Sequence.Stream, jm) {
				return // acknowledged once the handler's work on it is stored
			}
			track <- pending{msg: jm}
			return
		}
		handle(jm, meta)
	}
	// handle hands a delivered message to the handler, after the
	// deliveries lost in flight before it, and settles it; callMu is held.
	handle = func(jm jetstream.Msg, meta *jetstream.MsgMetadata) {
		if gaps.lost {
			// Deliveries lost in flight before this one: their messages
			// first, this one kept in progress meanwhile (the top-up may
			// retry, its handlers may be slow ones).
			ps := spec
			ps.Progress = true
			stopProgress := keepInProgress(jm, ps)
			// From after what this member handled: live, or by the
			// take-over's rebuild (its live deliveries, skipped, may be
			// the ones lost).
			through, refused := b.topUpGap(ctx, spec, gaps, held, max(lastSeq.Load(), skipThrough), meta.Sequence.Stream, h, log)
			stopProgress()
			lastSeq.Store(max(lastSeq.Load(), through))
			if refused {
				// The gate closed on the top-up: this one is kept with
				// the rest of the gap, topped up first when it opens.
				park(jm)
				return
			}
		}
		if meta.NumDelivered > uint64(spec.MaxDeliver) {
			// Its deliveries up to MaxDeliver never settled: the
			// handler crashed the process or hung past AckWait at each,
			// or its dead letter could not be stored. The server
			// delivers without limit (serverMaxDeliver), so it is
			// dead-lettered now, unhandled: a message that crashes the
			// process at every delivery would otherwise crash it
			// forever.
			lastSeq.Store(max(lastSeq.Load(), meta.Sequence.Stream))
			track <- pending{msg: jm, err: fmt.Errorf("%w (delivered %d times)", errNeverSettled, meta.NumDelivered)}
			return
		}
		subject, part := proto.SplitStored(b.cfg.Prefix, jm.Subject())
		m := &Msg{Subject: subject, Partition: part, Data: jm.Data(), Header: jm.Headers(), Stream: meta.Stream,
			Seq: meta.Sequence.Stream, Stored: meta.Timestamp, Delivered: meta.NumDelivered, jm: jm, acked: acked.Inc}
		start := time.Now()
		stopProgress := keepInProgress(jm, spec)
		outs, herr := h(ctx, m)
		stopProgress()
		handleTime.Observe(time.Since(start).Seconds())
		if herr != nil && spec.Gate != nil && IsBackpressure(herr) {
			// Refused until the service can take input (Gate): kept,
			// unhandled, for when it can, with whatever comes after it.
			park(jm)
			return
		}
		lastSeq.Store(max(lastSeq.Load(), meta.Sequence.Stream))
		if herr != nil {
			track <- pending{msg: jm, err: herr}
			return
		}
		if len(outs) == 0 && m.deferred {
			return // the handler acknowledges it once its work is stored
		}
		if len(outs) == 0 {
			// Nothing to wait for: acknowledge at once, without a hop
			// through the tracker.
			if aerr := jm.Ack(); aerr != nil {
				b.withMsg(log.Warn().Err(aerr), subjectOf(b.cfg.Prefix, jm), jm.Headers().Get(jetstream.MsgIDHeader)).Msg("ack failed")
			}
			acked.Inc()
			return
		}
		p := pending{msg: jm}
		for _, o := range outs {
			f, err := b.PublishAsync(o)
			if err != nil {
				p.err = err
				break
			}
			p.futures = append(p.futures, f)
		}
		track <- p
	}
	errHandler := jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		switch {
		case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound):
			signalLost(err)
		case errors.Is(err, jetstream.ErrBadRequest):
			// The client stops consuming after a refused pull request:
			// reopened below. One cause is a publisher's Nats-Pin-Id on a
			// durable the server does not pin (see deliveredPin).
			signalLost(err)
		case errors.Is(err, jetstream.ErrNoHeartbeat), errors.Is(err, nats.ErrConnectionClosed):
			log.Warn().Err(err).Msg("consume interrupted")
		default:
			log.Debug().Err(err).Msg("consume")
		}
	})

	// returnParked gives the messages kept while the gate was closed back
	// to the server at once, in order, for the consumer's next reader:
	// this one stops.
	returnParked := func() {
		callMu.Lock()
		defer callMu.Unlock()
		for _, jm := range parked {
			_ = jm.Nak()
		}
		parked = nil
	}
	// unpark hands the handler what was kept while the gate was closed, in
	// order, and reports whether all of it was taken; a handler that
	// closes the gate again has the rest kept again.
	unpark := func() bool {
		trackMu.RLock()
		defer trackMu.RUnlock()
		if keeper != nil {
			defer keeper.handling()()
		}
		callMu.Lock()
		defer callMu.Unlock()
		todo := parked
		parked = nil
		for _, jm := range todo {
			meta, err := jm.Metadata()
			if err != nil || len(parked) > 0 || spec.Gate.Paused() != "" {
				parked = append(parked, jm)
				continue
			}
			admit(jm, meta)
		}
		select {
		case <-paused: // what handle parked, kept here
		default:
		}
		return len(parked) == 0
	}
	// pause waits, fetching nothing, for the gate to open and the handler
	// to take what was kept meanwhile, telling the server every third of
	// the durable's AckWait that it is in progress; a pinned consumer
	// keeps its pin (pinKeeper). It returns false once ctx ends, with
	// what was kept given back.
	pause := func(cons jetstream.Consumer) bool {
		if keeper != nil {
			defer keeper.handling()()
		}
		ackWait := spec.AckWait
		if info := cons.CachedInfo(); info != nil && info.Config.AckWait > 0 {
			ackWait = info.Config.AckWait
		}
		log.Debug().Str("reason", spec.Gate.Paused()).Msg("consumer paused")
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				stopKeeper()
				returnParked()
				return false
			case <-t.C:
				callMu.Lock()
				for _, jm := range parked {
					_ = jm.InProgress()
				}
				callMu.Unlock()
			case <-spec.Gate.openCh():
				if unpark() {
					log.Debug().Msg("consumer resumed")
					return true
				}
			}
		}
	}

	started := false
	for {
		opts := []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(512), errHandler}
		if spec.pinned {
			opts = append(opts, jetstream.PullPriorityGroup(pinGroup), jetstream.PullExpiry(pullExpiry))
		}
		consCtx, err := cons.Consume(onMsg, opts...)
		if err != nil {
			return fmt.Errorf("consume %s/%s: %w", stream, spec.Name, err)
		}
		if !started {
			started = true
			if spec.Started != nil {
				spec.Started()
			}
		} else if spec.Health != nil {
			spec.Health(nil)
		}
		reason := b.watchConsumer(ctx, cons, spec.CheckEvery, lost, paused)
		if reason == nil { // ctx ended
			// Stop order: stop fetching and let buffered messages finish,
			// then settle every pending ack before returning.
			drain(consCtx, log)
			stopKeeper()
			if spec.Gate != nil {
				// After the keeper: a handler call that never returns
				// holds callMu, and the pin must lapse all the same.
				returnParked()
			}
			return nil
		}
		if errors.Is(reason, errPaused) {
			// The gate closed: stop fetching; what the client holds
			// comes to onMsg, which keeps it behind what is kept.
			// Deliveries lost in flight meanwhile (sent as the
			// subscription went) are topped up after the pause, as any.
			drain(consCtx, log)
			if !pause(cons) {
				stopKeeper()
				return nil
			}
			continue
		}
		consCtx.Stop()
		if errors.Is(reason, jetstream.ErrBadRequest) {
			// The durable and its position are intact: only the client
			// gave up. A new handle of it starts with no pin id.
			log.Warn().Err(reason).Msg("pull request refused, consuming again")
			c, err := b.reopenConsumer(ctx, stream, spec.Name, log)
			if err == nil {
				cons = c
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			reason = err // deleted meanwhile: recreated below
		}
		after := lastSeq.Load()
		if n := firstRetry.Swap(0); n > 0 {
			after = min(after, n-1)
		}
		log.Error().Err(reason).Uint64("resume_after_seq", after).Msg("consumer lost, recreating it")
		if spec.Health != nil {
			spec.Health(fmt.Errorf("consumer %s/%s lost: %w", stream, spec.Name, reason))
		}
		if cons, err = b.recreateConsumer(ctx, stream, spec, after, log); err != nil {
			return nil // ctx ended while retrying
		}
	}
}

// errNeverSettled is why a message delivered more than its spec's
// MaxDeliver times is dead-lettered without being handled again.
var errNeverSettled = errors.New("not handled again: its earlier deliveries never settled (the handler crashed the process or hung past AckWait, or the dead letter was not stored)")

// serverMaxDeliver is the durables' MaxDeliver on the server: unlimited.
// The bus gives a failing message up itself, at its spec's MaxDeliver
// (settle), by dead-lettering it; when the dead letter cannot be stored
// (the DLQ stream unavailable, the subject refused, a timeout) the message
// is nakked, and it must come back, to this consumer or to whichever reads
// the durable after a stop or a hand-over, until its dead letter is
// stored. A server limit of the bus's own would give it up at that nak,
// with no dead letter: only the server's max-deliveries advisory.
const serverMaxDeliver = -1

// consumerConfig is the durable's configuration; after > 0 starts delivery at
// the stream sequence after it (a recreated consumer resumes there).
func consumerConfig(spec ConsumerSpec, after uint64) jetstream.ConsumerConfig {
	cc := jetstream.ConsumerConfig{
		Durable:       spec.Name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       spec.AckWait,
		MaxDeliver:    serverMaxDeliver,
		MaxAckPending: 8192,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	switch {
	case after > 0:
		cc.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cc.OptStartSeq = after + 1
	case !spec.StartTime.IsZero():
		cc.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		st := spec.StartTime
		cc.OptStartTime = &st
	}
	if spec.pinned {
		cc.PriorityPolicy = jetstream.PriorityPolicyPinned
		cc.PriorityGroups = []string{pinGroup}
		cc.PinnedTTL = pinnedTTL
	}
	switch len(spec.Filters) {
	case 0:
	case 1:
		cc.FilterSubject = spec.Filters[0]
	default:
		cc.FilterSubjects = spec.Filters
	}
	return cc
}

// openConsumer creates the durable, or updates it to spec. A group's
// partition durable that exists already is used as it is: its position is
// shared by the members, and a new start position could not be applied.
// Under deploy/nats.conf only provisioning creates the partition durables
// (EnsureConsumers), so a missing one is an error that says so.
func (b *Bus) openConsumer(ctx context.Context, stream string, spec ConsumerSpec) (jetstream.Consumer, error) {
	if spec.pinned {
		cons, _, err := b.durable(ctx, stream, spec)
		if errors.Is(err, errNotCreated) {
			return nil, b.notProvisioned(err)
		}
		return cons, err
	}
	cons, err := b.createDurable(ctx, stream, consumerConfig(spec, 0), true)
	if IsRefused(err) {
		return nil, singleRefused(err)
	}
	return cons, err
}

// createDurable creates stream's durable cc.Durable, or with update
// updates it to cc. The server never answers a create this user may not
// make: its refusal, which comes to the connection's error handler, ends
// the wait as it arrives and is the error (IsRefused), reported by the
// caller, instead of the request timing out (apiTimeout) unexplained.
func (b *Bus) createDurable(ctx context.Context, stream string, cc jetstream.ConsumerConfig, update bool) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	err := b.refusable(ctx, createKey(stream, cc.Durable), func(ctx context.Context) error {
		var err error
		if update {
			cons, err = b.js.CreateOrUpdateConsumer(ctx, stream, cc)
		} else {
			cons, err = b.js.CreateConsumer(ctx, stream, cc)
		}
		return err
	})
	return cons, err
}

// notProvisioned explains a durable this identity could not create: with
// the server's refusal, or else its last error (a permissions violation
// names the refused API call), and what to run.
func (b *Bus) notProvisioned(err error) error {
	if IsRefused(err) {
		return fmt.Errorf("durable missing, and this identity may not create it (%w): run `headroom provision` as the provisioning user", err)
	}
	return fmt.Errorf("durable missing, and this identity could not create it (%w; the server last reported: %v): run `headroom provision` as the provisioning user",
		err, b.LastError())
}

// singleRefused explains the server's refusal (err, IsRefused) of a
// single (non-group) durable's creation or update to this identity, as
// notProvisioned does a group's partition durable's: provisioning makes
// only the services' group durables, so running it would not help.
func singleRefused(err error) error {
	return fmt.Errorf("this identity may not create or update the durable (%w): `headroom provision` makes only the services' group durables, "+
		"so consume as a group (ConsumerSpec.Group), or let this user create the durable in nats.conf", err)
}

// keepInProgress, for a spec with Progress, tells the server every third of
// AckWait that jm is still being handled, until the returned stop is called.
func keepInProgress(jm jetstream.Msg, spec ConsumerSpec) (stop func()) {
	if !spec.Progress {
		return func() {}
	}
	every := spec.AckWait / 3
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = jm.InProgress() // a lost one only risks a redelivery, which ids dedupe
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

// errPaused is watchConsumer's answer when a message was kept because the
// consumer's gate closed.
var errPaused = errors.New("input paused")

// watchConsumer returns nil when ctx ends, errPaused when a message was kept
// for the gate, or why the consumer is gone: a deletion reported by
// delivery, or an existence check failing.
func (b *Bus) watchConsumer(ctx context.Context, cons jetstream.Consumer, every time.Duration, lost <-chan error, paused <-chan struct{}) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-lost:
			return err
		case <-paused:
			return errPaused
		case <-tick.C:
			if !b.nc.IsConnected() {
				continue // reconnecting: the client resumes delivery itself
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := cons.Info(cctx)
			cancel()
			if errors.Is(err, jetstream.ErrConsumerNotFound) {
				return err
			}
		}
	}
}

// reopenConsumer returns a new handle of the durable, whose client state
// (the pin id nats.go keeps) starts afresh. It waits a second first, so a
// pull request refused at every attempt costs one request a second, and
// retries until it succeeds, the durable is found deleted
// (jetstream.ErrConsumerNotFound) or ctx ends.
func (b *Bus) reopenConsumer(ctx context.Context, stream, name string, log zerolog.Logger) (jetstream.Consumer, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		cons, err := b.js.Consumer(ctx, stream, name)
		if err == nil || errors.Is(err, jetstream.ErrConsumerNotFound) {
			return cons, err
		}
		log.Error().Err(err).Msg("cannot reopen consumer")
	}
}

// recreateConsumer creates the durable again, resuming after seq, retrying
// with backoff until it succeeds or ctx ends. An attempt the server
// refuses for this user's permissions ends as the refusal arrives, and
// the next waits the longest backoff, recreateEvery: a refusal does not
// heal by itself, only by provisioning (or nats.conf) changing, so its
// line, which says what to do (notProvisioned, singleRefused), is logged
// at error level at the first refusal in a row and every tenth after, at
// debug level between (RefusedLevel); another failure at each attempt. A durable made
// again meanwhile is then used as it is: by provisioning, or, a group's
// partition durable, by another member, whose create came first (each
// member resumes after what it handled, and the server will not move the
// made durable's start to this one's).
func (b *Bus) recreateConsumer(ctx context.Context, stream string, spec ConsumerSpec, seq uint64, log zerolog.Logger) (jetstream.Consumer, error) {
	var streak RefusalStreak
	for attempt := 1; ; attempt++ {
		cons, err := b.createDurable(ctx, stream, consumerConfig(spec, seq), true)
		if err == nil {
			log.Warn().Uint64("resume_at_seq", seq+1).Msg("consumer recreated")
			return cons, nil
		}
		wait := min(time.Duration(attempt)*time.Second, recreateEvery)
		if IsRefused(err) || spec.pinned {
			// Its position is then the one to resume at (a group's,
			// shared).
			if cons, lerr := b.js.Consumer(ctx, stream, spec.Name); lerr == nil {
				log.Warn().AnErr("create_error", err).Msg("consumer made again meanwhile, resuming on it")
				return cons, nil
			}
		}
		if IsRefused(err) {
			wait = recreateEvery
		}
		var explained error
		switch {
		case spec.pinned:
			explained = b.notProvisioned(err)
		case IsRefused(err): // provisioning makes no single durable
			explained = singleRefused(err)
		default:
			explained = fmt.Errorf("durable missing: %w", err)
		}
		log.WithLevel(RefusedLevel(streak.Add(err), zerolog.ErrorLevel)).Err(explained).Int("attempt", attempt).Dur("retry_in", wait).
			Msg("cannot recreate consumer")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// recreateEvery is the longest wait between two attempts to recreate a
// lost durable, and the wait after one the server refused (a variable for
// the tests).
var recreateEvery = 10 * time.Second

// drain stops fetching and waits for the messages already buffered.
func drain(consCtx jetstream.ConsumeContext, log zerolog.Logger) {
	consCtx.Drain()
	select {
	case <-consCtx.Closed():
	case <-time.After(10 * time.Second):
		log.Warn().Msg("consumer did not drain in 10s")
		consCtx.Stop()
	}
}

// settle acks, naks or dead-letters one message once its outputs are stored.
func (b *Bus) settle(ctx context.Context, spec ConsumerSpec, p pending, retried func(seq uint64)) {
	err := p.err
	if err == nil {
		for _, f := range p.futures {
			select {
			case <-f.Ok():
			case e := <-f.Err():
				err = fmt.Errorf("publish output: %w", e)
			case <-time.After(30 * time.Second):
				err = errors.New("publish output: no acknowledgement in 30s")
			}
			if err != nil {
				break
			}
		}
	}
	meta, _ := p.msg.Metadata()
	outcome := "ack"
	switch {
	case err == nil:
		if aerr := p.msg.Ack(); aerr != nil {
			b.withMsg(b.log.Warn().Err(aerr), subjectOf(b.cfg.Prefix, p.msg), p.msg.Headers().Get(jetstream.MsgIDHeader)).Msg("ack failed")
		}
	case IsPermanent(err):
		outcome = b.deadLetter(spec, p.msg, 1, err)
	default:
		delivered := uint64(1)
		if meta != nil {
			delivered = meta.NumDelivered
		}
		if delivered >= uint64(spec.MaxDeliver) {
			outcome = b.deadLetter(spec, p.msg, uint64(spec.MaxDeliver), fmt.Errorf("gave up after %d deliveries: %w", delivered, err))
			break
		}
		outcome = "nak"
		b.withMsg(b.retryLog.WithLevel(retryLevel(err)).Err(err), subjectOf(b.cfg.Prefix, p.msg), p.msg.Headers().Get(jetstream.MsgIDHeader)).Uint64("delivered", delivered).Msg("handler failed, will retry")
		_ = p.msg.NakWithDelay(retryDelay(err, spec.NakDelay*time.Duration(delivered)))
	}
	if outcome == "nak" && meta != nil {
		// A recreated consumer resumes at or before it.
		retried(meta.Sequence.Stream)
	}
	b.metrics.handled.WithLabelValues(spec.Name, outcome).Inc()
}

// deadLetter publishes the message with its reason to the service's DLQ
// subject and terminates it. If the dead letter cannot be stored the message
// is nakked instead, so it is never lost: the server redelivers it without
// limit (serverMaxDeliver), and each delivery from first on that fails again
// tries the dead letter again, the nak's delay doubling from NakDelay to
// RefusedRetryMax with the attempts in a row, a line logged at each step
// the delay grows and every refusedLogEvery-th attempt past them
// (deadLetterLevel).
func (b *Bus) deadLetter(spec ConsumerSpec, jm jetstream.Msg, first uint64, reason error) string {
	meta, _ := jm.Metadata()
	var seq uint64
	var stream string
	delivered := first
	ts := time.Now()
	if meta != nil {
		seq, stream, ts, delivered = meta.Sequence.Stream, meta.Stream, meta.Timestamp, max(meta.NumDelivered, first)
	}
	subject, msgID := subjectOf(b.cfg.Prefix, jm), jm.Headers().Get(jetstream.MsgIDHeader)
	err := b.storeDeadLetter(spec, subject, msgID, stream, seq, ts, jm.Data(), reason)
	if err == nil {
		_ = jm.Term()
		return "dlq"
	}
	attempt := int(min(delivered-first+1, 1<<20))
	wait := RefusedBackoff(spec.NakDelay, attempt)
	ev := b.log.WithLevel(deadLetterLevel(spec.NakDelay, attempt))
	// With its reason: past MaxDeliver the next delivery is dead-lettered
	// unhandled, with errNeverSettled for a reason instead.
	b.withMsg(ev.Err(err), subject, msgID).Str("reason", reason.Error()).Uint64("seq", seq).Uint64("delivered", delivered).Int("attempt", attempt).
		Dur("retry_in", wait).Msg("dead letter not stored, will retry")
	_ = jm.NakWithDelay(wait)
	return "nak"
}

// deadLetterLevel is the level of the line of the attempt-th failed dead
// letter in a row (from 1), its nak delayed RefusedBackoff(base, attempt):
// an error where RefusedLevel logs a refusal (the first attempt and every
// refusedLogEvery-th) and at each step the delay grows, debug otherwise.
func deadLetterLevel(base time.Duration, attempt int) zerolog.Level {
	if RefusedBackoff(base, attempt) != RefusedBackoff(base, attempt-1) {
		return zerolog.ErrorLevel
	}
	return RefusedLevel(attempt, zerolog.ErrorLevel)
}

// storeDeadLetter publishes a message that cannot be handled, with the
// reason, to the service's DLQ subject; its id makes a repeat a no-op. A
// failure is counted (headroom_bus_dead_letters_unstored_total) and
// returned: the caller keeps the message to try again.
func (b *Bus) storeDeadLetter(spec ConsumerSpec, subject, msgID, stream string, seq uint64, stored time.Time, data []byte, reason error) error {
	dl := &proto.DeadLetter{V: proto.SchemaVersion, ID: proto.DeadLetterID(spec.Service, stream, seq), TS: proto.Millis(stored),
		Service: spec.Service, Subject: subject, Stream: stream, Seq: seq, Error: reason.Error(), Payload: data}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Publish(ctx, Out{Subject: proto.DLQSubject(b.cfg.Prefix, spec.Service), Msg: dl}); err != nil {
		b.metrics.deadLettersUnstored.WithLabelValues(spec.Name).Inc()
		return fmt.Errorf("store dead letter of %s seq %d: %w", stream, seq, err)
	}
	b.metrics.deadLetters.WithLabelValues(spec.Name).Inc()
	b.withMsg(b.deadLetterLog.Warn().Str("reason", reason.Error()), subject, msgID).Uint64("seq", seq).Msg("sent to dlq")
	return nil
}

// withMsg adds a message's subject, the app and tier it names (when it
// names them) and its id (when set) to a log event, so a retry or dead
// letter line says which tier and message it is about.
func (b *Bus) withMsg(ev *zerolog.Event, subject, msgID string) *zerolog.Event {
	ev = ev.Str("subject", subject)
	if _, app, tier, err := proto.ParseSubject(b.cfg.Prefix, subject); err == nil {
		ev = ev.Str("app", app).Str("tier", tier)
	}
	if msgID != "" {
		ev = ev.Str("msg_id", msgID)
	}
	return ev
}

// LogRecord adds what identifies r to ev: its subject, app, tier, msg_id
// and stream sequence, as the runtime's own lines about a message carry
// them.
func (b *Bus) LogRecord(ev *zerolog.Event, r Record) *zerolog.Event {
	return b.withMsg(ev, r.Subject, nats.Header(r.Header).Get(jetstream.MsgIDHeader)).Uint64("seq", r.Seq)
}

// subjectOf is the subject jm was published on, without its stored partition.
func subjectOf(prefix string, jm jetstream.Msg) string {
	s, _ := proto.SplitStored(prefix, jm.Subject())
	return s
}

// unpinForged unpins a pinned durable after a delivery whose publisher set
// Nats-Pin-Id (see deliveredPin), so the client, whose pin id is now the
// forged one, is pinned afresh at its next pull rather than once the pin
// lapses, PinnedTTL later. It waits for the answer, a few milliseconds, so
// the messages after the forged one come under the new pin; it gives up
// after 5 s, leaving the lapse to do it.
func (b *Bus) unpinForged(ctx context.Context, stream, durable string, log zerolog.Logger) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s, err := b.js.Stream(uctx, stream)
	if err == nil {
		err = s.UnpinConsumer(uctx, durable, pinGroup)
	}
	if err != nil {
		log.Warn().Err(err).Msg("cannot unpin after a forged Nats-Pin-Id: the pin lapses instead")
	}
}
