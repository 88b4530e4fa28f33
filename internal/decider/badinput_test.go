package decider

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestServiceCountsHoldsWithoutLoad runs the service on a real JetStream
// server: api's web tier ticks with its load metric (rps) for three
// minutes, then without it for three (a scrape rule on a series its
// targets never exposed), each with its anomaly message. The decisions on
// the ticks without rps hold flagged bad-input, and
// headroom_decider_bad_input_decisions_total counts them by app and tier,
// which HeadroomTierLoadMissing alerts on: nothing else tells an operator
// that a tier is neither scaled up nor down.
func TestServiceCountsHoldsWithoutLoad(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", log, true)
	cfg := DefaultConfig()
	tick := cfg.Policy.Tick
	reg := prometheus.NewRegistry()
	ready := service.NewReady()
	d, err := New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: reg, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, 30*time.Second, ready.Err)

	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC) // on a forecast bucket
	ts := proto.Millis(start)
	// The ticks with rps wait for their bucket's forecast; those without
	// it wait for none.
	outs := []bus.Out{{Subject: proto.ForecastSubject("apm", "api", "web"), Msg: &proto.Forecast{V: proto.SchemaVersion,
		ID: proto.ForecastID("api", "web", proto.MetricRPS, ts), App: "api", Tier: "web", TS: ts, StepMS: cfg.ForecastStep.Milliseconds(), Metric: proto.MetricRPS,
		Points: []proto.ForecastPoint{{TS: ts, Yhat: 100, Lo80: 90, Hi80: 110, Lo95: 80, Hi95: 120}}}}}
	for i := range 7 {
		at := start.Add(time.Duration(i) * tick)
		values := map[string]float64{proto.MetricRPS: 100, proto.MetricCPU: 0.5}
		if i >= 3 {
			delete(values, proto.MetricRPS)
		}
		outs = append(outs,
			bus.Out{Subject: proto.MetricsSubject("apm", "api", "web"), Msg: proto.NewMetrics("api", "web", at, 2, values)},
			bus.Out{Subject: proto.AnomalySubject("apm", "api", "web"), Msg: &proto.Anomaly{V: proto.SchemaVersion, ID: proto.AnomalyID("api", "web", proto.Millis(at)), App: "api", Tier: "web", TS: proto.Millis(at)}})
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	// Ticks 0..5 are decided once the next is in; 3..5 lack rps.
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := len(natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api.web")); n != 6 {
			return fmt.Errorf("%d decisions stored, want 6", n)
		}
		return nil
	})
	bad := 0
	for _, data := range natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api.web") {
		var dd proto.Decision
		if err := proto.Decode(data, &dd); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(dd.Flags, policy.FlagBadInput) {
			bad++
			if dd.Action != proto.ActionHold {
				t.Errorf("decision at %s flagged %s is %s %d→%d, want a hold", dd.EventTime(), policy.FlagBadInput, dd.Action, dd.From, dd.To)
			}
		}
	}
	if bad != 3 {
		t.Errorf("%d decisions flagged %s, want 3 (ticks 3..5)", bad, policy.FlagBadInput)
	}
	// The decider counts a decision once its publish is acknowledged,
	// which may come after the stream shows it stored.
	natstest.Eventually(t, 30*time.Second, func() error {
		if got, _ := metricstest.Sum(t, reg, "headroom_decider_bad_input_decisions_total", "app", "api", "tier", "web"); got != 3 {
			return fmt.Errorf("headroom_decider_bad_input_decisions_total{app=api,tier=web} = %v, want 3", got)
		}
		return nil
	})
}
