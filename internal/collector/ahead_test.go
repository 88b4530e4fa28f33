package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestSimRefusesToRunAheadOfTheClock: a recording that ends an hour ahead
// of the wall clock (left by a run at -speed 60) must not be carried on at
// -speed 1, where every tick would stay an hour ahead of real time and the
// executor would refuse every decision as from the future: the collector
// stops with an error that says so and what to do. At -speed 60 the same
// recording is carried on, and at -speed 1 one that ends a tick behind the
// clock is too.
func TestSimRefusesToRunAheadOfTheClock(t *testing.T) {
	cases := []struct {
		name    string
		ahead   time.Duration
		speed   float64
		refused bool
	}{
		{"an hour ahead at speed 1", time.Hour, 1, true},
		{"an hour ahead at speed 60", time.Hour, 60, false},
		{"a tick behind at speed 1", -time.Minute, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Tick, cfg.BackfillTick, cfg.Backfill = time.Minute, time.Minute, 0
			cfg.Lockstep, cfg.Speed = false, c.speed
			h := newHarness(t, cfg, "")
			src := h.svc.sources[0].(*simSource)
			now := src.start // the wall clock's tick when the source was made
			h.svc.Now = func() time.Time { return now }
			last := now.Add(c.ahead)
			var outs []bus.Out
			for _, tier := range src.model.Config().TierNames() {
				outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", "shop", tier), Msg: proto.NewMetrics("shop", tier, last, 2, proto.Floats{"rps": 1})})
			}
			if err := h.bus.PublishAll(context.Background(), outs); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- h.svc.Run(ctx) }()
			if c.refused {
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), "ahead of the clock") || !strings.Contains(err.Error(), "1h0m0s") {
						t.Fatalf("Run: %v, want a refusal naming how far ahead the recording runs", err)
					}
					t.Logf("refused: %v", err)
				case <-ctx.Done():
					t.Fatal("the collector went on from a recording an hour ahead of the clock")
				}
				return
			}
			natstest.Eventually(t, 30*time.Second, func() error {
				for _, m := range h.stored(t) {
					if m.EventTime().After(last) {
						return nil
					}
				}
				return fmt.Errorf("no tick after the recording's last (%s)", last)
			})
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}
