package decider

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestTimedOutDropCountedOnce: decisions the input timeout releases
// (Apps.Expire, no anomaly message ever comes) and the stream refuses for
// themselves are counted by the member that drops them; the member that
// takes the app over replays the inputs the first acknowledged, and its
// own timeout releases the same ticks while it handles them: those are
// dropped again, not counted again. Only the decisions the input's own
// join completed were marked so, and the take-over counted every timed-out
// drop a second time. Each member's clock (Service.now) moves a minute an
// input, two and a half minutes behind the ticks, so each tick is in its
// metrics at one input and timed out, still fresh, at the next, alike in
// both members.
func TestTimedOutDropCountedOnce(t *testing.T) {
	h := newOnServer(t)
	h.cfg.ForecastStep = time.Hour // one forecast serves every tick
	app := strings.Repeat("m", 64)
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	clock := func() func() time.Time {
		var calls atomic.Int64
		return func() time.Time { return t0.Add(time.Duration(calls.Add(1))*time.Minute - 150*time.Second) }
	}
	h.now = clock()
	regA := prometheus.NewRegistry()
	_, stop := h.start(maxUnstored, time.Hour, regA) // no retry round reads the clock
	stream, err := h.js.Stream(ctx, "DECISIONS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.MaxMsgSize = 256 // under any decision of the app (its name alone is 64 bytes, in the subject and the id)
	if _, err := h.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	const ticks = 8
	if err := h.admin.PublishAll(ctx, []bus.Out{{Subject: proto.ForecastSubject("apm", app, "web"), Msg: &proto.Forecast{V: proto.SchemaVersion,
		ID: proto.ForecastID(app, "web", "rps", proto.Millis(t0)), App: app, Tier: "web", TS: proto.Millis(t0), Metric: "rps", StepMS: h.cfg.ForecastStep.Milliseconds()}}}); err != nil {
		t.Fatal(err)
	}
	for i := range ticks {
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := h.admin.PublishAll(ctx, []bus.Out{{Subject: proto.MetricsSubject("apm", app, "web"),
			Msg: proto.NewMetrics(app, "web", at, 2, map[string]float64{proto.MetricRPS: 100, proto.MetricCPU: 0.5})}}); err != nil {
			t.Fatal(err)
		}
	}
	const dropped = ticks - 2 // ticks 0 to ticks-3: the last two wait, one not in, one not timed out
	natstest.Eventually(t, time.Minute, func() error {
		if n, _ := metricstest.Sum(t, regA, "headroom_decider_decisions_dropped_total"); n != dropped {
			return fmt.Errorf("%v decisions dropped, want %d", n, dropped)
		}
		return h.settled()
	})
	if n, _ := metricstest.Sum(t, regA, "headroom_decider_input_timeouts_total"); n == 0 {
		t.Fatal("no tick timed out: the test does not test the timeout")
	}
	stop()

	var logged natstest.Logs
	h.log = zerolog.New(&logged).Level(zerolog.WarnLevel)
	h.now = clock()
	regB := prometheus.NewRegistry()
	d, _ := h.start(maxUnstored, time.Hour, regB)
	lastTS := proto.Millis(t0.Add((ticks - 3) * time.Minute))
	natstest.Eventually(t, time.Minute, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		a := d.state.app(app)
		if a == nil || a.sentTS["web"] < lastTS || len(a.outbox) > 0 {
			return fmt.Errorf("the take-over has not made tick %d's decision again yet", ticks-3)
		}
		return nil
	})
	if n, _ := metricstest.Sum(t, regB, "headroom_decider_decisions_dropped_total"); n != 0 {
		t.Errorf("the member taking over counted %v timed-out decisions dropped, want 0: the member before counted them", n)
	}
	again := 0
	for _, l := range logged.Lines(t, "") {
		msg, _ := l["message"].(string)
		switch {
		case strings.HasPrefix(msg, "decision dropped again"):
			again++
		case strings.HasPrefix(msg, "decision dropped"):
			t.Errorf("log line %v: a decision the member before dropped logged as a first drop", l)
		}
	}
	if again != dropped {
		t.Errorf("%d decisions logged dropped again, want %d", again, dropped)
	}
}
