package stagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/scaleeval"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestOldTickStoredAgainIgnored stores a tick again on its subject after
// the stream's duplicate window (here 200 ms), with other values, as a
// push replayed (or a second sender's tick for a stored time) past
// -stream.dedupe-window is, while the forecaster, anomaly and decider
// services run on it. Event time decides: each has handled a tick at or
// after its time, so none folds it in or makes an output again (one
// anomaly message per tick time, one forecast per bucket, one decision
// per minute, each the same as without it), and each counts it as late in
// its headroom_<stage>_late_ticks_total.
func TestOldTickStoredAgainIgnored(t *testing.T) {
	const n, k = 30, 10 // ticks 0..n-1 first; tick k stored again
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, "stagetest"
	cfg.Streams.Duplicates = 200 * time.Millisecond
	admin, err := bus.Connect(context.Background(), cfg, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(5 * time.Second) })
	if err := admin.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	o := scaleeval.DefaultOptions()
	st := scaleeval.DefaultStages(o.Horizon)
	tier := o.Tier()
	load := func(i int) float64 { return 300 + 50*float64(i%7) }
	app := o.Policy(scaleeval.DefaultSetup([]float64{load(0), load(6)}).Capacity, 3*time.Minute)
	fc := startReg(t, url, "forecaster", log, func(d service.Deps) (service.Runner, error) { return forecaster.New(st.Forecaster, d) })
	an := startReg(t, url, "anomaly", log, func(d service.Deps) (service.Runner, error) { return detector.New(st.Detector, d) })
	de := startReg(t, url, "decider", log, func(d service.Deps) (service.Runner, error) { return decider.New(st.Decider(app), d) })
	got := collect(t, admin)

	subject := proto.MetricsSubject(admin.Prefix(), scaleeval.App, tier)
	tick := func(i int, load float64) bus.Out {
		return bus.Out{Subject: subject, Msg: scaleeval.MetricsTick(tier, t0.Add(time.Duration(i)*time.Minute), load, 3)}
	}
	var outs []bus.Out
	for i := range n {
		outs = append(outs, tick(i, load(i)))
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	decided := func(last int) {
		natstest.Eventually(t, 2*time.Minute, func() error {
			if ds := got.all(); len(ds) == 0 || ds[len(ds)-1].TS < proto.Millis(t0.Add(time.Duration(last)*time.Minute)) {
				return fmt.Errorf("%d decisions, want the last at minute %d", len(ds), last)
			}
			return nil
		})
	}
	decided(n - 2)

	// Tick k again, at five times its load: dropped as a duplicate until
	// the window has passed since the first copy was stored, then stored.
	metrics := proto.StreamName(admin.Prefix(), proto.KindMetrics)
	copies := func() int {
		c := 0
		for _, data := range natstest.Payloads(t, admin, metrics, subject) {
			var m proto.Metrics
			if err := proto.Decode(data, &m); err != nil {
				t.Fatal(err)
			}
			if m.EventTime().Equal(t0.Add(k * time.Minute)) {
				c++
			}
		}
		return c
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		if err := admin.PublishAll(context.Background(), []bus.Out{tick(k, 5*load(k))}); err != nil {
			return err
		}
		if c := copies(); c != 2 {
			return fmt.Errorf("tick %d stored %d times, want the second copy stored past the duplicate window", k, c)
		}
		return nil
	})
	// A tick after it, stored after it: once minute n-1 is decided, the
	// decider has handled the copy; the other two have once their groups
	// are drained.
	if err := admin.PublishAll(context.Background(), []bus.Out{tick(n, load(n))}); err != nil {
		t.Fatal(err)
	}
	decided(n - 1)
	for _, name := range []string{"forecaster", "anomaly"} {
		natstest.Eventually(t, time.Minute, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return natstest.GroupDrained(ctx, admin, metrics, name)
		})
	}

	perMinute := map[int64]int{}
	for _, d := range got.all() {
		perMinute[d.TS]++
	}
	for ts, c := range perMinute {
		if c != 1 {
			t.Errorf("%d decisions at %s, want 1", c, proto.Time(ts).Format(time.TimeOnly))
		}
	}
	if len(perMinute) != n {
		t.Errorf("decisions at %d minutes, want %d", len(perMinute), n)
	}
	for _, c := range []struct {
		kind proto.Kind
		ts   func([]byte) int64
	}{
		{proto.KindAnomaly, func(b []byte) int64 { var m proto.Anomaly; decode(t, b, &m); return m.TS }},
		{proto.KindForecast, func(b []byte) int64 { var m proto.Forecast; decode(t, b, &m); return m.TS }},
	} {
		seen := map[int64]bool{}
		for _, data := range natstest.Payloads(t, admin, proto.StreamName(admin.Prefix(), c.kind), proto.Filter(admin.Prefix(), c.kind)) {
			ts := c.ts(data)
			if seen[ts] {
				t.Errorf("%s stored twice for %s", c.kind, proto.Time(ts).Format(time.TimeOnly))
			}
			seen[ts] = true
		}
	}
	for _, c := range []struct {
		reg  *prometheus.Registry
		name string
	}{
		{fc, "headroom_forecaster_late_ticks_total"}, {an, "headroom_anomaly_late_ticks_total"}, {de, "headroom_decider_late_ticks_total"},
	} {
		if late := metricstest.ByLabel(t, c.reg, c.name, "reason")["late"]; late != 1 {
			t.Errorf("%s{reason=\"late\"} = %v, want 1: the tick stored again", c.name, late)
		}
	}
}

func decode(t *testing.T, data []byte, m proto.Message) {
	t.Helper()
	if err := proto.Decode(data, m); err != nil {
		t.Fatal(err)
	}
}

// startReg is start returning the service's registry.
func startReg(t *testing.T, url, name string, log zerolog.Logger, build func(service.Deps) (service.Runner, error)) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	b := natstest.Connect(t, url, name, log.With().Str("service", name).Logger(), false)
	ready := service.NewReady()
	r, err := build(service.Deps{Bus: b, Log: log, Reg: reg, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("%s: %v", name, err)
		}
	})
	natstest.Eventually(t, time.Minute, ready.Err)
	return reg
}
