package decider

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestRebuildWithdrawsChangeDroppedBehindHolds: the member before dropped
// a scale-up only after the ticks behind it were decided (an outage's
// backlog: they held from its count, taken as pending), withdrew it, and
// stored those holds; the last stored decision is such a hold, decided
// from the dropped change's count. The take-over's rebuild replays the
// change as issued and reaches the stored hold at the same count, so the
// last stored decision alone does not show the drop: reconcile found the
// rebuilt count equal to the hold's From and left the change standing,
// its count pending and its up cool-down running, while the live member
// decided from the count it held before the change (tick 13 rebuilt down
// 7→5, live up 2→3). The ticks stored (SetStoredTicks) show it: the
// change's tick has no decision stored, and the rebuild withdraws it.
//
// The negative cases rebuild as a member that dropped nothing did: the
// change stored with the holds behind it; a change whose tick lies at or
// before the first stored tick read (the stream's retention purged it, or
// the window read starts after it); ticks read that do not reach the last
// stored decision (a read that ended early); and no ticks read at all.
func TestRebuildWithdrawsChangeDroppedBehindHolds(t *testing.T) {
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
	dropped := run(NewApps(cfg, config.Limits{}, zerolog.Nop()), jump+behind)
	kept := run(NewApps(cfg, config.Limits{}, zerolog.Nop()), -1)
	stored := dropped[jumpTick(jump+behind)]
	if stored == nil || stored.Action != proto.ActionHold || stored.From != dropped[jumpTick(jump)].To {
		t.Fatalf("live tick %d: %+v, want a hold from the dropped change's count", jump+behind, stored)
	}
	if k := kept[jumpTick(jump+behind)]; k.Action != stored.Action || k.From != stored.From || k.To != stored.To {
		t.Fatalf("live tick %d: %+v with the change stored, %+v with it dropped: want the same hold", jump+behind, k, stored)
	}
	// ticks are the ticks from first through the last stored decision's,
	// but for those in skip.
	ticks := func(first, through int, skip ...int) []int64 {
		var out []int64
		for i := first; i <= through; i++ {
			if !slicesContains(skip, i) {
				out = append(out, jumpTick(i))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		ticks   []int64 // nil: SetStoredTicks not called
		changes []int64 // of ticks, those stored as changes
		live    map[int64]*proto.Decision
	}{
		{"the change's tick not stored", ticks(0, jump+behind, jump), nil, dropped},
		{"the change stored", ticks(0, jump+behind), []int64{jumpTick(jump)}, kept},
		{"the change's tick before the first retained", ticks(jump+1, jump+behind), nil, kept},
		{"the change's tick the first retained", ticks(jump, jump+behind), []int64{jumpTick(jump)}, kept},
		{"read ending before the last stored", ticks(0, jump+behind-1, jump), nil, kept},
		{"no ticks read", nil, nil, kept},
		// The member before decided nothing at the change's tick (its
		// inputs were not all in, say) and made the change, stored, a
		// tick later: the rebuild's change at a tick without a decision
		// is not the member before's.
		{"a change stored after the change's tick", ticks(0, jump+behind, jump), []int64{jumpTick(jump + 1)}, kept},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewApps(cfg, config.Limits{}, zerolog.Nop())
			if err := b.SetSentDecision("a", "web", proto.Time(stored.TS), stored); err != nil {
				t.Fatal(err)
			}
			if tc.ticks != nil {
				b.SetStoredTicks("a", "web", tc.ticks, tc.changes)
			}
			rebuilt := run(b, -1)
			for i := jump + behind + 1; i <= last; i++ {
				l, r := tc.live[jumpTick(i)], rebuilt[jumpTick(i)]
				if r == nil || l.Action != r.Action || l.From != r.From || l.To != r.To || l.State != r.State {
					t.Errorf("tick %d: rebuilt %s %d→%d (%s), live %s %d→%d (%s)", i, r.Action, r.From, r.To, r.State, l.Action, l.From, l.To, l.State)
				}
			}
		})
	}
}

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestTakeOverWithdrawsChangeDroppedBehindHolds: the same through the
// service, whose acquire reads the ticks stored (bus.EventTimesSince). A
// member stores a scale-up and the holds behind it, decided from its
// count. For "dropped", the change's message is then deleted from the
// stream (the JetStream API, as the test's admin): the stream is then as
// a drop behind stored holds leaves it. No stream limit drops the change
// and keeps the holds here (dec60: they are larger than it), so the
// deletion stands in for the refusal; the member before kept the change
// in its state, which the take-over never reads. The member taking the
// app over decides the next tick from the count before the change where
// its tick has no decision stored, and from the change's count where it
// does.
func TestTakeOverWithdrawsChangeDroppedBehindHolds(t *testing.T) {
	for _, dropped := range []bool{true, false} {
		name := "stored"
		if dropped {
			name = "dropped"
		}
		t.Run(name, func(t *testing.T) { testTakeOverWithdrawsChangeDroppedBehindHolds(t, dropped) })
	}
}

