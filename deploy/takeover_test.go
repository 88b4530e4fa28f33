package deploy_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestNATSConfTakeOverRebuildsFromStoredHistory: a service that takes its
// partitions over while their history is already stored rebuilds them
// from its own account through HEADROOM's imports: the batched direct gets
// of each input (answered by several messages and an end marker, which a
// singleton import would cut after the first), the stream leader's
// STREAM.MSG.GET with next_by_subj where a batch ends before the stream's
// last sequence, and the direct reads of its output's last event times.
// The forecaster and the anomaly detector rebuild METRICS; the decider,
// started once they have published, METRICS, FORECASTS and ANOMALIES.
// Each partition's rebuild reads every message stored on it (a rebuild
// reading fewer fails the partition), and no partition worker fails.
func TestNATSConfTakeOverRebuildsFromStoredHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	url := runConfiguredServer(t)
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	rebuildsStoredHistory(t, url, admin, true)
}

// rebuildsStoredHistory stores an hour of ticks on several partitions
// through the server at url, runs the forecaster and the anomaly detector
// and, with decider set, then the decider, and checks that each rebuilt
// every partition from all of its stored inputs; admin, provisioning's
// connection, counts what is stored.
func rebuildsStoredHistory(t *testing.T, url string, admin *bus.Bus, withDecider bool) {
	t.Helper()
	ctx := context.Background()
	// History on every partition, interleaved, so that each partition's
	// last message is before the stream's last sequence.
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var outs []bus.Out
	apps, tiers := []string{"shop", "blog", "mail", "maps"}, []string{"web", "db", "cache"}
	for i := range 30 {
		for _, app := range apps {
			for _, tier := range tiers {
				outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", app, tier),
					Msg: proto.NewMetrics(app, tier, start.Add(time.Duration(i)*time.Minute), 3, map[string]float64{"rps": float64(100 + i)})})
			}
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := connectAs(t, url, "collector").PublishAll(pctx, outs); err != nil {
		t.Fatal(err)
	}
	partitions := map[int]bool{}
	for _, app := range apps {
		for _, tier := range tiers {
			var p int
			if _, err := fmt.Sscanf(natstest.PartitionDurable(t, admin, "METRICS", "x", proto.MetricsSubject("apm", app, tier)), "x-p%d", &p); err != nil {
				t.Fatal(err)
			}
			partitions[p] = true
		}
	}
	if len(partitions) < 2 {
		t.Fatalf("the history is on %d partition(s), want several", len(partitions))
	}

	streamMsgs := func(stream string) int {
		t.Helper()
		s, err := natstest.JetStream(t, admin).Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return int(s.CachedInfo().State.Msgs)
	}
	// rebuilt waits until the service logging to logs has taken over every
	// partition of each kind and returns, per kind, the messages its
	// rebuilds read.
	rebuilt := func(name string, logs *natstest.Logs, kinds ...proto.Kind) map[proto.Kind]int {
		t.Helper()
		got := map[proto.Kind]int{}
		natstest.Eventually(t, 90*time.Second, func() error {
			if failed := logs.Lines(t, "partition worker failed, restarting it"); len(failed) > 0 {
				t.Fatalf("%s: a partition worker failed: %v", name, failed[0])
			}
			seen := map[proto.Kind]map[float64]bool{}
			clear(got)
			for _, l := range logs.Lines(t, "partition taken over") {
				k := proto.Kind(fmt.Sprint(l["kind"]))
				if seen[k] == nil {
					seen[k] = map[float64]bool{}
				}
				p, _ := l["partition"].(float64)
				n, _ := l["messages"].(float64)
				if !seen[k][p] {
					seen[k][p] = true
					got[k] += int(n)
				}
			}
			for _, k := range kinds {
				if len(seen[k]) < proto.DefaultPartitions {
					return fmt.Errorf("%s took over %d partitions of %s", name, len(seen[k]), k)
				}
			}
			return nil
		})
		return got
	}
	run := func(name, user string, build func(service.Deps) (service.Runner, error)) *natstest.Logs {
		t.Helper()
		logs := &natstest.Logs{}
		log := zerolog.New(logs).Level(zerolog.InfoLevel)
		r, err := build(service.Deps{Bus: connectLogged(t, url, user, log), Log: log, Reg: prometheus.NewRegistry(),
			Ready: service.NewReady(), Mux: http.NewServeMux()})
		if err != nil {
			t.Fatal(err)
		}
		natstest.Serve(t, name, r.Run)
		return logs
	}

	flogs := run("forecaster", "forecaster", func(d service.Deps) (service.Runner, error) {
		return forecaster.New(forecaster.DefaultConfig(), d)
	})
	alogs := run("anomaly", "anomaly", func(d service.Deps) (service.Runner, error) {
		return detector.New(detector.DefaultConfig(), d)
	})
	for name, logs := range map[string]*natstest.Logs{"forecaster": flogs, "anomaly": alogs} {
		if got := rebuilt(name, logs, proto.KindMetrics)[proto.KindMetrics]; got != len(outs) {
			t.Errorf("%s rebuilt %d metrics, want the %d stored", name, got, len(outs))
		}
	}
	for _, base := range []string{"forecaster", "anomaly"} {
		natstest.Eventually(t, 60*time.Second, func() error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return natstest.GroupDrained(ctx, admin, "METRICS", base)
		})
	}
	if !withDecider {
		for name, logs := range map[string]*natstest.Logs{"forecaster": flogs, "anomaly": alogs} {
			noWarnings(t, name, logs)
		}
		return
	}
	want := map[proto.Kind]int{proto.KindMetrics: len(outs), proto.KindForecast: streamMsgs("FORECASTS"),
		proto.KindAnomaly: streamMsgs("ANOMALIES")}
	t.Logf("stored before the decider starts: %v", want)

	dlogs := run("decider", "decider", func(d service.Deps) (service.Runner, error) {
		return decider.New(decider.DefaultConfig(), d)
	})
	got := rebuilt("decider", dlogs, proto.KindMetrics, proto.KindForecast, proto.KindAnomaly)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("decider rebuilt %d messages of %s, want the %d stored", got[k], k, n)
		}
	}
	for name, logs := range map[string]*natstest.Logs{"forecaster": flogs, "anomaly": alogs, "decider": dlogs} {
		noWarnings(t, name, logs)
	}
}

// noWarnings fails the test for each warning or error the service name
// logged.
func noWarnings(t *testing.T, name string, logs *natstest.Logs) {
	t.Helper()
	for _, l := range logs.Lines(t, "") {
		if l["level"] == "error" || l["level"] == "warn" {
			t.Errorf("%s: %v", name, l)
		}
	}
}
