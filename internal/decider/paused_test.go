package decider

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestOutagePausesInputAtTheBounds keeps the decisions stream refusing
// every store for 12 s, more than twice what an input's deliveries last
// (MaxDeliver 5, 0.5 s more between each: dead-lettered some 5 s after its
// first), while ten more ticks of every app come: past the app's bound
// (maxOutbox, lowered to 2 for one app) or the member's (maxUnstored,
// lowered to 4 over six apps) the member pauses its input instead of
// refusing it into the dead letters. Nothing is dead-lettered, the
// decisions waiting stay bounded, and once the stream stores again every
// input is joined in its stream's order (no tick late but the
// redeliveries of inputs joined before the bound, none decided without
// its inputs) and every tick of every app decided and stored
// exactly once, in order. Before the pause, the inputs past the bound
// were dead-lettered and their ticks never decided.
func TestOutagePausesInputAtTheBounds(t *testing.T) {
	for _, tc := range []struct {
		bound            string
		apps             []string
		outbox, unstored int
		mostWaiting      int // decisions that may wait at the bound
	}{
		{"app", []string{"a0"}, 2, maxUnstored, 2},
		{"member", []string{"a0", "a1", "a2", "a3", "a4", "a5"}, maxOutbox, 4, 4},
	} {
		t.Run(tc.bound, func(t *testing.T) {
			h := newOnServer(t)
			h.outboxLimit = tc.outbox
			reg := prometheus.NewRegistry()
			d, _ := h.start(tc.unstored, 50*time.Millisecond, reg)
			t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
			publish := func(from, to int) {
				for _, app := range tc.apps {
					publishAppTicks(t, h.admin, h.cfg, app, t0, from, to)
				}
			}
			decided := func(app string) []int64 {
				var ts []int64
				for _, data := range natstest.Payloads(t, h.admin, "DECISIONS", "apm.decision."+app+".web") {
					var dd proto.Decision
					if err := proto.Decode(data, &dd); err != nil {
						t.Fatal(err)
					}
					ts = append(ts, dd.TS)
				}
				return ts
			}
			deadLetters := func() int { return len(natstest.Payloads(t, h.admin, "DLQ", "apm.dlq.decider")) }

			publish(0, 2) // tick 0 of every app is decided and stored
			natstest.Eventually(t, 30*time.Second, func() error {
				for _, app := range tc.apps {
					if n := len(decided(app)); n != 1 {
						return fmt.Errorf("%d %s decisions stored, want 1", n, app)
					}
				}
				return nil
			})
			restore := h.outage(-1)
			const last = 12
			publish(2, last) // ticks 1 to 10 complete: none can be stored
			natstest.Eventually(t, time.Minute, func() error {
				if got, _ := metricstest.Sum(t, reg, "headroom_decider_refused_inputs_total", "bound", tc.bound); got == 0 {
					return fmt.Errorf("no input refused at the %s bound yet", tc.bound)
				}
				return nil
			})
			time.Sleep(12 * time.Second) // the outage lasts
			if n := deadLetters(); n != 0 {
				t.Errorf("%d inputs dead-lettered during the outage, want none: the member went on taking input past the %s bound", n, tc.bound)
			}
			d.mu.Lock()
			waiting, paused := d.unstored, pausedFor(d)
			d.mu.Unlock()
			if paused != tc.bound {
				t.Errorf("input paused for %q during the outage, want %q", paused, tc.bound)
			}
			// Each input completes at most one tick of a one-tier app.
			if waiting == 0 || waiting > tc.mostWaiting {
				t.Errorf("%d decisions wait during the outage, want 1 to %d", waiting, tc.mostWaiting)
			}

			restore()
			want := last - 1 // ticks 0 to 10; tick 11 waits for the next metrics
			natstest.Eventually(t, 2*time.Minute, func() error {
				for _, app := range tc.apps {
					if n := len(decided(app)); n < want {
						return fmt.Errorf("%d %s decisions stored, want %d", n, app, want)
					}
				}
				return h.settled()
			})
			for _, app := range tc.apps {
				ts := decided(app)
				for i, got := range ts {
					if w := proto.Millis(t0.Add(time.Duration(i) * time.Minute)); got != w {
						t.Fatalf("%s decision %d at %s, want %s: a tick lost, repeated or out of order", app, i, proto.Time(got), proto.Time(w))
					}
				}
				if len(ts) != want {
					t.Fatalf("%d %s decisions, want exactly %d", len(ts), app, want)
				}
			}
			if n := deadLetters(); n != 0 {
				t.Errorf("%d inputs dead-lettered, want none", n)
			}
			// Inputs joined before the bound whose decisions could not be
			// stored are redelivered (their acknowledgement waits for the
			// store) and ignored as such; any other late tick is an input
			// joined out of its stream's order.
			for _, reason := range []string{"late", "lagging", "extra"} {
				if got, _ := metricstest.Sum(t, reg, "headroom_decider_late_ticks_total", "reason", reason); got != 0 {
					t.Errorf("headroom_decider_late_ticks_total{reason=%q} = %v, want 0: an input joined out of its stream's order", reason, got)
				}
			}
			for _, name := range []string{"headroom_decider_overdue_ticks_total", "headroom_decider_input_timeouts_total"} {
				if got, _ := metricstest.Sum(t, reg, name); got != 0 {
					t.Errorf("%s = %v, want 0: a tick decided without its inputs", name, got)
				}
			}
			if p := pausedFor(d); p != "" {
				t.Errorf("input still paused for %q once every decision is stored", p)
			}
		})
	}
}

// pausedFor is why d's input is paused, "" while it is not (or d has no
// gate).
func pausedFor(d *Service) string {
	if d.gate == nil {
		return ""
	}
	return d.gate.Paused()
}