func testTakeOverWithdrawsChangeDroppedBehindHolds(t *testing.T, dropped bool) {
	h := newOnServer(t)
	h.cfg.Policy.Tiers[0].CooldownUp = 10 * time.Minute
	const app, jump, behind = "shop", 10, 2
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	rps := func(i int) float64 {
		if i >= jump {
			return 800
		}
		return 100
	}
	// decided waits for n decisions of app's web tier stored.
	decided := func(n int) []*proto.Decision {
		t.Helper()
		var ds []*proto.Decision
		natstest.Eventually(t, 30*time.Second, func() error {
			if ds = h.decisions(app); len(ds) != n {
				return fmt.Errorf("%d decisions stored, want %d", len(ds), n)
			}
			return h.settled()
		})
		return ds
	}
	_, stop := h.start(maxUnstored, 50*time.Millisecond, prometheus.NewRegistry())
	publishAppTiers(t, h.admin, h.cfg, app, []string{"web"}, t0, 0, jump+behind+2, rps) // completes tick jump+behind
	ds := decided(jump + behind + 1)
	up := ds[jump]
	if up.Action != proto.ActionUp || up.From != 2 {
		t.Fatalf("tick %d: %s %d→%d, want a scale-up from 2", jump, up.Action, up.From, up.To)
	}
	for _, d := range ds[jump+1:] {
		if d.Action != proto.ActionHold || d.From != up.To {
			t.Fatalf("tick %d behind the change: %s %d→%d, want a hold from %d", (d.TS-up.TS)/60000+jump, d.Action, d.From, d.To, up.To)
		}
	}
	stop()
	stored := len(ds)
	if dropped {
		deleteDecision(t, h, app, "web", up.TS)
		stored--
	}

	h.start(maxUnstored, 50*time.Millisecond, prometheus.NewRegistry())
	publishAppTiers(t, h.admin, h.cfg, app, []string{"web"}, t0, jump+behind+2, jump+behind+3, rps) // completes tick jump+behind+1
	ds = decided(stored + 1)
	next, want := ds[len(ds)-1], up.To
	if dropped {
		want = up.From
	}
	if next.TS != up.TS+(behind+1)*60000 || next.From != want {
		t.Fatalf("the take-over's first decision: %s %d→%d at %d, want one from %d at tick %d", next.Action, next.From, next.To, next.TS, want, jump+behind+1)
	}
}

// deleteDecision deletes app.tier's decision at tick ts from DECISIONS.
func deleteDecision(t *testing.T, h *onServer, app, tier string, ts int64) {
	t.Helper()
	ctx := context.Background()
	stream, err := h.js.Stream(ctx, "DECISIONS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		if strings.HasPrefix(m.Subject, proto.DecisionSubject("apm", app, tier)+".") && m.Header.Get(bus.HeaderEventTime) == strconv.FormatInt(ts, 10) {
			if err := stream.DeleteMsg(ctx, seq); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no decision of %s.%s at %d stored", app, tier, ts)
}

// TestStoredChange: acquire's read marks every stored decision but a
// readable hold as a change, so a payload it cannot read never lets a
// take-over take a tick before it for a change dropped behind holds.
func TestStoredChange(t *testing.T) {
	ts := jumpTick(1)
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"hold", mustEncode(t, &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("a", "web", ts), App: "a", Tier: "web", TS: ts, From: 2, To: 2, Action: proto.ActionHold}), false},
		{"up", mustEncode(t, &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("a", "web", ts), App: "a", Tier: "web", TS: ts, From: 2, To: 3, Action: proto.ActionUp}), true},
		{"down", mustEncode(t, &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("a", "web", ts), App: "a", Tier: "web", TS: ts, From: 3, To: 2, Action: proto.ActionDown}), true},
		{"unreadable", []byte("{}"), true},
	} {
		if got := storedChange(tc.data); got != tc.want {
			t.Errorf("%s: marked %v, want %v", tc.name, got, tc.want)
		}
	}
}

func mustEncode(t *testing.T, d *proto.Decision) []byte {
	t.Helper()
	data, err := proto.Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
