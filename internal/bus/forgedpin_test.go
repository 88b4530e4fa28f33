package bus_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// publishForged stores tick i as the bus would, plus a publisher-set
// Nats-Pin-Id header (none when forged is "").
func publishForged(t *testing.T, js jetstream.JetStream, i int, forged string) {
	t.Helper()
	o := tick(i)
	data, err := proto.Encode(o.Msg)
	if err != nil {
		t.Fatal(err)
	}
	h := nats.Header{}
	h.Set(jetstream.MsgIDHeader, o.Msg.MsgID())
	h.Set(bus.HeaderEventTime, strconv.FormatInt(proto.Millis(o.Msg.EventTime()), 10))
	if forged != "" {
		h.Set("Nats-Pin-Id", forged)
	}
	if _, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: o.Subject, Data: data, Header: h}); err != nil {
		t.Fatalf("publish tick %d with Nats-Pin-Id %q: %v", i, forged, err)
	}
}

// TestAForgedPinIDIsNotTheDeliveredPin: a publisher may put a
// Nats-Pin-Id header of its own on a message (JetStream stores it, and
// appends the server's after it on delivery). The member still hears of
// the server's pin changes, and only of them, through Repinned: a forged
// id fires none of its own and masks no real one. The client, which takes
// the forged id for its pin, is pinned afresh at once: the message after
// it is delivered within seconds, not once the pin lapses (PinnedTTL).
func TestAForgedPinIDIsNotTheDeliveredPin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forged []string // per tick, from 1: the publisher's Nats-Pin-Id
		unpin  int      // an operator unpins after this tick is handled
		want   []string
	}{
		// The forged id fires no Repinned of its own; the bus's unpin
		// after it does, before the next message, under a new pin.
		{name: "a forged id between real ones", forged: []string{"", "forged-a", ""},
			want: []string{"tick 1", "tick 2", "repinned", "tick 3"}},
		{name: "forged ids that change", forged: []string{"", "forged-a", "forged-b"},
			want: []string{"tick 1", "tick 2", "repinned", "tick 3", "repinned"}},
		// The same forged id before and after a real repin hides it from
		// a member that believes the header.
		{name: "the same forged id across a repin", forged: []string{"forged-a", "forged-a"}, unpin: 1,
			want: []string{"tick 1", "repinned", "tick 2", "repinned"}},
	} {
		t.Run(tc.name, func(t *testing.T) { forgedPinID(t, tc.forged, tc.unpin, tc.want) })
	}
}

func forgedPinID(t *testing.T, forged []string, unpin int, want []string) {
	// A pin outlives its last pull by ttl: the client, which takes the
	// forged id for its own, would wait that long for its next message.
	const ttl = 30 * time.Second
	// Restored once the member has stopped (cleanups run last first).
	t.Cleanup(bus.SetPinTimes(ttl, time.Second))
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "admin", log, true)
	js := natstest.JetStream(t, admin)
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	// The member logs to logs and counts on reg, to check that each
	// forged header is counted and only the first warned of.
	var logs natstest.Logs
	reg := prometheus.NewRegistry()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, "svc"
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(io.MultiWriter(&logs, zerolog.NewTestWriter(t))).Level(zerolog.WarnLevel), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.WaitConnected(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "svc", func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics,
			Group: &bus.GroupSpec{Repinned: func(int) { record("repinned") }}},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				var in proto.Metrics
				if err := proto.Decode(m.Data, &in); err != nil {
					return nil, bus.Permanent(err)
				}
				record(fmt.Sprintf("tick %d", int(in.Values["rps"])))
				return nil, nil
			})
	})
	for i, f := range forged {
		tick := i + 1
		publishForged(t, js, tick, f)
		// Well inside ttl: a client left with a forged pin id gets
		// nothing until the pin lapses.
		natstest.Eventually(t, ttl/3, func() error {
			mu.Lock()
			defer mu.Unlock()
			if !slices.Contains(events, fmt.Sprintf("tick %d", tick)) {
				return fmt.Errorf("tick %d not handled yet: %v", tick, events)
			}
			return nil
		})
		if tick == unpin {
			durable := natstest.PartitionDurable(t, admin, "METRICS", "svc", proto.MetricsSubject("apm", "shop", "web"))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := admin.Unpin(ctx, proto.KindMetrics, durable)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// A forged last message is followed by an unforged one, so the
	// Repinned its unpin causes is heard.
	if forged[len(forged)-1] != "" {
		publishForged(t, js, len(forged)+1, "")
		want = append(want, fmt.Sprintf("tick %d", len(forged)+1))
	}
	natstest.Eventually(t, ttl/3, func() error {
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(events, want) {
			return fmt.Errorf("events %v, want %v", events, want)
		}
		return nil
	})
	n := 0
	for _, f := range forged {
		if f != "" {
			n++
		}
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_bus_forged_pin_headers_total"); got != float64(n) {
		t.Errorf("headroom_bus_forged_pin_headers_total = %v, want %d", got, n)
	}
	if got := len(logs.Lines(t, forgedWarning)); got != 1 {
		t.Errorf("%d warnings of a forged Nats-Pin-Id for %d forged deliveries, want 1 (the rest are counted)", got, n)
	}
}

// forgedWarning is the bus's warning of a delivery with a publisher's
// Nats-Pin-Id.
const forgedWarning = "message published with a Nats-Pin-Id header, which only the server may set"
