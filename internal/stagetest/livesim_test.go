package stagetest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/scaleeval"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

const minutes = 600

var t0 = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)

// trace is ten hours of per-minute demand: a four-hour wave, a deterministic
// ripple and a one-hour surge to about three times the level, so the policy
// scales up and down several times.
func trace() ([]time.Time, []float64) {
	times := make([]time.Time, minutes)
	demand := make([]float64, minutes)
	for i := range minutes {
		times[i] = t0.Add(time.Duration(i) * time.Minute)
		d := 300 + 150*math.Sin(2*math.Pi*float64(i)/240) + 25*math.Sin(float64(i)*1.7)
		if i >= 330 && i < 390 {
			d *= 3
		}
		demand[i] = d
	}
	return times, demand
}

// TestLiveAndSimulateDecideAlike runs one trace through `decider simulate`'s
// function (scaleeval.SimulateStage on scaleeval.RecordTape) and through the
// live forecaster, anomaly and decider services on an embedded NATS server,
// with the same stage configurations, and requires identical decisions at
// every minute: time, tier, from, to, action, reason, state, flags and
// inputs.
//
// The simulation closes the loop through its simulated cluster: the ready
// count of minute t+1 follows from the decision of minute t. The live
// decider decides minute t only once minute t+1's tick has arrived, so the
// loop cannot be closed live tick by tick; the live run is fed the ready
// counts the simulation's cluster produced instead. As the decisions are
// compared minute by minute, equality up to minute t means the live
// decisions would have produced the same cluster, so the comparison is the
// closed loop's.
func TestLiveAndSimulateDecideAlike(t *testing.T) {
	times, demand := trace()
	o := scaleeval.DefaultOptions()
	o.Warmup = 0
	s := scaleeval.DefaultSetup(demand)
	s.Warmup = 0
	st := scaleeval.DefaultStages(o.Horizon)
	tier := o.Tier()

	// Offline.
	tape, err := scaleeval.RecordTape(st, tier, times, demand)
	if err != nil {
		t.Fatal(err)
	}
	var offline []*proto.Decision
	run, err := scaleeval.SimulateStage(times, demand, s, o, tape, func(d *proto.Decision) { offline = append(offline, d) })
	if err != nil {
		t.Fatal(err)
	}
	if len(offline) != minutes {
		t.Fatalf("simulation made %d decisions for %d minutes", len(offline), minutes)
	}

	// Live.
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "stagetest", log, true)
	start(t, url, "forecaster", log, func(d service.Deps) (service.Runner, error) { return forecaster.New(st.Forecaster, d) })
	start(t, url, "anomaly", log, func(d service.Deps) (service.Runner, error) { return detector.New(st.Detector, d) })
	start(t, url, "decider", log, func(d service.Deps) (service.Runner, error) {
		return decider.New(st.Decider(o.AppConfig(s.Capacity, s.BootDelay)), d)
	})
	live := collect(t, admin)

	var outs []bus.Out
	for i := range minutes + 1 {
		// One tick past the trace, so the live decider closes its last minute.
		k := min(i, minutes-1)
		at := t0.Add(time.Duration(i) * time.Minute)
		outs = append(outs, bus.Out{Subject: proto.MetricsSubject(admin.Prefix(), scaleeval.App, tier), Msg: scaleeval.MetricsTick(tier, at, demand[k], run.Ready[k])})
	}
	for b := range slices.Chunk(outs, 100) {
		if err := admin.PublishAll(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	var got []*proto.Decision
	natstest.Eventually(t, 3*time.Minute, func() error {
		got = live.all()
		if len(got) < minutes {
			return fmt.Errorf("%d live decisions, want %d", len(got), minutes)
		}
		return nil
	})

	changes, forecasted, incidents := 0, 0, 0
	for i, want := range offline {
		g := got[i]
		if g.TS != want.TS || g.Tier != want.Tier || g.From != want.From || g.To != want.To || g.Action != want.Action {
			t.Fatalf("minute %d (%s): live %s %s %d->%d, simulate %s %s %d->%d", i, times[i].Format("15:04"),
				proto.Time(g.TS).Format("15:04"), g.Action, g.From, g.To, proto.Time(want.TS).Format("15:04"), want.Action, want.From, want.To)
		}
		if g.Reason != want.Reason || g.State != want.State || !slices.Equal(g.Flags, want.Flags) || !maps.Equal(g.Inputs, want.Inputs) {
			t.Fatalf("minute %d: same counts, different explanation:\nlive     %q %s %v %v\nsimulate %q %s %v %v", i,
				g.Reason, g.State, g.Flags, g.Inputs, want.Reason, want.State, want.Flags, want.Inputs)
		}
		if want.Action != proto.ActionHold {
			changes++
		}
		if _, ok := want.Inputs["forecast_max"]; ok {
			forecasted++
		}
		if slices.Contains(want.Flags, "load-incident") {
			incidents++
		}
	}
	if len(got) != minutes {
		t.Fatalf("%d live decisions, want exactly %d", len(got), minutes)
	}
	if changes < 4 {
		t.Fatalf("only %d scale changes in %d decisions: the trace does not exercise the policy", changes, minutes)
	}
	// Every stage must have had its say: the forecaster's forecasts and the
	// anomaly service's incidents reached the policy.
	if forecasted < minutes/2 || incidents == 0 {
		t.Fatalf("%d decisions used a forecast and %d a load incident: the trace does not exercise every stage", forecasted, incidents)
	}
	t.Logf("%d decisions identical live and in the simulation: %d scale changes, %d with a forecast, %d under a load incident", minutes, changes, forecasted, incidents)
}

// start runs one service on its own connection until the test ends and
// waits until it is ready.
func start(t *testing.T, url, name string, log zerolog.Logger, build func(service.Deps) (service.Runner, error)) {
	t.Helper()
	b := natstest.Connect(t, url, name, log.With().Str("service", name).Logger(), false)
	ready := service.NewReady()
	r, err := build(service.Deps{Bus: b, Log: log, Reg: prometheus.NewRegistry(), Ready: ready})
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
}

// decisions gathers the stored decisions in stream order.
type decisions struct {
	mu sync.Mutex
	ds []*proto.Decision
}

func (d *decisions) all() []*proto.Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.ds)
}

// collect consumes the DECISIONS stream from its start until the test ends.
func collect(t *testing.T, b *bus.Bus) *decisions {
	t.Helper()
	d := &decisions{}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "stagetest", Name: "stagetest", Kind: proto.KindDecision, Started: func() { close(started) }},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				var v proto.Decision
				if err := b.Decode(m, proto.KindDecision, &v); err != nil {
					return nil, err
				}
				d.mu.Lock()
				defer d.mu.Unlock()
				d.ds = append(d.ds, &v)
				return nil, nil
			})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("decisions consumer: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("decisions consumer did not start")
	}
	return d
}
