package allinone_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/shop"
	"github.com/headroomhq/headroom/proto"
)

// spikeWindow finds the first traffic spike the default shop (seed 1) has in
// the week after day, so tests run live around it.
func spikeWindow(t *testing.T, day time.Time) shop.Incident {
	t.Helper()
	cfg := shop.DefaultConfig()
	m, err := shop.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range m.Incidents(day, day.Add(7*24*time.Hour)) {
		if in.Kind == shop.KindSpike {
			return in
		}
	}
	t.Fatal("no spike in a week")
	return shop.Incident{}
}

// testConfig runs the shop at full speed in lockstep from start for ticks
// minutes, after a day of backfilled history.
func testConfig(t *testing.T, start time.Time, ticks int) allinone.Config {
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Bus.Streams.Duplicates = time.Hour
	cfg.Collector.Start, cfg.Collector.Ticks, cfg.Collector.Speed = start, ticks, 0
	cfg.Collector.Tick, cfg.Collector.BackfillTick, cfg.Collector.Backfill = time.Minute, time.Minute, 24*time.Hour
	cfg.Collector.LockstepWait = 5 * time.Second
	cfg.Decider.Policy.Tick = time.Minute
	// The pipeline, not forecast quality, is under test: the cheap models
	// keep the race-enabled runs short (internal/forecast tests the rest).
	cfg.Forecaster.Model.Models = []string{"snaive", "naive"}
	return cfg
}

type run struct {
	t      *testing.T
	sys    *allinone.System
	b      *bus.Bus            // a probe's bus, for reading the streams
	js     jetstream.JetStream // raw access, for what the bus never does
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg allinone.Config) *run {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{t: t, cancel: cancel, done: make(chan error, 1)}
	up := make(chan *allinone.System, 1)
	go func() {
		r.done <- allinone.Run(ctx, cfg, natstest.Log(t), func(s *allinone.System) { up <- s })
	}()
	select {
	case r.sys = <-up:
	case err := <-r.done:
		t.Fatalf("all-in-one did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("all-in-one did not start in 30s")
	}
	t.Cleanup(r.stop)
	b := connect(t, r.sys, "probe")
	r.b, r.js = b, natstest.JetStream(t, b)
	return r
}

// stop stops the all-in-one, which must return no error: a stop asked is
// not a failure, and the process exits 0.
func (r *run) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("all-in-one stopped with %v", err)
	}
	r.cancel = nil
}

// connect joins the all-in-one's embedded server under its own identity.
func connect(t *testing.T, sys *allinone.System, name string) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.User, cfg.Password = sys.NATSURL, name, sys.NATSUser, sys.NATSPassword
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.WaitConnected(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return b
}

// all reads every message of a stream matching filter, decoded into T.
func all[T any, PT interface {
	*T
	proto.Message
}](t *testing.T, b *bus.Bus, stream, filter string) []*T {
	t.Helper()
	var out []*T
	for _, data := range natstest.Payloads(t, b, stream, filter) {
		v := PT(new(T))
		if err := proto.Decode(data, v); err != nil {
			t.Fatalf("decode %s message: %v", stream, err)
		}
		out = append(out, (*T)(v))
	}
	return out
}

// shopSubjects lists the shop's three tier subjects of a kind.
func shopSubjects(kind string) []string {
	return []string{"apm." + kind + ".shop.web", "apm." + kind + ".shop.cache", "apm." + kind + ".shop.db"}
}

