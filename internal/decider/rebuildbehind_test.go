package decider

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestRebuildWithdrawsChangeDroppedBehindHolds: the member before dropped
// a scale-up only after the ticks behind it were decided (an outage's
// backlog: they held from its count, taken as pending), withdrew it, and
// stored those holds; the last stored decision is such a hold, decided
// from the dropped change's count. The take-over's rebuild replays the
// change as issued and reaches the stored hold at the same count, so the
// last stored decision alone does not show the drop: reconcile finds the
// rebuilt count equal to the hold's From and leaves the change standing,
// its count pending and its up cool-down running, while the live member
// decides from the count it held before the change (on main: tick 13
// rebuilt down 7→5, live up 2→3).
//
// Open (stop 60, dec60): the fix needs what the last stored decision does
// not carry, whether the change's own tick was stored; remove the Skip to
// see the failure.
func TestRebuildWithdrawsChangeDroppedBehindHolds(t *testing.T) {
	t.Skip("open: a change dropped behind stored holds is kept by the rebuild (dec60 report)")
	const jump, behind, last = 10, 2, 18
	cfg := DefaultConfig()
	cfg.Policy.Tiers[0].CooldownUp = 10 * time.Minute
	// run feeds st the ticks, withdrawing the scale-up at jump as dropped
	// once tick withdrawAfter is decided (never when negative).
	run := func(st *Apps, withdrawAfter int) map[int64]*proto.Decision {
		decided := map[int64]*proto.Decision{}
		for i := 0; i <= last+1; i++ {
			rps := 100.0
			if i >= jump {
				rps = 800
			}
			for _, d := range feedWebMinute(t, st, cfg, i, 2, rps) {
				decided[d.TS] = d
			}
			if withdrawAfter >= 0 && i == withdrawAfter+1 { // tick withdrawAfter decided
				if up := decided[jumpTick(jump)]; up == nil || up.Action != proto.ActionUp || !st.Withdraw(up) {
					t.Fatalf("live: the dropped change %+v not withdrawn", up)
				}
			}
		}
		return decided
	}
	live := run(NewApps(cfg, config.Limits{}, zerolog.Nop()), jump+behind)
	stored := live[jumpTick(jump+behind)]
	if stored == nil || stored.Action != proto.ActionHold || stored.From != live[jumpTick(jump)].To {
		t.Fatalf("live tick %d: %+v, want a hold from the dropped change's count", jump+behind, stored)
	}
	b := NewApps(cfg, config.Limits{}, zerolog.Nop())
	if err := b.SetSentDecision("a", "web", proto.Time(stored.TS), stored); err != nil {
		t.Fatal(err)
	}
	rebuilt := run(b, -1)
	for i := jump + behind + 1; i <= last; i++ {
		l, r := live[jumpTick(i)], rebuilt[jumpTick(i)]
		if r == nil || l.Action != r.Action || l.From != r.From || l.To != r.To || l.State != r.State {
			t.Errorf("tick %d: rebuilt %s %d→%d (%s), live %s %d→%d (%s)", i, r.Action, r.From, r.To, r.State, l.Action, l.From, l.To, l.State)
		}
	}
}
