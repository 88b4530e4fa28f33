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
// decided is ignored by the join, and counted on the service's registry: a
// redelivery (the metrics of a tier the last decided tick holds) apart from
// a second tick of a tier in one tick interval, and from a tick out of
// order (an older tick, or a tier's tick that came after its tick was
// decided without it).
func TestLateTicksCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	s, err := New(cfg, service.Deps{Log: zerolog.Nop(), Reg: reg, Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
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
		m := shopTick("web", i)
		decided += len(handle(m))
		if at := proto.Time(m.TS); at.Equal(at.Truncate(cfg.ForecastStep)) {
			decided += len(handle(&proto.Forecast{App: "shop", Tier: "web", TS: m.TS}))
		}
		decided += len(handle(&proto.Anomaly{App: "shop", Tier: "web", TS: m.TS}))
	}
	if decided != 3 {
		t.Fatalf("%d decisions, want 3 (minutes 0..2; minute 3 waits for a later tick)", decided)
	}
	extra := shopTick("web", 2)
	extra.TS += (30 * time.Second).Milliseconds()
	for _, m := range []*proto.Metrics{
		shopTick("web", 2), // redelivered: minute 2 was decided with it
		extra,              // extra: minute 2 was decided with web's tick at its start
		shopTick("db", 2),  // late: minute 2 was decided without it
		shopTick("web", 1), // late
		shopTick("web", 0), // late
	} {
		if ds := handle(m); len(ds) != 0 {
			t.Fatalf("%s at %s decided again", m.Tier, m.EventTime().Format(time.TimeOnly))
		}
	}
	got := metricstest.ByLabel(t, reg, "headroom_decider_late_ticks_total", "reason")
	if got["redelivered"] != 1 || got["extra"] != 1 || got["late"] != 3 || got["lagging"] != 0 || len(got) != 4 {
		t.Fatalf("headroom_decider_late_ticks_total by reason = %v, want redelivered 1, extra 1, late 3, lagging 0", got)
	}
}

// shopTick is app shop's metrics tick of tier i minutes after t0, at 100
// requests a second on 2 replicas.
func shopTick(tier string, i int) *proto.Metrics {
	return &proto.Metrics{App: "shop", Tier: tier, TS: proto.Millis(minute(i)), Replicas: 2, Values: proto.Floats{"rps": 100, "cpu": 0.5}}
}
