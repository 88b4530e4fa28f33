package detector

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

var tiers = []string{"web", "db"}

// run is one anomaly service process on the test's server.
type run struct {
	svc    *Service
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, b *bus.Bus, log zerolog.Logger) *run {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Outbox = outbox.Config{AttemptTimeout: 500 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond}
	ready := service.NewReady()
	r := &run{reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	var err error
	if r.svc, err = New(cfg, service.Deps{Bus: b, Log: log, Reg: r.reg, Ready: ready}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.svc.Run(ctx) }()
	natstest.Eventually(t, 20*time.Second, ready.Err)
	return r
}

func (r *run) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("anomaly service did not stop in 20s")
	}
}

func (r *run) retries(t *testing.T) float64 {
	t.Helper()
	fams, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range fams {
		if f.GetName() == "headroom_outbox_retries_total" {
			for _, m := range f.GetMetric() {
				n += (&dto.Metric{Counter: m.Counter}).GetCounter().GetValue()
			}
		}
	}
	return n
}

// publishTicks stores ticks i in [from, to) for every tier, one a minute.
func publishTicks(t *testing.T, b *bus.Bus, from, to int) {
	t.Helper()
	var outs []bus.Out
	for i := from; i < to; i++ {
		for k, tier := range tiers {
			v := map[string]float64{"rps": 100 + 20*math.Sin(float64(i)/7) + float64(10*k), "cpu": 0.4 + 0.1*math.Cos(float64(i)/5), "p95_ms": 80}
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject(b.Prefix(), "shop", tier), Msg: proto.NewMetrics("shop", tier, tickTime(i), 3, v)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.PublishAll(ctx, outs); err != nil {
		t.Fatal(err)
	}
}

func tickTime(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

// refuse makes the ANOMALIES stream stop capturing its subjects (publishes
// fail: no stream answers) or capture them again; stored messages stay.
func refuse(t *testing.T, b *bus.Bus, on bool) {
	t.Helper()
	cfg := b.StreamConfig(proto.KindAnomaly)
	if on {
		cfg.Subjects = []string{"refused." + cfg.Subjects[0]}
	}
	if _, err := natstest.JetStream(t, b).UpdateStream(context.Background(), cfg); err != nil {
		t.Fatalf("update stream: %v", err)
	}
}

// handled waits until the service's consumer has acknowledged every METRICS
// message and, when queued is set, its outbox holds outputs it failed to store.
func handled(t *testing.T, b *bus.Bus, r *run, queued bool) {
	t.Helper()
	stream := proto.StreamName(b.Prefix(), proto.KindMetrics)
	natstest.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := natstest.GroupDrained(ctx, b, stream, "anomaly"); err != nil {
			return err
		}
		if queued && (r.svc.out.Pending() == 0 || r.retries(t) == 0) {
			return fmt.Errorf("no output waiting after a failed publish (pending %d)", r.svc.out.Pending())
		}
		return nil
	})
}

// stored waits until every tier's last stored output is tick last, then
// returns the event times of every stored output per tier, in stream order.
func stored(t *testing.T, b *bus.Bus, last int) map[string][]time.Time {
	t.Helper()
	stream := proto.StreamName(b.Prefix(), proto.KindAnomaly)
	var subjects []string
	for _, tier := range tiers {
		subjects = append(subjects, proto.AnomalySubject(b.Prefix(), "shop", tier))
	}
	natstest.WaitEventTime(t, b, stream, subjects, tickTime(last), 30*time.Second)
	out := map[string][]time.Time{}
	for _, data := range natstest.Payloads(t, b, stream, proto.Filter(b.Prefix(), proto.KindAnomaly)) {
		var a proto.Anomaly
		if err := proto.Decode(data, &a); err != nil {
			t.Fatal(err)
		}
		out[a.Tier] = append(out[a.Tier], a.EventTime())
	}
	return out
}

// exactlyOnce checks that every tick 0..last has exactly one output per tier,
// stored in event-time order, and reports gaps and duplicates.
func exactlyOnce(t *testing.T, got map[string][]time.Time, last int) {
	t.Helper()
	for _, tier := range tiers {
		seen := map[time.Time]int{}
		for _, ts := range got[tier] {
			seen[ts]++
		}
		var lost, dup []string
		for i := 0; i <= last; i++ {
			switch n := seen[tickTime(i)]; {
			case n == 0:
				lost = append(lost, tickTime(i).Format("15:04"))
			case n > 1:
				dup = append(dup, fmt.Sprintf("%s×%d", tickTime(i).Format("15:04"), n))
			}
		}
		t.Logf("%s: %d ticks, %d outputs stored, %d lost, %d duplicated", tier, last+1, len(got[tier]), len(lost), len(dup))
		if len(lost) > 0 || len(dup) > 0 || len(got[tier]) != last+1 {
			t.Errorf("%s: lost %v, duplicated %v", tier, lost, dup)
		}
		for i := 1; i < len(got[tier]); i++ {
			if !got[tier][i].After(got[tier][i-1]) {
				t.Errorf("%s: output %d at %s stored after %s", tier, i, got[tier][i].Format("15:04"), got[tier][i-1].Format("15:04"))
				break
			}
		}
	}
}

// TestOutputsSurviveFailedPublishes makes the anomaly service's output
// publishes fail twice while ticks keep arriving: once recovered live, once
// across a restart of the service while its outputs were still unstored.
// Every tick must end with exactly one stored output per tier, in order.
func TestOutputsSurviveFailedPublishes(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	b := natstest.Bus(t, "anomaly", log)

	r := start(t, b, log)
	publishTicks(t, b, 0, 40)
	stored(t, b, 39)

	// Outage recovered while the service runs.
	refuse(t, b, true)
	publishTicks(t, b, 40, 80)
	handled(t, b, r, true)
	refuse(t, b, false)
	stored(t, b, 79)

	// Outage spanning a restart: the outputs queued when the service stops
	// are made again by the next start's replay.
	refuse(t, b, true)
	publishTicks(t, b, 80, 120)
	handled(t, b, r, true)
	r.stop(t)
	r = start(t, b, log)
	handled(t, b, r, true)
	refuse(t, b, false)
	stored(t, b, 119)

	publishTicks(t, b, 120, 140)
	stored(t, b, 139)
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := r.svc.out.Pending(); n > 0 {
			return fmt.Errorf("%d outputs pending", n)
		}
		return nil
	})
	r.stop(t)
	exactlyOnce(t, stored(t, b, 139), 139)
}

// TestDecodeChecksSubject sends a tick whose payload names another app than
// its subject: it goes to the dead-letter queue and scores nothing.
func TestDecodeChecksSubject(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	b := natstest.Bus(t, "anomaly", log)
	r := start(t, b, log)
	forged := proto.NewMetrics("victim", "web", t0, 3, map[string]float64{"rps": 1})
	if err := b.Publish(context.Background(), bus.Out{Subject: proto.MetricsSubject(b.Prefix(), "shop", "web"), Msg: forged}); err != nil {
		t.Fatal(err)
	}
	dlq := proto.StreamName(b.Prefix(), proto.KindDLQ)
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := len(natstest.Payloads(t, b, dlq, proto.DLQSubject(b.Prefix(), "anomaly"))); n != 1 {
			return fmt.Errorf("%d dead letters", n)
		}
		return nil
	})
	r.stop(t)
	if r.svc.tiers.Has("victim", "web") {
		t.Fatal("the forged app was scored")
	}
}
