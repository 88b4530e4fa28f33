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
		return nil, err
	}
	m := nats.NewMsg(o.Subject)
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, o.Msg.MsgID())
	m.Header.Set(HeaderEventTime, strconv.FormatInt(proto.Millis(o.Msg.EventTime()), 10))
	return m, nil
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
	if _, err := b.js.PublishMsg(ctx, m); err != nil {
		b.metrics.publishErrs.WithLabelValues(kindOf(o.Subject)).Inc()
		return fmt.Errorf("publish %s %s: %w", o.Subject, o.Msg.MsgID(), err)
	}
	b.metrics.published.WithLabelValues(kindOf(o.Subject)).Inc()
	return nil
}

// PublishAsync sends one message without waiting; the returned future
// reports the stream's acknowledgement. Use Flush to wait for all of them.
func (b *Bus) PublishAsync(o Out) (jetstream.PubAckFuture, error) {
	m, err := b.natsMsg(o)
	if err != nil {
		return nil, err
	}
	// When the window of unacknowledged publishes is full the call waits for
	// room (backpressure) instead of failing: a fast producer such as the
	// backfill slows to the server's pace rather than dying.
	f, err := b.js.PublishMsgAsync(m, jetstream.WithStallWait(30*time.Second))
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
