package decider_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestRefusedDecisionsOnTheSharedSchedule: while nats.conf does not let
// the decider publish its decisions, it tries them on the shared schedule
// of such refusals (bus.RefusedBackoff from 1 s, doubling to 30 s), not
// five times at each input and once every 5 s: each try is a permissions
// violation in the server's log, and a permission is granted by an
// operator, not by waiting. Its line is an error at the first refusal and
// every tenth in a row after (bus.RefusedLevel), debug between, its wait
// in retry_in. Once the
// subject is allowed, every decision is stored, in order.
func TestRefusedDecisionsOnTheSharedSchedule(t *testing.T) {
	srv := natstest.StartRestricted(t, "decider", "apm.decision.>")
	admin := srv.Connect(t, "admin", zerolog.Nop())
	var logs natstest.Logs
	log := zerolog.New(&logs).Level(zerolog.DebugLevel)
	cfg := decider.DefaultConfig()
	cfg.Policy.Tick = time.Minute
	ready := service.NewReady()
	d, err := decider.New(cfg, service.Deps{Bus: srv.Connect(t, "decider", log), Log: log, Reg: prometheus.NewRegistry(), Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, 30*time.Second, ready.Err)

	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			at := t0.Add(time.Duration(i) * time.Minute)
			ts := proto.Millis(at)
			outs := []bus.Out{
				{Subject: proto.MetricsSubject("apm", "api", "web"), Msg: proto.NewMetrics("api", "web", at, 2, map[string]float64{proto.MetricRPS: float64(100 + 10*i), proto.MetricCPU: 0.5})},
				{Subject: proto.AnomalySubject("apm", "api", "web"), Msg: &proto.Anomaly{V: proto.SchemaVersion, ID: proto.AnomalyID("api", "web", ts), App: "api", Tier: "web", TS: ts}},
			}
			if at.Equal(at.Truncate(cfg.ForecastStep)) {
				outs = append(outs, bus.Out{Subject: proto.ForecastSubject("apm", "api", "web"), Msg: &proto.Forecast{V: proto.SchemaVersion,
					ID: proto.ForecastID("api", "web", "rps", ts), App: "api", Tier: "web", TS: ts, Metric: "rps", StepMS: cfg.ForecastStep.Milliseconds()}})
			}
			if err := admin.PublishAll(context.Background(), outs); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	publish(0, 20)
	// Four refused tries: an input's, a redelivery's or the periodic
	// retry's.
	natstest.Eventually(t, time.Minute, func() error {
		if n := len(logs.Lines(t, "decision not stored")); n < 4 {
			return fmt.Errorf("%d refused tries logged, want 4", n)
		}
		return nil
	})
	elapsed := time.Since(start)
	// The most tries the schedule lets through in elapsed: one at once,
	// then one after each wait.
	most := 1
	for sum := bus.RefusedBackoff(time.Second, 1); sum <= elapsed; sum += bus.RefusedBackoff(time.Second, most) {
		most++
	}
	var tries, errs int
	for _, l := range logs.Lines(t, "decision not stored") {
		tries++
		if _, ok := l["retry_in"]; !ok { // the field every service's retry line names its wait with
			t.Errorf("refused try logged without retry_in: %v", l)
		}
		if l["level"] == "error" {
			errs++
		}
	}
	if tries > most || errs != 1 {
		t.Errorf("in %s: %d refused tries logged, %d of them errors: want at most %d tries (bus.RefusedBackoff from 1s), one error line",
			elapsed.Round(time.Millisecond), tries, errs, most)
	}
	srv.Allow(t)
	publish(20, 30)
	natstest.Eventually(t, 2*time.Minute, func() error {
		if n := len(natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api.web")); n != 29 {
			return fmt.Errorf("%d decisions stored, want 29", n)
		}
		return nil
	})
}
