package executor_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// gateDriver is a real driver's stand-in that records each scale it is
// asked for (tier:replicas) and holds the calls for tier hold until open
// is closed, as a driver stuck on a slow API would.
type gateDriver struct {
	hold    string
	open    chan struct{}
	entered chan struct{} // closed when a call for tier hold has begun

	mu     sync.Mutex
	scales []string
	once   sync.Once
}

func newGateDriver(hold string) *gateDriver {
	return &gateDriver{hold: hold, open: make(chan struct{}), entered: make(chan struct{})}
}

func (g *gateDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	g.mu.Lock()
	g.scales = append(g.scales, fmt.Sprintf("%s:%d", r.Tier, r.Replicas))
	g.mu.Unlock()
	if r.Tier == g.hold {
		g.once.Do(func() { close(g.entered) })
		<-g.open
	}
	return executor.Result{Ready: r.Replicas}, nil
}

func (g *gateDriver) scaled() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.scales)
}

// TestRegainedPinReadsTheTierAfresh: member A holds the partition of app
// shop and has acted on its web tier (1→3). A driver call of A's then
// stalls, and the server takes A's pin while its partition worker goes on
// (a busy member renews its pin, so only a leader change or a member cut
// off from the server loses it; the test unpins); member B, which believes it owns the
// partition (a split view of the group), is pinned instead and acts on
// the tier's next decision (3→5). Once B has stopped and A's call ends, A
// is pinned again, without taking the partition over afresh, and handles
// the decisions after (a hold, then 5→3): it must start from the tier's
// state as B left it. The hold records 5 replicas, and the down to 3
// after it is carried out, not taken as "already running that count"
// from A's 3.
func TestRegainedPinReadsTheTierAfresh(t *testing.T) {
	h := newHarness(t)
	cfg := executor.DefaultConfig()
	cfg.Authority = map[string][]string{"shop": {"web", "api"}}
	a := newGateDriver("api")
	var opened sync.Once
	release := func() { opened.Do(func() { close(a.open) }) }
	reg := prometheus.NewRegistry()
	h.startWith(cfg, nil, reg, executor.WithDriver("gate", a))
	// Cleanups run last first: the call is let go before the executor
	// stops, so a test that fails does not leave it stuck.
	t.Cleanup(release)

	web := func(m, from, to int) *proto.Decision { return decision("shop", m, from, to) }
	d1 := web(0, 1, 3)
	h.publish(d1)
	h.waitState(d1)
	if got := a.scaled(); !slices.Equal(got, []string{"web:3"}) {
		t.Fatalf("A scaled %v, want [web:3]", got)
	}

	// A's call for the api tier (same app, same partition) stalls.
	stall := decision("shop", 1, 1, 2)
	stall.Tier, stall.ID, stall.Reason = "api", proto.DecisionID("shop", "api", stall.TS), "api 1→2"
	h.publish(stall)
	select {
	case <-a.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("A's driver was not asked for the api tier in 10s")
	}
	h.unpin(proto.DecisionSubject("apm", "shop", "web"))

	// B, in a group of its own, takes the unpinned partition and acts.
	b := newGateDriver("")
	stopB := h.startAside(cfg, executor.WithDriver("gate", b), executor.WithGroup("executor-b"))
	d2 := web(2, 3, 5)
	h.publish(d2)
	if st := h.waitState(d2); st.Desired != 5 {
		t.Fatalf("state after B's decision %+v, want 5 desired", st)
	}
	if got := b.scaled(); !slices.Equal(got, []string{"web:5"}) {
		t.Fatalf("B scaled %v, want [web:5]", got)
	}
	stopB()

	// A's call ends; A is pinned again with the next decision.
	release()
	h.waitState(stall)
	// A hold records the tier as B left it, not as A held it.
	d3 := web(3, 5, 5)
	h.publish(d3)
	if st := h.waitState(d3); st.Desired != 5 || st.Ready != 5 {
		t.Fatalf("state after the hold %+v, want 5 desired and ready (B's): A recorded its view of before B's change", st)
	}
	d4 := web(4, 5, 3)
	h.publish(d4)
	h.waitState(d4)
	if got, want := a.scaled(), []string{"web:3", "api:2", "web:3"}; !slices.Equal(got, want) {
		t.Fatalf("A scaled %v, want %v: after its pin came back it acted from the tier's state before B's change", got, want)
	}
	// A read the tier afresh when pinned again (Repinned), not only once
	// its hold's record met B's (a conflict, judged again).
	conflicts(t, reg, 0)
}

