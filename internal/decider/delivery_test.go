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

// TestDecisionsSurviveFailedPublishes runs the decider as a NATS user that
// may not publish decisions, so every decision's publish fails, then grants
// the right by reloading the server's users. The decisions made meanwhile
// wait in the decider's outbox: every decided tick ends with exactly one
// stored decision, none lost to a watermark that moved too early.
func TestDecisionsSurviveFailedPublishes(t *testing.T) {
	srv := natstest.StartRestricted(t, "decider", "apm.decision.>")
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	admin := srv.Connect(t, "admin", log)

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
	decisions := func() []*proto.Decision {
		var out []*proto.Decision
		for _, data := range natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api.web") {
			var dd proto.Decision
			if err := proto.Decode(data, &dd); err != nil {
				t.Fatal(err)
			}
			out = append(out, &dd)
		}
		return out
	}

	publish(0, 20)
	// The decider has tried and failed: the input that completed a tick
	// (whichever of the three came last) is redelivered or waits for it.
	natstest.Eventually(t, time.Minute, func() error {
		var seen []string
		for _, in := range []struct{ stream, durable, subject string }{
			{"METRICS", "decider-metrics", "apm.metrics.api.web"},
			{"FORECASTS", "decider-forecast", "apm.forecast.api.web"},
			{"ANOMALIES", "decider-anomaly", "apm.anomaly.api.web"},
		} {
			c, err := natstest.JetStream(t, admin).Consumer(context.Background(), in.stream, natstest.PartitionDurable(t, admin, in.stream, in.durable, in.subject))
			if err != nil {
				return err
			}
			info, err := c.Info(context.Background())
			if err != nil {
				return err
			}
			if info.NumRedelivered > 0 || info.NumAckPending > 0 {
				return nil
			}
			seen = append(seen, fmt.Sprintf("%s: %d delivered", in.durable, info.Delivered.Consumer))
		}
		return fmt.Errorf("no failed delivery yet (%v)", seen)
	})
	if n := len(decisions()); n != 0 {
		t.Fatalf("%d decisions stored while publishing them is denied", n)
	}
	srv.Allow(t)
	publish(20, 30)
	var ds []*proto.Decision
	natstest.Eventually(t, 2*time.Minute, func() error {
		ds = decisions()
		if len(ds) < 29 {
			return fmt.Errorf("%d decisions stored, want 29", len(ds))
		}
		return nil
	})
	for i, dd := range ds {
		if want := proto.Millis(t0.Add(time.Duration(i) * time.Minute)); dd.TS != want {
			t.Fatalf("decision %d at %s, want %s: a tick lost or repeated", i, proto.Time(dd.TS), proto.Time(want))
		}
	}
	if len(ds) != 29 {
		t.Fatalf("%d decisions, want exactly 29", len(ds))
	}
}
