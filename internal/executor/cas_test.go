package executor_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/proto"
)

// hookDriver is a real driver's stand-in that records each scale it is
// asked for (tier:replicas) and runs during, when set, inside the call:
// another member acting on the tier meanwhile.
type hookDriver struct {
	during func(r executor.Request)

	mu     sync.Mutex
	scales []string
}

func (d *hookDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	d.mu.Lock()
	d.scales = append(d.scales, fmt.Sprintf("%s:%d", r.Tier, r.Replicas))
	during := d.during
	d.mu.Unlock()
	if during != nil {
		during(r)
	}
	return executor.Result{Ready: r.Replicas}, nil
}

func (d *hookDriver) scaled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.scales)
}

// storeOthers stores the state another member records after acting on d
// (its counts: desired and ready).
func (h *harness) storeOthers(d *proto.Decision, replicas int) {
	h.t.Helper()
	data, err := proto.Encode(&proto.ReplicaState{V: proto.SchemaVersion, App: d.App, Tier: d.Tier, TS: d.TS,
		Desired: replicas, Ready: replicas, DecisionID: d.ID})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.kv.Put(context.Background(), proto.ReplicaKey(d.App, d.Tier), data); err != nil {
		h.t.Fatal(err)
	}
}

// conflicts checks headroom_executor_state_conflicts_total in reg is
// want: how many decisions were judged again because another member
// stored their tier's state meanwhile.
func conflicts(t *testing.T, reg *prometheus.Registry, want float64) {
	t.Helper()
	if n, _ := metricstest.Sum(t, reg, "headroom_executor_state_conflicts_total"); n != want {
		t.Errorf("headroom_executor_state_conflicts_total = %v, want %v", n, want)
	}
}

// fence publishes a hold for app shop's api tier at minute m and waits
// until it is recorded: decisions of one app are handled in order, so
// every web decision published before it has been handled. m is the last
// decision's minute: a later one would move the executors' clock on, and
// the decisions before it could be handled as stale.
func (h *harness) fence(m int) {
	h.t.Helper()
	f := decision("shop", m, 1, 1)
	f.Tier, f.ID, f.Reason = "api", proto.DecisionID("shop", "api", f.TS), "api 1→1"
	h.publish(f)
	h.waitState(f)
}

// TestStateIsRecordedOverTheRevisionJudged: a member records a tier's
// state only over the bucket revision it judged the decision from. Two
// cases where another member stored the tier's state meanwhile:
//
//   - a hold handled from a held state another member has since moved
//     (this member handling what it received under a pin it lost, with
//     no change to make it look at the bucket first): it records the
//     other member's counts (5), not its own view of before (3);
//   - a change whose driver call overlaps the other member storing the
//     state of a newer decision (it scaled the tier to 2 at minute 4):
//     the older decision's state (minute 3, 5 replicas) is not written
//     over the newer one, which stays.
//
// Each is counted once in headroom_executor_state_conflicts_total.
func TestStateIsRecordedOverTheRevisionJudged(t *testing.T) {
	t.Run("hold", func(t *testing.T) {
		h := newHarness(t)
		drv := &hookDriver{}
		reg := prometheus.NewRegistry()
		h.startWith(authorised(executor.DefaultConfig()), nil, reg, executor.WithDriver("hook", drv))
		d1 := decision("shop", 0, 1, 3)
		h.publish(d1)
		h.waitState(d1)

		h.storeOthers(decision("shop", 2, 3, 5), 5)
		d3 := decision("shop", 3, 5, 5)
		h.publish(d3)
		if st := h.waitState(d3); st.Desired != 5 || st.Ready != 5 {
			t.Fatalf("state after the hold %+v, want 5 desired and ready: this member's view of before overwrote the other member's", st)
		}
		if got := drv.scaled(); !slices.Equal(got, []string{"web:3"}) {
			t.Fatalf("scaled %v, want [web:3]", got)
		}
		conflicts(t, reg, 1)
	})
	t.Run("change", func(t *testing.T) {
		h := newHarness(t)
		d4 := decision("shop", 4, 5, 2)
		drv := &hookDriver{}
		reg := prometheus.NewRegistry()
		h.startWith(authorised(executor.DefaultConfig()), nil, reg, executor.WithDriver("hook", drv))
		d1 := decision("shop", 0, 1, 3)
		h.publish(d1)
		h.waitState(d1)

		var once sync.Once
		drv.mu.Lock()
		drv.during = func(r executor.Request) {
			if r.Replicas == 5 {
				once.Do(func() { h.storeOthers(d4, 2) })
			}
		}
		drv.mu.Unlock()
		d3 := decision("shop", 3, 3, 5)
		h.publish(d3)
		h.fence(3)
		st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
		if err != nil {
			t.Fatal(err)
		}
		if st == nil || st.TS != d4.TS || st.Desired != 2 || st.DecisionID != d4.ID {
			t.Fatalf("state %+v, want the other member's of %s (2 replicas): an older decision's state was written over it", st, d4.ID)
		}
		if got := drv.scaled(); !slices.Equal(got, []string{"web:3", "web:5"}) {
			t.Fatalf("scaled %v, want [web:3 web:5]", got)
		}
		conflicts(t, reg, 1)
	})
}
