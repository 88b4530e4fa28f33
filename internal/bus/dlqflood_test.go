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

// TestDeadLetterFloodLogsBounded: a flood of messages a handler refuses
// for good (a sender's series past a stage's limits, say) stores every one
// in the DLQ and counts every one, but warns of only a few: the log is not
// a second, unbounded copy of the DLQ.
func TestDeadLetterFloodLogsBounded(t *testing.T) {
	const n = 200
	var logs natstest.Logs
	reg := prometheus.NewRegistry()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = natstest.RunJetStream(t), "flood"
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(&logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := b.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	began := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, MaxDeliver: 2, NakDelay: time.Millisecond},
			func(context.Context, *bus.Msg) ([]bus.Out, error) {
				return nil, bus.Permanent(errors.New("series past the limit"))
			})
	}()
	natstest.Eventually(t, 30*time.Second, func() error {
		if got, _ := metricstest.Sum(t, reg, "headroom_bus_dead_letters_total"); got != n {
			return fmt.Errorf("%v dead letters", got)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	// At most 10 lines in each 10 s the flood lasted (a slow machine
	// stretches it over more periods).
	most := 10 * (int(time.Since(began)/(10*time.Second)) + 1)
	if lines := logs.Lines(t, "sent to dlq"); len(lines) == 0 || len(lines) > most || len(lines) >= n {
		t.Errorf("%d messages dead-lettered logged %d warnings, want 1 to %d", n, len(lines), min(most, n-1))
	}
}
