package decider

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// onServer is a decider test's embedded JetStream server: the admin
// connection that publishes the inputs and reads the streams, and the
// deciders' configuration (a one-minute tick).
type onServer struct {
	t     *testing.T
	url   string
	log   zerolog.Logger
	admin *bus.Bus
	js    jetstream.JetStream
	cfg   Config
	// outboxLimit, when set, lowers maxOutbox for the deciders started.
	outboxLimit int
	// now, when set, is the deciders' clock (Service.now).
	now func() time.Time
}

func newOnServer(t *testing.T) *onServer {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.Disabled)
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", log, true)
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	return &onServer{t: t, url: url, log: log, admin: admin, js: natstest.JetStream(t, admin), cfg: cfg}
}

// start runs a decider registering its metrics on reg, its bound of
// decisions not stored lowered to limit and its periodic retry every
// retryEvery, until stop; it returns once the decider is ready.
func (h *onServer) start(limit int, retryEvery time.Duration, reg *prometheus.Registry) (d *Service, stop func()) {
	h.t.Helper()
	ready := service.NewReady()
	d, err := New(h.cfg, service.Deps{Bus: natstest.Connect(h.t, h.url, "decider", h.log, false), Log: h.log, Reg: reg, Ready: ready})
	if err != nil {
		h.t.Fatal(err)
	}
	d.publishPause = time.Millisecond
	d.retryEvery = retryEvery
	d.unstoredLimit = limit
	if h.outboxLimit > 0 {
		d.outboxLimit = h.outboxLimit
	}
	if h.now != nil {
		d.now = h.now
	}
	stop = natstest.Serve(h.t, "decider", d.Run)
	natstest.Eventually(h.t, 30*time.Second, ready.Err)
	return d, stop
}

// settled reports why the deciders' groups have not taken every input
// yet; nil once they have.
func (h *onServer) settled() error {
	for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly} {
		if err := natstest.GroupDrained(context.Background(), h.admin, proto.StreamName("apm", k), "decider-"+string(k)); err != nil {
			return err
		}
	}
	return nil
}

// stored is how many decisions of app's web tier DECISIONS holds.
func (h *onServer) stored(app string) int {
	return len(natstest.Payloads(h.t, h.admin, "DECISIONS", "apm.decision."+app+".web"))
}

// decisions is the decisions of app's web tier DECISIONS holds, in order.
func (h *onServer) decisions(app string) []*proto.Decision {
	h.t.Helper()
	var out []*proto.Decision
	for _, data := range natstest.Payloads(h.t, h.admin, "DECISIONS", "apm.decision."+app+".web") {
		var dd proto.Decision
		if err := proto.Decode(data, &dd); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, &dd)
	}
	return out
}

// outage has DECISIONS refuse every store once it holds keep messages
// (keep < 0: as many as it holds now) and returns what makes it store
// again.
func (h *onServer) outage(keep int64) (restore func()) {
	h.t.Helper()
	ctx := context.Background()
	stream, err := h.js.Stream(ctx, "DECISIONS")
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	working := info.Config
	down := working
	down.MaxMsgs, down.Discard = keep, jetstream.DiscardNew
	if keep < 0 {
		down.MaxMsgs = int64(info.State.Msgs)
	}
	if _, err := h.js.UpdateStream(ctx, down); err != nil {
		h.t.Fatal(err)
	}
	return func() {
		h.t.Helper()
		if _, err := h.js.UpdateStream(ctx, working); err != nil {
			h.t.Fatal(err)
		}
	}
}

// publishAppTiers stores minutes from..to-1 after t0 of app's tiers, each
// minute's inputs in one batch: every tier's metrics (rps(i), cpu 0.5) and
// anomaly message, and its forecast at each forecast bucket's start.
func publishAppTiers(t *testing.T, pub *bus.Bus, cfg Config, app string, tiers []string, t0 time.Time, from, to int, rps func(i int) float64) {
	t.Helper()
	for i := from; i < to; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		ts := proto.Millis(at)
		var outs []bus.Out
		for _, tier := range tiers {
			outs = append(outs,
				bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: proto.NewMetrics(app, tier, at, 2,
					map[string]float64{proto.MetricRPS: rps(i), proto.MetricCPU: 0.5})},
				bus.Out{Subject: proto.AnomalySubject("apm", app, tier), Msg: &proto.Anomaly{V: proto.SchemaVersion,
					ID: proto.AnomalyID(app, tier, ts), App: app, Tier: tier, TS: ts}})
			if at.Equal(at.Truncate(cfg.ForecastStep)) {
				outs = append(outs, bus.Out{Subject: proto.ForecastSubject("apm", app, tier), Msg: &proto.Forecast{V: proto.SchemaVersion,
					ID: proto.ForecastID(app, tier, "rps", ts), App: app, Tier: tier, TS: ts, Metric: "rps", StepMS: cfg.ForecastStep.Milliseconds()}})
			}
		}
		if err := pub.PublishAll(context.Background(), outs); err != nil {
			t.Fatal(err)
		}
	}
}
