package executor_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/proto"
)

// failingDriver is a real driver, reading nothing from the cluster, that
// records every request and fails those whose count is in fail.
type failingDriver struct {
	fail  []int
	mu    sync.Mutex
	asked []int
}

func (f *failingDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r.Replicas)
	if slices.Contains(f.fail, r.Replicas) {
		return executor.Result{}, errors.New("endpoint down")
	}
	return executor.Result{Ready: r.Replicas}, nil
}

func (f *failingDriver) requests() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.asked...)
}

// TestClaimedCountIsNoRecord: a change may end outside the tier's bounds
// only moving towards them from the count on record (see
// TestForgedFromCannotLeaveTheBounds). A count no driver carried out is
// no such record, though the state names a decision with it: one a
// dry-run or unauthorised tier only acknowledged (a decider identity has
// "up 5→200" acknowledged while shop.web is not authorised, within the
// default 1..200; once the operator makes it live with max 10, "down
// 200→199" must not set 199: it is the tier's first live decision, a
// sync of the count only acknowledged, whose count is clamped into the
// bounds, 10), one the simulated cluster of shadow mode ran,
// or the count a tier's first decision claimed
// when its change failed (the state falls back to what ran, which only
// the decision said). A count a driver carried out stays on record across
// a restart and a failed change, so a tier whose max was lowered since
// still comes back towards it.
func TestClaimedCountIsNoRecord(t *testing.T) {
	at := func(s int, from, to int) *proto.Decision {
		return tierDecision("shop", "web", t0.Add(time.Duration(s)*time.Second), from, to)
	}
	up := func(d *proto.Decision) *proto.Decision { d.Action = proto.ActionUp; return d }
	bounds := func(max int) map[string]map[string]executor.Bounds {
		return map[string]map[string]executor.Bounds{"shop": {"web": {Min: 2, Max: max}}}
	}
	type phase struct {
		authorised bool
		shadow     bool              // shop in shadow mode: the simulated cluster acts
		max        int               // the tier's max (0: no bounds configured)
		decisions  []*proto.Decision // handled in order by one executor
	}
	for _, c := range []struct {
		name   string
		fail   []int   // counts the driver fails to set
		phases []phase // each a restart, its config changed
		want   []int   // the counts the driver is asked for
		reason string  // the last decision's skip reason's start; "" when it acts
	}{
		{name: "acknowledged while not authorised, then live with a lower max",
			phases: []phase{{decisions: []*proto.Decision{up(at(-30, 5, 200))}}, {authorised: true, max: 10, decisions: []*proto.Decision{at(0, 200, 199)}}},
			want:   []int{10}},
		{name: "carried out in shadow, then live with bounds",
			phases: []phase{{authorised: true, shadow: true, decisions: []*proto.Decision{up(at(-30, 5, 500))}}, {authorised: true, max: 10, decisions: []*proto.Decision{at(0, 500, 499)}}},
			reason: "out of bounds: down to 499 replicas, above the tier's max of 10"},
		{name: "a first change failed, its claimed count then down", fail: []int{5},
			phases: []phase{{authorised: true, max: 10, decisions: []*proto.Decision{at(-30, 1000, 5), at(0, 1000, 999)}}},
			want:   []int{5}, reason: "out of bounds: down to 999 replicas, above the tier's max of 10"},
		{name: "carried out, then down after max was lowered",
			phases: []phase{{authorised: true, max: 30, decisions: []*proto.Decision{up(at(-30, 5, 20))}}, {authorised: true, max: 10, decisions: []*proto.Decision{at(0, 20, 18)}}},
			want:   []int{20, 18}},
		{name: "carried out, a change failed, then down after max was lowered", fail: []int{16},
			phases: []phase{{authorised: true, max: 30, decisions: []*proto.Decision{up(at(-30, 5, 20))}}, {authorised: true, max: 10, decisions: []*proto.Decision{at(-10, 20, 16), at(0, 20, 18)}}},
			want:   []int{20, 16, 18}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			drv := &failingDriver{fail: c.fail}
			for _, ph := range c.phases {
				cfg := executor.DefaultConfig()
				if ph.authorised {
					cfg = authorised(cfg)
				}
				if ph.shadow {
					cfg.Modes = map[string]string{"shop": executor.ModeShadow}
				}
				if ph.max > 0 {
					cfg.Bounds = bounds(ph.max)
				}
				stop := h.start(cfg, executor.WithDriver("webhook", drv), fixedClock(t0.Add(time.Second)))
				for _, d := range ph.decisions {
					h.publish(d)
					h.waitState(d)
				}
				stop()
			}
			if got := drv.requests(); !slices.Equal(got, c.want) {
				t.Fatalf("driver asked for %v, want %v", got, c.want)
			}
			var lastReason string
			for _, r := range reasonsOf(t, h, "shop") {
				lastReason = r
			}
			switch {
			case c.reason == "" && strings.HasPrefix(lastReason, "out of bounds"):
				t.Fatalf("skipped %q, want the change acted on", lastReason)
			case c.reason != "" && !strings.HasPrefix(lastReason, c.reason):
				t.Fatalf("last skip %q, want one starting %q", lastReason, c.reason)
			}
		})
	}
}

