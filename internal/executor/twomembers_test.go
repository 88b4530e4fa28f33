package executor_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// sharedCluster is the one system two members' drivers scale: its count
// is the last one a call set, when the call lands.
type sharedCluster struct {
	mu    sync.Mutex
	count int
	calls []string // member:replicas, as each call lands
}

func (c *sharedCluster) state() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count, append([]string(nil), c.calls...)
}

// memberDriver is one member's driver of a sharedCluster. When observe
// is set, the first judgement of a decision at that event time (in
// Observe, after the member read the tier's state and before it decides
// whether to act) closes entered and waits for release.
type memberDriver struct {
	c       *sharedCluster
	member  string
	observe time.Time // zero: never waits
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newMemberDriver(c *sharedCluster, member string) *memberDriver {
	return &memberDriver{c: c, member: member, entered: make(chan struct{}), release: make(chan struct{})}
}

func (m *memberDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	m.c.count = r.Replicas
	m.c.calls = append(m.c.calls, fmt.Sprintf("%s:%d", m.member, r.Replicas))
	return executor.Result{Ready: r.Replicas}, nil
}

func (m *memberDriver) Observe(_, _ string, t time.Time) (executor.Result, bool) {
	if !m.observe.IsZero() && t.Equal(m.observe) {
		m.once.Do(func() {
			close(m.entered)
			<-m.release
		})
	}
	return executor.Result{}, false
}

// twoMembers runs member A (the app's partition holder) with driver a,
// has it act on shop.web's 1→3, then publishes 3→5, which a stalls A's
// judgement of. Meanwhile the server takes A's pin, and member B (in a
// group of its own: a split view of the group), pinned instead with
// driver b, handles the newer 5→2. It returns once B has recorded it,
// with A's registry and 5→2; A is let go by closing a.release.
func twoMembers(t *testing.T, h *harness, a, b *memberDriver) (*prometheus.Registry, *proto.Decision) {
	t.Helper()
	cfg := authorised(executor.DefaultConfig())
	regA := prometheus.NewRegistry()
	h.startWith(cfg, nil, regA, executor.WithDriver("webhook", a))
	t.Cleanup(func() {
		select {
		case <-a.release:
		default:
			close(a.release)
		}
	})
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	h.waitState(d1)

	d3, d4 := decision("shop", 3, 3, 5), decision("shop", 4, 5, 2)
	h.publish(d3)
	select {
	case <-a.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("A did not begin judging 3→5 in 10s")
	}
	h.unpin(proto.DecisionSubject("apm", "shop", "web"))
	h.startAside(cfg, executor.WithDriver("webhook", b), executor.WithGroup("executor-b"))
	h.publish(d4)
	if st := h.waitState(d4); st.Desired != 2 {
		t.Fatalf("state after B's 5→2 %+v, want 2 desired", st)
	}
	return regA, d4
}

// waitMetric waits until the sum of metric's series in reg is want.
func waitMetric(t *testing.T, reg *prometheus.Registry, metric string, want float64) {
	t.Helper()
	natstest.Eventually(t, 10*time.Second, func() error {
		if n, _ := metricstest.Sum(t, reg, metric); n != want {
			return fmt.Errorf("%s = %v, want %v", metric, n, want)
		}
		return nil
	})
}

// TestLoserSeesTheNewerDecisionBeforeActing: member A has judged 3→5
// from the tier's state and is about to decide whether to act when member
// B, the new pin holder, carries out the newer 5→2 and records it. A
// finds the newer decision stored before it calls its driver (refusal:
// superseded), and does not act: the cluster stays at B's count. What
// the newer-decision check cannot see is a call already in flight (see
// handle).
func TestLoserSeesTheNewerDecisionBeforeActing(t *testing.T) {
	h := newHarness(t)
	c := &sharedCluster{}
	a, b := newMemberDriver(c, "A"), newMemberDriver(c, "B")
	a.observe = t0.Add(3 * time.Minute)
	regA, d4 := twoMembers(t, h, a, b)
	close(a.release)
	// A's judgement of 3→5 is recorded over the state it judged from,
	// which B moved meanwhile: judged again, A finds it behind B's state.
	waitMetric(t, regA, "headroom_executor_state_conflicts_total", 1)
	st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	count, calls := c.state()
	if want := []string{"A:3", "B:2"}; !slices.Equal(calls, want) || st.DecisionID != d4.ID || count != 2 {
		t.Errorf("calls %v, cluster at %d, state %+v; want calls %v, the cluster and the state at %s's 2", calls, count, st, want, d4.ID)
	}
	if n := metricstest.ByLabel(t, regA, "headroom_executor_refused_total", "why")["superseded"]; n != 1 {
		t.Errorf("A refused %v decisions as superseded, want 1", n)
	}
}
