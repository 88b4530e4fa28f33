package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// takeForeignLease takes app's web tier's lease as a member that is not
// running (one killed while its driver call was in flight), to lapse
// after ttl; it returns the lease bucket and the lease's revision.
func takeForeignLease(t *testing.T, h *harness, app string, ttl time.Duration) (*bus.Leases, uint64) {
	t.Helper()
	l, err := h.b.Leases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := json.Marshal(map[string]any{"member": "dead-member", "decision": "d.other", "expires": proto.Millis(time.Now().Add(ttl))})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := l.Take(context.Background(), proto.ReplicaKey(app, "web"), v, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return l, rev
}

// leaseCheckDriver records its calls, when each was made, and whether the
// foreign member's lease of the tier was still held then.
type leaseCheckDriver struct {
	l         *bus.Leases
	mu        sync.Mutex
	calls     []string
	at        []time.Time
	underDead []string
}

func (d *leaseCheckDriver) Scale(ctx context.Context, r executor.Request) (executor.Result, error) {
	v, _, err := d.l.Holder(ctx, proto.ReplicaKey(r.App, r.Tier))
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, fmt.Sprintf("%s:%d", r.App, r.Replicas))
	d.at = append(d.at, time.Now())
	var held struct{ Member string }
	if err == nil && json.Unmarshal(v, &held) == nil && held.Member == "dead-member" {
		d.underDead = append(d.underDead, fmt.Sprintf("%s:%d", r.App, r.Replicas))
	}
	return executor.Result{Ready: r.Replicas}, nil
}

func (d *leaseCheckDriver) made() ([]string, []time.Time, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls), slices.Clone(d.at), slices.Clone(d.underDead)
}

// TestLeaseOfADeadMemberLapses: a member killed while holding a tier's
// lease never releases it. The other member does not call its driver
// while the lease is held, and carries the change out once it lapsed.
func TestLeaseOfADeadMemberLapses(t *testing.T) {
	h := newHarness(t)
	const ttl = 3 * time.Second
	before := time.Now()
	l, _ := takeForeignLease(t, h, "shop", ttl)
	drv := &leaseCheckDriver{l: l}
	reg := prometheus.NewRegistry()
	h.startWith(authorised(executor.DefaultConfig()), nil, reg, executor.WithDriver("webhook", drv))
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	if st := h.waitState(d1); st.DecisionID != d1.ID || st.Desired != 3 {
		t.Errorf("state %+v, want %s's 3 carried out", st, d1.ID)
	}
	calls, at, underDead := drv.made()
	if !slices.Equal(calls, []string{"shop:3"}) || len(underDead) > 0 {
		t.Errorf("calls %v, of which under the dead member's lease %v; want [shop:3], none under it", calls, underDead)
	}
	if len(at) > 0 && at[0].Sub(before) < ttl {
		t.Errorf("called %v after the dead member's lease was taken, before it lapsed (%v)", at[0].Sub(before), ttl)
	}
	if n, _ := metricstest.Sum(t, reg, "headroom_executor_lease_waits_total"); n < 1 {
		t.Errorf("waited on a lease %v times, want at least 1", n)
	}
}

// TestHoldsAndRefusalsTakeNoLease: with a tier's lease held by another
// member, a hold and a refused change (stale) of the tier are handled at
// once, and leave the lease as it was.
func TestHoldsAndRefusalsTakeNoLease(t *testing.T) {
	h := newHarness(t)
	l, rev := takeForeignLease(t, h, "shop", time.Minute)
	drv := &leaseCheckDriver{l: l}
	reg := prometheus.NewRegistry()
	h.startWith(authorised(executor.DefaultConfig()), nil, reg, executor.WithDriver("webhook", drv))
	// The clock (the latest decision's time) moves to minute 10: shop's
	// up at minute 1 is stale.
	clock := decision("live", 10, 1, 1)
	h.publish(clock)
	h.waitState(clock)
	stale, hold := decision("shop", 1, 1, 3), decision("shop", 2, 1, 1)
	h.publish(stale, hold)
	h.waitState(hold)
	if n := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why")["stale"]; n != 1 {
		t.Errorf("refused %v decisions as stale, want 1", n)
	}
	for _, m := range []string{"headroom_executor_lease_waits_total", "headroom_executor_lease_errors_total"} {
		if n, _ := metricstest.Sum(t, reg, m); n != 0 {
			t.Errorf("%s = %v, want 0", m, n)
		}
	}
	if calls, _, _ := drv.made(); len(calls) > 0 {
		t.Errorf("driver called %v, want never", calls)
	}
	if _, got, err := l.Holder(context.Background(), proto.ReplicaKey("shop", "web")); err != nil || got != rev {
		t.Errorf("the other member's lease: revision %d (%v), want %d, untouched", got, err, rev)
	}
}

