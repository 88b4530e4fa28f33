package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestIsRefusedMessage publishes to a real server: a message over the
// stream's max message size or the server's max_payload is refused for
// itself, one the stream refuses because it is full (maximum messages,
// DiscardNew) or that no stream answers is not, nor is a cancelled wait.
func TestIsRefusedMessage(t *testing.T) {
	b := natstest.Bus(t, "admin", zerolog.Nop())
	js := natstest.JetStream(t, b)
	ctx := context.Background()
	stream := proto.StreamName("apm", proto.KindMetrics)
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	working := info.Config
	update := func(f func(c *jetstream.StreamConfig)) {
		t.Helper()
		c := working
		f(&c)
		if _, err := js.UpdateStream(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	metrics := func(app string, size int) bus.Out {
		n++
		values := map[string]float64{proto.MetricRPS: 1}
		for i := range size {
			values[fmt.Sprintf("metric_%06d", i)] = float64(i)
		}
		at := time.Date(2026, 3, 9, 10, n, 0, 0, time.UTC)
		return bus.Out{Subject: proto.MetricsSubject("apm", app, "web"), Msg: proto.NewMetrics(app, "web", at, 1, values)}
	}
	for _, tc := range []struct {
		name   string
		setup  func()
		out    bus.Out
		ctx    func() (context.Context, context.CancelFunc)
		reason string // bus.RefusedMessageReason's, "" for none
	}{
		{name: "stored", out: metrics("a", 0)},
		{name: "over the stream's max message size", setup: func() { update(func(c *jetstream.StreamConfig) { c.MaxMsgSize = 2048 }) },
			out: metrics("a", 200), reason: bus.RefusedStreamMaxSize},
		{name: "under the stream's max message size", out: metrics("a", 0)},
		{name: "over the server's max_payload", setup: func() { update(func(c *jetstream.StreamConfig) {}) },
			out: metrics("a", 50000), reason: bus.RefusedMaxPayload},
		{name: "the stream full", setup: func() {
			update(func(c *jetstream.StreamConfig) { c.MaxMsgs, c.Discard = 1, jetstream.DiscardNew })
		}, out: metrics("a", 0)},
		{name: "no stream", out: bus.Out{Subject: "nostream.metrics.a.web", Msg: metrics("a", 0).Msg}},
		{name: "cancelled", setup: func() { update(func(c *jetstream.StreamConfig) {}) }, out: metrics("a", 0),
			ctx: func() (context.Context, context.CancelFunc) {
				c, cancel := context.WithCancel(ctx)
				cancel()
				return c, cancel
			}},
	} {
		if tc.setup != nil {
			tc.setup()
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if tc.ctx != nil {
			cancel()
			pctx, cancel = tc.ctx()
		}
		err := b.Publish(pctx, tc.out)
		cancel()
		if tc.name == "stored" || tc.name == "under the stream's max message size" {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%s: stored, want an error", tc.name)
		}
		if got := bus.IsRefusedMessage(err); got != (tc.reason != "") {
			t.Errorf("%s: IsRefusedMessage(%v) = %v, want %v", tc.name, err, got, tc.reason != "")
		}
		if got := bus.RefusedMessageReason(err); got != tc.reason {
			t.Errorf("%s: RefusedMessageReason(%v) = %q, want %q", tc.name, err, got, tc.reason)
		}
	}
	if bus.IsRefusedMessage(nil) {
		t.Error("IsRefusedMessage(nil) = true")
	}
}
