package decider

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestRebuildWithdrawsDroppedChange: a take-over's rebuild replays the
// ticks up to the last decision stored without publishing them; a change
// the member before dropped (and withdrew) is not in the stream, and
// rebuilt it stood as issued: the rebuilt tier took its count as pending,
// so the decisions after the last stored one differed from the live
// member's (a hold from 7 and a down 7→5 where the live member held from
// 5). The last stored decision says the count the live member held
// (SetSentDecision): where the rebuilt tier's last change, withdrawn,
// gives that count, it was dropped, and the rebuild withdraws it too.
//
// The count compared is the one the policy decides from (TierInput's
// current: the pending count where there is one, not the larger of it and
// the ready replicas): with a replica more running than the tier's count
// (started outside Headroom), the larger read 3 where the member before
// decided from 2, so the dropped change was not withdrawn and its up
// cool-down held the rebuilt tier while the live member scaled up.
//
// With the ticks stored read too (SetStoredTicks: the change's missing,
// no decision behind it decided from its count) the rebuild is the same.
func TestRebuildWithdrawsDroppedChange(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra int // replicas running past the tier's count from tick extraAt
	}{{"replicas as decided", 0}, {"a replica more running", 1}} {
		for _, ticks := range []bool{false, true} {
			name := tc.name
			if ticks {
				name += ", stored ticks read"
			}
			t.Run(name, func(t *testing.T) { testRebuildWithdrawsDroppedChange(t, tc.extra, ticks) })
		}
	}
}

func testRebuildWithdrawsDroppedChange(t *testing.T, extra int, ticks bool) {
	cfg := DefaultConfig()
	cfg.Policy.Tiers[0].CooldownUp = 5 * time.Minute
	live := runJump(t, cfg, NewApps(cfg, config.Limits{}, zerolog.Nop()), extra, jumpTick(jumpAt))
	if d := live[jumpTick(jumpAt)]; d == nil || d.Action != proto.ActionUp {
		t.Fatalf("live tick %d: %+v, want the scale-up dropped", jumpAt, d)
	}
	b := NewApps(cfg, config.Limits{}, zerolog.Nop())
	last := live[jumpTick(storedAt)]
	if err := b.SetSentDecision("a", "web", proto.Time(last.TS), last); err != nil {
		t.Fatal(err)
	}
	if ticks {
		var stored []int64
		for i := 0; i <= storedAt; i++ {
			if i != jumpAt {
				stored = append(stored, jumpTick(i))
			}
		}
		b.SetStoredTicks("a", "web", stored, nil)
	}
	sameAfterStored(t, live, runJump(t, cfg, b, extra, -1))
}

// TestRebuildRefusesOddLastDecision: the last message stored on a tier's
// decision subject is read for the count the rebuilt tier is held at only
// where it is a decision the decider makes there; another's From (a
// billion replicas, say) had the rebuilt tier take it and decide down from
// it. Refused, the tier is rebuilt as it was before SetSentDecision: from
// the inputs alone (here the live run drops nothing, so they agree).
func TestRebuildRefusesOddLastDecision(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Policy.Tiers[0].CooldownUp = 5 * time.Minute
	live := runJump(t, cfg, NewApps(cfg, config.Limits{}, zerolog.Nop()), 0, -1)
	ts := jumpTick(storedAt)
	for _, tc := range []struct {
		name string
		odd  func(d *proto.Decision)
	}{
		{"a count past MaxReplicas", func(d *proto.Decision) { d.From, d.To = 1e9, 1e9 }},
		{"a hold between two counts", func(d *proto.Decision) { d.From = 2 }},
		{"an up that does not rise", func(d *proto.Decision) { d.Action, d.From = proto.ActionUp, d.To }},
		{"another tier's", func(d *proto.Decision) { d.Tier, d.From, d.To = "db", 2, 2 }},
		{"another tick's id", func(d *proto.Decision) { d.ID, d.From, d.To = proto.DecisionID("a", "web", ts-60000), 2, 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := *live[ts]
			tc.odd(&d)
			b := NewApps(cfg, config.Limits{}, zerolog.Nop())
			if err := b.SetSentDecision("a", "web", proto.Time(ts), &d); err == nil {
				t.Errorf("%+v taken as the last decision stored", d)
			}
			sameAfterStored(t, live, runJump(t, cfg, b, 0, -1))
		})
	}
}

const jumpAt, storedAt, lastAt, extraAt = 10, 11, 16, 11

func jumpTick(i int) int64 { return proto.Millis(t0.Add(time.Duration(i) * time.Minute)) }

