package executor_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// stallKube is a member's kubernetes driver whose first call for replicas
// waits, once it is made, for release before it reaches the API server:
// a call in flight (a slow API, a member paused before its call).
type stallKube struct {
	*executor.KubeDriver
	replicas         int
	entered, release chan struct{}
	done             chan struct{} // closed when the stalled call returned
	once, letOnce    sync.Once
}

func newStallKube(d *executor.KubeDriver, replicas int) *stallKube {
	return &stallKube{KubeDriver: d, replicas: replicas, entered: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
}

func (s *stallKube) Scale(ctx context.Context, r executor.Request) (executor.Result, error) {
	stalled := false
	if r.Replicas == s.replicas {
		s.once.Do(func() {
			stalled = true
			close(s.entered)
			<-s.release
		})
	}
	res, err := s.KubeDriver.Scale(ctx, r)
	if stalled {
		close(s.done)
	}
	return res, err
}

func (s *stallKube) let() { s.letOnce.Do(func() { close(s.release) }) }

// wait waits for ch, what says so, for 10 s.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not within 10s", what)
	}
}

// kubeConfig is an executor configuration acting on shop.web, 1 to 20
// replicas.
func kubeConfig() executor.Config {
	cfg := authorised(executor.DefaultConfig())
	cfg.Bounds = map[string]map[string]executor.Bounds{"shop": {"web": {Min: 1, Max: 20}}}
	return cfg
}

// statuses lists app's scaling events as decision:status, in stream order.
func (h *harness) statuses(app string) []string {
	h.t.Helper()
	var out []string
	for _, data := range natstest.Payloads(h.t, h.b, "SCALING", proto.AppFilter("apm", proto.KindScaling, app)) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, sc.DecisionID+":"+sc.Status)
	}
	return out
}

// waitMoved waits until reg counts n changes refused as moved.
func waitMoved(t *testing.T, reg *prometheus.Registry, n float64) {
	t.Helper()
	natstest.Eventually(t, 10*time.Second, func() error {
		if got := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why")["moved"]; got != n {
			return fmt.Errorf("%v changes refused as moved, want %v", got, n)
		}
		return nil
	})
}

// TestKubeOlderChangeInFlightDoesNotLandLast is exec62's race with the
// kubernetes driver: member A's call for the older 3→5 is in flight when
// member B, the new pin holder, carries out the newer 5→2 (from the
// cluster's 3) and records it. A's call then reaches the API server and
// finds the workload at 2, not the 3 A judged from: it changes nothing.
// The cluster ends at B's 2, as the state records.
func TestKubeOlderChangeInFlightDoesNotLandLast(t *testing.T) {
	h := newHarness(t)
	k := executor.NewFakeKube(t, 1, false)
	a := newStallKube(k.Driver(t), 5)
	t.Cleanup(a.let)
	cfg := kubeConfig()
	regA := prometheus.NewRegistry()
	h.startWith(cfg, nil, regA, executor.WithDriver(executor.DriverKubernetes, a))
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	h.waitState(d1)

	d3, d4 := decision("shop", 3, 3, 5), decision("shop", 4, 5, 2)
	h.publish(d3)
	wait(t, a.entered, "A's call for 3→5")
	h.unpin(proto.DecisionSubject("apm", "shop", "web"))
	h.startAside(cfg, executor.WithDriver(executor.DriverKubernetes, k.Driver(t)), executor.WithGroup("executor-b"))
	h.publish(d4)
	if st := h.waitState(d4); st.Desired != 2 {
		t.Fatalf("state after B's 5→2 %+v, want 2 desired", st)
	}
	a.let()
	wait(t, a.done, "A's call for 3→5 to return")
	if got, want := k.Patches(), []string{"3", "2"}; !slices.Equal(got, want) {
		t.Errorf("scale patches sent %v, want %v (A's 5 not sent after B's 2)", got, want)
	}
	waitMoved(t, regA, 1)
	// A judged 3→5 again, from B's state: already applied.
	st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	if n := k.Replicas(t); n != 2 || st.DecisionID != d4.ID || st.Desired != 2 {
		t.Errorf("the cluster runs %d replicas, the state records %d (%s); want both at %s's 2", n, st.Desired, st.DecisionID, d4.ID)
	}
	// Nothing records A's refused call as requested or failed.
	for _, e := range h.statuses("shop") {
		if strings.HasPrefix(e, d3.ID+":") {
			t.Errorf("scaling event %s for the refused 3→5", e)
		}
	}
}

