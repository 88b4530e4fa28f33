package bus

import (
	"context"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/headroomhq/headroom/proto"
)

// SilenceDirectGets makes the next n batched direct gets end with no
// message and no end marker, as a request does when its deadline passes
// before the server answers. Safe for the concurrent reads of a replay
// that merges its inputs.
func SilenceDirectGets(n int) (restore func()) {
	orig := getBatch
	var left atomic.Int64
	left.Store(int64(n))
	getBatch = func(ctx context.Context, js jetstream.JetStream, stream string, batch int, opts ...jetstreamext.GetBatchOpt) (iter.Seq2[*jetstream.RawStreamMsg, error], error) {
		if left.Add(-1) >= 0 {
			return func(func(*jetstream.RawStreamMsg, error) bool) {}, nil
		}
		return orig(ctx, js, stream, batch, opts...)
	}
	return func() { getBatch = orig }
}

// SilenceDirectGetsOn makes the next n batched direct gets of stream end
// with no message and no end marker once lasting has passed, as a request
// does when its deadline (30 s in the bus) passes before the server
// answers; other streams' are answered. Safe for the concurrent reads of a
// replay that merges its inputs.
func SilenceDirectGetsOn(stream string, n int, lasting time.Duration) (restore func()) {
	return SilenceDirectGetsOnAfter(stream, 0, n, lasting)
}

// SilenceDirectGetsOnAfter is SilenceDirectGetsOn for the n batched
// direct gets of stream after the next skip, which are answered.
func SilenceDirectGetsOnAfter(stream string, skip, n int, lasting time.Duration) (restore func()) {
	orig := getBatch
	var seen atomic.Int64
	getBatch = func(ctx context.Context, js jetstream.JetStream, name string, batch int, opts ...jetstreamext.GetBatchOpt) (iter.Seq2[*jetstream.RawStreamMsg, error], error) {
		if name != stream {
			return orig(ctx, js, name, batch, opts...)
		}
		if k := seen.Add(1); k <= int64(skip) || k > int64(skip+n) {
			return orig(ctx, js, name, batch, opts...)
		}
		return func(func(*jetstream.RawStreamMsg, error) bool) {
			select {
			case <-time.After(lasting):
			case <-ctx.Done():
			}
		}, nil
	}
	return func() { getBatch = orig }
}

// DirectGetBatchesOf makes the batched direct gets of rebuilds and
// replays ask for n messages at most, so that a short history takes
// several.
func DirectGetBatchesOf(n int) (restore func()) {
	orig := getBatch
	getBatch = func(ctx context.Context, js jetstream.JetStream, name string, _ int, opts ...jetstreamext.GetBatchOpt) (iter.Seq2[*jetstream.RawStreamMsg, error], error) {
		return orig(ctx, js, name, n, opts...)
	}
	return func() { getBatch = orig }
}

// OnRebuildCounted runs f in every rebuild between its count of the
// partition's messages and its read of the stream's last sequence.
func OnRebuildCounted(f func()) (restore func()) {
	orig := rebuildCounted
	rebuildCounted = f
	return func() { rebuildCounted = orig }
}

// OnEventTimesWalked runs f after each message EventTimesSince reads.
func OnEventTimesWalked(f func()) (restore func()) {
	orig := eventTimesWalked
	eventTimesWalked = f
	return func() { eventTimesWalked = orig }
}

// OnEventTimesGet runs f before each leader get EventTimesSince makes; an
// error f returns fails that get, as the get's own would. The retry's
// first pause is shortened to pause.
func OnEventTimesGet(pause time.Duration, f func() error) (restore func()) {
	orig, origPause := eventTimesGetFault, eventTimesRetryPause
	eventTimesGetFault, eventTimesRetryPause = f, pause
	return func() { eventTimesGetFault, eventTimesRetryPause = orig, origPause }
}

// EventTimesGetAttempts is eventTimesGetAttempts.
const EventTimesGetAttempts = eventTimesGetAttempts

