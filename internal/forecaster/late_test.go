package forecaster

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestLateTicksCounted: a tick its tier has already passed is not
// forecast, and it is counted on the service's registry, a redelivery (the
// time of the tier's last tick) apart from a tick out of order (older than
// it, as a copy stored again past the duplicate window is); a tick without
// the forecast metric is neither.
func TestLateTicksCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(DefaultConfig(), service.Deps{Log: zerolog.Nop(), Reg: reg, Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	at := func(min int, values map[string]float64) *proto.Metrics {
		return proto.NewMetrics("shop", "web", t0.Add(time.Duration(min)*time.Minute), 1, values)
	}
	rps := map[string]float64{"rps": 1}
	for _, tick := range []*proto.Metrics{
		at(0, rps), at(6, rps),
		at(6, rps),             // redelivered
		at(1, rps), at(0, rps), // out of order: the first opens no bucket again
		at(2, map[string]float64{"cpu": 0.5}), // no rps: not the forecaster's
		at(7, rps),
	} {
		if _, err := s.step(tick); err != nil {
			t.Fatal(err)
		}
	}
	got := metricstest.ByLabel(t, reg, "headroom_forecaster_late_ticks_total", "reason")
	if got["redelivered"] != 1 || got["late"] != 2 || len(got) != 2 {
		t.Fatalf("headroom_forecaster_late_ticks_total by reason = %v, want redelivered 1, late 2", got)
	}
}