// TestKubeScaledByHandBetweenJudgeAndAct: the workload is scaled by hand
// (kubectl scale 3→8) after the executor judged up 3→5 from the cluster's
// 3 and before its call reaches the API server. The call changes nothing
// (the workload is no longer at 3); judged again from the cluster's 8, the
// up to 5 is outdated. The hand's 8 stands, and the next decision starts
// from it. With a lagging watch (frozen: it never shows the hand's
// change), the refused call's own read is what the decision is judged
// again from, so it converges all the same.
func TestKubeScaledByHandBetweenJudgeAndAct(t *testing.T) {
	for _, c := range []struct {
		name   string
		frozen bool
		// byHand scales 3→8 once the driver has judged up 3→5 from 3.
		byHand func(t *testing.T, k *executor.FakeKube, a *stallKube)
	}{
		{"while the call is in flight", false, func(t *testing.T, k *executor.FakeKube, a *stallKube) {
			wait(t, a.entered, "the call for 3→5")
			k.Scale(t, 8)
			a.let()
		}},
		{"before the decision, unseen by the watch", true, func(t *testing.T, k *executor.FakeKube, a *stallKube) {
			// The watch lists the workload at 3 and never sees the 8.
			if r, ok := a.Observe("shop", "web", t0); !ok || r.Ready+r.Booting != 3 {
				t.Fatalf("observed %+v %v, want 3", r, ok)
			}
			k.Scale(t, 8)
			a.let()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			k := executor.NewFakeKube(t, 3, c.frozen)
			a := newStallKube(k.Driver(t), 5)
			t.Cleanup(a.let)
			reg := prometheus.NewRegistry()
			h.startWith(kubeConfig(), nil, reg, executor.WithDriver(executor.DriverKubernetes, a))
			d1 := decision("shop", 0, 3, 5)
			if c.frozen {
				c.byHand(t, k, a)
			}
			h.publish(d1)
			if !c.frozen {
				c.byHand(t, k, a)
			}
			st := h.waitState(d1)
			if n := k.Replicas(t); n != 8 || st.Desired != 8 {
				t.Fatalf("the cluster runs %d replicas, the state records %d desired; want both at the hand's 8 (patches sent %v)", n, st.Desired, k.Patches())
			}
			if r := h.skippedReasons("shop", 1); !strings.HasPrefix(r[0], "outdated: decided up 3→5, but the workload is at 8 replicas already") {
				t.Fatalf("skip reason %q", r[0])
			}
			waitMoved(t, reg, 1)
			// The next decision starts from the hand's count.
			d2 := decision("shop", 1, 8, 6)
			h.publish(d2)
			if st := h.waitState(d2); st.Desired != 6 || k.Replicas(t) != 6 {
				t.Fatalf("after 8→6: state %+v, cluster %d; want both at 6", st, k.Replicas(t))
			}
			if got, want := k.Patches(), []string{"6"}; !slices.Equal(got, want) {
				t.Errorf("scale patches sent %v, want %v", got, want)
			}
			want := []string{d1.ID + ":" + proto.StatusSkipped, d2.ID + ":" + proto.StatusRequested, d2.ID + ":" + proto.StatusApplied}
			if got := h.statuses("shop"); !slices.Equal(got, want) {
				t.Errorf("scaling events %v, want %v", got, want)
			}
		})
	}
}

