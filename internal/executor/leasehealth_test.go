package executor

import (
	"errors"
	"testing"
)

// TestLeaseHealthRecovered: a probe passing makes a member not ready on
// its failed takes ready again, unless a take failed while it ran (that
// failure is newer than the probe's pass); a take passing always does.
func TestLeaseHealthRecovered(t *testing.T) {
	fail := errors.New("no response from stream")
	stuckAfter := func(n int) *leaseHealth {
		var h leaseHealth
		for range n {
			h.failedTake(fail)
		}
		return &h
	}
	h := stuckAfter(leaseFailsUnready - 1)
	if stuck, _ := h.stuck(); stuck || h.Err() != nil {
		t.Fatalf("after %d failed takes: stuck %v, readiness %v, want ready", leaseFailsUnready-1, stuck, h.Err())
	}
	h = stuckAfter(leaseFailsUnready)
	stuck, fails := h.stuck()
	if !stuck || h.Err() == nil {
		t.Fatalf("after %d failed takes: stuck %v, readiness %v, want not ready", leaseFailsUnready, stuck, h.Err())
	}
	h.failedTake(fail) // while the probe ran
	if h.recovered(fails) || h.Err() == nil {
		t.Errorf("a probe passing while a take failed made the member ready (%v)", h.Err())
	}
	_, fails = h.stuck()
	if !h.recovered(fails) || h.Err() != nil {
		t.Errorf("a probe passing with no take failing meanwhile left readiness %v, want ready", h.Err())
	}
	h = stuckAfter(leaseFailsUnready)
	h.took()
	if h.Err() != nil {
		t.Errorf("a take passing left readiness %v, want ready", h.Err())
	}
	// The start probe's error comes first, and a member still probing at
	// start is not stuck on its takes (the start probe retries anyway).
	h = stuckAfter(leaseFailsUnready)
	h.probed(errNotProbed)
	if stuck, _ := h.stuck(); stuck || !errors.Is(h.Err(), errNotProbed) {
		t.Errorf("before the start probe passed: stuck %v, readiness %v, want not stuck, %v", stuck, h.Err(), errNotProbed)
	}
}
