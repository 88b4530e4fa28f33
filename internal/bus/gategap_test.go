package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestGateClosedDuringGapTopUp: a delivery lost in flight (tick lost's)
// is topped up from the stream before the next one, and the stage's gate
// closes on that top-up. The consumer must then pause as it does for a
// live refusal: stop fetching, and keep the message in hand and what it
// fetched in progress, so that once the gate opens every tick is taken
// once, in stream order, on its first or second delivery, and nothing is
// dead-lettered. Before the fix the top-up waited for the gate inside the
// delivery callback: the consumer went on fetching, and what its client
// held, never told the server it was in progress, was redelivered each
// AckWait (1 s) of a four-second outage and taken again, out of order.
func TestGateClosedDuringGapTopUp(t *testing.T) {
	const n, lost = 60, 10 // tick lost (stream sequence lost+1) is lost in flight; the stage holds lost outputs
	const outage = 4 * time.Second
	t.Cleanup(bus.LoseDelivery(func(_ string, seq, delivered uint64) bool { return delivered == 1 && seq == lost+1 }))
	var logs natstest.Logs
	reg := prometheus.NewRegistry()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = natstest.RunJetStream(t), "gated"
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(&logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	var outs []bus.Out
	for i := range n {
		outs = append(outs, tick(i))
	}
	if err := b.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}

	s := &gatedStage{gate: b.NewGate("forecaster", "outputs"), bound: lost, down: true}
	spec := bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, Gate: s.gate,
		MaxDeliver: 3, NakDelay: 10 * time.Millisecond, AckWait: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, spec, s.handle) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}()

	natstest.Eventually(t, 30*time.Second, func() error {
		if calls, _, _ := s.state(); calls <= lost || s.gate.Paused() == "" {
			return fmt.Errorf("%d handler calls, gate %q: want the top-up refused", calls, s.gate.Paused())
		}
		return nil
	})
	time.Sleep(outage) // the outage's length, four AckWaits: nothing is awaited
	if calls, taken, _ := s.state(); len(taken) != lost || calls != lost+1 {
		t.Errorf("%d handler calls took %d ticks during the outage, want %d calls taking %d", calls, len(taken), lost+1, lost)
	}
	s.up()
	natstest.Eventually(t, 30*time.Second, func() error {
		c, err := natstest.JetStream(t, b).Consumer(context.Background(), "METRICS", "forecaster")
		if err != nil {
			return err
		}
		if info := c.CachedInfo(); info.NumPending > 0 || info.NumAckPending > 0 {
			return fmt.Errorf("%d pending, %d awaiting ack", info.NumPending, info.NumAckPending)
		}
		if _, taken, _ := s.state(); len(taken) < n {
			return fmt.Errorf("%d of %d ticks taken", len(taken), n)
		}
		return nil
	})
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
			t.Errorf("tick %d taken on delivery %d, want its first or second: the outage counted deliveries", i, d)
		}
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_bus_dead_letters_total"); got != 0 {
		t.Errorf("%v inputs dead-lettered, want none", got)
	}
}
