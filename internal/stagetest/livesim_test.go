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

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/internal/scaleeval"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

const minutes = 600

var t0 = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)

// trace is ten hours of per-minute demand: a four-hour wave, a deterministic
// ripple and a one-hour surge to about three times the level, so the policy
// scales up and down several times. The surge comes in the ninth hour: a
// fresh detector's tails have seen about ten excesses by then, and before
// that its posterior predictive tail is too uncertain to call any surge an
// anomaly (package anomaly), so an earlier surge opens no load incident.
func trace() ([]time.Time, []float64) {
	times := make([]time.Time, minutes)
	demand := make([]float64, minutes)
	for i := range minutes {
		times[i] = t0.Add(time.Duration(i) * time.Minute)
		d := 300 + 150*math.Sin(2*math.Pi*float64(i)/240) + 25*math.Sin(float64(i)*1.7)
		if i >= 480 && i < 540 {
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

	tape, err := scaleeval.RecordTape(st, tier, times, demand)
	if err != nil {
		t.Fatal(err)
	}
	var offline []*proto.Decision
	run, err := scaleeval.SimulateStage(times, demand, s, o, tape, func(d *proto.Decision) { offline = append(offline, d) })
	if err != nil {
		t.Fatal(err)
	}
	live := runLive(t, st, o.Policy(s.Capacity, s.BootDelay), []string{tier}, [][]float64{demand}, [][]int{run.Ready})
	compare(t, times, []string{tier}, offline, live)
}

// TestLiveAndSimulateDecideAlikeTiers is the same comparison for an app of
// three tiers, each behind the one before (web → cache → db, leads of 3, 3
// and 10 minutes, the simulation's shop layout): the live decider joins the
// tiers' ticks, forecasts and anomaly messages per minute as the simulation
// hands them over, and decides them together.
func TestLiveAndSimulateDecideAlikeTiers(t *testing.T) {
	times, web := trace()
	names := []string{"web", "cache", "db"}
	loads := [][]float64{web, make([]float64, minutes), make([]float64, minutes)}
	for i, d := range web {
		loads[1][i] = 4 * d                                             // the cache sees every request several times
		loads[2][i] = 0.3*d + 40*math.Sin(2*math.Pi*float64(i)/90) + 60 // the database lags and wobbles
	}
	o := scaleeval.DefaultOptions()
	o.Warmup = 0
	st := scaleeval.DefaultStages(o.Horizon)
	setups := make([]scaleeval.Setup, len(names))
	tapes := make([]*scaleeval.Tape, len(names))
	for k, name := range names {
		setups[k] = scaleeval.DefaultSetup(loads[k])
		setups[k].Warmup = 0
		setups[k].BootDelay = scaleeval.ShopLeadTimes[name]
		var err error
		if tapes[k], err = scaleeval.RecordTape(st, name, times, loads[k]); err != nil {
			t.Fatal(err)
		}
	}
	cfg := o.TiersConfig(names, setups)
	var offline []*proto.Decision
	runs, err := scaleeval.SimulateTiers(times, loads, setups, tapes, cfg, o.Horizon, func(d *proto.Decision) { offline = append(offline, d) })
	if err != nil {
		t.Fatal(err)
	}
	ready := make([][]int, len(names))
	for k := range names {
		ready[k] = runs[k].Ready
	}
	live := runLive(t, st, cfg, names, loads, ready)
	compare(t, times, names, offline, live)
}

// runLive starts the forecaster, anomaly and decider services on a fresh
// embedded NATS server with st's configurations and the policy app, publishes
// every tier's tick of every minute (load and ready replicas) and one tick
// past the end, so the live decider closes the last minute, and returns
// the decisions stored, once there is one per tier per minute.
func runLive(t *testing.T, st scaleeval.Stages, app policy.AppConfig, tiers []string, loads [][]float64, ready [][]int) []*proto.Decision {
	t.Helper()
	url := natstest.RunJetStream(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	admin := natstest.Connect(t, url, "stagetest", log, true)
	start(t, url, "forecaster", log, func(d service.Deps) (service.Runner, error) { return forecaster.New(st.Forecaster, d) })
	start(t, url, "anomaly", log, func(d service.Deps) (service.Runner, error) { return detector.New(st.Detector, d) })
	start(t, url, "decider", log, func(d service.Deps) (service.Runner, error) { return decider.New(st.Decider(app), d) })
	got := collect(t, admin)

	var outs []bus.Out
	for i := range minutes + 1 {
		j := min(i, minutes-1)
		at := t0.Add(time.Duration(i) * time.Minute)
		for k, tier := range tiers {
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject(admin.Prefix(), scaleeval.App, tier), Msg: scaleeval.MetricsTick(tier, at, loads[k][j], ready[k][j])})
		}
	}
	for b := range slices.Chunk(outs, 100) {
		if err := admin.PublishAll(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	want := minutes * len(tiers)
	var ds []*proto.Decision
	natstest.Eventually(t, 3*time.Minute, func() error {
		ds = got.all()
		if len(ds) < want {
			return fmt.Errorf("%d live decisions, want %d", len(ds), want)
		}
		return nil
	})
	return ds
}

// compare requires one decision per tier per minute on both sides, equal
// field by field, with scale changes among them and every stage's output
// (forecasts, load incidents) used by some.
func compare(t *testing.T, times []time.Time, tiers []string, offline, live []*proto.Decision) {
	t.Helper()
	want := minutes * len(tiers)
	if len(offline) != want || len(live) != want {
		t.Fatalf("%d decisions simulated and %d live, want %d each", len(offline), len(live), want)
	}
	byID := map[string]*proto.Decision{}
	for _, d := range live {
		if byID[d.ID] != nil {
			t.Fatalf("live decision %s stored twice", d.ID)
		}
		byID[d.ID] = d
	}
	changes, forecasted, incidents := 0, 0, 0
	for _, w := range offline {
		g := byID[w.ID]
		at := proto.Time(w.TS).Format("15:04")
		if g == nil {
			t.Fatalf("%s %s: simulated %s %d->%d, no live decision", at, w.Tier, w.Action, w.From, w.To)
		}
		if g.TS != w.TS || g.Tier != w.Tier || g.From != w.From || g.To != w.To || g.Action != w.Action {
			t.Fatalf("%s %s: live %s %d->%d, simulated %s %d->%d", at, w.Tier, g.Action, g.From, g.To, w.Action, w.From, w.To)
		}
		if g.Reason != w.Reason || g.State != w.State || !slices.Equal(g.Flags, w.Flags) || !maps.Equal(g.Inputs, w.Inputs) {
			t.Fatalf("%s %s: same counts, different explanation:\nlive      %q %s %v %v\nsimulated %q %s %v %v", at, w.Tier,
				g.Reason, g.State, g.Flags, g.Inputs, w.Reason, w.State, w.Flags, w.Inputs)
		}
		if w.Action != proto.ActionHold {
			changes++
		}
		if _, ok := w.Inputs["forecast_max"]; ok {
			forecasted++
		}
		if slices.Contains(w.Flags, "load-incident") {
			incidents++
		}
	}
	if changes < 4*len(tiers) {
		t.Fatalf("only %d scale changes in %d decisions: the trace does not exercise the policy", changes, want)
	}
	// Every stage must have had its say: the forecaster's forecasts and the
	// anomaly service's incidents reached the policy.
	if forecasted < want/2 || incidents == 0 {
		t.Fatalf("%d decisions used a forecast and %d a load incident: the trace does not exercise every stage", forecasted, incidents)
	}
	t.Logf("%d decisions (%d tiers × %d minutes from %s) identical live and in the simulation: %d scale changes, %d with a forecast, %d under a load incident",
		want, len(tiers), minutes, times[0].Format(time.RFC3339), changes, forecasted, incidents)
}

// start runs one service on its own connection until the test ends and
// waits until it is ready.
func start(t *testing.T, url, name string, log zerolog.Logger, build func(service.Deps) (service.Runner, error)) {
	t.Helper()
	startReg(t, url, name, log, build)
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
