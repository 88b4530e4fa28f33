package bus

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestAFailedInputStopsTheMerge: when one input of a merged replay fails
// (a returning app's recall whose direct gets go unanswered), the other
// inputs hand their handlers nothing more, and the replay returns the
// failed input's error. The replay is retried whole: a message another
// input handled after the failure, let through because the failed input
// no longer holds the gate, would be handled twice (the flake of
// TestReturningAppIsRebuiltFromItsHistory/a_failed_replay_is_retried under
// load).
func TestAFailedInputStopsTheMerge(t *testing.T) {
	failure := errors.New("no reply in 3 attempts")
	t1 := time.Unix(1_700_000_000, 0)
	for run := range 200 {
		var handled atomic.Int32
		err := replayMerged(context.Background(), 2, func(ctx context.Context, i int, gate *mergeGate) error {
			if i == 1 {
				// Holds a message while input 0, which has offered
				// none yet, might still hold an earlier one.
				if err := gate.wait(ctx, 1, t1); err != nil {
					return err
				}
				handled.Add(1)
				gate.release()
				return nil
			}
			// Input 0 fails once input 1 waits at the gate.
			deadline := time.Now().Add(10 * time.Second)
			for {
				gate.mu.Lock()
				waiting := gate.waiters > 0
				gate.mu.Unlock()
				if waiting {
					return failure
				}
				if time.Now().After(deadline) {
					t.Error("input 1 never waited at the gate")
					return failure
				}
				runtime.Gosched()
			}
		})
		if !errors.Is(err, failure) {
			t.Fatalf("run %d: replay returned %v, want the failed input's %v", run, err, failure)
		}
		if n := handled.Load(); n != 0 {
			t.Fatalf("run %d: input 1 handled %d message(s) after input 0 failed, want none", run, n)
		}
	}
}
