package bus_test

import (
	"context"
	"errors"
	"fmt"
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

// TestGateClosedDuringTakeOverTopUp: a partition's take-over is topped up
// on its first live delivery with what was stored after its rebuild's
// count, and the stage's gate closes on that top-up. The consumer must
// pause as for a live refusal, and once the gate opens take the partition
// over from where the top-up stopped: every tick once, in stream order,
// including those stored during the outage, nothing dead-lettered. Before
// the fix the top-up waited for the gate inside the delivery callback: the
// consumer went on fetching, what its client held (the ticks stored
// during the outage) was redelivered each AckWait and handled once per
// delivery.
func TestGateClosedDuringTakeOverTopUp(t *testing.T) {
	const first, later, during, bound = 5, 55, 20, 10
	const n = first + later + during
	const outage = 4 * time.Second
	var logs natstest.Logs
	reg := prometheus.NewRegistry()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.GroupCheck = natstest.RunJetStream(t), "gated", 200*time.Millisecond
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(&logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		var outs []bus.Out
		for i := from; i < to; i++ {
			outs = append(outs, tick(i))
		}
		if err := b.PublishAll(context.Background(), outs); err != nil {
			t.Error(err)
		}
	}
	publish(0, first)
	s := &gatedStage{gate: b.NewGate("forecaster", "outputs"), bound: bound, down: true}
	// The take-over's rebuild replays the first ticks; the later ones are
	// stored as it handles its last, after it read where to end, for the
	// top-up on the first live delivery.
	var once sync.Once
	h := func(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
		if m.Seq == first {
			once.Do(func() { publish(first, first+later) })
		}
		return s.handle(ctx, m)
	}
	spec := bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, Gate: s.gate,
		MaxDeliver: 3, NakDelay: 10 * time.Millisecond, AckWait: time.Second, Group: &bus.GroupSpec{Rebuild: true}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, spec, h) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}()

	natstest.Eventually(t, 30*time.Second, func() error {
		if calls, _, _ := s.state(); calls <= bound || s.gate.Paused() == "" {
			return fmt.Errorf("%d handler calls, gate %q: want the top-up refused", calls, s.gate.Paused())
		}
		return nil
	})
	publish(first+later, n)
	time.Sleep(outage) // the outage's length, four AckWaits: nothing is awaited
	if calls, taken, _ := s.state(); len(taken) != bound || calls != bound+1 {
		t.Errorf("%d handler calls took %d ticks during the outage, want %d calls taking %d", calls, len(taken), bound+1, bound)
	}
	s.up()
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, taken, _ := s.state(); len(taken) < n {
			return fmt.Errorf("%d of %d ticks taken", len(taken), n)
		}
		return natstest.GroupDrained(context.Background(), b, "METRICS", "forecaster")
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
