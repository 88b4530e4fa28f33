package allinone_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestObserverIsReadOnly connects to the all-in-one's embedded NATS without
// credentials, as `gateway tail` would. Such a client reads
// the streams (a tail prints them and leaves no refused request behind) and
// changes nothing: a tick published under the prefix, a stream deleted, a
// service's durable consumer taken over or pulled from, or the replica
// bucket written are all refused, and the state shows it. Nor can it read the parts' consumer
// deliveries off their inbox, or the DLQ.
func TestObserverIsReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	liveStart := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	r := start(t, testConfig(t, liveStart, 5))
	natstest.WaitEventTime(t, r.b, "METRICS", []string{"apm.metrics.shop.web"}, liveStart.Add(-time.Hour), 2*time.Minute)

	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = r.sys.NATSURL, "observer"
	obs, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = obs.Close(5 * time.Second) })
	if err := obs.WaitConnected(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// Reads: a tail of the recorded web ticks prints them, and nothing it
	// did was refused (it leaves its consumer to the server).
	var out bytes.Buffer
	tc := gateway.TailConfig{Filters: []string{"apm.metrics.shop.web"}, Since: liveStart.Add(-2 * time.Hour)}
	if err := gateway.Tail(context.Background(), obs, tc, &out); err != nil {
		t.Fatalf("tail as observer: %v", err)
	}
	if n := strings.Count(out.String(), "apm.metrics.shop.web"); n < 60 {
		t.Fatalf("tail printed %d web ticks of the last two hours, want at least 60", n)
	}
	if err := obs.LastError(); err != nil {
		t.Fatalf("the tail left a refused request: %v", err)
	}

	js := natstest.JetStream(t, obs) // its own connection, as the same user
	refused := func(what, subject string) {
		t.Helper()
		natstest.Eventually(t, 5*time.Second, func() error {
			if err := js.Conn().LastError(); err == nil || !strings.Contains(err.Error(), subject) {
				return fmt.Errorf("%s: last server error %v, want a permissions violation on %s", what, err, subject)
			}
			return nil
		})
	}
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 2*time.Second)
	}

	// A forged tick under the prefix.
	before := len(natstest.Payloads(t, r.b, "METRICS", "apm.metrics.forged.>"))
	if err := js.Conn().Publish("apm.metrics.forged.web", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	refused("publish a tick", "apm.metrics.forged.web")
	if after := len(natstest.Payloads(t, r.b, "METRICS", "apm.metrics.forged.>")); after != before {
		t.Fatalf("a forged tick was stored (%d → %d)", before, after)
	}

	// A stream deleted.
	ctx, cancel := short()
	err = js.DeleteStream(ctx, "METRICS")
	cancel()
	if err == nil {
		t.Fatal("the observer deleted METRICS")
	}
	refused("delete a stream", "$JS.API.STREAM.DELETE.METRICS")
	if _, err := r.js.Stream(context.Background(), "METRICS"); err != nil {
		t.Fatalf("METRICS after the refused delete: %v", err)
	}

	// A service's durable consumer taken over (its acks would steal the
	// service's messages).
	durable := bus.DurableNames(1)[0]
	ctx, cancel = short()
	_, err = js.CreateOrUpdateConsumer(ctx, "METRICS", jetstream.ConsumerConfig{Durable: durable, AckPolicy: jetstream.AckExplicitPolicy})
	cancel()
	if err == nil {
		t.Fatalf("the observer created or changed the durable %s", durable)
	}
	refused("take over a durable", durable)

	// A service's durable pulled from with its group: the pull names the
	// durable a token further than the other consumer calls, and would
	// take the partition's pin from its member and hand the observer the
	// service's messages, never acknowledged.
	var pinned string
	for _, d := range bus.DurableNames(proto.DefaultPartitions) {
		if strings.HasSuffix(d, "-p0") {
			pinned = d
			break
		}
	}
	next := "$JS.API.CONSUMER.MSG.NEXT.METRICS." + pinned
	if err := js.Conn().PublishRequest(next, js.Conn().NewRespInbox(), []byte(`{"batch":1,"expires":1000000000,"group":"members"}`)); err != nil {
		t.Fatal(err)
	}
	if err := js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	refused("pull from a durable", next)

	// The replica bucket written.
	key := "$KV." + proto.ReplicaBucket("apm") + "." + proto.ReplicaKey("shop", "web")
	if err := js.Conn().Publish(key, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	refused("write the replica bucket", key)

	// The parts' consumer deliveries read off their inbox (and acknowledged
	// or terminated through the reply subjects).
	if _, err := js.Conn().SubscribeSync("_INBOX_headroom.>"); err != nil {
		t.Fatal(err)
	}
	if err := js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	refused("read the parts' deliveries", "_INBOX_headroom.>")

	// The DLQ read: it holds refused input verbatim.
	ctx, cancel = short()
	_, err = js.OrderedConsumer(ctx, "DLQ", jetstream.OrderedConsumerConfig{})
	cancel()
	if err == nil {
		t.Fatal("the observer read the DLQ")
	}
	refused("read the DLQ", "$JS.API.CONSUMER.CREATE.DLQ")
}