// waitDecisions waits until the decider has decided every tier for every
// live tick but the last (which waits for a later tick by design).
func waitDecisions(t *testing.T, r *run, liveStart time.Time, ticks int) []*proto.Decision {
	t.Helper()
	lastTS := proto.Millis(liveStart.Add(time.Duration(ticks-2) * time.Minute))
	natstest.WaitEventTime(t, r.b, "DECISIONS", shopSubjects("decision"), proto.Time(lastTS), 5*time.Minute)
	return all[proto.Decision](t, r.b, "DECISIONS", "apm.decision.shop.*")
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	spike := spikeWindow(t, day)
	liveStart := spike.Start.Add(-2 * time.Hour).Truncate(time.Minute)
	ticks := int(spike.End.Add(2*time.Hour).Sub(liveStart) / time.Minute)

	r := start(t, testConfig(t, liveStart, ticks))
	ds := waitDecisions(t, r, liveStart, ticks)

	metrics := all[proto.Metrics](t, r.b, "METRICS", "apm.metrics.shop.*")
	if want := 3 * (1440 + ticks); len(metrics) != want {
		t.Errorf("%d metrics ticks recorded, want %d", len(metrics), want)
	}
	fcs := all[proto.Forecast](t, r.b, "FORECASTS", "apm.forecast.shop.*")
	withPoints := 0
	for _, f := range fcs {
		if len(f.Points) == 12 {
			withPoints++
		}
	}
	if withPoints < 100 {
		t.Errorf("%d forecasts with 12 points of %d", withPoints, len(fcs))
	}
	anoms := all[proto.Anomaly](t, r.b, "ANOMALIES", "apm.anomaly.shop.*")
	if len(anoms) != len(metrics) {
		t.Errorf("%d anomaly messages for %d ticks", len(anoms), len(metrics))
	}
	scaling := all[proto.Scaling](t, r.b, "SCALING", "apm.scaling.shop.*")
	if len(scaling) == 0 {
		t.Error("no scaling events")
	}

	// The spike scales web up, and web comes back down after it.
	var up, down *proto.Decision
	for _, d := range ds {
		at := d.EventTime()
		if d.Tier == "web" && d.Action == proto.ActionUp && up == nil && !at.Before(spike.Start.Add(-10*time.Minute)) && at.Before(spike.End) {
			up = d
		}
		if d.Tier == "web" && d.Action == proto.ActionDown && down == nil && at.After(spike.End) {
			down = d
		}
	}
	if up == nil {
		t.Fatalf("no web scale-up during the spike %s–%s", spike.Start, spike.End)
	}
	if down == nil {
		t.Fatalf("web never scaled down after the spike ended at %s", spike.End)
	}
	if up.Reason == "" || down.Reason == "" {
		t.Error("decision without a reason")
	}
	t.Logf("spike %s–%s ×%.1f; up %s %d→%d (%s); down %s %d→%d (%s)", spike.Start.Format("15:04"), spike.End.Format("15:04"), spike.Magnitude,
		up.EventTime().Format("15:04"), up.From, up.To, up.Reason, down.EventTime().Format("15:04"), down.From, down.To, down.Reason)

	// Every tier has exactly one decision per tick: none lost, none repeated.
	checkContiguous(t, ds)
	checkNoRepeatedChange(t, ds)
}

// checkNoRepeatedChange asserts that no change asks again for the count the
// tier's previous decision settled on: a pending change is emitted once.
func checkNoRepeatedChange(t *testing.T, ds []*proto.Decision) {
	t.Helper()
	last := map[string]*proto.Decision{}
	changes := 0
	for _, d := range ds {
		if p := last[d.Tier]; p != nil && d.Action != proto.ActionHold {
			changes++
			if d.To == p.To {
				t.Errorf("%s repeats the change to %d of %s (%d→%d, then %d→%d)", d.ID, d.To, p.ID, p.From, p.To, d.From, d.To)
			}
		}
		last[d.Tier] = d
	}
	if changes == 0 {
		t.Error("no change decided: nothing was checked")
	}
}

// TestDryRunDoesNotRepeatChanges runs the shop in dry-run through a spike:
// nothing is scaled, so the ready count never follows the decisions, yet no
// change is emitted twice (the executor acknowledges each, and the decider
// decides from that committed count).
func TestDryRunDoesNotRepeatChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	spike := spikeWindow(t, day)
	liveStart := spike.Start.Add(-30 * time.Minute).Truncate(time.Minute)
	const ticks = 120
	cfg := testConfig(t, liveStart, ticks)
	cfg.Executor.Modes = map[string]string{"shop": "dry-run"}
	r := start(t, cfg)
	ds := waitDecisions(t, r, liveStart, ticks)
	checkNoRepeatedChange(t, ds)
	for _, sc := range all[proto.Scaling](t, r.b, "SCALING", "apm.scaling.shop.*") {
		if sc.Status != proto.StatusSkipped || sc.Reason != "dry-run" {
			t.Fatalf("dry-run app got scaling event %+v", sc)
		}
	}
}

// checkContiguous asserts one decision per tier per minute, no gaps, no repeats.
func checkContiguous(t *testing.T, ds []*proto.Decision) {
	t.Helper()
	byTier := map[string][]int64{}
	ids := map[string]bool{}
	for _, d := range ds {
		if ids[d.ID] {
			t.Fatalf("decision %s stored twice", d.ID)
		}
		ids[d.ID] = true
		byTier[d.Tier] = append(byTier[d.Tier], d.TS)
	}
	for tier, ts := range byTier {
		slices.Sort(ts)
		for i := 1; i < len(ts); i++ {
			if ts[i]-ts[i-1] != time.Minute.Milliseconds() {
				t.Fatalf("%s: decisions jump from %s to %s", tier, proto.Time(ts[i-1]), proto.Time(ts[i]))
			}
		}
	}
}

