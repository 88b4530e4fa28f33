// Package tierstagetest drives a stage built on package tierstage (the
// forecaster, the anomaly service) against a test's real NATS server: it
// starts and stops the stage like a process, stores metrics ticks, makes
// the stage's output stream refuse publishes and accept them again, and
// reads what was stored, so each stage's delivery tests say only what is
// their own (which event times a run of ticks must store).
package tierstagetest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// App is the app every tick is stored for; Tiers its tiers.
const App = "shop"

// Tiers are the tiers PublishTicks stores a tick for, in order.
var Tiers = []string{"web", "db"}

// T0 is tick 0's event time; ticks are a minute apart.
var T0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// TickTime is tick i's event time.
func TickTime(i int) time.Time { return T0.Add(time.Duration(i) * time.Minute) }

// Stage is a tier stage as a test process needs it.
type Stage interface {
	service.Runner
	// Pending returns how many outputs wait to be stored.
	Pending() int
	// Blocked returns how many output subjects wait on a refused output.
	Blocked() int
}

// Harness describes the stage under test.
type Harness struct {
	// Name is the stage's service and consumer name.
	Name string
	// Output is the kind the stage stores.
	Output proto.Kind
	// NewOutput returns an empty message of the Output kind to decode into.
	NewOutput func() proto.Keyed
	// New builds one process of the stage.
	New func(service.Deps) (Stage, error)
}

// Run is one process of the stage on the test's server.
type Run struct {
	Stage  Stage
	reg    *prometheus.Registry
	h      Harness
	cancel context.CancelFunc
	done   chan error
}

// Start builds the stage and runs it until Stop, returning once it is ready.
func (h Harness) Start(t *testing.T, b *bus.Bus, log zerolog.Logger) *Run {
	t.Helper()
	ready := service.NewReady()
	r := &Run{reg: prometheus.NewRegistry(), h: h, done: make(chan error, 1)}
	var err error
	if r.Stage, err = h.New(service.Deps{Bus: b, Log: log, Reg: r.reg, Ready: ready}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.Stage.Run(ctx) }()
	natstest.Eventually(t, 20*time.Second, ready.Err)
	return r
}

// Stop stops the process and waits for it to end without error.
func (r *Run) Stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not stop in 20s", r.h.Name)
	}
}

// Retries returns the process's outbox retries so far.
func (r *Run) Retries(t *testing.T) float64 {
	t.Helper()
	n, _ := metricstest.Sum(t, r.reg, "headroom_outbox_retries_total")
	return n
}

// Values are tick i's metrics on Tiers[k]: smooth rps, cpu and latency.
func Values(i, k int) map[string]float64 {
	return map[string]float64{"rps": 100 + 20*math.Sin(float64(i)/7) + float64(10*k), "cpu": 0.4 + 0.1*math.Cos(float64(i)/5), "p95_ms": 80}
}

// PublishTicks stores ticks i in [from, to) of every tier (Values).
func PublishTicks(t *testing.T, b *bus.Bus, from, to int) {
	t.Helper()
	var outs []bus.Out
	for i := from; i < to; i++ {
		for k, tier := range Tiers {
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject(b.Prefix(), App, tier), Msg: proto.NewMetrics(App, tier, TickTime(i), 3, Values(i, k))})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.PublishAll(ctx, outs); err != nil {
		t.Fatal(err)
	}
}

// Refuse makes the stage's output stream stop capturing its subjects (its
// publishes fail: no stream answers) or capture them again; what is stored
// stays.
func (h Harness) Refuse(t *testing.T, b *bus.Bus, on bool) {
	t.Helper()
	cfg := b.StreamConfig(h.Output)
	if on {
		cfg.Subjects = []string{"refused." + cfg.Subjects[0]}
	}
	if _, err := natstest.JetStream(t, b).UpdateStream(context.Background(), cfg); err != nil {
		t.Fatalf("update stream: %v", err)
	}
}

// Handled waits until the process has handled every stored tick: without
// queued, every tick is acknowledged; with queued, its outbox holds outputs
// it failed to store, every tick was delivered, the ticks those outputs
// were made from are not acknowledged (an acknowledgement waits for the
// output), and every tier's output subject waits on a refused output. The
// last makes the order of what is stored after Refuse(t, b, false)
// certain: an output sent before the outbox learnt its subject's oldest
// was refused is stored ahead of it if the store accepts again meanwhile
// (see package outbox).
func (r *Run) Handled(t *testing.T, b *bus.Bus, queued bool) {
	t.Helper()
	stream := proto.StreamName(b.Prefix(), proto.KindMetrics)
	natstest.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if !queued {
			return natstest.GroupDrained(ctx, b, stream, r.h.Name)
		}
		pending, awaiting, err := natstest.GroupPending(ctx, b, stream, r.h.Name)
		switch {
		case err != nil:
			return err
		case pending > 0:
			return fmt.Errorf("%d ticks not delivered yet", pending)
		case r.Stage.Pending() == 0 || r.Retries(t) == 0:
			return fmt.Errorf("no output waiting after a failed publish (pending %d)", r.Stage.Pending())
		case awaiting == 0:
			return fmt.Errorf("%d outputs not stored, but every tick is acknowledged", r.Stage.Pending())
		case r.Stage.Blocked() < len(Tiers):
			return fmt.Errorf("%d of %d output subjects wait on a refused output", r.Stage.Blocked(), len(Tiers))
		}
		return nil
	})
}

