package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

var (
	apps  = []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	tiers = []string{"web", "db"}
	t0    = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
)

const minutes = 120

// early is how many minutes of the load one member of each service handles
// before the second joins: less than the forecaster's first refit point.
const early = 15

// ticks is the load: every app's tiers, one tick a minute, a daily-like
// wave plus seeded noise and one surge.
func ticks(seed uint64) [][]bus.Out {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([][]bus.Out, minutes)
	for i := range minutes {
		at := t0.Add(time.Duration(i) * time.Minute)
		for a, app := range apps {
			for k, tier := range tiers {
				rps := 200 + 80*math.Sin(float64(i)/20+float64(a)) + 20*rng.NormFloat64() + float64(50*k)
				if i >= 80 && i < 95 && a%2 == 0 {
					rps *= 2.5
				}
				m := proto.NewMetrics(app, tier, at, 3, map[string]float64{proto.MetricRPS: math.Max(rps, 1), proto.MetricCPU: 0.5})
				out[i] = append(out[i], bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: m})
			}
		}
	}
	return out
}

// member is one running copy of a service.
type member struct {
	name   string
	b      *bus.Bus
	cancel context.CancelFunc
	done   chan error
}

func startMember(t *testing.T, url, svc string, i int) *member {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(logLevel()).With().Timestamp().Str("member", fmt.Sprintf("%s-%d", svc, i)).Logger()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.GroupCheck = url, fmt.Sprintf("%s-%d", svc, i), 300*time.Millisecond
	b, err := bus.Connect(context.Background(), cfg, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitConnected(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ready := service.NewReady()
	deps := service.Deps{Bus: b, Log: log, Reg: prometheus.NewRegistry(), Ready: ready}
	var run func(context.Context) error
	switch svc {
	case "forecaster":
		s, err := forecaster.New(forecaster.DefaultConfig(), deps)
		if err != nil {
			t.Fatal(err)
		}
		run = s.Run
	case "anomaly":
		s, err := detector.New(detector.DefaultConfig(), deps)
		if err != nil {
			t.Fatal(err)
		}
		run = s.Run
	case "decider":
		cfg := decider.DefaultConfig()
		cfg.Policy.Tick = time.Minute
		s, err := decider.New(cfg, deps)
		if err != nil {
			t.Fatal(err)
		}
		run = s.Run
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{name: cfg.Name, b: b, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- run(ctx) }()
	t.Cleanup(m.stop)
	natstest.Eventually(t, time.Minute, ready.Err)
	return m
}

func (m *member) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	_ = m.b.Close(5 * time.Second)
	m.cancel = nil
}

// kill ends the member as kill -9 would: its connection drops with no
// drain, no unpin and no goodbye.
func (m *member) kill() {
	m.b.Abort()
	m.stop()
}

var services = []string{"forecaster", "anomaly", "decider"}

// outputs reads kind's stream and fails on any duplicate id; it returns the
// payloads by id.
func outputs(t *testing.T, b *bus.Bus, k proto.Kind) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, data := range natstest.Payloads(t, b, proto.StreamName("apm", k), proto.Filter("apm", k)) {
		var h struct {
			ID string `msgpack:"id"`
		}
		if err := msgpack.Unmarshal(data, &h); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[h.ID]; dup {
			t.Fatalf("%s %s stored twice", k, h.ID)
		}
		out[h.ID] = data
	}
	return out
}

// settled waits until every tick has its anomaly output, every bucket its
// forecast and the deciders have handled everything.
func settled(t *testing.T, b *bus.Bus, timeout time.Duration) {
	t.Helper()
	wantTicks := minutes * len(apps) * len(tiers)
	wantForecasts := minutes / 5 * len(apps) * len(tiers)
	natstest.Eventually(t, timeout, func() error {
		ctx := context.Background()
		for _, k := range []proto.Kind{proto.KindAnomaly, proto.KindForecast} {
			s, err := natstest.JetStream(t, b).Stream(ctx, proto.StreamName("apm", k))
			if err != nil {
				return err
			}
			info, err := s.Info(ctx)
			if err != nil {
				return err
			}
			want := wantTicks
			if k == proto.KindForecast {
				want = wantForecasts
			}
			if int(info.State.Msgs) != want {
				return fmt.Errorf("%d %s stored, want %d (%s)", info.State.Msgs, k, want, short(ctx, s))
			}
		}
		for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly} {
			if err := natstest.GroupDrained(ctx, b, proto.StreamName("apm", k), "decider-"+string(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

func publish(t *testing.T, b *bus.Bus, batches [][]bus.Out) {
	t.Helper()
	for _, outs := range batches {
		if err := b.PublishAll(context.Background(), outs); err != nil {
			t.Fatal(err)
		}
	}
}

// compared are the outputs a faulted run must share with the fault-free one:
// each stage rebuilds what it takes over from the whole recorded history,
// so every anomaly message, forecast and decision is the same, and a
// difference names the first stage whose hand-over changed its outputs.
var compared = []proto.Kind{proto.KindAnomaly, proto.KindForecast, proto.KindDecision}

// faultFree runs the load through one member of each service on a single
// server and returns its outputs of each compared kind, by id.
func faultFree(t *testing.T, load [][]bus.Out) map[proto.Kind]map[string][]byte {
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "provision", zerolog.Nop(), true)
	for _, svc := range services {
		startMember(t, url, svc, 0)
	}
	publish(t, admin, load)
	settled(t, admin, 2*time.Minute)
	out := map[proto.Kind]map[string][]byte{}
	for _, k := range compared {
		out[k] = outputs(t, admin, k)
	}
	return out
}

// differ lists, sorted, the ids of want missing from got or stored
// differently there, and those of got that want lacks.
func differ(want, got map[string][]byte) []string {
	var diff []string
	for id, w := range want {
		if g, ok := got[id]; !ok {
			diff = append(diff, id+" missing")
		} else if !bytes.Equal(g, w) {
			diff = append(diff, id+" differs")
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			diff = append(diff, id+" not in the fault-free run")
		}
	}
	sort.Strings(diff)
	return diff
}

// earliest describes the earliest message (by event time) stored
// differently in the two runs: its id and each top-level field that
// differs, with both values, for the failure message.
func earliest(t *testing.T, want, got map[string][]byte) string {
	var id string
	var ts int64
	var w, g map[string]any
	for mid, wb := range want {
		gb, ok := got[mid]
		if !ok || bytes.Equal(gb, wb) {
			continue
		}
		var h struct {
			TS int64 `msgpack:"ts"`
		}
		var dw, dg map[string]any
		for _, err := range []error{msgpack.Unmarshal(wb, &h), msgpack.Unmarshal(wb, &dw), msgpack.Unmarshal(gb, &dg)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if id == "" || h.TS < ts || h.TS == ts && mid < id {
			id, ts, w, g = mid, h.TS, dw, dg
		}
	}
	if id == "" {
		return ""
	}
	var fields []string
	for _, k := range slices.Sorted(maps.Keys(w)) {
		// Compared as encoded, so a NaN equals itself.
		we, err1 := msgpack.Marshal(w[k])
		ge, err2 := msgpack.Marshal(g[k])
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(we, ge) {
			fields = append(fields, fmt.Sprintf("%s: fault-free %s, faulted %s", k, clip(w[k]), clip(g[k])))
		}
	}
	return fmt.Sprintf("earliest, %s: %s", id, strings.Join(fields, "; "))
}

// clip prints v, cut at 240 characters.
func clip(v any) string {
	r := []rune(fmt.Sprint(v))
	if len(r) > 240 {
		return string(r[:240]) + "…"
	}
	return string(r)
}

// TestClusterSurvivesNodeAndMemberKills is the fault test of issue 11: a
// three-node cluster, streams at three replicas, two members of each
// stateful service (the second joining a quarter hour into the load, so
// young series are handed over too); halfway through the load one NATS
// node and one member of each service are killed.
func TestClusterSurvivesNodeAndMemberKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster and two pipelines (about a minute)")
	}
	load := ticks(42)
	want := faultFree(t, load)
	if len(want[proto.KindDecision]) == 0 {
		t.Fatal("the fault-free run made no decisions")
	}

	c := natstest.StartCluster(t, 3)
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.Streams.Replicas = c.URL(), "provision", 3
	admin, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(5 * time.Second) })
	natstest.Eventually(t, 30*time.Second, func() error { return admin.EnsureStreams(context.Background()) })

	// One member of each service takes the first quarter hour, while every
	// series is younger than its forecaster's first refit point; the
	// second members then take their share of the partitions over, so the
	// hand-over rebuilds young series too.
	members := map[string][]*member{}
	for _, svc := range services {
		members[svc] = append(members[svc], startMember(t, c.URL(), svc, 0))
	}
	publish(t, admin, load[:early])
	natstest.WaitEventTime(t, admin, "FORECASTS", subjectsOf(proto.ForecastSubject), t0.Add(early*time.Minute-5*time.Minute), time.Minute)
	natstest.WaitEventTime(t, admin, "ANOMALIES", subjectsOf(proto.AnomalySubject), t0.Add(early*time.Minute-time.Minute), time.Minute)
	for _, svc := range services {
		members[svc] = append(members[svc], startMember(t, c.URL(), svc, 1))
	}
	publish(t, admin, load[early:minutes/2])
	natstest.WaitEventTime(t, admin, "ANOMALIES", []string{"apm.anomaly.a0.web"}, t0.Add(time.Duration(minutes/2-1)*time.Minute), time.Minute)

	// The faults: one NATS node (not the admin's) and one member of each service.
	killed := time.Now()
	victim := c.Servers[1]
	if admin.ServerName() == victim.Name() {
		victim = c.Servers[2]
	}
	victim.Shutdown()
	for _, svc := range services {
		members[svc][0].kill()
	}
	// Hand-over: the first minute after the kills is scored for every
	// tier within 30 s, whichever member had its app.
	publish(t, admin, load[minutes/2:minutes/2+1])
	natstest.WaitEventTime(t, admin, "ANOMALIES", subjectsOf(proto.AnomalySubject), t0.Add(time.Duration(minutes/2)*time.Minute), 30*time.Second)
	t.Logf("the first minute after the kills was scored for every tier %v after them", time.Since(killed).Round(100*time.Millisecond))
	publish(t, admin, load[minutes/2+1:])
	settled(t, admin, 3*time.Minute)
	t.Logf("killed %s and one member of each service; the rest of the load was handled %v later", victim.Name(), time.Since(killed).Round(100*time.Millisecond))

	sameAsFaultFree(t, admin, want)
}

// sameAsFaultFree fails t unless the run on admin's server stored one
// anomaly message per tick and every compared output exactly as the
// fault-free run (want) did.
func sameAsFaultFree(t *testing.T, admin *bus.Bus, want map[proto.Kind]map[string][]byte) {
	t.Helper()
	ticks := len(outputs(t, admin, proto.KindMetrics))
	got := map[proto.Kind]map[string][]byte{}
	for _, k := range compared {
		got[k] = outputs(t, admin, k)
	}
	t.Logf("%d ticks, %d anomaly messages, %d forecasts, %d decisions (fault-free run: %d, %d, %d)", ticks,
		len(got[proto.KindAnomaly]), len(got[proto.KindForecast]), len(got[proto.KindDecision]),
		len(want[proto.KindAnomaly]), len(want[proto.KindForecast]), len(want[proto.KindDecision]))
	if n := len(got[proto.KindAnomaly]); n != ticks {
		t.Errorf("%d anomaly messages for %d ticks", n, ticks)
	}
	for _, k := range compared {
		if diff := differ(want[k], got[k]); len(diff) > 0 {
			msg := fmt.Sprintf("%d %s messages differ from the fault-free run, e.g. %v", len(diff), k, diff[:min(len(diff), 10)])
			if e := earliest(t, want[k], got[k]); e != "" {
				msg += "; " + e
			}
			t.Error(msg)
		}
	}
}

// subjectsOf lists the subject of every app's tiers, as subject makes it.
func subjectsOf(subject func(prefix, app, tier string) string) []string {
	var out []string
	for _, app := range apps {
		for _, tier := range tiers {
			out = append(out, subject("apm", app, tier))
		}
	}
	return out
}

// logLevel is warn, or info with HEADROOM_CLUSTER_LOG=1 to follow the
// members' shares and rebuilds.
func logLevel() zerolog.Level {
	if os.Getenv("HEADROOM_CLUSTER_LOG") != "" {
		return zerolog.InfoLevel
	}
	return zerolog.WarnLevel
}

// short names the subjects of s holding fewer messages than the others.
func short(ctx context.Context, s jetstream.Stream) string {
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(">"))
	if err != nil {
		return err.Error()
	}
	most := uint64(0)
	for _, n := range info.State.Subjects {
		most = max(most, n)
	}
	var out []string
	for subj, n := range info.State.Subjects {
		if n < most {
			out = append(out, fmt.Sprintf("%s %d/%d", subj, n, most))
		}
	}
	sort.Strings(out)
	return fmt.Sprint(len(info.State.Subjects), " subjects; short: ", out)
}
