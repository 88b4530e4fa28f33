package bus_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestAForgedPinIDDoesNotStopAnUnpinnedConsumer: a durable without a pin
// (a consumer outside a group) gets no Nats-Pin-Id from the server, but a
// publisher may still set one. The NATS client takes it for a pin id and
// puts it in its next pull request, which the server refuses as a bad
// request (the consumer has no pinned priority policy), and the client
// stops consuming. The bus goes on delivering: every message is handled,
// the ones after the client's next pull (past half its buffer) included.
func TestAForgedPinIDDoesNotStopAnUnpinnedConsumer(t *testing.T) {
	const n = 700 // past 256: the client pulls again while the stream still has messages
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "admin", log, true)
	js := natstest.JetStream(t, admin)
	publishForged(t, js, 0, "forged-a")
	outs := make([]bus.Out, n)
	for i := range outs {
		outs[i] = tick(i + 1)
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int64
	b := natstest.Connect(t, url, "svc", log, false)
	natstest.Serve(t, "svc", func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics},
			func(context.Context, *bus.Msg) ([]bus.Out, error) {
				handled.Add(1)
				return nil, nil
			})
	})
	natstest.Eventually(t, 20*time.Second, func() error {
		if got := handled.Load(); got != n+1 {
			return fmt.Errorf("%d of %d messages handled", got, n+1)
		}
		return nil
	})
}
