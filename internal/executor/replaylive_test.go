package executor_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReplayedInputLeavesALiveTiersRecord: a decision on replayed input
// for a live tier (a collector replay under the live app's name: its
// --config check is optional) is refused, and the tier's state keeps the
// count the driver carried out, on record. Acknowledged like a dry-run
// tier's change, it took the replay's count as desired, claimed: the
// collector stamped that count on the live app's ticks as committed, the
// decider decided from it (holding at 8 while 5 ran), and the record of
// what runs, which bounds the next changes, was lost.
func TestReplayedInputLeavesALiveTiersRecord(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	reg := prometheus.NewRegistry()
	h.startWith(commandConfig(log, ""), nil, reg, fixedClock(t0))
	own := tierDecision("shop", "web", t0.Add(-30*time.Second), 3, 5)
	h.publish(own)
	if st := h.waitState(own); st.Desired != 5 || st.Claimed {
		t.Fatalf("after %s: state %+v, want 5 desired on record", own.ID, st)
	}
	rev := h.revision("shop", "web")
	replayed := tierDecision("shop", "web", t0.Add(-15*time.Second), 5, 8)
	replayed.Flags = []string{proto.FlagReplayedInput}
	h.publish(replayed)
	st := h.waitStoredAfter("shop", "web", rev)
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != own.ID {
		t.Fatalf("acted on %v, want only %s", got, own.ID)
	}
	if st.Desired != 5 || st.Claimed || st.DecisionID != own.ID {
		t.Errorf("after the replayed %s: state desired %d (decision %s, claimed %v), want the 5 %s carried out, on record",
			replayed.ID, st.Desired, st.DecisionID, st.Claimed, own.ID)
	}
	if r := h.skippedReasons("shop", 1)[0]; !strings.Contains(r, "not authorised: decided on replayed input") {
		t.Errorf("reason %q", r)
	}
	// Counted apart from the refusals of tiers without authority (every
	// tick of an app not live, by design): a replay runs under a live
	// app's name, which the refusal alert reports.
	refused := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why")
	if refused["replayed"] != 1 || refused["unauthorised"] != 0 {
		t.Errorf("headroom_executor_refused_total by why %v, want the replayed change under replayed", refused)
	}
}

// TestReplayedDecisionDoesNotSupersedeALiveOne: a decision on replayed
// input is never acted on, so it is not the tier's latest decision for a
// real driver. Stored after a live decision of the tier (a replay under
// the live app's name, its ticks between the live ones) and before the
// executor judged that one, it took the live change's place as "a newer
// decision": the live change was skipped as superseded, the replayed one
// refused, and nothing ran, at every tick the replay interleaved so.
func TestReplayedDecisionDoesNotSupersedeALiveOne(t *testing.T) {
	h := newHarness(t)
	live := tierDecision("shop", "web", t0.Add(-20*time.Second), 3, 5)
	replayed := tierDecision("shop", "web", t0.Add(-10*time.Second), 3, 8)
	replayed.Flags = []string{proto.FlagReplayedInput}
	h.publish(live, replayed)
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""), fixedClock(t0))
	h.waitState(live)
	// The replayed decision leaves the state's time at the live one's: its
	// skipped event (stored after the live state, so waited for) tells it
	// was judged.
	h.waitSkipped("shop", 1)
	end := tierDecision("shop", "web", t0.Add(-5*time.Second), 5, 5)
	h.publish(end)
	st := h.waitState(end)
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != live.ID {
		t.Fatalf("acted on %v, want the live decision %s", got, live.ID)
	}
	if st.Desired != 5 || st.Claimed || st.DecisionID != live.ID {
		t.Errorf("state desired %d (decision %s, claimed %v), want the live 5 (%s) on record", st.Desired, st.DecisionID, st.Claimed, live.ID)
	}
	if r := h.skippedReasons("shop", 1)[0]; !strings.Contains(r, "decided on replayed input") {
		t.Errorf("skipped for %q, want the replayed decision refused for its input", r)
	}
}

