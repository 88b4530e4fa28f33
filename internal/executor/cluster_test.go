package executor_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/proto"
)

// clusterDriver stands for a driver that reads the tier from the cluster
// (the kubernetes driver): Observe reports its spec and ready counts with
// Cluster set, and set changes them as someone else (kubectl scale, a
// rollout) would.
type clusterDriver struct {
	mu             sync.Mutex
	desired, ready int
	scales         []int
}

func (c *clusterDriver) set(desired, ready int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.desired, c.ready = desired, ready
}

func (c *clusterDriver) result() executor.Result {
	return executor.Result{Ready: min(c.ready, c.desired), Booting: max(0, c.desired-c.ready), Cluster: true}
}

func (c *clusterDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.desired = r.Replicas
	c.scales = append(c.scales, r.Replicas)
	return c.result(), nil
}

func (c *clusterDriver) Observe(_, _ string, _ time.Time) (executor.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.result(), true
}

func (c *clusterDriver) scaled() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.scales...)
}

// TestStateComesFromTheCluster: for a tier whose driver reads the cluster,
// the recorded state (what the collector stamps on ticks for the decider)
// is the cluster's: desired = spec.replicas, ready = readyReplicas,
// booting = the rest. A scale made by hand shows at the next decision; a
// change decided before it that would now move the other way is skipped,
// not carried out; a dry-run app keeps the count it acknowledged.
func TestStateComesFromTheCluster(t *testing.T) {
	h := newHarness(t)
	drv := &clusterDriver{desired: 2, ready: 2}
	cfg := authorised(executor.DefaultConfig())
	cfg.Modes = map[string]string{"preview": executor.ModeDryRun}
	h.start(cfg, executor.WithDriver("k8s", drv))

	type want struct{ desired, ready, booting int }
	steps := []struct {
		name    string
		cluster *want // set in the cluster before the decision
		d       *proto.Decision
		state   want
	}{
		{"steady", nil, decision("shop", 0, 2, 2), want{2, 2, 0}},
		{"scaled to 5 by hand, 3 ready", &want{5, 3, 0}, decision("shop", 1, 2, 2), want{5, 3, 2}},
		{"an up decided from the old count", nil, decision("shop", 2, 2, 4), want{5, 3, 2}},
		{"pods become ready", &want{5, 5, 0}, decision("shop", 3, 5, 5), want{5, 5, 0}},
		{"a down from the cluster's count acts", nil, decision("shop", 4, 5, 4), want{4, 4, 0}},
		{"dry-run acknowledges", nil, decision("preview", 5, 4, 7), want{7, 4, 0}},
		{"dry-run keeps the acknowledged count", nil, decision("preview", 6, 7, 7), want{7, 4, 0}},
	}
	for _, s := range steps {
		if s.cluster != nil {
			drv.set(s.cluster.desired, s.cluster.ready)
		}
		h.publish(s.d)
		st := h.waitState(s.d)
		if got := (want{st.Desired, st.Ready, st.Booting}); got != s.state {
			t.Fatalf("%s: state desired/ready/booting %+v, want %+v", s.name, got, s.state)
		}
	}
	if got := drv.scaled(); len(got) != 1 || got[0] != 4 {
		t.Fatalf("driver asked for %v, want only [4]", got)
	}
	reasons := h.skippedReasons("shop", 1)
	if !strings.Contains(reasons[0], "outdated: decided up 2→4, but the workload is at 5 replicas already") {
		t.Fatalf("skip reason %q", reasons[0])
	}
}