// unpin has the server take the pin of the executors' partition durable
// that subject's decisions go to, and waits until none holds it. A busy
// member renews its pin (the bus's pin keeper), so a stall alone no
// longer loses it: the server takes it, as on a leader change or when
// the member is cut off from it.
func (h *harness) unpin(subject string) {
	t := h.t
	t.Helper()
	stream := proto.StreamName("apm", proto.KindDecision)
	durable := natstest.PartitionDurable(t, h.b, stream, "executor", subject)
	js := natstest.JetStream(t, h.b)
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UnpinConsumer(context.Background(), durable, "members"); err != nil {
		t.Fatalf("unpin %s: %v", durable, err)
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		c, err := js.Consumer(context.Background(), stream, durable)
		if err != nil {
			return err
		}
		for _, pg := range c.CachedInfo().PriorityGroups {
			if pg.PinnedClientID != "" {
				return fmt.Errorf("%s still pinned to %s", durable, pg.PinnedClientID)
			}
		}
		return nil
	})
}

// startAside runs an executor as start does but without waiting for it to
// be ready: a member of another group is ready only once it holds every
// partition, and the first group's member holds the others.
func (h *harness) startAside(cfg executor.Config, opts ...executor.Option) (stop func()) {
	h.t.Helper()
	clock := executor.WithClock(func() time.Time { return proto.Time(h.latest.Load()) })
	s, err := executor.New(cfg, service.Deps{Bus: h.connect("executor-aside"), Log: zerolog.New(zerolog.NewTestWriter(h.t)),
		Reg: prometheus.NewRegistry(), Ready: service.NewReady()}, append([]executor.Option{clock}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	return natstest.Serve(h.t, "executor-aside", s.Run)
}

// TestChangeDecidedFromTheBucketsState: a member handling the messages
// its client received under a pin it has since lost (its handler stalled
// past PinnedTTL) is not told of the other member pinned meanwhile, which
// may act on the same tier. Before it decides a change from the state it
// holds, it checks the bucket: here the other member's state (it scaled
// the tier 3→5) replaces the held one (3), and the down to 3 that follows
// is carried out, not taken as "already running that count". Holds do not
// check: they act on nothing.
func TestChangeDecidedFromTheBucketsState(t *testing.T) {
	h := newHarness(t)
	cfg := authorised(executor.DefaultConfig())
	a := newGateDriver("")
	reg := prometheus.NewRegistry()
	h.startWith(cfg, nil, reg, executor.WithDriver("gate", a))
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	h.waitState(d1)

	// The other member's state after acting on the minute-2 decision.
	d2 := decision("shop", 2, 3, 5)
	data, err := proto.Encode(&proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: d2.TS, Desired: 5, Ready: 5, DecisionID: d2.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.kv.Put(context.Background(), proto.ReplicaKey("shop", "web"), data); err != nil {
		t.Fatal(err)
	}
	d3 := decision("shop", 3, 5, 3)
	h.publish(d3)
	if st := h.waitState(d3); st.Desired != 3 || st.Ready != 3 {
		t.Fatalf("state after the down %+v, want 3 desired and ready", st)
	}
	if got, want := a.scaled(), []string{"web:3", "web:3"}; !slices.Equal(got, want) {
		t.Fatalf("scaled %v, want %v: the down was decided from the held state, not the bucket's", got, want)
	}
	// Found before the driver acted, not when the state was recorded.
	conflicts(t, reg, 0)
}
