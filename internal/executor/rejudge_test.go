package executor_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/proto"
)

// observingHook is hookDriver that also observes the tier, running
// observe (when set) inside each Observe: another member storing the
// tier's state while this one judges a decision that calls no driver.
// It reports no counts, so the executor goes on from the state.
type observingHook struct {
	hookDriver
	observe func()
}

func (o *observingHook) Observe(string, string, time.Time) (executor.Result, bool) {
	o.mu.Lock()
	observe := o.observe
	o.mu.Unlock()
	if observe != nil {
		observe()
	}
	return executor.Result{}, false
}

// TestJudgedAgainCountsEachEventOnce: a decision judged again after
// another member stored its tier's state meanwhile makes the same scaling
// events again, with the same ids, which the stream keeps once; the
// executor's counters count them once too, as the stream holds them:
//
//   - a change carried out again (the other member's state is older
//     than the decision, so the driver is asked for the same count
//     again): one requested, applied and ready each;
//   - a refusal judged again (an inconsistent decision, refused either
//     time): one skipped event and one refusal.
func TestJudgedAgainCountsEachEventOnce(t *testing.T) {
	tests := []struct {
		name string
		// d3 is the decision judged twice, the other member storing a
		// state of minute 2 (4 replicas) while it is handled first.
		d3 func() *proto.Decision
		// hook installs the other member's put on drv, given it.
		hook     func(drv *observingHook, put func())
		scaled   []string
		events   int                // scaling events stored for shop
		statuses map[string]float64 // headroom_executor_actions_total by status
		refused  map[string]float64 // headroom_executor_refused_total by why, its non-zero series
	}{{
		name: "change carried out again",
		d3:   func() *proto.Decision { return decision("shop", 3, 3, 5) },
		hook: func(drv *observingHook, put func()) {
			drv.during = func(r executor.Request) {
				if r.Replicas == 5 {
					put()
				}
			}
		},
		scaled:   []string{"web:3", "web:5", "web:5"},
		events:   6,
		statuses: map[string]float64{proto.StatusRequested: 2, proto.StatusApplied: 2, proto.StatusReady: 2, proto.StatusFailed: 0, proto.StatusSkipped: 0},
		refused:  map[string]float64{},
	}, {
		name: "refusal judged again",
		d3: func() *proto.Decision {
			d := decision("shop", 3, 3, 5)
			d.Action = proto.ActionDown // up in its counts: inconsistent
			return d
		},
		hook:     func(drv *observingHook, put func()) { drv.observe = put },
		scaled:   []string{"web:3"},
		events:   4,
		statuses: map[string]float64{proto.StatusRequested: 1, proto.StatusApplied: 1, proto.StatusReady: 1, proto.StatusFailed: 0, proto.StatusSkipped: 1},
		refused:  map[string]float64{"inconsistent": 1},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			drv := &observingHook{}
			reg := prometheus.NewRegistry()
			h.startWith(authorised(executor.DefaultConfig()), nil, reg, executor.WithDriver("hook", drv))
			d1 := decision("shop", 0, 1, 3)
			h.publish(d1)
			h.waitState(d1)

			var once sync.Once
			drv.mu.Lock()
			tc.hook(drv, func() { once.Do(func() { h.storeOthers(decision("shop", 2, 3, 4), 4) }) })
			drv.mu.Unlock()
			d3 := tc.d3()
			h.publish(d3)
			h.waitState(d3)
			h.fence(3)

			if got := drv.scaled(); !slices.Equal(got, tc.scaled) {
				t.Errorf("scaled %v, want %v", got, tc.scaled)
			}
			conflicts(t, reg, 1)
			h.waitEvents("shop", tc.events) // the fence, a hold, makes none
			got := metricstest.ByLabel(t, reg, "headroom_executor_actions_total", "status")
			for s, n := range tc.statuses {
				if got[s] != n {
					t.Errorf("headroom_executor_actions_total{status=%q} = %v, want %v (one per event stored)", s, got[s], n)
				}
			}
			for w, n := range metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why") {
				if n != tc.refused[w] {
					t.Errorf("headroom_executor_refused_total{why=%q} = %v, want %v", w, n, tc.refused[w])
				}
			}
		})
	}
}
