package decider

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// TestRebuildHoldsFewTicks: a decider that takes over an app's history
// (here, at its start) replays the three input streams merged by stored
// time (bus.GroupSpec.Rebuild), so no more ticks wait for their anomaly
// messages and forecasts at once than did live, a couple. Replayed one
// stream after the other, the metrics first (before f7a7dfe), every tick of the history
// waited at once: the whole lookback's metrics of every tier, about
// 8 MB a tier at the default 15 s tick (BenchmarkBacklogHeapPerTier), on
// every take-over.
func TestRebuildHoldsFewTicks(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", log, true)
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	const ticks = 300
	tiers := []string{"web", "db"}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	publishTicks(t, admin, cfg, tiers, t0, 0, ticks, func(i int) float64 { return float64(100 + i%30) })

	reg := prometheus.NewRegistry()
	ready := service.NewReady()
	d, err := New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: reg, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, time.Minute, func() error {
		for _, tier := range tiers {
			// The last tick waits for a later one's metrics.
			if n := len(natstest.Payloads(t, admin, "DECISIONS", "apm.decision.api."+tier)); n != ticks-1 {
				return fmt.Errorf("%d %s decisions stored, want %d", n, tier, ticks-1)
			}
		}
		return nil
	})
	d.mu.Lock()
	peak := d.waitingPeak
	d.mu.Unlock()
	if peak < 1 || peak > 3 {
		t.Errorf("at most %d ticks waited at once during the rebuild of %d ticks, want 1 to 3", peak, ticks)
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_decider_waiting_ticks"); got != 1 {
		t.Errorf("headroom_decider_waiting_ticks = %v after the rebuild, want 1 (the last tick)", got)
	}
}

// publishTicks stores minutes from..to-1 after t0 of app "api"'s tiers
// (publishAppTiers).
func publishTicks(t *testing.T, pub *bus.Bus, cfg Config, tiers []string, t0 time.Time, from, to int, rps func(i int) float64) {
	t.Helper()
	publishAppTiers(t, pub, cfg, "api", tiers, t0, from, to, rps)
}
