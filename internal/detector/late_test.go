package detector

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestLateTicksCounted: a tick its tier has already passed is not scored,
// and it is counted on the service's registry, a redelivery (the time of
// the tier's last tick) apart from a tick out of order (older than it),
// both series present from the start.
func TestLateTicksCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(DefaultConfig(), service.Deps{Log: zerolog.Nop(), Reg: reg, Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	// Both reasons' series exist at 0 before any tick, as the forecaster's
	// and the decider's, so a rule on increase() sees the first.
	if got := metricstest.ByLabel(t, reg, "headroom_anomaly_late_ticks_total", "reason"); len(got) != 2 || got["redelivered"] != 0 || got["late"] != 0 {
		t.Fatalf("headroom_anomaly_late_ticks_total by reason before any tick = %v, want redelivered 0, late 0", got)
	}
	at := func(min int) *proto.Metrics {
		return proto.NewMetrics("shop", "web", t0.Add(time.Duration(min)*time.Minute), 1, map[string]float64{"rps": 1})
	}
	for _, c := range []struct {
		tick   *proto.Metrics
		scored bool
	}{
		{at(0), true}, {at(2), true},
		{at(2), false}, // redelivered
		{at(1), false}, // out of order
		{at(0), false}, // out of order
		{at(3), true},
	} {
		out, err := s.step(c.tick)
		if err != nil {
			t.Fatal(err)
		}
		if (out != nil) != c.scored {
			t.Fatalf("tick %s: scored %v, want %v", c.tick.EventTime().Format(time.TimeOnly), out != nil, c.scored)
		}
	}
	got := metricstest.ByLabel(t, reg, "headroom_anomaly_late_ticks_total", "reason")
	if got["redelivered"] != 1 || got["late"] != 2 || len(got) != 2 {
		t.Fatalf("headroom_anomaly_late_ticks_total by reason = %v, want redelivered 1, late 2", got)
	}
}
