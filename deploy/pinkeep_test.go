package deploy_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestNATSConfBusyMemberKeepsItsPin: under deploy/nats.conf a service
// member busy with a backlog renews its partition's pin from its own
// account (the bus's pin renewals are pull requests on its durable,
// answered through HEADROOM's stream export on its own inbox), so the pin
// outlives PinnedTTL (10 s) although the client's next pull comes only
// after 257 messages, 13 s of work here. A rival reader of the durable
// under the same user, which the server would pin once the pin lapsed,
// gets nothing; the member is never pinned afresh; no renewal is refused
// (a refusal is an async permissions error in the bus's log).
func TestNATSConfBusyMemberKeepsItsPin(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run past PinnedTTL")
	}
	const (
		user = "forecaster"
		// More than the client's first batch of 512, so that the server
		// has messages for whoever holds the pin once it lapses.
		backlog = 700
		work    = 50 * time.Millisecond // a message, for the first slow ones
		slow    = 300                   // 257 of them: 12.9 s, past the 10 s PinnedTTL
	)
	ctx := context.Background()
	url := runConfiguredServer(t)
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	subject := proto.MetricsSubject("apm", "shop", "web")
	ts := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	outs := make([]bus.Out, backlog)
	for i := range outs {
		outs[i] = bus.Out{Subject: subject,
			Msg: proto.NewMetrics("shop", "web", ts.Add(time.Duration(i)*time.Minute), 3, map[string]float64{"rps": float64(i)})}
	}
	if err := connectAs(t, url, "collector").PublishAll(ctx, outs); err != nil {
		t.Fatal(err)
	}
	durable := natstest.PartitionDurable(t, admin, "METRICS", user, subject)

	var logs natstest.Logs
	b := connectLogged(t, url, user, zerolog.New(&logs).Level(zerolog.WarnLevel))
	var mu sync.Mutex
	var handled []int
	var repinned int
	natstest.Serve(t, user, func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: user, Name: user, Kind: proto.KindMetrics,
			Group: &bus.GroupSpec{Repinned: func(int) {
				mu.Lock()
				defer mu.Unlock()
				repinned++
			}}},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				var in proto.Metrics
				if err := proto.Decode(m.Data, &in); err != nil {
					return nil, bus.Permanent(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(handled) < slow {
					time.Sleep(work) // the simulated work, not a synchronisation
				}
				handled = append(handled, int(in.Values["rps"]))
				return nil, nil
			})
	})
	natstest.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(handled) == 0 {
			return fmt.Errorf("nothing handled yet")
		}
		return nil
	})
	// The rival: the same user's plain client on the same durable and
	// priority group, without a pin id.
	nc := probe(t, url, user)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(ctx, "METRICS", durable)
	if err != nil {
		t.Fatal(err)
	}
	var stolen atomic.Int64
	cc, err := cons.Consume(func(jetstream.Msg) { stolen.Add(1) },
		jetstream.PullPriorityGroup("members"), jetstream.PullExpiry(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	natstest.Eventually(t, 60*time.Second, func() error {
		if stolen.Load() > 0 {
			return nil // reported below
		}
		mu.Lock()
		defer mu.Unlock()
		if len(handled) < backlog {
			return fmt.Errorf("%d of %d handled", len(handled), backlog)
		}
		return nil
	})
	if n := stolen.Load(); n > 0 {
		t.Fatalf("a rival reader of %s got %d messages while the member worked through its backlog", durable, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if repinned != 0 {
		t.Errorf("pinned afresh %d times while working through a backlog of %d, want 0", repinned, backlog)
	}
	for i, v := range handled {
		if v != i {
			t.Fatalf("tick %d handled at %d, want each once in order", v, i)
		}
	}
	if errs := logs.Lines(t, "nats async error"); len(errs) > 0 {
		t.Errorf("%s's connection reported %v", user, errs)
	}
}
