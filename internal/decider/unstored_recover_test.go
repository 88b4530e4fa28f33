package decider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestUnstoredBoundAfterOutage fills the member's bound of decisions not
// stored (lowered to 4) during an outage of the decisions stream, which
// pauses the member's input, then lets the stream accept again and sends
// the ticks of an app that has nothing waiting. The periodic retry, which
// stores the others' waiting decisions and resumes the input, is kept
// from running (it runs every retryEvery, and under load one round stores
// only what it can in retryEvery) until it runs once, by hand: the app's
// inputs wait for it, and are neither refused nor dead-lettered. Before
// makeRoom they were refused "waiting for the periodic retry",
// redelivered MaxDeliver times within a few seconds and dead-lettered:
// the app's decisions were lost though every store would have succeeded.
func TestUnstoredBoundAfterOutage(t *testing.T) {
	h := newOnServer(t)
	admin, cfg := h.admin, h.cfg
	const limit = 4
	d, _ := h.start(limit, time.Hour, prometheus.NewRegistry()) // the periodic retry does not run here

	apps := []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	stored, settled := h.stored, h.settled
	unstored := func() int {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.unstored
	}

	restore := h.outage(1)
	// The one message the stream takes: every decision after it is refused.
	publishAppTicks(t, admin, cfg, "a0", t0, 0, 2)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := stored("a0"); n != 1 {
			return fmt.Errorf("%d a0 decisions stored, want 1", n)
		}
		return nil
	})
	for _, app := range apps {
		publishAppTicks(t, admin, cfg, app, t0, 2, 6)
	}
	natstest.Eventually(t, 2*time.Minute, func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if p := pausedFor(d); p != "member" {
			return fmt.Errorf("input paused for %q, want member", p)
		}
		return nil
	})
	if n := unstored(); n < limit {
		t.Fatalf("%d decisions wait, want the bound, %d: the test did not reach it", n, limit)
	}

	restore()
	publishAppTicks(t, admin, cfg, "fresh", t0, 5, 7)
	d.retryRound(context.Background()) // the periodic retry's next round
	natstest.Eventually(t, 2*time.Minute, settled)
	for _, data := range natstest.Payloads(t, admin, "DLQ", "apm.dlq.decider") {
		var dl proto.DeadLetter
		if err := proto.Decode(data, &dl); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dl.Subject, ".fresh.") {
			t.Errorf("an input of fresh was dead-lettered with the stream accepting again: %s", dl.Error)
		}
	}
	if n := stored("fresh"); n != 1 {
		t.Fatalf("%d decisions of fresh stored, want 1 (its tick 5)", n)
	}
	if n := unstored(); n >= limit {
		t.Errorf("%d decisions still wait with the stream accepting, want fewer than the bound, %d", n, limit)
	}
}
