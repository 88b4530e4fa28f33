package decider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestDecisionRefusedForItselfIsDropped provisions DECISIONS with a max
// message size that one app's decisions pass (its name is 64 characters,
// the longest a name may be) and another's do not: the stream refuses
// the long-named app's decisions for themselves, so no retry can store
// them. They are dropped, logged and counted, and the member's input is
// never paused (its app's bound lowered to 2): the other app's later ticks
// are all decided and stored, in order, and no input is dead-lettered.
// Held and retried like an outage, they filled their app's outbox and
// paused every app of the member for good.
func TestDecisionRefusedForItselfIsDropped(t *testing.T) {
	h := newOnServer(t)
	var logged natstest.Logs
	h.log = zerolog.New(&logged).Level(zerolog.ErrorLevel)
	h.outboxLimit = 2
	reg := prometheus.NewRegistry()
	d, _ := h.start(maxUnstored, 50*time.Millisecond, reg)
	small, big := "short", strings.Repeat("l", 64)
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()

	// A steady load: once its capacity is learned (the fifth tick), each
	// app's decisions hold with the same reason, a few bytes apart at
	// most. Its first ticks are decided and stored under the stream's
	// first configuration; the sizes of the last set the bound between.
	const before = 8
	publishSteadyTicks(t, h.admin, h.cfg, small, t0, 0, before)
	publishSteadyTicks(t, h.admin, h.cfg, big, t0, 0, before)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n, m := h.stored(small), h.stored(big); n != before-1 || m != before-1 {
			return fmt.Errorf("%d and %d decisions stored, want %d of each", n, m, before-1)
		}
		return nil
	})
	stream, err := h.js.Stream(ctx, "DECISIONS")
	if err != nil {
		t.Fatal(err)
	}
	size := func(app string) int {
		m, err := stream.GetLastMsgForSubject(ctx, proto.DecisionSubject("apm", app, "web")+".*")
		if err != nil {
			t.Fatal(err)
		}
		n := len(m.Data) + len("NATS/1.0\r\n\r\n")
		for k, vs := range m.Header {
			for _, v := range vs {
				n += len(k) + len(": \r\n") + len(v)
			}
		}
		return n
	}
	smallSize, bigSize := size(small), size(big)
	if bigSize-smallSize < 100 {
		t.Fatalf("decisions of %d and %d bytes: too close to tell apart", smallSize, bigSize)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.MaxMsgSize = int32((smallSize + bigSize) / 2)
	if _, err := h.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	// The long-named app's next ticks first: each of its decisions is
	// refused. Held, they would reach its bound (2) and pause the member
	// before the other app's ticks come.
	const last = 16
	publishSteadyTicks(t, h.admin, h.cfg, big, t0, before, last)
	natstest.Eventually(t, time.Minute, func() error {
		dropped, _ := metricstest.Sum(t, reg, "headroom_decider_decisions_dropped_total")
		refused, _ := metricstest.Sum(t, reg, "headroom_decider_refused_inputs_total")
		if dropped < 2 && refused == 0 {
			return fmt.Errorf("%v decisions dropped, %v inputs refused; want 2 dropped or an input refused", dropped, refused)
		}
		return nil
	})
	publishSteadyTicks(t, h.admin, h.cfg, small, t0, before, last)
	want := last - 1 // ticks 0 to 10; tick 11 waits for the next metrics
	natstest.Eventually(t, time.Minute, func() error {
		if n := h.stored(small); n < want {
			d.mu.Lock()
			paused := pausedFor(d)
			d.mu.Unlock()
			dropped, _ := metricstest.Sum(t, reg, "headroom_decider_decisions_dropped_total")
			return fmt.Errorf("%d %s decisions stored, want %d (input paused for %q, %v dropped; sizes %d, %d)", n, small, want, paused, dropped, smallSize, bigSize)
		}
		return h.settled()
	})
	for i, dd := range h.decisions(small) {
		if w := proto.Millis(t0.Add(time.Duration(i) * time.Minute)); dd.TS != w {
			t.Fatalf("%s decision %d at %s, want %s", small, i, proto.Time(dd.TS), proto.Time(w))
		}
	}
	if n := h.stored(small); n != want {
		t.Errorf("%d %s decisions stored, want exactly %d", n, small, want)
	}
	if n := h.stored(big); n != before-1 {
		t.Errorf("%d %s decisions stored, want the %d from before the stream's limit", n, big, before-1)
	}
	// The long-named app's ticks from before-1 on.
	if got, _ := metricstest.Sum(t, reg, "headroom_decider_decisions_dropped_total"); got != float64(want-(before-1)) {
		t.Errorf("headroom_decider_decisions_dropped_total = %v, want %d", got, want-(before-1))
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_decider_refused_inputs_total"); got != 0 {
		t.Errorf("headroom_decider_refused_inputs_total = %v, want 0: the member paused its input", got)
	}
	d.mu.Lock()
	unstored, paused := d.unstored, pausedFor(d)
	d.mu.Unlock()
	if unstored != 0 || paused != "" {
		t.Errorf("%d decisions held, input paused for %q; want none held, not paused", unstored, paused)
	}
	if n := len(natstest.Payloads(t, h.admin, "DLQ", "apm.dlq.decider")); n != 0 {
		t.Errorf("%d inputs dead-lettered, want none", n)
	}
	// One error line a decision dropped, naming its app, tier, id, tick
	// and what refused it (the stream's max message size); none says "decision not stored" (the drop is no failed retry).
	ids := map[any]bool{}
	for _, l := range logged.Lines(t, "") {
		msg, _ := l["message"].(string)
		if msg == "decision not stored" {
			t.Errorf("log line %v: a dropped decision logged as not stored", l)
		}
		if !strings.HasPrefix(msg, "decision dropped") {
			continue
		}
		if l["level"] != "error" || l["app"] != big || l["tier"] != "web" || l["msg_id"] == nil || l["tick_time"] == nil || l["error"] == nil {
			t.Errorf("log line %v: want an error naming app %s, tier web, msg_id, tick_time and the error", l, big)
		}
		if l["refused"] != bus.RefusedStreamMaxSize || strings.Contains(msg, "max_payload") {
			t.Errorf("log line %v: want refused %q, and a message that blames no particular limit", l, bus.RefusedStreamMaxSize)
		}
		ids[l["msg_id"]] = true
	}
	if len(ids) != want-(before-1) {
		t.Errorf("%d decisions logged dropped, want %d", len(ids), want-(before-1))
	}
}

// publishSteadyTicks stores minutes from..to-1 after t0 of app's tier
// "web" under a load that does not change, 100 rps (publishAppTiers).
func publishSteadyTicks(t *testing.T, pub *bus.Bus, cfg Config, app string, t0 time.Time, from, to int) {
	t.Helper()
	publishAppTiers(t, pub, cfg, app, []string{"web"}, t0, from, to, func(int) float64 { return 100 })
}
