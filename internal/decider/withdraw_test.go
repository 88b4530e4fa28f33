package decider

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestDroppedChangeIsWithdrawn: a scale-up dropped unstored (refused for
// itself) scaled nothing, so the tier's next tick is decided from the count
// it holds, 2, and scales up again. Kept as if issued, the decider took its
// count as pending (the executor never acknowledges it) and the policy
// started its up cool-down: the next ticks held at the dropped count, from
// it, and the executor, still at 2, had nothing to act on.
func TestDroppedChangeIsWithdrawn(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tiers[0].CooldownUp = 5 * time.Minute
	for _, tc := range []struct {
		name      string
		withdrawn bool
	}{{"kept", false}, {"dropped", true}} {
		t.Run(tc.name, func(t *testing.T) {
			st := NewApps(cfg, config.Limits{}, zerolog.Nop())
			decided := map[int64]*proto.Decision{}
			feed := func(i int, rps float64) {
				t.Helper()
				for _, d := range feedWebMinute(t, st, cfg, i, 2, rps) {
					decided[d.TS] = d
				}
			}
			const jump = 10
			for i := range jump {
				feed(i, 100)
			}
			feed(jump, 800)
			feed(jump+1, 800) // completes tick jump
			up := decided[proto.Millis(t0.Add(jump*time.Minute))]
			if up == nil || up.Action != proto.ActionUp || up.From != 2 {
				t.Fatalf("tick %d: %+v, want a scale-up from 2", jump, up)
			}
			if tc.withdrawn {
				if !st.Withdraw(up) {
					t.Fatal("Withdraw of the tier's last decision, a change: false")
				}
				if st.Withdraw(up) {
					t.Fatal("Withdraw twice: true")
				}
			}
			feed(jump+2, 800) // completes tick jump+1, the executor still at 2
			next := decided[proto.Millis(t0.Add((jump+1)*time.Minute))]
			if next == nil {
				t.Fatalf("tick %d not decided", jump+1)
			}
			if !tc.withdrawn {
				if next.Action != proto.ActionHold || next.From != up.To {
					t.Fatalf("tick after a change kept: %+v, want a hold from %d", next, up.To)
				}
				return
			}
			if next.Action != proto.ActionUp || next.From != 2 {
				t.Fatalf("tick after the dropped change: %s %d→%d (%s), want a scale-up from 2", next.Action, next.From, next.To, next.Reason)
			}
			if st.Withdraw(up) {
				t.Fatal("Withdraw of a change a later tick followed: true")
			}
		})
	}
}

// TestChangeDroppedBehindHoldsIsWithdrawn: a scale-up dropped only after
// the ticks behind it were decided (an outage's backlog: they waited in
// the outbox behind it, and held from its count, taken as pending) is
// withdrawn all the same, since no later change depends on it: the next
// tick is decided from the count the tier holds, 2, and scales up again.
// Left (Withdraw refused a change that was not the tier's last decision),
// the dropped count stayed pending for good, and every tick held from it
// while the executor, still at 2, had nothing to act on.
func TestChangeDroppedBehindHoldsIsWithdrawn(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tiers[0].CooldownUp = 10 * time.Minute
	st := NewApps(cfg, config.Limits{}, zerolog.Nop())
	decided := map[int64]*proto.Decision{}
	feed := func(i int, rps float64) {
		t.Helper()
		for _, d := range feedWebMinute(t, st, cfg, i, 2, rps) {
			decided[d.TS] = d
		}
	}
	const jump, behind = 10, 2
	for i := range jump {
		feed(i, 100)
	}
	for i := jump; i <= jump+behind+1; i++ {
		feed(i, 800) // each completes the tick before
	}
	up := decided[proto.Millis(t0.Add(jump*time.Minute))]
	if up == nil || up.Action != proto.ActionUp || up.From != 2 {
		t.Fatalf("tick %d: %+v, want a scale-up from 2", jump, up)
	}
	for i := jump + 1; i <= jump+behind; i++ {
		if d := decided[proto.Millis(t0.Add(time.Duration(i)*time.Minute))]; d == nil || d.Action != proto.ActionHold || d.From != up.To {
			t.Fatalf("tick %d behind the change: %+v, want a hold from %d", i, d, up.To)
		}
	}
	if !st.Withdraw(up) {
		t.Fatal("Withdraw of a change only holds followed: false")
	}
	feed(jump+behind+2, 800) // completes tick jump+behind+1, the executor still at 2
	next := decided[proto.Millis(t0.Add((jump+behind+1)*time.Minute))]
	if next == nil || next.Action != proto.ActionUp || next.From != 2 {
		t.Fatalf("tick after the dropped change's withdrawal: %+v, want a scale-up from 2", next)
	}
	if st.Withdraw(up) {
		t.Fatal("Withdraw of a change a later change followed: true")
	}
}

// feedWebMinute feeds app "a"'s web tier its i-th minute after t0: a
// forecast at each ForecastStep, an anomaly tick, and a metrics tick of rps
// with replicas running; it returns the decisions they complete.
func feedWebMinute(t *testing.T, st *Apps, cfg Config, i, replicas int, rps float64) []*proto.Decision {
	t.Helper()
	at := t0.Add(time.Duration(i) * time.Minute)
	ts := proto.Millis(at)
	var all []*proto.Decision
	if at.Equal(at.Truncate(cfg.ForecastStep)) {
		ds, err := st.AddForecast(&proto.Forecast{App: "a", Tier: "web", TS: ts, Metric: "rps", StepMS: cfg.ForecastStep.Milliseconds()})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
	}
	ds, err := st.AddAnomaly(&proto.Anomaly{App: "a", Tier: "web", TS: ts})
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, ds...)
	ds, err = st.AddMetrics(proto.NewMetrics("a", "web", at, replicas, map[string]float64{proto.MetricRPS: rps, proto.MetricCPU: rps / 200}))
	if err != nil {
		t.Fatal(err)
	}
	return append(all, ds...)
}