// observedRecorder is a recorder whose Observe reports the cluster at n.
type observedRecorder struct {
	*recorder
	n int
}

func (o observedRecorder) Observe(_, _ string, _ time.Time) (executor.Result, bool) {
	return executor.Result{Ready: o.n, Cluster: true}, true
}

// TestRequestNamesTheCountJudgedFrom: the executor tells the driver the
// count it judged a change from: the cluster's where the driver reads it,
// else the one on record; none for a tier's first decision without the
// cluster's (its From is only the decider's claim).
func TestRequestNamesTheCountJudgedFrom(t *testing.T) {
	type judged struct {
		ok   bool
		from int
	}
	for _, c := range []struct {
		name    string
		cluster int // -1: the driver does not read the cluster
		ds      []*proto.Decision
		want    []judged
	}{
		{"on record", -1, []*proto.Decision{decision("shop", 0, 2, 5), decision("shop", 1, 5, 3)}, []judged{{false, 0}, {true, 5}}},
		{"the cluster's", 4, []*proto.Decision{decision("shop", 0, 2, 6)}, []judged{{true, 4}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			rec := &recorder{}
			var drv executor.Driver = rec
			if c.cluster >= 0 {
				drv = observedRecorder{rec, c.cluster}
			}
			h.start(kubeConfig(), executor.WithDriver("k8s", drv))
			for _, d := range c.ds {
				h.publish(d)
				h.waitState(d)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			var got []judged
			for _, q := range rec.reqs {
				got = append(got, judged{q.Judged, q.JudgedFrom})
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("requests judged from %+v, want %+v", got, c.want)
			}
		})
	}
}

// movedDriver carries out a request judged from no count, and refuses any
// other as moved: a kubernetes driver whose watch never syncs (it does not
// observe the tier), on a workload scaled by hand to 8.
type movedDriver struct{ recorder }

func (m *movedDriver) Scale(ctx context.Context, q executor.Request) (executor.Result, error) {
	if q.Judged {
		return executor.Result{}, fmt.Errorf("%w: spec.replicas is 8, the decision was judged from %d", executor.ErrMovedSinceJudged, q.JudgedFrom)
	}
	return m.recorder.Scale(ctx, q)
}

// TestMovedFromTheCountOnRecordSaysSo: a driver that does not observe the
// tier has its request judged from the count on record; found moved, it is
// judged from that count again and refused again, delivery after
// delivery. Where that ends (a dead letter) the reason says the count was
// the one on record, not the cluster's, and why.
func TestMovedFromTheCountOnRecordSaysSo(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	h.startWith(kubeConfig(), nil, reg, executor.WithDriver("k8s", &movedDriver{}))
	d1, d2 := decision("shop", 0, 2, 5), decision("shop", 1, 5, 6)
	h.publish(d1)
	h.waitState(d1)
	h.publish(d2)
	dl := h.deadLetters(1)
	if want := "judged from the count on record (5; the driver did not observe the tier"; !strings.Contains(dl[0], want) || !strings.Contains(dl[0], executor.ErrMovedSinceJudged.Error()) {
		t.Fatalf("dead letter %q, want it to say %q", dl[0], want)
	}
	// Each delivery was judged several times, each refused; the counter
	// counts deliveries refused, as the dead letter's reason counts them.
	if got, want := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why")["moved"], float64(deliveriesOf(t, dl[0])); got != want {
		t.Errorf("%v changes refused as moved, want %v: once per delivery", got, want)
	}
}

// deliveriesOf reads "gave up after N deliveries" from a dead letter's
// reason.
func deliveriesOf(t *testing.T, reason string) int {
	t.Helper()
	var n int
	i := strings.Index(reason, "gave up after ")
	if i < 0 {
		t.Fatalf("dead letter %q does not say how many deliveries it took", reason)
	}
	if _, err := fmt.Sscanf(reason[i:], "gave up after %d deliveries", &n); err != nil {
		t.Fatalf("dead letter %q: %v", reason, err)
	}
	return n
}
