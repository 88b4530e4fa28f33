package decider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestDroppedDecisionCountedOnce: decisions the stream refuses for
// themselves are dropped and counted by the member that makes them; the
// member that takes the app over (the first stopped, a second started)
// makes them again from the inputs the first acknowledged, past the last
// decision stored, and drops them again: not counted again (the sum over
// members is the decisions dropped), and logged at warn as dropped again.
// Counted by both, headroom_decider_decisions_dropped_total summed twice
// the decisions lost.
func TestDroppedDecisionCountedOnce(t *testing.T) {
	h := newOnServer(t)
	app := strings.Repeat("l", 64)
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	regA := prometheus.NewRegistry()
	_, stop := h.start(maxUnstored, 50*time.Millisecond, regA)

	const before, last = 8, 13
	publishSteadyTicks(t, h.admin, h.cfg, app, t0, 0, before)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := h.stored(app); n != before-1 {
			return fmt.Errorf("%d decisions stored, want %d", n, before-1)
		}
		return nil
	})
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
	publishSteadyTicks(t, h.admin, h.cfg, app, t0, before, last)
	const dropped = last - before // ticks before-1 to last-2
	natstest.Eventually(t, time.Minute, func() error {
		if n, _ := metricstest.Sum(t, regA, "headroom_decider_decisions_dropped_total"); n != dropped {
			return fmt.Errorf("%v decisions dropped, want %d", n, dropped)
		}
		return h.settled()
	})
	stop()

	var logged natstest.Logs
	h.log = zerolog.New(&logged).Level(zerolog.WarnLevel)
	regB := prometheus.NewRegistry()
	d, _ := h.start(maxUnstored, 50*time.Millisecond, regB)
	lastTS := proto.Millis(t0.Add((last - 2) * time.Minute))
	natstest.Eventually(t, time.Minute, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		a := d.state.app(app)
		if a == nil || a.sentTS["web"] < lastTS || len(a.outbox) > 0 {
			return fmt.Errorf("the take-over has not made tick %d's decision again yet", last-2)
		}
		return nil
	})
	if n, _ := metricstest.Sum(t, regB, "headroom_decider_decisions_dropped_total"); n != 0 {
		t.Errorf("the member taking over counted %v decisions dropped, want 0: the member before counted them", n)
	}
	again := 0
	for _, l := range logged.Lines(t, "") {
		msg, _ := l["message"].(string)
		switch {
		case strings.HasPrefix(msg, "decision dropped again"):
			again++
			if l["level"] != "warn" || l["app"] != app || l["msg_id"] == nil {
				t.Errorf("log line %v: want a warning naming app and msg_id", l)
			}
		case strings.HasPrefix(msg, "decision dropped"):
			t.Errorf("log line %v: a decision the member before dropped logged as a first drop", l)
		}
	}
	if again != dropped {
		t.Errorf("%d decisions logged dropped again, want %d", again, dropped)
	}
	if n := h.stored(app); n != before-1 {
		t.Errorf("%d decisions stored, want %d", n, before-1)
	}
}