// Stored waits until every tier's last stored output has event time last,
// then returns the event times of every stored output per tier, in stream
// order.
func (h Harness) Stored(t *testing.T, b *bus.Bus, last time.Time) map[string][]time.Time {
	t.Helper()
	stream := proto.StreamName(b.Prefix(), h.Output)
	var subjects []string
	for _, tier := range Tiers {
		subjects = append(subjects, proto.Subject(b.Prefix(), h.Output, App, tier))
	}
	natstest.WaitEventTime(t, b, stream, subjects, last, 30*time.Second)
	out := map[string][]time.Time{}
	for _, data := range natstest.Payloads(t, b, stream, proto.Filter(b.Prefix(), h.Output)) {
		m := h.NewOutput()
		if err := proto.Decode(data, m); err != nil {
			t.Fatal(err)
		}
		_, tier := m.Key()
		out[tier] = append(out[tier], m.EventTime())
	}
	return out
}

// ExactlyOnce checks that every tier stored exactly one output for each
// event time of want, in order, and reports the gaps and duplicates.
func ExactlyOnce(t *testing.T, got map[string][]time.Time, want []time.Time) {
	t.Helper()
	for _, tier := range Tiers {
		seen := map[time.Time]int{}
		for _, ts := range got[tier] {
			seen[ts]++
		}
		var lost, dup []string
		for _, w := range want {
			switch n := seen[w]; {
			case n == 0:
				lost = append(lost, w.Format("15:04"))
			case n > 1:
				dup = append(dup, fmt.Sprintf("%s×%d", w.Format("15:04"), n))
			}
		}
		t.Logf("%s: %d outputs wanted, %d stored, %d lost, %d duplicated", tier, len(want), len(got[tier]), len(lost), len(dup))
		if len(lost) > 0 || len(dup) > 0 || len(got[tier]) != len(want) {
			t.Errorf("%s: lost [%s], duplicated [%s]", tier, strings.Join(lost, " "), strings.Join(dup, " "))
		}
		for i := 1; i < len(got[tier]); i++ {
			if !got[tier][i].After(got[tier][i-1]) {
				t.Errorf("%s: output %d at %s stored after %s", tier, i, got[tier][i].Format("15:04"), got[tier][i-1].Format("15:04"))
				break
			}
		}
	}
}

// SurviveFailedPublishes makes the stage's output publishes fail twice
// while ticks keep arriving, in steps of n ticks: once recovered live, once
// across a restart of the stage while its outputs were still unstored.
// outputTime maps tick i to the event time of the output it must end with
// (the forecaster's bucket, the anomaly service's tick); every such output
// must be stored exactly once per tier, in order.
func (h Harness) SurviveFailedPublishes(t *testing.T, b *bus.Bus, log zerolog.Logger, n int, outputTime func(i int) time.Time) {
	t.Helper()
	r := h.Start(t, b, log)
	PublishTicks(t, b, 0, n)
	h.Stored(t, b, outputTime(n-1))

	// Outage recovered while the stage runs.
	h.Refuse(t, b, true)
	PublishTicks(t, b, n, 2*n)
	r.Handled(t, b, true)
	h.Refuse(t, b, false)
	h.Stored(t, b, outputTime(2*n-1))

	// Outage spanning a restart: the outputs queued when the stage stops
	// are made again by the next start's replay.
	h.Refuse(t, b, true)
	PublishTicks(t, b, 2*n, 3*n)
	r.Handled(t, b, true)
	r.Stop(t)
	r = h.Start(t, b, log)
	r.Handled(t, b, true)
	h.Refuse(t, b, false)
	h.Stored(t, b, outputTime(3*n-1))

	last := 3*n + n/2 - 1
	PublishTicks(t, b, 3*n, last+1)
	h.Stored(t, b, outputTime(last))
	natstest.Eventually(t, 10*time.Second, func() error {
		if p := r.Stage.Pending(); p > 0 {
			return fmt.Errorf("%d outputs pending", p)
		}
		return nil
	})
	r.Stop(t)
	var want []time.Time
	for i := 0; i <= last; i++ {
		if w := outputTime(i); len(want) == 0 || !want[len(want)-1].Equal(w) {
			want = append(want, w)
		}
	}
	ExactlyOnce(t, h.Stored(t, b, outputTime(last)), want)
}

// ForgedTickRefused stores a tick whose payload names another app than its
// subject: it must go to the stage's dead-letter queue. It returns the
// stopped stage and the forged app's name, so the caller can check the
// stage kept no state for it.
func (h Harness) ForgedTickRefused(t *testing.T, b *bus.Bus, log zerolog.Logger) (Stage, string) {
	t.Helper()
	const victim = "victim"
	r := h.Start(t, b, log)
	forged := proto.NewMetrics(victim, "web", T0, 3, map[string]float64{"rps": 1})
	if err := b.Publish(context.Background(), bus.Out{Subject: proto.MetricsSubject(b.Prefix(), App, "web"), Msg: forged}); err != nil {
		t.Fatal(err)
	}
	dlq := proto.StreamName(b.Prefix(), proto.KindDLQ)
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := len(natstest.Payloads(t, b, dlq, proto.DLQSubject(b.Prefix(), h.Name))); n != 1 {
			return fmt.Errorf("%d dead letters", n)
		}
		return nil
	})
	r.Stop(t)
	return r.Stage, victim
}
