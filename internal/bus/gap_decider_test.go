package bus_test

import (
	"context"
	"fmt"
	"strings"
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

// TestDeciderForecastLostInFlight runs the decider on its three inputs and
// loses the first delivery of one forecast in flight, as a node killed
// under its durable's leader does (seen in the cluster test: a tier
// decided on the forecast of the bucket before its own). The forecast of
// the next bucket is delivered at once; the runtime sees the gap and
// hands the decider the lost forecast first, so every tick is decided on
// its own bucket's forecast. The durable's pin may move as the delivery
// is lost (a new consumer leader pins afresh): the gap is topped up all
// the same.
func TestDeciderForecastLostInFlight(t *testing.T) {
	for _, unpin := range []bool{false, true} {
		t.Run(fmt.Sprintf("unpin=%v", unpin), func(t *testing.T) { deciderForecastLost(t, unpin) })
	}
}

func deciderForecastLost(t *testing.T, unpin bool) {
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "admin", log, true)

	const step = 5 * time.Minute
	cfg := decider.DefaultConfig()
	cfg.Policy.Tick = time.Minute
	cfg.ForecastStep = step
	// The second forecast (bucket 1) is the stream's second message; the
	// next is published once its delivery is lost (and the pin moved).
	lost := make(chan struct{})
	t.Cleanup(bus.LoseDelivery(func(consumer string, seq, delivered uint64) bool {
		if !strings.HasPrefix(consumer, "decider-forecast-") || seq != 2 || delivered != 1 {
			return false
		}
		if unpin {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := admin.Unpin(ctx, proto.KindForecast, consumer); err != nil {
				t.Errorf("unpin %s: %v", consumer, err)
			}
		}
		close(lost)
		return true
	}))
	ready := service.NewReady()
	d, err := decider.New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: prometheus.NewRegistry(), Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, 30*time.Second, ready.Err)

	// Bucket b's forecast expects 1000+b everywhere: a decision's
	// forecast_max says which forecast it was decided on.
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	const ticks = 20
	for i := range ticks {
		at := t0.Add(time.Duration(i) * time.Minute)
		ts := proto.Millis(at)
		outs := []bus.Out{
			{Subject: proto.MetricsSubject("apm", "api", "web"), Msg: proto.NewMetrics("api", "web", at, 2, map[string]float64{proto.MetricRPS: 100, proto.MetricCPU: 0.5})},
			{Subject: proto.AnomalySubject("apm", "api", "web"), Msg: &proto.Anomaly{V: proto.SchemaVersion, ID: proto.AnomalyID("api", "web", ts), App: "api", Tier: "web", TS: ts}},
		}
		if at.Equal(at.Truncate(step)) {
			f := &proto.Forecast{V: proto.SchemaVersion, ID: proto.ForecastID("api", "web", "rps", ts), App: "api", Tier: "web", TS: ts,
				Metric: "rps", StepMS: step.Milliseconds()}
			for k := range 48 { // four hours ahead
				y := float64(1000 + i/5)
				f.Points = append(f.Points, proto.ForecastPoint{TS: proto.Millis(at.Add(time.Duration(k) * step)), Yhat: y, Lo80: y, Hi80: y, Lo95: y, Hi95: y})
			}
			outs = append(outs, bus.Out{Subject: proto.ForecastSubject("apm", "api", "web"), Msg: f})
		}
		// One input at a time, in order, as the stages publish them.
		for _, o := range outs {
			if err := admin.Publish(context.Background(), o); err != nil {
				t.Fatal(err)
			}
		}
		if i == int(step/time.Minute) {
			select {
			case <-lost:
			case <-time.After(30 * time.Second):
				t.Fatal("the second forecast was not delivered in 30s")
			}
		}
	}
	var ds []*proto.Decision
	natstest.Eventually(t, time.Minute, func() error {
		ds = ds[:0]
		for _, data := range natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api.web") {
			var dd proto.Decision
			if err := proto.Decode(data, &dd); err != nil {
				return err
			}
			ds = append(ds, &dd)
		}
		if len(ds) < ticks-1 {
			return fmt.Errorf("%d decisions stored, want %d", len(ds), ticks-1)
		}
		return nil
	})
	// The first ticks hold without a forecast (the capacity per replica
	// is not learned yet); those of the lost forecast's bucket use one.
	for _, dd := range ds {
		i := int(proto.Time(dd.TS).Sub(t0) / time.Minute)
		got, ok := dd.Inputs["forecast_max"]
		if !ok {
			if i >= 5 {
				t.Errorf("tick %d decided without a forecast: %s", i, dd.Reason)
			}
			continue
		}
		if want := float64(1000 + i/5); got != want {
			t.Errorf("tick %d decided with forecast_max %v, want %v (its bucket's forecast)", i, got, want)
		}
	}
}
