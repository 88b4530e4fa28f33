package bus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// gatedStage is a toy stage whose outputs cannot be stored while down: it
// holds at most bound of them, and past that refuses its input through the
// gate until up is called, which stores what it holds and opens the gate.
type gatedStage struct {
	gate  *bus.Gate
	bound int

	mu        sync.Mutex
	down      bool
	held      int
	calls     int      // handler calls, refusals included
	taken     []int    // the ticks taken, in the order taken
	delivered []uint64 // each taken tick's delivery count
}

func (s *gatedStage) handle(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
	var tick proto.Metrics
	if err := proto.Decode(m.Data, &tick); err != nil {
		return nil, bus.Permanent(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down && s.held >= s.bound {
		return nil, s.gate.Refuse("outputs", fmt.Errorf("holding %d outputs not stored", s.held))
	}
	if s.down {
		s.held++
	}
	s.taken = append(s.taken, int(tick.Values["rps"]))
	s.delivered = append(s.delivered, m.Delivered)
	return nil, nil
}

func (s *gatedStage) up() {
	s.mu.Lock()
	s.down, s.held = false, 0
	s.mu.Unlock()
	s.gate.Open()
}

func (s *gatedStage) state() (calls int, taken []int, delivered []uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, slices.Clone(s.taken), slices.Clone(s.delivered)
}

// gatedBus connects a bus to a fresh JetStream server, its streams made,
// logging to the returned lines and counting in the returned registry.
func gatedBus(t *testing.T) (*bus.Bus, *natstest.Logs, *prometheus.Registry) {
	t.Helper()
	logs := &natstest.Logs{}
	reg := prometheus.NewRegistry()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.GroupCheck = natstest.RunJetStream(t), "gated", 200*time.Millisecond
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b, logs, reg
}

// publishRange stores ticks from to to (tick i's rps is i). It may be
// called off the test's goroutine: it reports with t.Error.
func publishRange(t *testing.T, b *bus.Bus, from, to int) {
	var outs []bus.Out
	for i := from; i < to; i++ {
		outs = append(outs, tick(i))
	}
	if err := b.PublishAll(context.Background(), outs); err != nil {
		t.Error(err)
	}
}

// consumeGated runs b.Consume(spec, h) until the test ends, failing it if
// Consume returns anything but the end of its context.
func consumeGated(t *testing.T, b *bus.Bus, spec bus.ConsumerSpec, h bus.Handler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, spec, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	})
}

// checkTakenOnce checks, once the gate has opened and the consumer
// drained, that the stage took every one of the n ticks once, in stream
// order, on its first delivery or (sent as the consumer paused) its
// second, and that nothing was dead-lettered: an outage that counted
// deliveries against MaxDeliver fails it.
func (s *gatedStage) checkTakenOnce(t *testing.T, reg *prometheus.Registry, n int) {
	t.Helper()
	_, taken, delivered := s.state()
	for i, got := range taken {
		if got != i {
			t.Fatalf("tick %d taken as the %dth, want every tick once in stream order: %v", got, i, taken)
		}
	}
	if len(taken) != n {
		t.Fatalf("%d ticks taken, want %d: %v", len(taken), n, taken)
	}
	for i, d := range delivered {
		if d > 2 {
			t.Errorf("tick %d taken on delivery %d, want its first or (sent as the consumer paused) second: the outage counted deliveries against MaxDeliver", i, d)
		}
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_bus_dead_letters_total"); got != 0 {
		t.Errorf("%v inputs dead-lettered, want none", got)
	}
}

// TestGateHoldsInputThroughAnOutage: a stage whose outputs cannot be
// stored refuses its input through its gate once it holds its bound, for
// an outage many times longer than MaxDeliver's redeliveries (3, 10 ms
// apart) and than AckWait (1 s). Its consumer stops fetching (the handler
// is called once past the bound, not again until the gate opens), keeps
// what it fetched in progress, and once the gate opens hands every message
// to the handler exactly once, in stream order: what the client held on
// its first delivery, what the server was sending as the consumer stopped
// (lost in flight, as the subscription went) on its second at most,
// however long the outage, and nothing dead-lettered. A plain consumer
// and a group's partition consumer alike. Before the gate (a refusal was
// an ordinary handler error), the inputs past the bound were dead-lettered
// within MaxDeliver's delays and never taken.
func TestGateHoldsInputThroughAnOutage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group bool
	}{
		{"consumer", false},
		{"group", true},
	} {
		t.Run(tc.name, func(t *testing.T) { gateThroughOutage(t, tc.group) })
	}
}

func gateThroughOutage(t *testing.T, group bool) {
	const n, bound = 120, 5
	const outage = 4 * time.Second // four AckWaits
	b, logs, reg := gatedBus(t)
	publishRange(t, b, 0, n)

	s := &gatedStage{gate: b.NewGate("forecaster", "outputs"), bound: bound, down: true}
	spec := bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, Gate: s.gate,
		MaxDeliver: 3, NakDelay: 10 * time.Millisecond, AckWait: time.Second}
	if group {
		spec.Group = &bus.GroupSpec{}
	}
	consumeGated(t, b, spec, s.handle)

	paused := func() float64 {
		v, _ := metricstest.Sum(t, reg, "headroom_bus_input_paused", "service", "forecaster", "reason", "outputs")
		return v
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		if calls, _, _ := s.state(); calls <= bound || paused() != 1 {
			return fmt.Errorf("%d handler calls, paused %v: want the bound passed and the input paused", calls, paused())
		}
		return nil
	})
	// The outage lasts: what the consumer fetched waits for it, in
	// progress, and nothing more is fetched or redelivered meanwhile.
	time.Sleep(outage)
	calls, taken, _ := s.state()
	if len(taken) != bound || calls != bound+1 {
		t.Errorf("%d handler calls took %d ticks during the outage, want %d calls taking %d: the paused consumer went on delivering",
			calls, len(taken), bound+1, bound)
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_bus_dead_letters_total"); got != 0 {
		t.Errorf("%v inputs dead-lettered during the outage, want none", got)
	}

	s.up()
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, taken, _ := s.state(); len(taken) < n {
			return fmt.Errorf("%d of %d ticks taken", len(taken), n)
		}
		return nil
	})
	natstest.Eventually(t, 30*time.Second, func() error {
		if group {
			return natstest.GroupDrained(context.Background(), b, "METRICS", "forecaster")
		}
		c, err := natstest.JetStream(t, b).Consumer(context.Background(), "METRICS", "forecaster")
		if err != nil {
			return err
		}
		if info := c.CachedInfo(); info.NumPending > 0 || info.NumAckPending > 0 {
			return fmt.Errorf("%d pending, %d awaiting ack", info.NumPending, info.NumAckPending)
		}
		return nil
	})
	s.checkTakenOnce(t, reg, n)
	if dl := natstest.Payloads(t, b, "DLQ", "apm.dlq.forecaster"); len(dl) != 0 {
		t.Errorf("%d dead letters stored, want none", len(dl))
	}
	if v := paused(); v != 0 {
		t.Errorf("headroom_bus_input_paused = %v once resumed, want 0", v)
	}
	if p, r := len(logs.Lines(t, "input paused: its consumers stop fetching and keep what they fetched, unacknowledged, until the service can take input again")),
		len(logs.Lines(t, "input resumed")); p != 1 || r != 1 {
		t.Errorf("%d pause and %d resume lines logged, want one of each", p, r)
	}
}
