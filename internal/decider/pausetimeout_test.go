package decider

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestPauseCountsAsNoTimeForInputTimeout: a tick of app shop has its
// metrics in and waits for its anomaly message and forecast when another
// app's outbox reaches its bound (lowered to 1) in an outage and pauses
// the member's input; shop's anomaly message and forecast come during
// the pause, held back. The decider's clock (in the test's hand) moves on
// twice the input timeout (10 s) before the stream stores again. Once the
// input resumes, shop's tick is joined with the inputs held back, not
// decided without them: the pause counted as no time. Counted, the first
// input or retry round after the resume timed the tick out before its
// inputs were read.
func TestPauseCountsAsNoTimeForInputTimeout(t *testing.T) {
	h := newOnServer(t)
	h.cfg.InputTimeout = 10 * time.Second
	h.outboxLimit = 1
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(proto.Millis(t0.Add(70 * time.Second))) // tick 0's metrics are in a tick after it
	h.now = func() time.Time { return proto.Time(clock.Load()) }
	reg := prometheus.NewRegistry()
	d, _ := h.start(maxUnstored, 20*time.Millisecond, reg)
	ctx := context.Background()

	// Another app's first decision is stored; then the stream refuses.
	publishAppTicks(t, h.admin, h.cfg, "other", t0, 0, 2)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := h.stored("other"); n != 1 {
			return fmt.Errorf("%d other decisions stored, want 1", n)
		}
		return nil
	})
	restore := h.outage(-1)

	// shop's tick 0 has its metrics in (tick 1's came) and waits.
	var metrics []bus.Out
	for i := range 2 {
		metrics = append(metrics, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"),
			Msg: proto.NewMetrics("shop", "web", t0.Add(time.Duration(i)*time.Minute), 2, map[string]float64{proto.MetricRPS: 100, proto.MetricCPU: 0.5})})
	}
	if err := h.admin.PublishAll(ctx, metrics); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if a := d.state.app("shop"); a == nil || len(a.join.inSince) == 0 {
			return fmt.Errorf("shop's tick 0 not waiting with its metrics in yet")
		}
		return nil
	})

	// The other app's next decision cannot be stored: its outbox is at
	// the bound, and its next input pauses the member.
	publishAppTicks(t, h.admin, h.cfg, "other", t0, 2, 5)
	natstest.Eventually(t, 30*time.Second, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if p := pausedFor(d); p != "app" {
			return fmt.Errorf("input paused for %q, want app", p)
		}
		return nil
	})
	ts := proto.Millis(t0)
	upstream := []bus.Out{
		{Subject: proto.AnomalySubject("apm", "shop", "web"), Msg: &proto.Anomaly{V: proto.SchemaVersion,
			ID: proto.AnomalyID("shop", "web", ts), App: "shop", Tier: "web", TS: ts}},
		{Subject: proto.ForecastSubject("apm", "shop", "web"), Msg: &proto.Forecast{V: proto.SchemaVersion,
			ID: proto.ForecastID("shop", "web", "rps", ts), App: "shop", Tier: "web", TS: ts, Metric: "rps", StepMS: h.cfg.ForecastStep.Milliseconds()}},
	}
	if err := h.admin.PublishAll(ctx, upstream); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * h.cfg.InputTimeout.Milliseconds()) // the pause lasts
	restore()

	natstest.Eventually(t, time.Minute, func() error {
		if n := h.stored("shop"); n != 1 {
			return fmt.Errorf("%d shop decisions stored, want 1", n)
		}
		return nil
	})
	for _, data := range natstest.Payloads(t, h.admin, "DECISIONS", "apm.decision.shop.web") {
		var dd proto.Decision
		if err := proto.Decode(data, &dd); err != nil {
			t.Fatal(err)
		}
		if dd.TS != ts || slices.Contains(dd.Flags, proto.FlagInputTimeout) {
			t.Errorf("shop decision at %s with flags %v, want tick 0 joined with its inputs, not timed out", proto.Time(dd.TS), dd.Flags)
		}
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_decider_input_timeouts_total"); got != 0 {
		t.Errorf("headroom_decider_input_timeouts_total = %v, want 0: the pause counted towards the input timeout", got)
	}
}

// TestHoldInputStopsTheInputTimeout drives Apps by hand: a tick that
// waited 20 s of its 30 s timeout before HoldInput waits, after
// ResumeInput, the 10 s left, however long the hold lasted (a minute
// here); calls repeated change nothing; the clock runs again after.
func TestHoldInputStopsTheInputTimeout(t *testing.T) {
	r := newTimeoutRig(t, 30*time.Second)
	tick := r.cfg.Policy.Tick
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r.metrics(start)
	r.metrics(start.Add(tick)) // tick 0's metrics are in
	now := start.Add(tick + time.Second)
	if ds := r.expire(now); len(ds) != 0 {
		t.Fatalf("%d decisions at once, want none", len(ds))
	}
	now = now.Add(20 * time.Second)
	r.expire(now)
	r.st.HoldInput(now)
	r.st.HoldInput(now.Add(30 * time.Second)) // already held: no effect
	for _, after := range []time.Duration{time.Second, 59 * time.Second} {
		if ds := r.expire(now.Add(after)); len(ds) != 0 {
			t.Fatalf("%d decisions %v into the hold, want none", len(ds), after)
		}
	}
	now = now.Add(time.Minute)
	r.st.ResumeInput(now)
	r.st.ResumeInput(now.Add(time.Second)) // already running: no effect
	if ds := r.expire(now.Add(9 * time.Second)); len(ds) != 0 {
		t.Fatalf("%d decisions 29 s of waiting in, want none", len(ds))
	}
	ds := r.expire(now.Add(10 * time.Second))
	if got := times(ds); !slices.Equal(got, []time.Time{start}) {
		t.Fatalf("decided %v 30 s of waiting in, want tick 0 (%v)", got, start)
	}
	for _, d := range ds {
		if !slices.Contains(d.Flags, proto.FlagInputTimeout) {
			t.Errorf("%s decided with flags %v, want %s", d.Tier, d.Flags, proto.FlagInputTimeout)
		}
	}
}
