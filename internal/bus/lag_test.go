package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// lagGauge reads one consumer's lag gauge from reg (ok false: not set yet).
func lagGauge(t *testing.T, reg *prometheus.Registry, name, consumer string) (float64, bool) {
	t.Helper()
	return metricstest.Sum(t, reg, name, "consumer", consumer)
}

// TestConsumerLag: a durable consumer exports its pending messages while it
// is behind, and once caught up: no pending, no event-time lag, and the event
// time of the last message it got.
func TestConsumerLag(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	reg := prometheus.NewRegistry()
	bus.RegisterLag(reg)
	for i := range 5 {
		if err := b.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "lagtest", Name: "lagtest", Kind: proto.KindMetrics},
			func(ctx context.Context, _ *bus.Msg) ([]bus.Out, error) {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil, nil
			})
	}()
	t.Cleanup(func() { cancel(); <-done })
	natstest.Eventually(t, 15*time.Second, func() error {
		if v, ok := lagGauge(t, reg, "headroom_bus_consumer_pending_messages", "lagtest"); !ok || v < 1 {
			return fmt.Errorf("pending %v (set %v), want ≥ 1 while the handler is stuck", v, ok)
		}
		return nil
	})
	close(release)
	natstest.Eventually(t, 15*time.Second, func() error {
		p, _ := lagGauge(t, reg, "headroom_bus_consumer_pending_messages", "lagtest")
		e, _ := lagGauge(t, reg, "headroom_bus_consumer_event_lag_seconds", "lagtest")
		last, _ := lagGauge(t, reg, "headroom_bus_consumer_last_event_time_seconds", "lagtest")
		if p != 0 || e != 0 || last != float64(t0.Add(4*time.Minute).Unix()) {
			return fmt.Errorf("pending %v, event lag %v s, last event %v", p, e, last)
		}
		return nil
	})
}

// TestConsumerEventLagFromOldestUnacknowledged: the event-time lag gauge
// reads as the gateway's health answer does, from the oldest message the
// consumer has not acknowledged to the newest on its filters: a member
// holding the first of five ticks in work, the other four pulled with it,
// is four minutes behind. Read from the last message delivered (the fifth),
// it looked caught up.
func TestConsumerEventLagFromOldestUnacknowledged(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	reg := prometheus.NewRegistry()
	bus.RegisterLag(reg)
	for i := range 5 {
		if err := b.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "laghold", Name: "laghold", Kind: proto.KindMetrics,
			Filters: []string{proto.AppFilter("apm", proto.KindMetrics, "shop")}},
			func(ctx context.Context, _ *bus.Msg) ([]bus.Out, error) {
				<-ctx.Done() // the first tick stays in work until the test ends
				return nil, ctx.Err()
			})
	}()
	t.Cleanup(func() { cancel(); <-done })
	want := (4 * time.Minute).Seconds()
	natstest.Eventually(t, 20*time.Second, func() error {
		p, _ := lagGauge(t, reg, "headroom_bus_consumer_pending_messages", "laghold")
		e, ok := lagGauge(t, reg, "headroom_bus_consumer_event_lag_seconds", "laghold")
		if p != 5 || !ok || e != want {
			return fmt.Errorf("pending %v, event lag %v s (set %v), want 5 and %v s", p, e, ok, want)
		}
		return nil
	})
}
