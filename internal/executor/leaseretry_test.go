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
// The holder took its lease (held, its -executor.lease, which may differ
// from the waiter's own) at 0; the decision's first delivery comes at
// first (at 0: both members were handed the tier's decisions at once).
func TestLeaseRetriesOutlastADeadHolder(t *testing.T) {
	const maxDeliver = 5
	for _, c := range []struct{ own, held time.Duration }{
		{6 * time.Second, 6 * time.Second}, {10 * time.Second, 10 * time.Second}, {time.Minute, time.Minute},
		{5 * time.Minute, 5 * time.Minute},
		// The holder's lease longer than the waiter's: the retries
		// follow the holder's.
		{time.Minute, 5 * time.Minute}, {10 * time.Second, 9 * time.Minute},
	} {
		for _, first := range []time.Duration{0, c.held / 3, c.held - time.Second} {
			// The lease is found lapsed at the first delivery 2s or more
			// after its expiry.
			lapsed := c.held + 2*time.Second
			at, n := first, uint64(1)
			for ; at < lapsed && n < maxDeliver; n++ {
				// The bus waits at least its own delay, NakDelay (500ms
				// for the executor's consumer) times the deliveries.
				d := max(executor.LeaseRetryDelay(n, c.held-at, c.held, c.own), time.Duration(n)*500*time.Millisecond)
				if d <= 0 {
					t.Fatalf("own lease %v, holder's %v, first delivery at %v: delivery %d waits %v", c.own, c.held, first, n, d)
				}
				at += d
			}
			if at < lapsed {
				t.Errorf("own lease %v, holder's %v, first delivery at %v: last delivery (%d) at %v, before %v (the lease's lapse and 2s): dead-lettered if the server removes the key late",
					c.own, c.held, first, n, at, lapsed)
			}
			if max := max(first, c.held) + 2*executor.LeaseMargin; at > max {
				t.Errorf("own lease %v, holder's %v, first delivery at %v: delivery %d finds the lease lapsed at %v, after %v", c.own, c.held, first, n, at, max)
			}
		}
	}
}

// TestLeaseRetryDelay: each delay is scheduled from the holder's stored
// lease and expiry, bounded by the larger of the waiter's own lease and
// MaxHolderWait, so that an absurd expiry does not park a decision for
// hours.
func TestLeaseRetryDelay(t *testing.T) {
	const m = executor.LeaseMargin
	year := 365 * 24 * time.Hour
	for _, c := range []struct {
		name                  string
		delivered             uint64
		untilLapse, held, own time.Duration
		want                  time.Duration
	}{
		{"first, the holder's lease the waiter's", 1, 55 * time.Second, time.Minute, time.Minute, (time.Minute + m) / 10},
		{"third, the holder's lease the waiter's", 3, 55 * time.Second, time.Minute, time.Minute, 3 * (time.Minute + m) / 10},
		{"until the lapse and the margin when sooner", 3, 5 * time.Second, time.Minute, time.Minute, 5*time.Second + m},
		{"lapsed by the waiter's clock", 2, -3 * time.Second, time.Minute, time.Minute, m},
		{"delivered 0 counts as the first", 0, 55 * time.Second, time.Minute, time.Minute, (time.Minute + m) / 10},
		{"the holder's lease longer", 2, 5 * time.Minute, 5 * time.Minute, time.Minute, 2 * (5*time.Minute + m) / 10},
		{"the holder's lease shorter: the waiter's own", 2, 10 * time.Second, 10 * time.Second, time.Minute, 2 * (time.Minute + m) / 10},
		{"an older holder, saying no lease: its expiry", 2, 3 * time.Minute, 0, time.Minute, 2 * (3*time.Minute + m) / 10},
		{"forged lease", 4, 5 * time.Minute, year, time.Minute, 4 * (executor.MaxHolderWait + m) / 10},
		{"forged expiry", 4, year, time.Minute, time.Minute, 4 * (time.Minute + m) / 10},
		{"forged expiry of an older holder", 4, year, 0, time.Minute, 4 * (executor.MaxHolderWait + m) / 10},
		{"forged lease, own lease past the cap", 4, year, year, 20 * time.Minute, 4 * (20*time.Minute + m) / 10},
	} {
		if got := executor.LeaseRetryDelay(c.delivered, c.untilLapse, c.held, c.own); got != c.want {
			t.Errorf("%s: LeaseRetryDelay(%d, %v, %v, %v) = %v, want %v", c.name, c.delivered, c.untilLapse, c.held, c.own, got, c.want)
		}
	}
	// However many retries, a forged lease and expiry hold a decision no
	// longer than the cap and the margin in all.
	var total time.Duration
	for n := uint64(1); n < 5; n++ {
		total += executor.LeaseRetryDelay(n, year-total, year, time.Minute)
	}
	if limit := executor.MaxHolderWait + m; total > limit {
		t.Errorf("a forged lease and expiry a year off held the decision %v, want at most %v", total, limit)
	}
}