// TestLeaseBucketUnavailable: without the lease bucket (deleted once
// the executor started: its start probe passed), a change is not carried
// out unleased: it is retried, the lease errors counted, readiness fails
// naming them once leaseFailsUnready takes failed in a row, and the change
// is carried out, readiness restored, once the bucket is back.
func TestLeaseBucketUnavailable(t *testing.T) {
	h := newHarness(t)
	js := natstest.JetStream(t, h.b)
	g := newGateDriver("")
	reg := prometheus.NewRegistry()
	h.startWith(authorised(executor.DefaultConfig()), nil, reg, executor.WithDriver("webhook", g))
	if err := js.DeleteKeyValue(context.Background(), proto.LeaseBucket("apm")); err != nil {
		t.Fatal(err)
	}
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	natstest.Eventually(t, 30*time.Second, func() error {
		err := h.ready.Err()
		if err == nil || !strings.HasPrefix(err.Error(), "leases: the last 3 leases could not be taken") {
			return fmt.Errorf("readiness %v, want it failing on the lease errors", err)
		}
		return nil
	})
	if n, _ := metricstest.Sum(t, reg, "headroom_executor_lease_errors_total"); n < 3 {
		t.Errorf("lease errors %v, want at least 3", n)
	}
	if calls := g.scaled(); len(calls) > 0 {
		t.Fatalf("driver called %v without a lease", calls)
	}
	if err := h.b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.waitState(d1); st.DecisionID != d1.ID || st.Desired != 3 {
		t.Errorf("state %+v, want %s's 3 carried out", st, d1.ID)
	}
	if calls := g.scaled(); !slices.Equal(calls, []string{"web:3"}) {
		t.Errorf("driver called %v, want [web:3]", calls)
	}
	if err := h.ready.Err(); err != nil {
		t.Errorf("readiness %v once a lease was taken, want ready", err)
	}
}

// TestLeaseReadinessRecoversWithoutATake: readiness failed on the lease
// errors of a change that was then given up (dead-lettered) comes back
// once the bucket can be used again, without waiting for another leased
// change, which may be hours away: the member probes the bucket while it
// is not ready on its takes.
func TestLeaseReadinessRecoversWithoutATake(t *testing.T) {
	h := newHarness(t)
	js := natstest.JetStream(t, h.b)
	g := newGateDriver("")
	h.startWith(authorised(executor.DefaultConfig()), nil, prometheus.NewRegistry(), executor.WithDriver("webhook", g))
	if err := js.DeleteKeyValue(context.Background(), proto.LeaseBucket("apm")); err != nil {
		t.Fatal(err)
	}
	h.publish(decision("shop", 0, 1, 3))
	natstest.Eventually(t, 30*time.Second, func() error {
		err := h.ready.Err()
		if err == nil || !strings.HasPrefix(err.Error(), "leases: the last ") {
			return fmt.Errorf("readiness %v, want it failing on the lease errors", err)
		}
		return nil
	})
	// The change is given up: no take is tried any more.
	if dl := h.deadLetters(1); !strings.Contains(dl[0], "lease") {
		t.Fatalf("dead letter %q, want the lease's error", dl[0])
	}
	if err := h.b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, h.ready.Err)
	if calls := g.scaled(); len(calls) > 0 {
		t.Errorf("driver called %v, want no call (the change was given up)", calls)
	}
}

// TestStaleAfterWaitingOnALease: a change held back by another member's
// lease until it aged past the tier's limit is refused as stale, and the
// reason says it waited on the lease.
func TestStaleAfterWaitingOnALease(t *testing.T) {
	h := newHarness(t)
	l, _ := takeForeignLease(t, h, "shop", time.Minute)
	drv := &leaseCheckDriver{l: l}
	reg := prometheus.NewRegistry()
	cfg := authorised(executor.DefaultConfig())
	cfg.Lease = 10 * time.Second // retried within a second
	h.startWith(cfg, nil, reg, executor.WithDriver("webhook", drv))
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	natstest.Eventually(t, 10*time.Second, func() error {
		if n, _ := metricstest.Sum(t, reg, "headroom_executor_lease_waits_total"); n < 1 {
			return fmt.Errorf("lease waits %v, want 1", n)
		}
		return nil
	})
	h.publish(decision("live", 10, 1, 1)) // the clock moves 10 minutes on
	h.waitState(d1)
	var reasons []string
	for _, data := range natstest.Payloads(t, h.b, "SCALING", proto.AppFilter("apm", proto.KindScaling, "shop")) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			t.Fatal(err)
		}
		reasons = append(reasons, sc.Status+": "+sc.Reason)
	}
	if len(reasons) != 1 || !strings.HasPrefix(reasons[0], "skipped: stale: ") || !strings.Contains(reasons[0], "waited on another member's lease") {
		t.Errorf("scaling events %q, want one skipped as stale, saying it waited on another member's lease", reasons)
	}
	if calls, _, _ := drv.made(); len(calls) > 0 {
		t.Errorf("driver called %v, want never", calls)
	}
}

// TestOwnLeaseAndRelease: a member finding its own lease of a tier (one
// it failed to release) goes on at once, and releases the lease once the
// tier's state is stored.
func TestOwnLeaseAndRelease(t *testing.T) {
	h := newHarness(t)
	l, _ := takeForeignLease(t, h, "shop", time.Minute) // "dead-member"'s
	drv := &leaseCheckDriver{l: l}
	reg := prometheus.NewRegistry()
	h.startWith(authorised(executor.DefaultConfig()), nil, reg, executor.WithDriver("webhook", drv), executor.WithMember("dead-member"))
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	h.waitState(d1)
	if calls, _, _ := drv.made(); !slices.Equal(calls, []string{"shop:3"}) {
		t.Errorf("driver called %v, want [shop:3]", calls)
	}
	if n, _ := metricstest.Sum(t, reg, "headroom_executor_lease_waits_total"); n != 0 {
		t.Errorf("waited on its own lease %v times, want 0", n)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if v, _, err := l.Holder(context.Background(), proto.ReplicaKey("shop", "web")); !errors.Is(err, bus.ErrNotFound) {
			return fmt.Errorf("lease %q (%v) still held after the state was stored", v, err)
		}
		return nil
	})
}