// runJump feeds st one tier's ticks, its load jumping at jumpAt, with
// extra replicas running past its count from extraAt, withdrawing the
// decision at drop as dropped, and returns the decisions by tick.
func runJump(t *testing.T, cfg Config, st *Apps, extra int, drop int64) map[int64]*proto.Decision {
	t.Helper()
	decided := map[int64]*proto.Decision{}
	for i := 0; i <= lastAt+1; i++ {
		rps := 100.0
		if i >= jumpAt {
			rps = 800
		}
		replicas := 2
		if i >= extraAt {
			replicas += extra
		}
		for _, d := range feedWebMinute(t, st, cfg, i, replicas, rps) {
			decided[d.TS] = d
			if d.TS == drop && !st.Withdraw(d) {
				t.Fatalf("live: the dropped change %+v not withdrawn", d)
			}
		}
	}
	return decided
}

// sameAfterStored fails t unless rebuilt published nothing up to storedAt
// and what live decided after it.
func sameAfterStored(t *testing.T, live, rebuilt map[int64]*proto.Decision) {
	t.Helper()
	for i := 0; i <= lastAt; i++ {
		l, r := live[jumpTick(i)], rebuilt[jumpTick(i)]
		if i <= storedAt {
			if r != nil {
				t.Fatalf("rebuilt tick %d published: %+v", i, r)
			}
			continue
		}
		if r == nil || l.Action != r.Action || l.From != r.From || l.To != r.To || l.State != r.State {
			t.Errorf("tick %d: rebuilt %+v, live %s %d→%d (%s)", i, r, l.Action, l.From, l.To, l.State)
		}
	}
}

// TestTakeOverWithdrawsDroppedChange: the same through the service: a
// member drops a scale-up (the stream refuses it for its size) and
// withdraws it, then stores the ticks after it; the member taking the app
// over reads the last decision stored (acquire) and rebuilds the tier's
// count as the member before held it, not the dropped change's.
func TestTakeOverWithdrawsDroppedChange(t *testing.T) {
	h := newOnServer(t)
	h.cfg.Policy.Tiers[0].CooldownUp = 5 * time.Minute
	const app, jump = "shop", 10
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()
	rps := func(i int) float64 {
		if i >= jump {
			return 800
		}
		return 100
	}
	dA, stop := h.start(maxUnstored, 50*time.Millisecond, prometheus.NewRegistry())
	publishAppTiers(t, h.admin, h.cfg, app, []string{"web"}, t0, 0, jump+1, rps) // completes tick jump-1
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := h.stored(app); n != jump {
			return fmt.Errorf("%d decisions stored, want %d", n, jump)
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
	working := info.Config
	small := working
	small.MaxMsgSize = 256 // under any decision
	if _, err := h.js.UpdateStream(ctx, small); err != nil {
		t.Fatal(err)
	}
	publishAppTiers(t, h.admin, h.cfg, app, []string{"web"}, t0, jump+1, jump+2, rps) // completes tick jump, the scale-up
	natstest.Eventually(t, 30*time.Second, func() error {
		dA.mu.Lock()
		defer dA.mu.Unlock()
		if a := dA.state.app(app); a == nil || a.sentTS["web"] < proto.Millis(t0.Add(jump*time.Minute)) {
			return fmt.Errorf("tick %d not dropped yet", jump)
		}
		return nil
	})
	if _, err := h.js.UpdateStream(ctx, working); err != nil {
		t.Fatal(err)
	}
	publishAppTiers(t, h.admin, h.cfg, app, []string{"web"}, t0, jump+2, jump+4, rps) // completes ticks jump+1, jump+2
	ds := func() []*proto.Decision {
		var ds []*proto.Decision
		natstest.Eventually(t, 30*time.Second, func() error {
			if ds = h.decisions(app); len(ds) != jump+2 {
				return fmt.Errorf("%d decisions stored, want %d", len(ds), jump+2)
			}
			return h.settled()
		})
		return ds
	}()
	if up := ds[jump]; up.Action != proto.ActionUp || up.From != 2 {
		t.Fatalf("tick %d after the dropped change: %s %d→%d, want a scale-up from 2, as the change was withdrawn", jump+1, up.Action, up.From, up.To)
	}
	dA.mu.Lock()
	want := dA.state.app(app).desired["web"]
	dA.mu.Unlock()
	stop()

	dB, _ := h.start(maxUnstored, 50*time.Millisecond, prometheus.NewRegistry())
	natstest.Eventually(t, 30*time.Second, func() error {
		dB.mu.Lock()
		defer dB.mu.Unlock()
		a := dB.state.app(app)
		if a == nil || a.join.released < proto.Millis(t0.Add((jump+2)*time.Minute)) {
			return fmt.Errorf("the take-over has not rebuilt tick %d yet", jump+2)
		}
		if got := a.desired["web"]; got != want {
			return fmt.Errorf("rebuilt, the tier is held at %d, the member before held it at %d", got, want)
		}
		return nil
	})
}
