package bus_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestConsumeOneCallAtATimeAcrossRecreation: a durable deleted while its
// handler runs is recreated, and its new subscription delivers while the
// old one's callback may still be running (stopping a consume does not
// wait for it). The handler, and the runtime's own per-consumer state (a
// gap's tracker, the take-over's skip), must still see one call at a
// time: the new delivery waits for the old call to end.
func TestConsumeOneCallAtATimeAcrossRecreation(t *testing.T) {
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	b := natstest.Connect(t, url, "svc", log, true)
	m := proto.NewMetrics("shop", "web", time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC), 2, proto.Floats{"rps": 1})
	if err := b.Publish(context.Background(), bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m}); err != nil {
		t.Fatal(err)
	}
	js := natstest.JetStream(t, b)
	stream := proto.StreamName("apm", proto.KindMetrics)
	var active, calls, overlaps atomic.Int32
	second := make(chan struct{})
	natstest.Serve(t, "consumer", func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics, CheckEvery: 100 * time.Millisecond},
			func(ctx context.Context, _ *bus.Msg) ([]bus.Out, error) {
				if active.Add(1) > 1 {
					overlaps.Add(1)
				}
				defer active.Add(-1)
				if calls.Add(1) > 1 {
					select {
					case <-second:
					default:
						close(second)
					}
					return nil, nil
				}
				// The first call: the durable goes, and the call waits
				// a while for the recreated durable's delivery.
				dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if err := js.DeleteConsumer(dctx, stream, "svc"); err != nil {
					t.Errorf("delete the durable: %v", err)
				}
				select {
				case <-second:
				case <-time.After(3 * time.Second):
				}
				return nil, nil
			})
	})
	select {
	case <-second:
	case <-time.After(30 * time.Second):
		t.Fatal("the recreated durable delivered nothing in 30s")
	}
	if n := overlaps.Load(); n > 0 {
		t.Errorf("the handler ran %d time(s) while its previous call had not returned", n)
	}
}
