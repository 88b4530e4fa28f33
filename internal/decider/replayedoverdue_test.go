package decider

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestReplayedOverdueNotCountedAgain: ticks decided overdue (the backlog
// full, upstream down) are counted and warned of when they are decided
// live. A decider that starts again on the same streams replays them,
// and its join releases the same ticks overdue again; those are neither
// counted nor warned of a second time (noteOverdue's replay guard), and
// their decisions are not stored again.
func TestReplayedOverdueNotCountedAgain(t *testing.T) {
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", zerolog.Nop(), true)
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	cfg.InputTimeout = 0 // the backlog's bound alone (the ticks are months old anyway)
	bound := cfg.backlog(time.Minute)
	const overdue = 6
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	run := func() (reg *prometheus.Registry, logs *natstest.Logs, stop func()) {
		logs = &natstest.Logs{}
		log := zerolog.New(logs).Level(zerolog.WarnLevel)
		reg = prometheus.NewRegistry()
		ready := service.NewReady()
		d, err := New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: reg, Ready: ready})
		if err != nil {
			t.Fatal(err)
		}
		stop = natstest.Serve(t, "decider", d.Run)
		natstest.Eventually(t, time.Minute, ready.Err)
		return reg, logs, stop
	}
	waiting := func(reg *prometheus.Registry) {
		natstest.Eventually(t, time.Minute, func() error {
			if got, _ := metricstest.Sum(t, reg, "headroom_decider_waiting_ticks"); got != float64(bound) {
				return fmt.Errorf("%v ticks waiting, want the bound %d", got, bound)
			}
			return nil
		})
	}
	count := func(reg *prometheus.Registry) map[string]float64 {
		return metricstest.ByLabel(t, reg, "headroom_decider_overdue_ticks_total", "missing")
	}
	stored := func() int { return len(natstest.Payloads(t, admin, "DECISIONS", "apm.decision.>")) }

	// Decided live: the decider runs before the ticks come.
	reg, logs, stop := run()
	var outs []bus.Out
	for i := range bound + overdue {
		outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", "api", "web"),
			Msg: proto.NewMetrics("api", "web", t0.Add(time.Duration(i)*time.Minute), 2, map[string]float64{proto.MetricRPS: 100, proto.MetricCPU: 0.5})})
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}

	waiting(reg)
	natstest.Eventually(t, time.Minute, func() error {
		if n := stored(); n != overdue {
			return fmt.Errorf("%d decisions stored, want %d", n, overdue)
		}
		return nil
	})
	if got, want := count(reg), map[string]float64{"anomaly": overdue, "forecast": overdue}; !maps.Equal(got, want) {
		t.Fatalf("live: overdue ticks by missing = %v, want %v", got, want)
	}
	if n := len(logs.Lines(t, "")); n != 1 {
		t.Fatalf("live: %d warnings, want 1 (the first overdue tick)", n)
	}
	stop()

	reg, logs, _ = run()
	waiting(reg)
	if got, want := count(reg), map[string]float64{"anomaly": 0, "forecast": 0}; !maps.Equal(got, want) {
		t.Errorf("after a restart: overdue ticks by missing = %v, want %v (counted when decided live)", got, want)
	}
	if lines := logs.Lines(t, ""); len(lines) != 0 {
		t.Errorf("after a restart: %d warnings, want none: %v", len(lines), lines)
	}
	if n := stored(); n != overdue {
		t.Errorf("after a restart: %d decisions stored, want still %d", n, overdue)
	}
}
