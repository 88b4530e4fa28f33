package kubetest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/headroomhq/headroom/internal/kubetest"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/proto"
)

// stuckPolicy is a one-tier policy for cache with a 2 s lead time and
// one-second ticks, so replicas count as stuck after 4 s not ready.
func stuckPolicy(t *testing.T) *policy.App {
	t.Helper()
	c := policy.DefaultAppConfig()
	tc := c.Tiers[1] // cache
	tc.Upstream, tc.Capacity, tc.LeadTime, tc.ScaleDownStabilization = "", 10, 2*time.Second, 10*time.Second
	c.Tiers = []policy.TierConfig{tc}
	c.Tick, c.LevelWindow, c.CalibrationWindow = time.Second, 5*time.Second, time.Minute
	c.ShortStabilization, c.SkillQuantiles, c.SeasonalPeaks, c.PhasePeaks = 0, nil, false, false
	a, err := policy.NewApp(c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestClusterStateReachesTheDecider checks the replica state the executor
// records for the decider (the collector stamps it on every tick) against
// the cluster: a Deployment scaled by hand shows as the tier's desired
// count at the next decisions, with its pods booting then ready as the
// cluster reports them; a change decided from the old count that would now
// move the other way is skipped, not patched; and pods that never become
// ready are named in the policy's reason when the policy is fed that state.
func TestClusterStateReachesTheDecider(t *testing.T) {
	cl := kubetest.Start(t, kubetest.Options{})
	ctx := context.Background()
	w := newWorld(t, cl)
	// web boots in 2 s; cache's pods never become ready (an hour's delay).
	for _, d := range []struct {
		name  string
		n     int32
		delay time.Duration
	}{{"web", 1, 2 * time.Second}, {"cache", 0, time.Hour}} {
		if _, err := cl.Client.AppsV1().Deployments("shop").Create(ctx, newDeployment(d.name, d.n, d.delay), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := kubetest.Until(waitCtx, "web 1 ready", func() (bool, error) {
		return w.deployment("web").Status.ReadyReplicas == 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	w.start = time.Now()
	w.startExecutor()
	st := w.state(w.decide("shop", "web", 1, 1))
	w.logf("web state: desired %d, ready %d, booting %d", st.Desired, st.Ready, st.Booting)
	if st.Desired != 1 || st.Ready != 1 || st.Booting != 0 {
		t.Fatalf("web state %+v, want 1 ready", st)
	}

	// 1. Someone scales web to 3 by hand (kubectl scale): hold ticks, as
	// the decider sends them from the count it knew, record the cluster's
	// count and its pods booting, then ready.
	sc := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: autoscalingv1.ScaleSpec{Replicas: 3}}
	if _, err := cl.Client.AppsV1().Deployments("shop").UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	scaled := time.Now()
	w.logf("web scaled 1→3 by hand")
	var seenDesired, seenReady time.Time
	last := ""
	deadline := time.Now().Add(60 * time.Second)
	for seenReady.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("web state never showed 3 ready: last %s", last)
		}
		st := w.state(w.decide("shop", "web", 1, 1))
		if s := fmt.Sprintf("desired %d, ready %d, booting %d", st.Desired, st.Ready, st.Booting); s != last {
			last = s
			w.logf("web state: %s", s)
		}
		if st.Desired == 3 && seenDesired.IsZero() {
			seenDesired = time.Now()
		}
		if !seenDesired.IsZero() && (st.Desired != 3 || st.Ready+st.Booting != 3) {
			t.Fatalf("web state %+v after showing desired 3", st)
		}
		if st.Ready == 3 {
			seenReady = time.Now()
		}
		time.Sleep(250 * time.Millisecond) // the decider's tick, scaled down
	}
	w.logf("web: desired 3 recorded %.2fs after the hand scale, 3 ready after %.2fs", seenDesired.Sub(scaled).Seconds(), seenReady.Sub(scaled).Seconds())
	if seenDesired.Sub(scaled) > 5*time.Second {
		t.Errorf("the hand scale took %v to show in the state", seenDesired.Sub(scaled))
	}

	// 2. An up decided from the old count (1→2) would scale web down now:
	// it is skipped with the reason, and the workload is not patched.
	gen := w.deployment("web").Generation
	outdated := w.decide("shop", "web", 1, 2)
	ev := w.waitEvent(outdated, proto.StatusSkipped)
	w.logf("web 1→2 decided before the hand scale: %s: %s", ev.Status, ev.Reason)
	if !strings.Contains(ev.Reason, "outdated: decided up 1→2, but the workload is at 3 replicas already") {
		t.Fatalf("skip reason %q", ev.Reason)
	}
	if d := w.deployment("web"); d.Generation != gen || *d.Spec.Replicas != 3 {
		t.Fatalf("web patched by an outdated decision: generation %d→%d, replicas %d", gen, d.Generation, *d.Spec.Replicas)
	}

	// 3. cache scales 0→2 and its pods never become ready. The state the
	// executor records, fed to the policy each second as the decider
	// would, makes the reason name them once 4 s (twice the lead time)
	// have passed.
	up := w.decide("shop", "cache", 0, 2)
	ev = w.waitEvent(up, proto.StatusApplied)
	patched := time.Now()
	w.logf("cache 0→2 applied: ready %d, booting %d", ev.Ready, ev.Booting)
	pol := stuckPolicy(t)
	var named string
	var lastTick time.Time
	deadline = time.Now().Add(60 * time.Second)
	for named == "" {
		if time.Now().After(deadline) {
			t.Fatal("the policy's reason never named the stuck cache replicas")
		}
		d := w.decide("shop", "cache", 2, 2)
		st := w.state(d)
		if st.Desired != 2 || st.Ready != 0 || st.Booting != 2 {
			t.Fatalf("cache state %+v, want 2 desired, 0 ready, 2 booting", st)
		}
		if now := proto.Time(d.TS); now.Sub(lastTick) >= time.Second {
			lastTick = now
			in := policy.TierInput{Load: 15, Ready: st.Ready, Booting: st.Booting, Desired: st.Desired}
			pd := pol.Decide(now, map[string]policy.TierInput{"cache": in})[0]
			if strings.Contains(pd.Reason, "not ready after") {
				named = pd.Reason
				w.logf("policy, %.1fs after the patch: %s %d→%d, flags %v: %s", time.Since(patched).Seconds(), pd.Action, pd.From, pd.To, pd.Flags, pd.Reason)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !strings.Contains(named, "2 of the 2 replicas not ready after") || !strings.Contains(named, "counted as running, not replaced") {
		t.Fatalf("reason %q", named)
	}
	t.Log("timeline:\n" + strings.Join(w.timeline, "\n"))
}
