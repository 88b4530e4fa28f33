package executor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// runHoldDuringChange: A, the partition holder, carries out shop.web's
// 1→3, then its leased call for 3→5 stalls in flight. The server takes
// A's pin, and member B (a group of its own: a hand-over, both consuming
// the tier for a moment) handles the decider's next tick, a hold at 3
// (the count on record), and stores it: a state later than A's decision,
// over the revision A judged from. Once A's call lands, the state must
// record A's change (5 replicas, its decision) at the hold's time, its
// scaling events stored once; and the next change, 5→4, must be judged
// from the 5 that run.
func runHoldDuringChange(t *testing.T, rig raceRig) {
	h := newHarness(t)
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	d1, d3 := changeInFlight(t, h, rig, regA)
	hold := decision("shop", 4, 3, 3)
	startB(h, rig, regB)
	h.publish(hold)
	// B stored the hold over the state A judged 3→5 from, while A's call
	// is in flight.
	if st := h.waitState(hold); st.DecisionID != d1.ID || st.Desired != 3 {
		t.Fatalf("state after the hold %+v: want %s's 3 still recorded", st, d1.ID)
	}
	rig.release()
	// Both members done with every decision: A's call landed and its
	// handling ended, whatever it recorded.
	st := stateOnceLanded(t, h, rig)
	count, calls := rig.landed()
	t.Logf("after A's call landed: calls %v, state %+v", calls, st)
	if st.DecisionID != d3.ID || st.Desired != 5 || st.Ready != 5 || st.TS != hold.TS || st.Claimed {
		t.Errorf("the system runs %d replicas; the state records %d desired, %d ready (%s at %d, claimed %v): want 5 and 5 (%s at the hold's %d)",
			count, st.Desired, st.Ready, st.DecisionID, st.TS, st.Claimed, d3.ID, hold.TS)
	}
	if n, _ := metricstest.Sum(t, regA, "headroom_executor_state_conflicts_total"); n < 1 {
		t.Errorf("A met %v state conflicts, want at least 1 (the hold stored under its change)", n)
	}
	evs := eventsOf(t, h, "shop")
	if got := countEvents(evs, d3.ID, proto.StatusRequested); got != 1 {
		t.Errorf("%d requested events for %s, want 1: %+v", got, d3.ID, evs)
	}
	if got := countEvents(evs, d3.ID, proto.StatusApplied); got != 1 {
		t.Errorf("%d applied events for %s, want 1: %+v", got, d3.ID, evs)
	}

	// The next change is judged from the 5 that run: its request says
	// 5 ready.
	d6 := decision("shop", 6, 5, 4)
	h.publish(d6)
	natstest.Eventually(t, 30*time.Second, func() error {
		st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
		if err != nil {
			return err
		}
		if st == nil || st.DecisionID != d6.ID {
			return fmt.Errorf("state %+v: want %s recorded", st, d6.ID)
		}
		if n, _ := rig.landed(); n != 4 {
			return fmt.Errorf("the system runs %d, want 4", n)
		}
		return nil
	})
	var req *proto.Scaling
	for _, sc := range eventsOf(t, h, "shop") {
		if sc.DecisionID == d6.ID && sc.Status == proto.StatusRequested {
			req = sc
		}
	}
	if req == nil || req.Ready != 5 || req.Desired != 4 {
		t.Errorf("%s's requested event %+v: want it judged from 5 ready, to 4", d6.ID, req)
	}
}

// eventsOf returns app's scaling events in stream order.
func eventsOf(t *testing.T, h *harness, app string) []*proto.Scaling {
	t.Helper()
	var out []*proto.Scaling
	for _, data := range natstest.Payloads(t, h.b, "SCALING", proto.AppFilter("apm", proto.KindScaling, app)) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			t.Fatal(err)
		}
		out = append(out, &sc)
	}
	return out
}

// countEvents counts the events of decision id with status.
func countEvents(evs []*proto.Scaling, id, status string) int {
	n := 0
	for _, sc := range evs {
		if sc.DecisionID == id && sc.Status == status {
			n++
		}
	}
	return n
}

