package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/proto"
)

// A delivery can be lost in flight: a replicated durable sends a message
// only once its replicas agree it was delivered, so a node killed with the
// message in its outbound buffer (or a route cut under it) loses the
// message while the durable counts it delivered. The durable's new leader
// goes on after it at once, and redelivers the lost one only once its
// AckWait has passed (timed from the message's stored time, the pending
// timestamp the replicas keep): 30 s later, behind the messages stored
// after it. A handler would then see a partition's messages out of order
// (the decider joined a forecast after the next one, and decided a tick
// on the forecast before its own).
//
// The consumer sequence shows such a loss: the server numbers every
// delivery, a redelivery too, one after the other, so a delivery whose
// consumer sequence jumps past the last one received followed deliveries
// this client never got. Before the message in hand, the runtime then
// reads its filter's messages after the last one handled straight from
// the stream (replayRange, which checks a replica's "no messages" with
// the stream leader) and hands them to the handler in order, as live
// messages; their late redeliveries are acknowledged without handling
// (once the work a handler deferred is stored, see heldAcks), as a
// take-over's live delivery treats what its rebuild handled.

// gapTracker is one consumer's view of its deliveries, for gap detection.
// Only the consumer's delivery callback uses it, one call at a time.
//
// A pinned durable's pin id is no sign that the deliveries in between
// went to another member: the pin is not replicated, so the consumer's new
// leader after a node's death pins afresh, with a new id, just where a
// delivery may have been lost. A gap across a pin change is topped up
// too. When another member did read the durable meanwhile (members that
// both believed they owned the partition), what it handled is
// acknowledged: the durable's acknowledgement floor, which a delivery
// lost in flight (unacknowledged) holds below itself, marks it. A
// consumer whose group rebuilds its state is handed those messages as a
// take-over's rebuild hands them, replayed, to rebuild the state it
// missed (their outputs' ids make repeats no-ops); any other skips them:
// the executor would act on a decision the other member acted on already,
// from the state it held before that one's actions.
type gapTracker struct {
	lastDelivery uint64 // consumer sequence of the last delivery received, 0: none yet
	// lost is set when deliveries were lost and not topped up yet, since
	// lostAt; lostAfter and lostBefore are the consumer sequences around
	// the last loss.
	lost   bool
	lostAt time.Time
	// refused says the last top-up was held back by the service's gate
	// (its gap counted already).
	refused    bool
	lostAfter  uint64
	lostBefore uint64
	// filled holds the stream sequences topped up, and when: their late
	// redeliveries are acknowledged without handling. Entries older than
	// keep are dropped.
	filled map[uint64]time.Time
	keep   time.Duration
}

func newGapTracker(spec ConsumerSpec) *gapTracker {
	return &gapTracker{filled: map[uint64]time.Time{}, keep: max(2*time.Duration(spec.MaxDeliver)*spec.AckWait, time.Minute)}
}

// delivered notes a delivery's consumer sequence and reports whether
// deliveries were lost before it. A consumer sequence that went back (a
// durable recreated) starts the count again.
func (g *gapTracker) delivered(dseq uint64, now time.Time) bool {
	gap := g.lastDelivery > 0 && dseq > g.lastDelivery+1
	if gap && !g.lost {
		g.lost, g.lostAt = true, now
	}
	if gap {
		g.lostAfter, g.lostBefore = g.lastDelivery, dseq
	}
	g.lastDelivery = dseq
	return gap
}

// wasFilled reports whether seq was topped up: its delivery is a late
// redelivery, handled already.
func (g *gapTracker) wasFilled(seq uint64) bool {
	_, ok := g.filled[seq]
	return ok
}

// fill notes seq as topped up, dropping the entries past keep.
func (g *gapTracker) fill(seq uint64, now time.Time) {
	if len(g.filled) > 0 && len(g.filled)%256 == 0 {
		for s, at := range g.filled {
			if now.Sub(at) > g.keep {
				delete(g.filled, s)
			}
		}
	}
	g.filled[seq] = now
}