// Rebuild runs a take-over's rebuild of filter from sequence from, bounded
// by lookback as GroupSpec.Lookback bounds it.
func (b *Bus) Rebuild(ctx context.Context, spec ConsumerSpec, filter string, from uint64, lookback time.Duration, h Handler) (last uint64, n int, err error) {
	spec.defaults()
	return b.rebuild(ctx, spec, spec.Name+"-p0", filter, from, lookback, h)
}

// StreamOf returns kind's stream handle, for tests that inspect it.
func (b *Bus) StreamOf(ctx context.Context, k proto.Kind) (jetstream.Stream, error) {
	return b.stream(ctx, k)
}

// JoinGroup joins service's group as ConsumeGroup does and returns the
// member's id, a function returning the members it sees alive, and leave.
func (b *Bus) JoinGroup(service string) (id string, view func() []string, leave func(), err error) {
	m, err := b.join(service)
	if err != nil {
		return "", nil, nil, err
	}
	return m.id(), func() []string { ms, _ := m.view(); return ms }, func() { b.leave(m) }, nil
}

// MemberName is the micro service name of service's group.
func (b *Bus) MemberName(service string) string { return memberName(b.cfg.Prefix, service) }

// DirectGetsBehind makes the next n batched direct gets answer as a
// replica that holds the stream only through sequence through: the
// messages up to it, then the end of the batch, or "no messages" when it
// has none to give. Safe for the concurrent reads of a replay that merges
// its inputs.
func DirectGetsBehind(n int, through uint64) (restore func()) {
	orig := getBatch
	var left atomic.Int64
	left.Store(int64(n))
	getBatch = func(ctx context.Context, js jetstream.JetStream, stream string, batch int, opts ...jetstreamext.GetBatchOpt) (iter.Seq2[*jetstream.RawStreamMsg, error], error) {
		msgs, err := orig(ctx, js, stream, batch, opts...)
		if err != nil || left.Add(-1) < 0 {
			return msgs, err
		}
		return func(yield func(*jetstream.RawStreamMsg, error) bool) {
			gave := false
			for rm, err := range msgs {
				if err == nil && rm.Sequence > through {
					break
				}
				if !yield(rm, err) || err != nil {
					return
				}
				gave = true
			}
			if !gave {
				yield(nil, jetstreamext.ErrNoMessages)
			}
		}, nil
	}
	return func() { getBatch = orig }
}

// LoseDelivery makes the consumers drop, unhandled and unacknowledged,
// every delivery for which lost reports true, as a network losing it in
// flight would; the server redelivers it after AckWait.
func LoseDelivery(lost func(consumer string, seq, delivered uint64) bool) (restore func()) {
	f := func(consumer string, _ jetstream.Msg, seq, delivered uint64) bool {
		return lost(consumer, seq, delivered)
	}
	lostDelivery.Store(&f)
	return func() { lostDelivery.Store(nil) }
}