// TestReplayedInputCountedWhileBraked: a decision on replayed input for a
// tier the file names live is refused as replayed (counted under
// why="replayed", which HeadroomDecisionsRefused reports) and leaves the
// tier's state as it was while -executor.modes brakes the tier too. The
// brake is how deploy/kubernetes starts (*=dry-run): judged as braked
// first, such a decision was skipped as braked (command driver) or
// acknowledged as a dry-run (kubernetes driver, the state taking the
// replay's count), counted under no why, and a replay under a live app's
// name never alerted while the brake was on.
func TestReplayedInputCountedWhileBraked(t *testing.T) {
	for _, c := range []struct {
		name  string
		start func(h *harness, reg *prometheus.Registry) func()
	}{
		{"command driver, *=dry-run", func(h *harness, reg *prometheus.Registry) func() {
			cfg := commandConfig(filepath.Join(h.t.TempDir(), "argv.log"), "")
			cfg.Modes = map[string]string{"*": executor.ModeDryRun}
			return h.startWith(cfg, nil, reg, fixedClock(t0))
		}},
		{"command driver, shop=shadow", func(h *harness, reg *prometheus.Registry) func() {
			cfg := commandConfig(filepath.Join(h.t.TempDir(), "argv.log"), "")
			cfg.Modes = map[string]string{"shop": executor.ModeShadow}
			return h.startWith(cfg, nil, reg, fixedClock(t0))
		}},
		{"kubernetes driver, *=dry-run", func(h *harness, reg *prometheus.Registry) func() {
			k := executor.NewFakeKube(h.t, 3, false)
			cfg := kubeConfig()
			cfg.Modes = map[string]string{"*": executor.ModeDryRun}
			return h.startWith(cfg, nil, reg, executor.WithDriver(executor.DriverKubernetes, k.Driver(h.t)), fixedClock(t0))
		}},
	} {
		for _, to := range []int{8, 3} { // a change, a hold
			t.Run(fmt.Sprintf("%s, 3 to %d", c.name, to), func(t *testing.T) {
				h := newHarness(t)
				reg := prometheus.NewRegistry()
				c.start(h, reg)
				replayed := tierDecision("shop", "web", t0.Add(-15*time.Second), 3, to)
				replayed.Flags = []string{proto.FlagReplayedInput}
				h.publish(replayed)
				if r := h.waitSkipped("shop", 1)[0]; !strings.Contains(r, "decided on replayed input") {
					t.Errorf("skipped for %q, want the replayed input named", r)
				}
				// The tier has no state: the replay stores none (see
				// TestReplayedDecisionLeavesANewLiveTierWithoutState).
				if st, err := executor.ReadState(context.Background(), h.kv, "shop", "web"); err != nil || st != nil {
					t.Errorf("after the replayed %s: state %+v (%v), want none", replayed.ID, st, err)
				}
				refused := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why")
				if refused["replayed"] != 1 {
					t.Errorf("headroom_executor_refused_total by why %v, want the replayed %s under replayed", refused, replayed.Action)
				}
			})
		}
	}
}

// TestReplayedHoldIsCounted: a hold decided on replayed input for a tier
// the file names live is refused and counted as a replayed change is
// (why="replayed", a skipped event naming the replayed input), leaving
// the tier's record as it was. Let through as a live hold, it was counted
// nowhere: a replay under the live app's name of a steady period, all
// holds, never alerted.
func TestReplayedHoldIsCounted(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	reg := prometheus.NewRegistry()
	h.startWith(commandConfig(log, ""), nil, reg, fixedClock(t0))
	own := tierDecision("shop", "web", t0.Add(-30*time.Second), 3, 5)
	h.publish(own)
	h.waitState(own)
	rev := h.revision("shop", "web")
	replayed := tierDecision("shop", "web", t0.Add(-15*time.Second), 5, 5)
	replayed.Flags = []string{proto.FlagReplayedInput}
	h.publish(replayed)
	st := h.waitStoredAfter("shop", "web", rev)
	if st.Desired != 5 || st.Claimed || st.DecisionID != own.ID {
		t.Errorf("after the replayed hold: state desired %d (decision %s, claimed %v), want the 5 %s carried out, on record",
			st.Desired, st.DecisionID, st.Claimed, own.ID)
	}
	if r := reasonsOf(t, h, "shop"); len(r) != 1 || !strings.Contains(r[0], "decided on replayed input") {
		t.Errorf("skipped for %q, want the replayed hold, for its input", r)
	}
	if refused := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why"); refused["replayed"] != 1 {
		t.Errorf("headroom_executor_refused_total by why %v, want the replayed hold under replayed", refused)
	}
}

// revision returns the bucket revision of app.tier's state (0: none).
func (h *harness) revision(app, tier string) uint64 {
	h.t.Helper()
	_, rev, err := h.kv.Entry(context.Background(), proto.ReplicaKey(app, tier))
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		h.t.Fatal(err)
	}
	return rev
}