// topUpGap hands h the messages of spec's filter stored after last and
// before the delivered message at seq, in order, as live messages, when
// deliveries were lost before it; those at or below the durable's
// acknowledgement floor (another member's) are replays for a consumer
// whose group rebuilds, and skipped for any other. It returns the last
// stream sequence handled (last when none). A read that fails is tried again, while the
// caller keeps the message in hand in progress, until AckWait has passed
// since the gap was seen (each try is bounded by replayRange's own
// limits): by then the lost deliveries are being redelivered, and the
// consumer goes on as it did before it topped gaps up, rather than stall
// on a stream it cannot read. Nothing is nakked meanwhile: a nak counts
// against MaxDeliver, past which the runtime dead-letters a message.
//
// A top-up the service's gate refuses (Gate.Refuse) stops there and
// reports refused, the loss still marked: the caller keeps the message in
// hand for the gate (see Gate), and handing it again once the gate opens
// tops up the rest first.
func (b *Bus) topUpGap(ctx context.Context, spec ConsumerSpec, g *gapTracker, held *heldAcks, last, seq uint64, h Handler, log zerolog.Logger) (through uint64, refused bool) {
	if !g.lost || seq <= last {
		// Nothing lost, or a redelivery of a message handled before: a
		// first delivery lost before it is after last, and the next
		// first delivery tops it up.
		return last, false
	}
	stream := proto.StreamName(b.cfg.Prefix, spec.Kind)
	gapLog := func(ev *zerolog.Event) *zerolog.Event {
		return ev.Uint64("after_consumer_seq", g.lostAfter).Uint64("consumer_seq", g.lostBefore).
			Uint64("from_seq", last+1).Uint64("seq", seq)
	}
	// Counted once, however it ends (a top-up the gate held back goes on
	// with the same gap).
	g.lost = false
	if !g.refused {
		b.metrics.deliveryGaps.WithLabelValues(stream).Inc()
	}
	g.refused = false
	if last == 0 {
		// Nothing handled yet by this process: what it missed is
		// redelivered, and reading the whole stream is no answer.
		gapLog(log.Warn()).Msg("deliveries lost before the first handled: left to their redelivery")
		return last, false
	}
	var filter string
	switch len(spec.Filters) {
	case 0:
		filter = proto.Filter(b.cfg.Prefix, spec.Kind)
	case 1:
		filter = b.storedFilter(spec.Kind, spec.Filters[0])
	default:
		// A batched direct get reads one filter; merging several is not
		// worth it for consumers no service runs.
		gapLog(log.Warn()).Msg("deliveries lost in flight; a consumer of several filters cannot top them up: handled when redelivered")
		return last, false
	}
	fs := spec
	fs.held, fs.merge, fs.gapFill, fs.inCallback = held, nil, true, true
	total := 0
	for attempt := 1; ; attempt++ {
		var cur, done uint64 // the message being topped up, the last one topped up
		begun := 0           // the messages whose handling began, this try
		// Messages at or below the durable's acknowledgement floor were
		// handled, by another member (a lost delivery is not
		// acknowledged, so the floor stays below it).
		// A durable gone (the runtime recreates it) has floor 0: nothing
		// tells another member's reads apart, and the stream still
		// answers.
		floor, err := b.ackFloor(ctx, stream, spec.Name)
		n := 0
		if err == nil {
			from := last + 1
			if !spec.rebuilds {
				from = max(last, floor) + 1
			}
			n, err = b.replayRange(ctx, fs, filter, from, time.Time{}, seq-1, floor, func(ctx context.Context, m *Msg) ([]Out, error) {
				if m.Seq != cur {
					done, cur = cur, m.Seq
					begun++
					g.fill(m.Seq, time.Now())
				}
				return h(ctx, m)
			})
		}
		total += n
		b.metrics.gapFilled.WithLabelValues(stream).Add(float64(n))
		if err == nil {
			gapLog(log.Warn()).Int("topped_up", total).Uint64("ack_floor", floor).Msg("deliveries lost in flight: topped up from the stream before the message in hand")
			return max(last, cur), false
		}
		// replayRange counts a message once its handling has ended: a
		// read that failed after the last one begun (the common case, a
		// stream leader that does not answer) leaves it done, and the
		// next try goes on after it. Only a message whose handling
		// failed is handled again.
		if n == begun {
			done = cur
		} else {
			delete(g.filled, cur)
		}
		last = max(last, done)
		if spec.Gate != nil && IsBackpressure(err) {
			// The service's gate closed on the top-up: the rest waits
			// for it, with the message in hand.
			g.lost, g.refused = true, true
			gapLog(log.Debug()).Int("topped_up", total).Msg("deliveries lost in flight: top-up held back by the service's gate")
			return last, true
		}
		open := time.Since(g.lostAt)
		if ctx.Err() != nil || open > spec.AckWait {
			gapLog(log.Error().Err(err)).Int("topped_up", total).Dur("open", open).
				Msg("deliveries lost in flight not topped up: left to their redelivery, out of order")
			return last, false
		}
		gapLog(log.Warn().Err(err)).Int("attempt", attempt).Msg("deliveries lost in flight: cannot top them up yet, will retry")
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt)*spec.NakDelay, spec.AckWait/4)):
		}
	}
}

// ackFloor returns the stream sequence of durable's acknowledgement floor:
// every message of its filter at or below it is acknowledged (0 for a
// durable that does not exist).
func (b *Bus) ackFloor(ctx context.Context, stream, durable string) (uint64, error) {
	c, err := b.js.Consumer(ctx, stream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("consumer %s/%s: %w", stream, durable, err)
	}
	return c.CachedInfo().AckFloor.Stream, nil
}
