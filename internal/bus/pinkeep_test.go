package bus_test

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

// TestBusyMemberKeepsItsPin: a group member working through a backlog
// keeps its partition's pin however long the client's buffer takes to
// handle. Only a pull request renews a pin, and the client sends the next
// one only once half its buffer (257 of 512 messages) is handled: here
// that takes longer than PinnedTTL, so without a renewal of its own the
// pin lapses mid-backlog and the next pull is pinned afresh (Repinned). A
// rival reading the same durable meanwhile (a member that believes the
// partition is its own) would get the pin there and the partition's
// messages: it gets none. The renewals take no message from the member's
// pulls either: each is handled once, in order.
func TestBusyMemberKeepsItsPin(t *testing.T) {
	for _, rival := range []bool{false, true} {
		t.Run(fmt.Sprintf("rival=%v", rival), func(t *testing.T) { busyMemberKeepsItsPin(t, rival) })
	}
}

func busyMemberKeepsItsPin(t *testing.T, rival bool) {
	const (
		ttl     = 2 * time.Second
		backlog = 700
		// Simulated work per message: 257 of them take 2.6 s, past ttl.
		work = 10 * time.Millisecond
	)
	defer bus.SetPinTimes(ttl, time.Second)()
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "admin", log, true)
	for i := range backlog {
		if err := admin.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var handled []int // the ticks handled, in order
	var repinned int
	b := natstest.Connect(t, url, "svc", log, false)
	natstest.Serve(t, "svc", func(ctx context.Context) error {
		return b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics,
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
				time.Sleep(work)
				mu.Lock()
				defer mu.Unlock()
				handled = append(handled, int(in.Values["rps"]))
				return nil, nil
			})
	})
	var stolen atomic.Int64 // messages the rival received
	if rival {
		// Once the member holds the pin, a rival pulls from the same
		// durable and priority group, without a pin id: the server
		// pins it whenever the member's pin lapses.
		natstest.Eventually(t, 20*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(handled) == 0 {
				return fmt.Errorf("nothing handled yet")
			}
			return nil
		})
		ctx := context.Background()
		durable := natstest.PartitionDurable(t, admin, "METRICS", "svc", proto.MetricsSubject("apm", "shop", "web"))
		s, err := admin.StreamOf(ctx, proto.KindMetrics)
		if err != nil {
			t.Fatal(err)
		}
		cons, err := s.Consumer(ctx, durable)
		if err != nil {
			t.Fatal(err)
		}
		cc, err := cons.Consume(func(jetstream.Msg) { stolen.Add(1) },
			jetstream.PullPriorityGroup(bus.PinGroup), jetstream.PullExpiry(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Stop()
	}
	natstest.Eventually(t, 60*time.Second, func() error {
		if n := stolen.Load(); n > 0 {
			return nil // failed: reported below
		}
		mu.Lock()
		defer mu.Unlock()
		if len(handled) < backlog {
			return fmt.Errorf("%d of %d handled", len(handled), backlog)
		}
		return nil
	})
	if n := stolen.Load(); n > 0 {
		t.Fatalf("a rival reader of the durable got %d messages while the member worked through its backlog", n)
	}
	mu.Lock()
	if repinned != 0 {
		t.Errorf("pinned afresh %d times while working through a backlog of %d, want 0", repinned, backlog)
	}
	for i, v := range handled {
		if v != i {
			mu.Unlock()
			t.Fatalf("handled %v, want 0 … %d once each in order (tick %d at %d)", handled, backlog-1, v, i)
		}
	}
	mu.Unlock()
	// Nor does the server deliver any to a renewal's inbox, where it would
	// wait unacknowledged for its AckWait (the gap tracker tops such a
	// loss up from the stream, in order, so handled alone cannot tell):
	// every delivery is acknowledged, none redelivered.
	durable := natstest.PartitionDurable(t, admin, "METRICS", "svc", proto.MetricsSubject("apm", "shop", "web"))
	cons, err := natstest.JetStream(t, admin).Consumer(context.Background(), "METRICS", durable)
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		info, err := cons.Info(context.Background())
		if err != nil {
			return err
		}
		if info.Delivered.Consumer != backlog || info.AckFloor.Consumer != backlog || info.NumRedelivered != 0 {
			return fmt.Errorf("%s delivered through consumer sequence %d, acknowledged through %d, %d redelivered; want %d, %d and none",
				durable, info.Delivered.Consumer, info.AckFloor.Consumer, info.NumRedelivered, backlog, backlog)
		}
		return nil
	})
}

// TestHungHandlerLetsItsPinGo: a member told to stop (its partition handed
// over) whose handler call never returns cannot finish its drain, so its
// Consume never returns and never unpins. Its pin must still lapse, as it
// did before the renewals, once Consume gives up waiting for the drain: the
// renewals stop there, and the next owner (which waits for no pin to be
// held) can take the partition over.
func TestHungHandlerLetsItsPinGo(t *testing.T) {
	const ttl = 2 * time.Second
	defer bus.SetPinTimes(ttl, time.Second)()
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "admin", log, true)
	for i := range 3 {
		if err := admin.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	b := natstest.Connect(t, url, "svc", log, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics,
			Group: &bus.GroupSpec{}},
			func(context.Context, *bus.Msg) ([]bus.Out, error) {
				select {
				case entered <- struct{}{}:
				default:
				}
				<-release // hung until the test ends
				return nil, nil
			})
	}()
	defer func() {
		cancel()
		close(release)
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Consume did not return once the handler did")
		}
	}()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler was never called")
	}
	durable := natstest.PartitionDurable(t, admin, "METRICS", "svc", proto.MetricsSubject("apm", "shop", "web"))
	cons, err := natstest.JetStream(t, admin).Consumer(context.Background(), "METRICS", durable)
	if err != nil {
		t.Fatal(err)
	}
	pinned := func() (bool, error) {
		info, err := cons.Info(context.Background())
		if err != nil {
			return false, err
		}
		for _, pg := range info.PriorityGroups {
			if pg.PinnedClientID != "" {
				return true, nil
			}
		}
		return false, nil
	}
	// Held while the handler hangs: renewed, though the client pulls no more.
	natstest.Eventually(t, 5*time.Second, func() error {
		if p, err := pinned(); err != nil || !p {
			return fmt.Errorf("%s pinned %v (%v), want pinned", durable, p, err)
		}
		return nil
	})
	cancel() // hand the partition over: the drain waits 10 s for the hung call
	natstest.Eventually(t, 10*time.Second+3*ttl+5*time.Second, func() error {
		if p, err := pinned(); err != nil || p {
			return fmt.Errorf("%s still pinned (%v) with its member stopped and hung", durable, err)
		}
		return nil
	})
}
