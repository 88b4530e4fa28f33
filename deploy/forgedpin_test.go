package deploy_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestNATSConfForgedPinIDIsUnpinnedAtOnce: under deploy/nats.conf the
// collector may put a Nats-Pin-Id header of its own on a tick it stores.
// The forecaster member the tick is delivered to, whose client takes that
// id for its pin, unpins its partition durable from its own account
// (CONSUMER.UNPIN, after a STREAM.INFO), so it is pinned afresh at once:
// the tick after is handled well before the pin would lapse (PinnedTTL,
// 10 s). Neither call is refused (a refusal is an async permissions error,
// and the bus's "cannot unpin" warning after 5 s).
func TestNATSConfForgedPinIDIsUnpinnedAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run of a member and a forging publisher")
	}
	const user = "forecaster"
	ctx := context.Background()
	url := runConfiguredServer(t)
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	collector := connectAs(t, url, "collector")
	cjs := natstest.JetStream(t, collector)
	subject := proto.MetricsSubject("apm", "shop", "web")
	ts := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	publish := func(i int, forged string) {
		t.Helper()
		m := proto.NewMetrics("shop", "web", ts.Add(time.Duration(i)*time.Minute), 3, map[string]float64{"rps": float64(i)})
		if forged == "" {
			if err := collector.Publish(ctx, bus.Out{Subject: subject, Msg: m}); err != nil {
				t.Fatal(err)
			}
			return
		}
		data, err := proto.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		h := nats.Header{}
		h.Set(jetstream.MsgIDHeader, m.MsgID())
		h.Set(bus.HeaderEventTime, strconv.FormatInt(proto.Millis(m.EventTime()), 10))
		h.Set("Nats-Pin-Id", forged)
		if _, err := cjs.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data, Header: h}); err != nil {
			t.Fatalf("collector storing a tick with Nats-Pin-Id: %v", err)
		}
	}
	publish(1, "")

	var logs natstest.Logs
	b := connectLogged(t, url, user, zerolog.New(&logs).Level(zerolog.WarnLevel))
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	natstest.Serve(t, user, func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: user, Name: user, Kind: proto.KindMetrics,
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
	handled := func(within time.Duration, want ...string) {
		t.Helper()
		natstest.Eventually(t, within, func() error {
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(events, want) {
				return fmt.Errorf("events %v, want %v", events, want)
			}
			return nil
		})
	}
	handled(30*time.Second, "tick 1")
	publish(2, "forged-a")
	handled(10*time.Second, "tick 1", "tick 2")
	// Published at once: a client left with the forged id would get it
	// only once the pin lapsed, PinnedTTL after the member's last pull
	// with the real id (at most pullExpiry, 3 s, before tick 2): 7 s or
	// more from now.
	publish(3, "")
	handled(5*time.Second, "tick 1", "tick 2", "repinned", "tick 3")
	for _, l := range logs.Lines(t, "") {
		if l["message"] == "message published with a Nats-Pin-Id header, which only the server may set" {
			continue
		}
		if l["level"] == "error" || l["level"] == "warn" {
			t.Errorf("%s: %v", user, l)
		}
	}
	if n := len(logs.Lines(t, "message published with a Nats-Pin-Id header, which only the server may set")); n != 1 {
		t.Errorf("%d warnings of the forged header, want 1", n)
	}
}
