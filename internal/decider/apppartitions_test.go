package decider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestPartitionRecordBoundedByAppsHeld sends the inputs of 60 one-tier apps
// to a decider whose series limits admit two: the other 58 are refused
// (dead-lettered, naming the limit) and hold no state. The decider noted
// each one's partition all the same, for a hand-over to drop state it does
// not have; a member that keeps its partitions kept every app name it was
// ever sent, refused or evicted, for as long as it ran (60 here; without
// bound over days of names that come and go). The record now stays within
// twice the apps held plus a slack (bus.AppPartitions.Held).
func TestPartitionRecordBoundedByAppsHeld(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.Disabled)
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", log, true)
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	file := &config.File{Limits: config.Limits{MaxSeriesPerApp: 1, MaxSeries: 2, IdleAfter: 6 * time.Hour}}
	ready := service.NewReady()
	d, err := New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: prometheus.NewRegistry(), Ready: ready, Config: file})
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, 30*time.Second, ready.Err)

	// The record's size is sampled while the inputs come: it peaks just
	// before a sweep, for one input's handling, which a single look at
	// the end caught only now and then (when the refusals counted below
	// came before the last inputs were handled).
	peak := make(chan int, 1)
	sampling, stopSampling := context.WithCancel(context.Background())
	defer stopSampling()
	go func() {
		most := 0
		for {
			most = max(most, d.apps.Len())
			select {
			case <-sampling.Done():
				peak <- most
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	const apps = 60
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	for i := range apps {
		publishAppTicks(t, admin, cfg, fmt.Sprintf("a%02d", i), t0, 0, 2)
	}
	natstest.Eventually(t, time.Minute, func() error {
		refused := 0
		for _, data := range natstest.Payloads(t, admin, "DLQ", "apm.dlq.decider") {
			var dl proto.DeadLetter
			if err := proto.Decode(data, &dl); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(dl.Error, "max_series") {
				refused++
			}
		}
		// Each refused app's first input; later ones may be refused too.
		if refused < apps-2 {
			return fmt.Errorf("%d inputs refused by the series limits, want at least %d", refused, apps-2)
		}
		// Every input handled, so the sampling saw each handling.
		for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly} {
			if err := natstest.GroupDrained(context.Background(), admin, proto.StreamName("apm", k), "decider-"+string(k)); err != nil {
				return err
			}
		}
		return nil
	})
	stopSampling()
	seen := <-peak
	d.mu.Lock()
	held, noted := len(d.state.apps), d.apps.Len()
	d.mu.Unlock()
	t.Logf("%d apps held, %d noted (at most %d)", held, noted, seen)
	if held != 2 {
		t.Fatalf("%d apps held, want 2 (the series limit)", held)
	}
	if most := 2*held + 16 + 1; max(noted, seen) > most {
		t.Fatalf("%d apps' partitions noted while %d are held, want at most %d", max(noted, seen), held, most)
	}
	if noted < held {
		t.Fatalf("%d apps' partitions noted, fewer than the %d held: a hand-over would keep their state", noted, held)
	}
}

// TestRefusedAppHoldsNothing: an input whose tier the series limits refuse
// leaves no state of its app behind. The app was made before its tier was
// admitted, and held its policy and join until the idle sweep: as many
// apps as names came in the idle limit.
func TestRefusedAppHoldsNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	as := NewApps(cfg, config.Limits{MaxSeriesPerApp: 1, MaxSeries: 1, IdleAfter: 6 * time.Hour}, zerolog.Nop())
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	for i, app := range []string{"kept", "b1", "b2", "b3"} {
		_, err := as.AddMetrics(proto.NewMetrics(app, "web", at, 2, map[string]float64{proto.MetricRPS: 100}))
		if (i > 0) != (err != nil) {
			t.Fatalf("%s: err = %v, want one only beyond the first app", app, err)
		}
	}
	if _, err := as.AddMetrics(proto.NewMetrics("kept", "db", at, 2, map[string]float64{proto.MetricRPS: 100})); err == nil {
		t.Fatal("kept.db admitted beyond the limit")
	}
	if n := len(as.apps); n != 1 {
		t.Fatalf("%d apps held, want 1: refused apps hold state", n)
	}
	if a := as.app("kept"); a == nil || len(a.tiers) != 1 {
		t.Fatalf("kept holds %v, want its one admitted tier", a)
	}
}