// waitStoredAfter waits until app.tier's state is stored again after
// revision rev and returns it: the state a decision on replayed input
// leaves, whose time it does not move (waitState cannot tell it).
func (h *harness) waitStoredAfter(app, tier string, rev uint64) *proto.ReplicaState {
	h.t.Helper()
	natstest.Eventually(h.t, 10*time.Second, func() error {
		if got := h.revision(app, tier); got <= rev {
			return fmt.Errorf("%s.%s's state still at revision %d", app, tier, got)
		}
		return nil
	})
	st, err := executor.ReadState(context.Background(), h.kv, app, tier)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// TestReplayedDecisionLeavesTheLiveTime: a decision on replayed input for
// a live tier leaves the time of the tier's state at the live decision's,
// as it leaves its counts, so a live change with an earlier time than the
// replayed one, handled after it, is still carried out. The executor
// handles them in that order when the live one is retried (a transient
// error, another member's lease on the tier) while the replayed one,
// stored after it, is handled. The replayed decision's time recorded, the
// live change was dropped as "already applied", recorded nowhere (no
// event, no count), and the tier did not scale.
func TestReplayedDecisionLeavesTheLiveTime(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	reg := prometheus.NewRegistry()
	h.startWith(commandConfig(log, ""), nil, reg, fixedClock(t0))
	own := tierDecision("shop", "web", t0.Add(-30*time.Second), 3, 5)
	h.publish(own)
	h.waitState(own)
	rev := h.revision("shop", "web")
	replayed := tierDecision("shop", "web", t0.Add(-10*time.Second), 5, 8)
	replayed.Flags = []string{proto.FlagReplayedInput}
	h.publish(replayed)
	if st := h.waitStoredAfter("shop", "web", rev); st.TS != own.TS || st.Desired != 5 || st.DecisionID != own.ID {
		t.Errorf("after the replayed %s: state at %d, desired %d (decision %s), want %s's time and count", replayed.ID, st.TS, st.Desired, st.DecisionID, own.ID)
	}
	retried := tierDecision("shop", "web", t0.Add(-20*time.Second), 5, 7)
	h.publish(retried)
	h.waitState(retried)
	if got := decisionsActed(t, log); len(got) != 2 || got[1] != retried.ID {
		t.Errorf("acted on %v, want %s then the live %s", got, own.ID, retried.ID)
	}
	if refused := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why"); refused["replayed"] != 1 {
		t.Errorf("headroom_executor_refused_total by why %v, want the replayed change under replayed", refused)
	}
}

// TestReplayedDecisionLeavesANewLiveTierWithoutState: a decision on
// replayed input for a live tier with no state yet is refused and
// stores none. Stored (the replay's time and From as the tier's time and
// running count, unclaimed), it had the collector stamp the replay's
// count on the live app's ticks as committed, a live decision stamped
// before the replay's time (a retried delivery, a lagging tick) dropped
// as "already applied", and a live change to the replay's From taken as
// "already running that count": in both, the driver never acted.
func TestReplayedDecisionLeavesANewLiveTierWithoutState(t *testing.T) {
	for _, tc := range []struct {
		name string
		live time.Time // the live decision's time, the replay's being t0-10s
	}{
		{"live decision stamped before the replay's", t0.Add(-20 * time.Second)},
		{"live decision stamped after the replay's", t0.Add(-5 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			reg := prometheus.NewRegistry()
			h.startWith(commandConfig(log, ""), nil, reg, fixedClock(t0))
			replayed := tierDecision("shop", "web", t0.Add(-10*time.Second), 5, 8)
			replayed.Flags = []string{proto.FlagReplayedInput}
			h.publish(replayed)
			natstest.Eventually(t, 10*time.Second, func() error {
				if n := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why")["replayed"]; n != 1 {
					return fmt.Errorf("%v replayed refusals, want 1", n)
				}
				return nil
			})
			if st, err := executor.ReadState(context.Background(), h.kv, "shop", "web"); err != nil || st != nil {
				t.Errorf("after the replayed %s on a tier without state: state %+v (%v), want none", replayed.ID, st, err)
			}
			live := tierDecision("shop", "web", tc.live, 3, 5)
			h.publish(live)
			st := h.waitState(live)
			if st.Desired != 5 || st.DecisionID != live.ID || st.Claimed {
				t.Errorf("after the live %s: desired %d (decision %s, claimed %v), want 5 carried out by it", live.ID, st.Desired, st.DecisionID, st.Claimed)
			}
			if got := decisionsActed(t, log); len(got) != 1 || got[0] != live.ID {
				t.Errorf("acted on %v, want only the live %s", got, live.ID)
			}
		})
	}
}

// waitSkipped waits for n skipped events of app and returns their
// reasons (skippedReasons, once they are stored).
func (h *harness) waitSkipped(app string, n int) []string {
	h.t.Helper()
	var out []string
	natstest.Eventually(h.t, 10*time.Second, func() error {
		var err error
		if out, err = h.skipped(app); err != nil {
			return err
		}
		if len(out) != n {
			return fmt.Errorf("%d skipped events for %s (%q), want %d", len(out), app, out, n)
		}
		return nil
	})
	return out
}
