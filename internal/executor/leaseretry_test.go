package executor_test

import (
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
)

// TestLeaseRetriesOutlastADeadHolder: a decision held back by the lease
// of a member that died at once is retried four times (the consumer's
// MaxDeliver of 5) and must find the lease lapsed at its last delivery,
// else it is dead-lettered: that delivery comes at least 2s after the
// lease's expiry (the server removes an expired key up to a second late,
// its timer wheel ticking in seconds, and the members' clocks differ),
// and not past leaseMargin twice over (a decision waiting needlessly).
// The holder took the lease at 0; the decision's first delivery comes at
// first (at 0: both members were handed the tier's decisions at once).
func TestLeaseRetriesOutlastADeadHolder(t *testing.T) {
	const maxDeliver = 5
	for _, lease := range []time.Duration{6 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute} {
		for _, first := range []time.Duration{0, lease / 3, lease - time.Second} {
			// The lease is found lapsed at the first delivery 2s or more
			// after its expiry.
			lapsed := lease + 2*time.Second
			at, n := first, uint64(1)
			for ; at < lapsed && n < maxDeliver; n++ {
				// The bus waits at least its own delay, NakDelay (500ms
				// for the executor's consumer) times the deliveries.
				d := max(executor.LeaseRetryDelay(n, lease-at, lease), time.Duration(n)*500*time.Millisecond)
				if d <= 0 {
					t.Fatalf("lease %v, first delivery at %v: delivery %d waits %v", lease, first, n, d)
				}
				at += d
			}
			if at < lapsed {
				t.Errorf("lease %v, first delivery at %v: last delivery (%d) at %v, before %v (the lease's lapse and 2s): dead-lettered if the server removes the key late", lease, first, n, at, lapsed)
			}
			if max := max(first, lease) + 2*executor.LeaseMargin; at > max {
				t.Errorf("lease %v, first delivery at %v: delivery %d finds the lease lapsed at %v, after %v", lease, first, n, at, max)
			}
		}
	}
}
