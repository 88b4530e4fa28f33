package decider

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestLateTicksCounted: a metrics tick at or before the last tick its app
// decided is ignored by the join, and counted on the service's registry, a
// redelivery (the time of the last decided tick) apart from a tick out of
// order (older than it).
func TestLateTicksCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	s, err := New(cfg, service.Deps{Log: zerolog.Nop(), Reg: reg, Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	metrics := func(i int) *proto.Metrics {
		return &proto.Metrics{App: "shop", Tier: "web", TS: proto.Millis(t0.Add(time.Duration(i) * time.Minute)), Replicas: 2, Values: proto.Floats{"rps": 100, "cpu": 0.5}}
	}
	handle := func(in proto.Keyed) []*proto.Decision {
		t.Helper()
		ds, err := s.state.Handle(in)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	decided := 0
	for i := range 4 {
		m := metrics(i)
		decided += len(handle(m))
		if at := proto.Time(m.TS); at.Equal(at.Truncate(cfg.ForecastStep)) {
			decided += len(handle(&proto.Forecast{App: "shop", Tier: "web", TS: m.TS}))
		}
		decided += len(handle(&proto.Anomaly{App: "shop", Tier: "web", TS: m.TS}))
	}
	if decided != 3 {
		t.Fatalf("%d decisions, want 3 (minutes 0..2; minute 3 waits for a later tick)", decided)
	}
	for _, i := range []int{2, 1, 0} { // minute 2 redelivered, 1 and 0 out of order
		if ds := handle(metrics(i)); len(ds) != 0 {
			t.Fatalf("minute %d decided again", i)
		}
	}
	got := metricstest.ByLabel(t, reg, "headroom_decider_late_ticks_total", "order")
	if got["same_time"] != 1 || got["older"] != 2 || len(got) != 2 {
		t.Fatalf("headroom_decider_late_ticks_total by order = %v, want same_time 1, older 2", got)
	}
}