// HandleElsewhere makes the consumers acknowledge, unhandled, every
// delivery for which taken reports true, as another reader of the durable
// does that handles it (a member that also believed it owned the
// partition, and held the durable's pin meanwhile). The acknowledgement
// is confirmed by the server before the next delivery is looked at. It
// also loses, as LoseDelivery does, the deliveries for which lost (when
// set) reports true.
func HandleElsewhere(taken, lost func(consumer string, seq, delivered uint64) bool) (restore func()) {
	f := func(consumer string, jm jetstream.Msg, seq, delivered uint64) bool {
		if lost != nil && lost(consumer, seq, delivered) {
			return true
		}
		if !taken(consumer, seq, delivered) {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := jm.DoubleAck(ctx); err != nil {
			panic(fmt.Sprintf("acknowledge %s seq %d: %v", consumer, seq, err))
		}
		return true
	}
	lostDelivery.Store(&f)
	return func() { lostDelivery.Store(nil) }
}

// Rebuilding marks spec as a partition consumer whose group rebuilds its
// state (GroupSpec.Rebuild), for a test of what a gap's top-up hands it.
func Rebuilding(spec ConsumerSpec) ConsumerSpec {
	spec.rebuilds = true
	return spec
}

// Unpin unpins kind's durable from its priority group's client, as the
// server does on its own when the consumer's leader changes (the pin is
// not replicated): the next pull gets a new pin id.
func (b *Bus) Unpin(ctx context.Context, k proto.Kind, durable string) error {
	s, err := b.stream(ctx, k)
	if err != nil {
		return err
	}
	return s.UnpinConsumer(ctx, durable, pinGroup)
}

// CutDirectGets makes the next batched direct get end, without its end
// marker, after at most first messages, as a request whose deadline
// passes mid-answer does, and the silent after it answer nothing: a
// replay then fails after it has handled those messages.
func CutDirectGets(first, silent int) (restore func()) {
	orig := getBatch
	var calls atomic.Int64
	getBatch = func(ctx context.Context, js jetstream.JetStream, stream string, batch int, opts ...jetstreamext.GetBatchOpt) (iter.Seq2[*jetstream.RawStreamMsg, error], error) {
		switch n := calls.Add(1); {
		case n == 1:
			msgs, err := orig(ctx, js, stream, batch, opts...)
			if err != nil {
				return msgs, err
			}
			return func(yield func(*jetstream.RawStreamMsg, error) bool) {
				gave := 0
				for rm, err := range msgs {
					if gave == first || !yield(rm, err) || err != nil {
						return
					}
					gave++
				}
			}, nil
		case n <= int64(1+silent):
			return func(func(*jetstream.RawStreamMsg, error) bool) {}, nil
		}
		return orig(ctx, js, stream, batch, opts...)
	}
	return func() { getBatch = orig }
}

// LeaderLastSeq asks stream's leader for the sequence of subject's last
// message (0: none), as LastEventTimes does.
func LeaderLastSeq(ctx context.Context, b *Bus, stream, subject string) (uint64, error) {
	m, err := b.leaderGet(ctx, stream, leaderGetRequest{LastFor: subject})
	if err != nil || m == nil {
		return 0, err
	}
	return m.Seq, nil
}

// SetPinTimes sets the PinnedTTL of the partition durables created from now
// on and the expiry of their members' pull requests, so that a test sees a
// pin lapse within seconds.
func SetPinTimes(ttl, expiry time.Duration) (restore func()) {
	origTTL, origExpiry := pinnedTTL, pullExpiry
	pinnedTTL, pullExpiry = ttl, expiry
	return func() { pinnedTTL, pullExpiry = origTTL, origExpiry }
}

// PinGroup is the priority group every partition durable pins.
const PinGroup = pinGroup

// SetAsyncPublishTimeout sets the timeout of the async publishes of the
// buses connected after it, so a test sees a refused one fail without
// waiting 20 s.
func SetAsyncPublishTimeout(d time.Duration) (restore func()) {
	orig := asyncPublishTimeout
	asyncPublishTimeout = d
	return func() { asyncPublishTimeout = orig }
}

// SetRecreateEvery sets the wait between two refused attempts to
// recreate a lost durable (10 s), so a test sees several.
func SetRecreateEvery(d time.Duration) (restore func()) {
	orig := recreateEvery
	recreateEvery = d
	return func() { recreateEvery = orig }
}

// AsyncInFlight is how many asynchronous publishes are sent and not
// settled (acknowledged, failed, timed out), each counted once settled.
func (b *Bus) AsyncInFlight() int {
	a := b.async
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.sent {
		n += c
	}
	return n
}

// PublishUntilAllowed is publishUntilAllowed, for the tests.
func (b *Bus) PublishUntilAllowed(ctx context.Context, o Out, u UntilAllowed) (int, error) {
	return b.publishUntilAllowed(ctx, o, u)
}

// WithFinal is u ending at once at a failure final holds of (its final).
func (u UntilAllowed) WithFinal(final func(error) bool) UntilAllowed {
	u.final = final
	return u
}