// TestHoldDuringLeasedChangeCommand: a hold stored by another member
// while the command driver's leased call is in flight.
func TestHoldDuringLeasedChangeCommand(t *testing.T) {
	runHoldDuringChange(t, commandRaceRig(t))
}

// TestHoldDuringLeasedChangeWebhook: a hold stored by another member
// while the webhook driver's leased call is in flight.
func TestHoldDuringLeasedChangeWebhook(t *testing.T) {
	runHoldDuringChange(t, webhookRaceRig(t))
}

// TestChangeStoredDuringLeasedChangeStays: what another member stored
// while A's leased call was in flight records a change (one made after
// A's lease lapsed, say, or by a member of another version): A's change
// is not recorded over it. Its state, later than A's decision, stays, and
// A's decision is found already applied.
func TestChangeStoredDuringLeasedChangeStays(t *testing.T) {
	rig := commandRaceRig(t)
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	changeInFlight(t, h, rig, reg)
	other := decision("shop", 4, 3, 2)
	h.storeOthers(other, 2)
	rig.release()
	st := stateOnceLanded(t, h, rig)
	if st.DecisionID != other.ID || st.Desired != 2 || st.TS != other.TS {
		t.Errorf("state %+v: want the other member's change (%s, 2 desired) kept", st, other.ID)
	}
	conflicts(t, reg, 1)
}

// TestLeaseLostDuringLeasedChangeNotRebased: A's leased call for 3→5 is
// in flight when another member stores a hold, and A's lease is lost
// before the call returns: removed (lapsed), or lapsed and taken by
// another member, who may be changing the tier itself. A no longer knows
// that no other change was made meanwhile: its change is not recorded
// over the hold, which stays (A's decision is found already applied).
func TestLeaseLostDuringLeasedChangeNotRebased(t *testing.T) {
	for _, tc := range []struct {
		name string
		// retake: the lease is taken by another member once A's lapses.
		retake bool
	}{
		{name: "removed"},
		{name: "taken again", retake: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := commandRaceRig(t)
			h := newHarness(t)
			d1, d3 := changeInFlight(t, h, rig, prometheus.NewRegistry())
			hold := decision("shop", 4, 3, 3)
			startB(h, rig, prometheus.NewRegistry())
			h.publish(hold)
			if st := h.waitState(hold); st.DecisionID != d1.ID || st.Desired != 3 {
				t.Fatalf("state after the hold %+v: want %s's 3 still recorded", st, d1.ID)
			}
			// A's lease goes while its call is in flight.
			l, err := h.b.Leases(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			key := proto.ReplicaKey("shop", "web")
			_, rev, err := l.Holder(context.Background(), key)
			if err != nil {
				t.Fatalf("A's lease while its call is in flight: %v", err)
			}
			if err := l.Release(context.Background(), key, rev, time.Minute); err != nil {
				t.Fatal(err)
			}
			if tc.retake {
				takeForeignLease(t, h, "shop", time.Minute)
			}
			rig.release()
			st := stateOnceLanded(t, h, rig)
			if st.DecisionID != d1.ID || st.Desired != 3 || st.TS != hold.TS {
				t.Errorf("state %+v: want the hold's (%s, 3 desired, at %d) kept, A's change not recorded without its lease", st, d1.ID, hold.TS)
			}
			evs := eventsOf(t, h, "shop")
			if got := countEvents(evs, d3.ID, proto.StatusRequested); got != 1 {
				t.Errorf("%d requested events for %s, want 1: %+v", got, d3.ID, evs)
			}
		})
	}
}

// stateOnceLanded waits until A's call for 5 has landed (the second call
// rig saw) and both members are done with every decision (they share the
// group's durables), and returns shop.web's stored state.
func stateOnceLanded(t *testing.T, h *harness, rig raceRig) *proto.ReplicaState {
	t.Helper()
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, calls := rig.landed(); len(calls) < 2 {
			return fmt.Errorf("calls landed %v: A's call for 5 has not landed", calls)
		}
		return natstest.GroupDrained(context.Background(), h.b, "DECISIONS", "executor")
	})
	st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
	if err != nil || st == nil {
		t.Fatalf("state: %+v, %v", st, err)
	}
	return st
}