// TestDryRunJudgesBoundsFromTheCluster: where the driver reads the tier
// from the cluster, a dry-run or unauthorised tier's way back into its
// bounds is judged from the cluster's count too, so the changes watched
// in dry-run are the ones live would make (README: watch the decisions in
// dry-run, then go live): a workload at 30, max 10, coming down max_step
// at a time is acknowledged, not refused as out of bounds. A count the
// cluster does not report still allows nothing outside the bounds.
func TestDryRunJudgesBoundsFromTheCluster(t *testing.T) {
	for _, c := range []struct {
		name       string
		mode       string // shop's mode
		authorised bool
		cluster    int
		d          *proto.Decision
		reason     string // the skip reason's start
	}{
		{"dry-run, down towards max from the cluster's count", executor.ModeDryRun, true, 30, tierDecision("shop", "web", t0.Add(-5*time.Second), 30, 26), "dry-run"},
		{"not authorised, down towards max from the cluster's count", executor.ModeLive, false, 30, tierDecision("shop", "web", t0.Add(-5*time.Second), 30, 26), "not authorised"},
		{"dry-run, down from a forged count, the cluster at 5", executor.ModeDryRun, true, 5, tierDecision("shop", "web", t0.Add(-5*time.Second), 1000, 999),
			"out of bounds: down to 999 replicas, above the tier's max of 10 (the decision claims 1000 run; 5 are on record)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			drv := &observedDriver{observes: true, cluster: c.cluster}
			cfg := executor.DefaultConfig()
			if c.authorised {
				cfg = authorised(cfg)
			}
			cfg.Modes = map[string]string{"shop": c.mode}
			cfg.Bounds = map[string]map[string]executor.Bounds{"shop": {"web": {Min: 2, Max: 10}}}
			h.start(cfg, executor.WithDriver("kubernetes", drv), fixedClock(t0))
			h.publish(c.d)
			h.waitState(c.d)
			if got := drv.requests(); len(got) != 0 {
				t.Fatalf("driver asked for %v, want nothing", got)
			}
			if r := reasonsOf(t, h, "shop"); len(r) != 1 || !strings.HasPrefix(r[0], c.reason) {
				t.Fatalf("skips %q, want one starting %q", r, c.reason)
			}
		})
	}
}

// bootingDriver is a real driver, reading nothing from the cluster, that
// starts each count it is asked for with one replica ready and the rest
// booting, fails the counts in fail, and reports the tier's counts as
// booted (every replica asked for ready) once booted is set.
type bootingDriver struct {
	fail []int

	mu     sync.Mutex
	booted bool
	last   int // the last count set
}

func (b *bootingDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Contains(b.fail, r.Replicas) {
		return executor.Result{}, errors.New("endpoint down")
	}
	b.last = r.Replicas
	return executor.Result{Ready: 1, Booting: r.Replicas - 1}, nil
}

func (b *bootingDriver) Observe(string, string, time.Time) (executor.Result, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.booted || b.last == 0 {
		return executor.Result{}, false
	}
	return executor.Result{Ready: b.last}, true
}

// TestFailedChangeKeepsTheDecisionThatRuns: after a failed change the
// tier's state names the decision whose count runs, not the failed one:
// when the replicas an earlier change started (1→3, two booting) become
// ready after a failed 3→5, the ready event credits the 1→3 decision, and
// the state goes on naming it.
func TestFailedChangeKeepsTheDecisionThatRuns(t *testing.T) {
	h := newHarness(t)
	drv := &bootingDriver{fail: []int{5}}
	h.start(authorised(executor.DefaultConfig()), executor.WithDriver("webhook", drv))
	d1, d2, d3 := decision("shop", 0, 1, 3), decision("shop", 1, 3, 5), decision("shop", 2, 3, 3)
	h.publish(d1)
	h.waitState(d1)
	h.publish(d2)
	if st := h.waitState(d2); st.DecisionID != d1.ID || st.Desired != 3 || st.Claimed {
		t.Errorf("state after the failed change %+v, want decision %s's 3 replicas on record", st, d1.ID)
	}
	drv.mu.Lock()
	drv.booted = true
	drv.mu.Unlock()
	h.publish(d3)
	st := h.waitState(d3)
	evs, _ := h.waitEvents("shop", 5) // d1 requested, applied; d2 requested, failed; ready
	if ev := evs[4]; ev.Status != proto.StatusReady || ev.Decision != d1.ID {
		t.Errorf("last event %+v, want %s ready, whose count runs", ev, d1.ID)
	}
	if st.DecisionID != d1.ID || st.Desired != 3 || st.Ready != 3 {
		t.Errorf("state after the hold %+v, want decision %s's 3 replicas, ready", st, d1.ID)
	}
}
