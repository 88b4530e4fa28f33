package bus_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestSlowHandlerKeptInProgress: a handler that works three times the
// durable's AckWait (a slow driver call) is redelivered meanwhile, and so
// handled again, unless its spec asks the runtime to keep the message in
// progress; then it is delivered once.
func TestSlowHandlerKeptInProgress(t *testing.T) {
	const ackWait = time.Second
	for _, c := range []struct {
		progress bool
		once     bool
	}{{progress: false, once: false}, {progress: true, once: true}} {
		t.Run(fmt.Sprintf("progress=%v", c.progress), func(t *testing.T) {
			b := mustBus(t, natstest.RunJetStream(t))
			var slowDone atomic.Bool
			started := make(chan struct{})
			stop := natstest.Serve(t, "consumer", func(ctx context.Context) error {
				return b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics, AckWait: ackWait,
					Progress: c.progress, Started: func() { close(started) }},
					func(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
						if m.Delivered == 1 {
							select { // the slow work itself, not a wait for another goroutine
							case <-time.After(3 * ackWait):
							case <-ctx.Done():
							}
							slowDone.Store(true)
						}
						return nil, nil
					})
			})
			<-started
			if err := b.Publish(context.Background(), tick(1)); err != nil {
				t.Fatal(err)
			}
			var deliveries uint64 // the consumer's deliveries of the one message, the server's count
			natstest.Eventually(t, 20*time.Second, func() error {
				if !slowDone.Load() {
					return fmt.Errorf("slow handler still working")
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				c, err := natstest.JetStream(t, b).Consumer(ctx, proto.StreamName("apm", proto.KindMetrics), "svc")
				if err != nil {
					return err
				}
				info, err := c.Info(ctx)
				if err != nil {
					return err
				}
				if info.NumAckPending > 0 || info.NumPending > 0 {
					return fmt.Errorf("%d awaiting ack, %d pending", info.NumAckPending, info.NumPending)
				}
				deliveries = info.Delivered.Consumer
				return nil
			})
			stop()
			if (deliveries == 1) != c.once {
				t.Errorf("the message was delivered %d times; want once: %v", deliveries, c.once)
			}
		})
	}
}
