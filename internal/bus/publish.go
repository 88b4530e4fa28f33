package bus

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/headroomhq/headroom/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderEventTime carries a message's event time (Unix ms) beside the payload,
// so routing and restart logic can read it without decoding.
const HeaderEventTime = "Headroom-Ts"

// Out is a message to publish on a subject.
type Out struct {
	Subject string
	Msg     proto.Message
}

func (b *Bus) natsMsg(o Out) (*nats.Msg, error) {
	data, err := proto.Encode(o.Msg)
	if err != nil {
		return nil, refusedMsg{fmt.Errorf("encode %s %s: %w", o.Subject, o.Msg.MsgID(), err)}
	}
	// Both header names are in canonical form already: the header is
	// built directly, one backing array for its two values, instead of
	// through Header.Set.
	vals := make([]string, 2)
	vals[0] = o.Msg.MsgID()
	vals[1] = strconv.FormatInt(proto.Millis(o.Msg.EventTime()), 10)
	return &nats.Msg{Subject: o.Subject, Data: data,
		Header: nats.Header{jetstream.MsgIDHeader: vals[0:1:1], HeaderEventTime: vals[1:2:2]}}, nil
}

func kindOf(subject string) string {
	for i := 0; i < len(subject); i++ {
		if subject[i] == '.' {
			rest := subject[i+1:]
			for j := 0; j < len(rest); j++ {
				if rest[j] == '.' {
					return rest[:j]
				}
			}
			return rest
		}
	}
	return subject
}

// Publish stores one message and waits for the stream's acknowledgement. A
// duplicate id inside the dedupe window is acknowledged without being stored.
func (b *Bus) Publish(ctx context.Context, o Out) error {
	m, err := b.natsMsg(o)
	if err != nil {
		return err
	}
	// A publish the server refuses for the user's permissions is dropped
	// and its request would only time out (apiTimeout, or ctx's end): it
	// ends as the refusal arrives, with that refusal (IsRefused).
	if err := b.refusable(ctx, publishKey(o.Subject), func(ctx context.Context) error {
		_, err := b.js.PublishMsg(ctx, m)
		return err
	}); err != nil {
		b.metrics.publishErrs.WithLabelValues(kindOf(o.Subject)).Inc()
		return fmt.Errorf("publish %s %s: %w", o.Subject, o.Msg.MsgID(), err)
	}
	b.metrics.published.WithLabelValues(kindOf(o.Subject)).Inc()
	return nil
}

// The options of PublishAsync and PublishAsyncOnce, made once rather than
// on every call.
var (
	asyncOpts     = []jetstream.PublishOpt{jetstream.WithStallWait(30 * time.Second)}
	asyncOnceOpts = []jetstream.PublishOpt{jetstream.WithStallWait(30 * time.Second), jetstream.WithRetryAttempts(0)}
)

// PublishAsync sends one message without waiting; the returned future
// reports the stream's acknowledgement. Use Flush to wait for all of them.
func (b *Bus) PublishAsync(o Out) (jetstream.PubAckFuture, error) {
	// When the window of unacknowledged publishes is full the call waits for
	// room (backpressure) instead of failing: a fast producer such as the
	// backfill slows to the server's pace rather than dying.
	return b.publishAsync(o, asyncOpts)
}

// PublishAsyncOnce is PublishAsync without the client's own resends of a
// message nothing answered (no responders: a stream being updated, or
// without a leader): the future reports that as an error instead. Messages
// sent one after the other then reach the stream in that order, once each,
// so a caller that keeps several in flight on a subject and resends from
// the first refused one (the outbox) keeps them in order; a resend done by
// the client after a delay could overtake the ones behind it.
func (b *Bus) PublishAsyncOnce(o Out) (jetstream.PubAckFuture, error) {
	return b.publishAsync(o, asyncOnceOpts)
}

func (b *Bus) publishAsync(o Out, opts []jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	m, err := b.natsMsg(o)
	if err != nil {
		return nil, err
	}
	f, err := b.js.PublishMsgAsync(m, opts...)
	if err != nil {
		b.metrics.publishErrs.WithLabelValues(kindOf(o.Subject)).Inc()
		return nil, fmt.Errorf("publish %s %s: %w", o.Subject, o.Msg.MsgID(), err)
	}
	b.metrics.published.WithLabelValues(kindOf(o.Subject)).Inc()
	return f, nil
}

// Flush waits until every async publish is acknowledged or ctx ends.
func (b *Bus) Flush(ctx context.Context) error {
	select {
	case <-b.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush with %d publishes pending: %w", b.js.PublishAsyncPending(), ctx.Err())
	}
}

// PublishAll stores every message, retrying each one that fails (same
// Nats-Msg-Id, so a retry of a message the stream did store is dropped as a
// duplicate) until it is stored or ctx ends. Sources call it, so a NATS
// server killed mid-stream loses no tick: the publishes wait for the
// reconnection instead of being forgotten.
func (b *Bus) PublishAll(ctx context.Context, outs []Out) error {
	type sent struct {
		out Out
		f   jetstream.PubAckFuture
	}
	inflight := make([]sent, 0, len(outs))
	var retry []Out
	for _, o := range outs {
		f, err := b.PublishAsync(o)
		if err != nil {
			retry = append(retry, o)
			continue
		}
		inflight = append(inflight, sent{o, f})
	}
	for _, s := range inflight {
		select {
		case <-s.f.Ok():
		case <-s.f.Err():
			retry = append(retry, s.out)
		case <-ctx.Done():
			return fmt.Errorf("publish %s: %w", s.out.Msg.MsgID(), ctx.Err())
		}
	}
	for _, o := range retry {
		if err := b.publishRetrying(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// publishRetrying publishes o synchronously until it is stored or ctx ends,
// with a growing delay and a warning per failed attempt.
func (b *Bus) publishRetrying(ctx context.Context, o Out) error {
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := b.Publish(pctx, o)
		cancel()
		if err == nil {
			if attempt > 1 {
				b.log.Info().Str("msg_id", o.Msg.MsgID()).Int("attempts", attempt).Msg("publish stored after retries")
			}
			return nil
		}
		b.log.Warn().Err(err).Str("msg_id", o.Msg.MsgID()).Int("attempt", attempt).Msg("publish failed, retrying with the same id")
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish %s: %w", o.Msg.MsgID(), ctx.Err())
		case <-time.After(min(time.Duration(attempt)*250*time.Millisecond, 5*time.Second)):
		}
	}
}