// TestDeterministicDecisions runs the same recording twice: every stage's
// stored output up to the last decided tick, forecasts and anomaly scores
// as well as decisions, must be the same, bit for bit. A stage that
// missed or reordered some of its input (a take-over that skipped a
// partition's first messages did) differs here before its decisions do.
func TestDeterministicDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	liveStart := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	const ticks = 120
	var runs [2]map[string][]string
	for i := range runs {
		r := start(t, testConfig(t, liveStart, ticks))
		runs[i] = stageOutputs(t, r, liveStart, ticks)
		r.stop()
	}
	for _, kind := range []string{"forecasts", "anomalies", "decisions"} {
		a, b := runs[0][kind], runs[1][kind]
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("runs differ at %s %d:\n%s\n%s", kind, i, a[i], b[i])
			}
		}
		if len(a) != len(b) {
			t.Fatalf("runs differ in their number of %s: %d vs %d", kind, len(a), len(b))
		}
		if len(a) == 0 {
			t.Fatalf("no %s stored: nothing was compared", kind)
		}
		t.Logf("%d identical %s", len(a), kind)
	}
}

// stageOutputs waits for the run's decisions and returns every stage's
// stored output for the shop up to the last decided tick, one line per
// message in id order, with the numbers in full.
func stageOutputs(t *testing.T, r *run, liveStart time.Time, ticks int) map[string][]string {
	t.Helper()
	ds := waitDecisions(t, r, liveStart, ticks)
	last := int64(0)
	out := map[string][]string{}
	for _, d := range ds {
		last = max(last, d.TS)
		out["decisions"] = append(out["decisions"], fmt.Sprintf("%s %d→%d %s", d.ID, d.From, d.To, d.Reason))
	}
	for _, f := range all[proto.Forecast](t, r.b, "FORECASTS", "apm.forecast.shop.*") {
		if f.TS <= last {
			out["forecasts"] = append(out["forecasts"], fmt.Sprintf("%s %s %v", f.ID, f.Model, f.Points))
		}
	}
	for _, a := range all[proto.Anomaly](t, r.b, "ANOMALIES", "apm.anomaly.shop.*") {
		if a.TS <= last {
			out["anomalies"] = append(out["anomalies"], fmt.Sprintf("%s %v %v", a.ID, a.Open, a.Scores))
		}
	}
	for _, lines := range out {
		slices.Sort(lines)
	}
	return out
}

// TestDeciderRestartAndDLQ stops the decider mid-stream and starts it again,
// and sends a bad payload on a metrics subject: no decision is lost or
// stored twice, and the bad payload lands in the DLQ with a reason while
// processing goes on.
func TestDeciderRestartAndDLQ(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	liveStart := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	const ticks = 120
	cfg := testConfig(t, liveStart, ticks)
	cfg.Without = map[string]bool{"decider": true}
	cfg.Collector.LockstepWait = 50 * time.Millisecond
	r := start(t, cfg)

	runDecider := func() (stop func()) {
		b := connect(t, r.sys, "decider")
		d, err := decider.New(cfg.Decider, service.Deps{Bus: b, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), Ready: service.NewReady()})
		if err != nil {
			t.Fatal(err)
		}
		return natstest.Serve(t, "decider", d.Run)
	}
	stop := runDecider()
	// Let it decide part of the live run, then kill it.
	decisions, err := r.js.Stream(context.Background(), "DECISIONS")
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 3*time.Minute, func() error {
		info, err := decisions.Info(context.Background())
		if err != nil {
			return err
		}
		if n := info.State.Msgs; n < 3*(1440+30) {
			return fmt.Errorf("%d decisions", n)
		}
		return nil
	})
	stop()
	if _, err := r.js.Publish(context.Background(), "apm.metrics.shop.web", []byte{0x92, 0x01}); err != nil {
		t.Fatal(err)
	}
	stop = runDecider()
	defer stop()
	ds := waitDecisions(t, r, liveStart, ticks)
	checkContiguous(t, ds)
	if want := 3 * (1440 + ticks - 1); len(ds) != want {
		t.Errorf("%d decisions, want %d", len(ds), want)
	}
	dls := all[proto.DeadLetter](t, r.b, "DLQ", "apm.dlq.*")
	services := map[string]bool{}
	for _, dl := range dls {
		if dl.Subject == "apm.metrics.shop.web" && dl.Error != "" {
			services[dl.Service] = true
		}
	}
	for _, s := range []string{"forecaster", "anomaly", "decider"} {
		if !services[s] {
			t.Errorf("no dead letter from %s (got %v)", s, services)
		}
	}
}
