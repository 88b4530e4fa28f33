package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/proto"
)

// deadlineDriver records, for each call, its context's deadline and the
// expiry the lease held meanwhile names (the holder's clock, read before
// it took the lease).
type deadlineDriver struct {
	l       *bus.Leases
	mu      sync.Mutex
	results []string
}

func (d *deadlineDriver) Scale(ctx context.Context, r executor.Request) (executor.Result, error) {
	v, _, err := d.l.Holder(ctx, proto.ReplicaKey(r.App, r.Tier))
	var held struct{ Expires int64 }
	res := ""
	dl, ok := ctx.Deadline()
	switch {
	case err != nil:
		res = fmt.Sprintf("no lease held during the call: %v", err)
	case json.Unmarshal(v, &held) != nil:
		res = fmt.Sprintf("lease %q undecodable", v)
	case !ok:
		res = "call without a deadline"
	default:
		// The call must end leaseMargin before the lease lapses, the
		// lapse counted from before the take (the holder's Expires), not
		// from the call's start.
		if limit := proto.Time(held.Expires).Add(-executor.LeaseMargin); dl.After(limit) {
			res = fmt.Sprintf("call's deadline %s is %v past the lease's expiry less the margin (%s)",
				dl.Format(time.RFC3339Nano), dl.Sub(limit), limit.Format(time.RFC3339Nano))
		}
	}
	d.mu.Lock()
	d.results = append(d.results, res)
	d.mu.Unlock()
	return executor.Result{Ready: r.Replicas}, nil
}

// TestLeasedCallDeadlineCountsFromTheTake: a leased driver call ends
// leaseMargin before the lease lapses counting from when the lease was
// taken, not from when the call started: the state read under the lease,
// or a member stalled between the take and the call (a GC pause, a slow
// server), spends the lease too, and a call started late must not run
// past it.
func TestLeasedCallDeadlineCountsFromTheTake(t *testing.T) {
	h := newHarness(t)
	l, err := h.b.Leases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	drv := &deadlineDriver{l: l}
	h.startWith(authorised(executor.DefaultConfig()), nil, prometheus.NewRegistry(), executor.WithDriver("webhook", drv))
	for i, to := range []int{3, 5, 2} {
		d := decision("shop", i, []int{1, 3, 5}[i], to)
		h.publish(d)
		h.waitState(d)
	}
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if len(drv.results) != 3 {
		t.Fatalf("driver called %d times, want 3", len(drv.results))
	}
	for i, r := range drv.results {
		if r != "" {
			t.Errorf("call %d: %s", i+1, r)
		}
	}
}
