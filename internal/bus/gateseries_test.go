package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestGatesShareTheirPausedSeries: gates of one service name, on one bus
// or on two buses sharing a registry (a process's services), share a
// series of headroom_bus_input_paused, which must stay 1 while any of them
// is closed for its reason. Before, each gate set it: the first to open
// set it to 0 while the others were still closed, and a store failing for
// one input of the service paused it unseen.
func TestGatesShareTheirPausedSeries(t *testing.T) {
	url, reg := natstest.RunJetStream(t), prometheus.NewRegistry()
	connect := func(name string) *bus.Bus {
		cfg := bus.DefaultConfig()
		cfg.URL, cfg.Name = url, name
		b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), reg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		return b
	}
	b, b2 := connect("gated"), connect("gated-2")

	gates := []*bus.Gate{b.NewGate("decider", "app", "member"), b.NewGate("decider", "app", "member"), b2.NewGate("decider", "app", "member")}
	other := b.NewGate("forecaster", "app")
	paused := func(service, reason string) float64 {
		v, _ := metricstest.Sum(t, reg, "headroom_bus_input_paused", "service", service, "reason", reason)
		return v
	}
	for _, g := range gates {
		_ = g.Refuse("app", nil)
	}
	_ = gates[0].Refuse("member", nil) // closed already: stays closed for app
	_ = other.Refuse("app", nil)
	other.Open()
	for i, g := range gates {
		if got := paused("decider", "app"); got != 1 {
			t.Fatalf("%d of %d gates closed for app: paused{decider,app} = %v, want 1", len(gates)-i, len(gates), got)
		}
		g.Open()
	}
	if got := paused("decider", "app"); got != 0 {
		t.Errorf("every gate open: paused{decider,app} = %v, want 0", got)
	}
	if got := paused("decider", "member"); got != 0 {
		t.Errorf("paused{decider,member} = %v, want 0: no gate closed for member", got)
	}
	gates[1].Open() // open already: counts nothing
	_ = gates[2].Refuse("member", nil)
	if got := paused("decider", "member"); got != 1 {
		t.Errorf("a gate closed for member: paused{decider,member} = %v, want 1", got)
	}
	gates[2].Open()
	if got := paused("decider", "app") + paused("decider", "member"); got != 0 {
		t.Errorf("every gate open: paused{decider} sums %v, want 0", got)
	}
}

// TestGatesOfAnotherRegistry: the count of closed gates behind a series
// of headroom_bus_input_paused belongs to its registry: a gate of the
// same service on a bus with a registry of its own (another process's
// services, in tests) neither holds the series at 1 nor clears it.
func TestGatesOfAnotherRegistry(t *testing.T) {
	url := natstest.RunJetStream(t)
	connect := func(reg *prometheus.Registry) *bus.Bus {
		cfg := bus.DefaultConfig()
		cfg.URL, cfg.Name = url, "gated"
		b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), reg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		return b
	}
	reg, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
	g, g2 := connect(reg).NewGate("decider", "app"), connect(reg2).NewGate("decider", "app")
	paused := func(reg *prometheus.Registry) float64 {
		v, _ := metricstest.Sum(t, reg, "headroom_bus_input_paused", "service", "decider", "reason", "app")
		return v
	}
	_ = g.Refuse("app", nil)
	_ = g2.Refuse("app", nil)
	g2.Open()
	if got, got2 := paused(reg), paused(reg2); got != 1 || got2 != 0 {
		t.Errorf("one gate closed on each registry, the second opened: paused %v and %v, want 1 and 0", got, got2)
	}
	_ = g2.Refuse("app", nil)
	g.Open()
	if got, got2 := paused(reg), paused(reg2); got != 0 || got2 != 1 {
		t.Errorf("the first opened, the second closed again: paused %v and %v, want 0 and 1", got, got2)
	}
}
