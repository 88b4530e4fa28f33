package executor_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

var t0 = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

// harness is an embedded JetStream server with a probe connection, on which
// tests run executors and publish decisions as the decider would.
type harness struct {
	t   *testing.T
	url string
	b   *bus.Bus
	kv  *bus.Replicas
	// latest is the event time of the latest decision published (Unix
	// ms): the executors' wall clock, so every decision is fresh as in a
	// live run unless a test sets a clock of its own.
	latest atomic.Int64
	// ready is the readiness gate of the executor started last.
	ready *service.Ready
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, url: natstest.RunJetStream(t)}
	h.b = h.connect("probe")
	if err := h.b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	kv, err := h.b.Replicas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.kv = kv
	return h
}

// connect opens a connection named name with the default settings, changed
// by each of set.
func (h *harness) connect(name string, set ...func(*bus.Config)) *bus.Bus {
	h.t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = h.url, name
	for _, f := range set {
		f(&cfg)
	}
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(h.t)), prometheus.NewRegistry())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	return b
}

// start runs an executor on its own connection, as its own process would,
// until the returned stop is called (or the test ends).
func (h *harness) start(cfg executor.Config, opts ...executor.Option) (stop func()) {
	h.t.Helper()
	return h.startWith(cfg, nil, prometheus.NewRegistry(), opts...)
}

// startWith is start with a configuration file (nil: none) and the
// registry the executor's metrics go to.
func (h *harness) startWith(cfg executor.Config, file *config.File, reg *prometheus.Registry, opts ...executor.Option) (stop func()) {
	h.t.Helper()
	ready := service.NewReady()
	clock := executor.WithClock(func() time.Time { return proto.Time(h.latest.Load()) })
	s, err := executor.New(cfg, service.Deps{Bus: h.connect("executor"), Log: zerolog.New(zerolog.NewTestWriter(h.t)),
		Reg: reg, Ready: ready, Config: file}, append([]executor.Option{clock}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.ready = ready
	stop = natstest.Serve(h.t, "executor", s.Run)
	natstest.Eventually(h.t, 10*time.Second, ready.Err)
	return stop
}

// startWebhook is startWith drv as the webhook driver, on the clock t0
// and a registry of the executor's own.
func (h *harness) startWebhook(cfg executor.Config, file *config.File, drv executor.Driver) (stop func()) {
	h.t.Helper()
	return h.startWith(cfg, file, prometheus.NewRegistry(), executor.WithDriver(executor.DriverWebhook, drv), fixedClock(t0))
}

// withModes is cfg with the modes -executor.modes gives (none when "").
func withModes(t *testing.T, cfg executor.Config, modes string) executor.Config {
	t.Helper()
	if modes != "" {
		var err error
		if cfg.Modes, err = executor.ParseModes(modes); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// putState writes st in the replica bucket under app's tier's key, as
// an earlier executor (or a forger) left it.
func (h *harness) putState(app, tier string, st *proto.ReplicaState) {
	h.t.Helper()
	data, err := proto.Encode(st)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.kv.Put(context.Background(), proto.ReplicaKey(app, tier), data); err != nil {
		h.t.Fatal(err)
	}
}

// decision builds a decision of app's web tier at minute m.
func decision(app string, m, from, to int) *proto.Decision {
	ts := proto.Millis(t0.Add(time.Duration(m) * time.Minute))
	action := proto.ActionHold
	switch {
	case to > from:
		action = proto.ActionUp
	case to < from:
		action = proto.ActionDown
	}
	return &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID(app, "web", ts), App: app, Tier: "web", TS: ts,
		From: from, To: to, Action: action, Reason: fmt.Sprintf("web %d→%d", from, to), State: "steady"}
}

func (h *harness) publish(ds ...*proto.Decision) {
	h.t.Helper()
	for _, d := range ds {
		if d.TS > h.latest.Load() {
			h.latest.Store(d.TS)
		}
		if err := h.b.Publish(context.Background(), bus.Out{Subject: proto.DecisionSubject("apm", d.App, d.Tier), Msg: d}); err != nil {
			h.t.Fatal(err)
		}
	}
}

// waitState waits until d's tier state covers d and returns it.
func (h *harness) waitState(d *proto.Decision) *proto.ReplicaState {
	h.t.Helper()
	var st *proto.ReplicaState
	natstest.Eventually(h.t, 10*time.Second, func() error {
		var err error
		st, err = executor.ReadState(context.Background(), h.kv, d.App, d.Tier)
		if err != nil {
			return err
		}
		if st == nil || st.TS < d.TS {
			return fmt.Errorf("state %+v does not cover %s yet", st, d.ID)
		}
		return nil
	})
	return st
}

// event is the part of a scaling event the tests compare.
type event struct {
	Decision, Status, Driver, Mode string
	Desired, Ready, Booting        int
}

// waitEvents waits until app has n scaling events stored and returns them
// in stream order, with their errors.
func (h *harness) waitEvents(app string, n int) ([]event, []string) {
	h.t.Helper()
	ctx := context.Background()
	filter := proto.AppFilter("apm", proto.KindScaling, app)
	s, err := h.b.Reader(ctx, proto.KindScaling)
	if err != nil {
		h.t.Fatal(err)
	}
	natstest.Eventually(h.t, 10*time.Second, func() error {
		subjects, err := s.Subjects(ctx, filter)
		if err != nil {
			return err
		}
		var got uint64
		for _, c := range subjects {
			got += c
		}
		if got != uint64(n) {
			return fmt.Errorf("%d scaling events for %s, want %d", got, app, n)
		}
		return nil
	})
	var evs []event
	var errs []string
	stored := natstest.Payloads(h.t, h.b, "SCALING", filter)
	for _, data := range stored[:min(n, len(stored))] { // the first n, as counted
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			h.t.Fatal(err)
		}
		evs = append(evs, event{sc.DecisionID, sc.Status, sc.Driver, sc.Mode, sc.Desired, sc.Ready, sc.Booting})
		errs = append(errs, sc.Error)
	}
	return evs, errs
}
