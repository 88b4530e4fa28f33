package bus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestFailedTakeOverKeepsItsFirstMessage: a partition's take-over is
// topped up on its first live delivery, and the top-up's reads fail (the
// server silent) until every message of the partition was delivered, and
// nakked, past the consumer's MaxDeliver. Once the reads succeed, every
// tick is handled once and nothing is dead-lettered: each delivery a
// failed take-over nakked is at or below what the top-up then handles,
// acknowledged unhandled, never judged against MaxDeliver (5 dead letters
// if it were: a MaxDeliver check moved before the top-up's skip).
func TestFailedTakeOverKeepsItsFirstMessage(t *testing.T) {
	const first, later, maxDeliver = 3, 2, 3
	logs := &natstest.Logs{}
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = natstest.RunJetStream(t), "test"
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), logs)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	publishTicks := func(from, to int) {
		t.Helper()
		var outs []bus.Out
		for i := from; i < to; i++ {
			outs = append(outs, tick(i))
		}
		if err := b.PublishAll(context.Background(), outs); err != nil {
			t.Fatal(err)
		}
	}
	publishTicks(0, first)
	var mu sync.Mutex
	seen := map[float64]int{}
	h := func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
		var v proto.Metrics
		if err := b.Decode(m, proto.KindMetrics, &v); err != nil {
			return nil, err
		}
		mu.Lock()
		seen[v.Values["rps"]]++
		mu.Unlock()
		return nil, nil
	}
	handled := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	started := make(chan struct{})
	spec := bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics,
		MaxDeliver: maxDeliver, NakDelay: 10 * time.Millisecond, AckWait: 2 * time.Second,
		Started: func() { close(started) }, Group: &bus.GroupSpec{Rebuild: true}}
	// Each failed top-up asks 3 times; restored once the consumer
	// stopped (cleanups run last first).
	t.Cleanup(bus.SilenceDirectGets(0))
	consumeGated(t, b, spec, h)
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("not consuming in 30s")
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := handled(); n != first {
			return fmt.Errorf("%d ticks rebuilt, want %d", n, first)
		}
		return nil
	})
	// The live deliveries start at the partition's first message (the
	// rebuild acknowledges none): each of the 5 delivered past
	// MaxDeliver, its deliveries taken by failed take-overs.
	const failures = (first + later + 1) * maxDeliver
	silenced := bus.SilenceDirectGets(3 * failures)
	t.Cleanup(silenced)
	publishTicks(first, first+later)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := len(logs.Lines(t, "cannot take the partition over yet, will retry")); n < failures {
			return fmt.Errorf("%d failed take-overs, want %d", n, failures)
		}
		return nil
	})
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := handled(); n != first+later {
			return fmt.Errorf("%d of %d ticks handled", n, first+later)
		}
		return natstest.GroupDrained(context.Background(), b, "METRICS", "forecaster")
	})
	if n := len(natstest.Payloads(t, b, "DLQ", "apm.dlq.>")); n > 0 {
		t.Errorf("%d dead letters, want none", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for v, n := range seen {
		if n != 1 {
			t.Errorf("tick %v handled %d times, want once", v, n)
		}
	}
}
