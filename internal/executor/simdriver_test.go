package executor_test

import (
	"context"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
)

// TestSimDriver scales a simulated tier up with half the boots failing:
// replicas become ready after the boot delay in event time, each failure is
// reported once, and the same seed gives the same history.
func TestSimDriver(t *testing.T) {
	history := func() []executor.Result {
		d := executor.NewSimDriver(map[string]time.Duration{"web": time.Minute}, 5*time.Minute, 0.5, 7)
		d.Restore("shop", "web", t0, 2, 0, t0)
		var out []executor.Result
		r, err := d.Scale(context.Background(), executor.Request{App: "shop", Tier: "web", Replicas: 12, Time: t0})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
		for _, m := range []int{0, 1, 1, 2} {
			r, _ := d.Observe("shop", "web", t0.Add(time.Duration(m)*time.Minute))
			out = append(out, r)
		}
		return out
	}
	h := history()
	if h[0] != (executor.Result{Ready: 2, Booting: 10}) || h[1] != h[0] {
		t.Fatalf("before the boot delay: %+v", h[:2])
	}
	done := h[2]
	if done.Booting != 0 || done.Ready+done.Failed != 12 || done.Failed == 0 || done.Failed == 10 {
		t.Fatalf("after the boot delay %+v, want 10 boots split between ready and failed", done)
	}
	for _, r := range h[3:] {
		if r != (executor.Result{Ready: done.Ready}) {
			t.Fatalf("later observation %+v, want the failures reported once", r)
		}
	}
	if h2 := history(); len(h2) != len(h) || h2[2] != h[2] {
		t.Fatalf("same seed, different history: %+v vs %+v", h2, h)
	}
	if _, ok := executor.NewSimDriver(nil, time.Minute, 0, 1).Observe("shop", "web", t0); ok {
		t.Fatal("unknown tier observed")
	}
}

// TestSimRestoreKeepsBootStart: a cluster seeded from a replica state whose
// boots began at the change's decision (1:00, web boots in a minute) and
// whose time a hold moved on (1:30) has them ready at 2:00, as the cluster
// that never stopped would; restored from the state's time alone they
// would wait until 2:30.
func TestSimRestoreKeepsBootStart(t *testing.T) {
	delays := map[string]time.Duration{"web": time.Minute}
	at := func(m, s int) time.Time { return t0.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second) }
	ran := executor.NewSimDriver(delays, time.Minute, 0, 1)
	ran.Restore("shop", "web", at(0, 0), 1, 0, at(0, 0))
	if _, err := ran.Scale(context.Background(), executor.Request{App: "shop", Tier: "web", Replicas: 3, Time: at(1, 0)}); err != nil {
		t.Fatal(err)
	}
	if r, _ := ran.Observe("shop", "web", at(1, 30)); r != (executor.Result{Ready: 1, Booting: 2}) {
		t.Fatalf("at 1:30 %+v, want 1 ready and 2 booting", r)
	}
	restored := executor.NewSimDriver(delays, time.Minute, 0, 1)
	restored.Restore("shop", "web", at(1, 30), 1, 2, at(1, 0))
	for _, c := range []struct {
		at   time.Time
		want executor.Result
	}{
		{at(1, 59), executor.Result{Ready: 1, Booting: 2}},
		{at(2, 0), executor.Result{Ready: 3}},
		{at(2, 10), executor.Result{Ready: 3}},
	} {
		want, _ := ran.Observe("shop", "web", c.at)
		got, _ := restored.Observe("shop", "web", c.at)
		if got != c.want || want != c.want {
			t.Errorf("at %s: restored %+v, never stopped %+v, want %+v", c.at.Format("15:04:05"), got, want, c.want)
		}
	}
}
