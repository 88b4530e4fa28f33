package decider

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestUnstoredBoundDuringRebuild takes six apps over (a second process's
// start) while the decisions stream refuses every store and the member's
// bound of decisions not stored is lowered to 1. The first app's stored
// decisions are gone, so its replay makes them again and they wait: the
// member is at its bound while the other five apps' inputs are replayed.
// A replayed input the handler refuses is skipped by the rebuild (it was
// handled before), so refusing them at the member's bound left those apps
// without any state: their policies' history (windows, cooldowns, the
// replicas decided) lost, and the decisions the process before had not
// stored never made again. Replayed inputs are joined whatever the
// member's bound (an app's own bound still holds them).
func TestUnstoredBoundDuringRebuild(t *testing.T) {
	h := newOnServer(t)
	admin, cfg := h.admin, h.cfg
	apps := []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	settled := h.settled
	start := func(limit int) (*Service, func()) {
		return h.start(limit, 50*time.Millisecond, prometheus.NewRegistry())
	}

	_, stop := start(maxUnstored) // the process before holds what it cannot store
	for _, app := range apps {
		publishAppTicks(t, admin, cfg, app, t0, 0, 4)
	}
	stored := h.stored
	natstest.Eventually(t, time.Minute, func() error {
		for _, app := range apps {
			if n := stored(app); n != 3 {
				return fmt.Errorf("%d %s decisions stored, want 3", n, app)
			}
		}
		return settled()
	})
	restore := h.outage(-1)
	// Tick 4 completes tick 3 of every app: joined, its decision not
	// stored, the inputs dead-lettered after their last delivery.
	for _, app := range apps {
		publishAppTicks(t, admin, cfg, app, t0, 4, 5)
	}
	natstest.Eventually(t, time.Minute, settled)
	stop()

	// The next process's rebuild makes tick 3's decisions again: a0's
	// first, which waits, and the member is at its bound.
	d, _ := start(1)
	natstest.Eventually(t, time.Minute, settled)
	d.mu.Lock()
	unstored := d.unstored
	d.mu.Unlock()
	t.Logf("after the rebuild %d decisions wait", unstored)
	if unstored == 0 {
		t.Fatal("no decision waits: the test did not reach the member's bound")
	}
	restore()
	natstest.Eventually(t, time.Minute, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.unstored > 0 {
			return fmt.Errorf("%d decisions wait", d.unstored)
		}
		return nil
	})
	var lost []string
	for _, app := range apps {
		if n := stored(app); n != 4 {
			lost = append(lost, fmt.Sprintf("%s (%d stored)", app, n))
		}
	}
	if len(lost) > 0 {
		t.Fatalf("tick 3's decision never stored for %v, want 4 decisions of each app: their replayed inputs were refused at the member's bound and skipped", lost)
	}
}
