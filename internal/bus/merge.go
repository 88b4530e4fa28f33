package bus

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// replayMerged runs replay for each of n inputs at once, with a gate that
// hands their messages to the handlers in stored order across the inputs
// (nil for a single input, which has nothing to merge: rebuildOne skips
// it), and returns the first error; an input is done when its replay
// returns. Once one fails, the others hand nothing more to their handlers
// and the first failure is returned: a failed replay is retried whole, so
// what they handled after it would be handled twice.
func replayMerged(ctx context.Context, n int, replay func(ctx context.Context, i int, gate *mergeGate) error) error {
	var gate *mergeGate
	if n > 1 {
		gate = newMergeGate(n)
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() (err error) {
			if gate != nil {
				defer func() { gate.finish(i, err) }()
			}
			return replay(gctx, i, gate)
		})
	}
	err := g.Wait()
	if gate != nil {
		if ferr := gate.failure(); ferr != nil {
			return ferr
		}
	}
	return err
}

// errMergeStopped is what an input waiting at a merge gate gets once
// another input failed.
var errMergeStopped = errors.New("merged replay stopped: another input failed")

// mergeGate hands the messages that several inputs' rebuilds read, each in
// its own stream's order, to their handlers one at a time and in the order
// they were stored across the inputs (ties: the lower input first), as
// live delivery interleaves them. A stage that joins its inputs (the
// decider) then holds, while it rebuilds, about what it holds live: read
// one stream after the other, the decider kept every metrics tick of its
// lookback waiting for the forecasts and anomaly messages of the next two
// streams, megabytes a tier.
//
// An input waits with the time of the message it holds until no other
// input may still hold an earlier one: each other input holds a later one,
// or last handled one later (a stream's stored times do not go back), or
// is done. Some input can always go on, so the merge cannot stall while
// the inputs read on. One that fails stops the others at the gate: done,
// it no longer holds them back, and they would hand on messages (of a
// replay to be retried whole) until the rebuild's context, cancelled only
// once the failed input's goroutine has returned, stopped them. Where a stream's times do go back (its leader
// moved to a node whose clock is behind), a message may be handled after
// another input's later one: out of order, never stalled. An input holds
// the gate while its handler retries a failing message (rebuildOne's
// pauses included), as the sequential replay held everything.
type mergeGate struct {
	mu      sync.Mutex
	at      []time.Time // per input: the time of the message it holds, or last handled (zero: none yet)
	done    []bool
	err     error         // the first input's failure: nothing more is handled
	busy    bool          // a handler runs
	waiters int           // inputs waiting for their turn
	changed chan struct{} // closed and replaced on a change while inputs wait
}

func newMergeGate(inputs int) *mergeGate {
	return &mergeGate{at: make([]time.Time, inputs), done: make([]bool, inputs), changed: make(chan struct{})}
}

// wait blocks until input i may handle its message stored at t, or ctx
// ends, or another input failed (errMergeStopped); on nil the caller
// handles it, then calls release.
func (g *mergeGate) wait(ctx context.Context, i int, t time.Time) error {
	g.mu.Lock()
	g.at[i] = t
	g.signal()
	for {
		if g.err != nil {
			g.mu.Unlock()
			return errMergeStopped
		}
		if g.turn(i, t) {
			break
		}
		ch := g.changed
		g.waiters++
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			g.mu.Lock()
			g.waiters--
			g.mu.Unlock()
			return ctx.Err()
		case <-ch:
		}
		g.mu.Lock()
		g.waiters--
	}
	g.busy = true
	g.mu.Unlock()
	return nil
}

// turn says whether input i may handle its message at t now.
func (g *mergeGate) turn(i int, t time.Time) bool {
	if g.busy {
		return false
	}
	for j, at := range g.at {
		if j == i || g.done[j] {
			continue
		}
		if at.Before(t) || (at.Equal(t) && j < i) {
			return false
		}
	}
	return true
}

// release ends the handling wait allowed.
func (g *mergeGate) release() {
	g.mu.Lock()
	g.busy = false
	g.signal()
	g.mu.Unlock()
}

// finish marks input i done: it reads nothing more. An input that ends
// with err stops the others.
func (g *mergeGate) finish(i int, err error) {
	g.mu.Lock()
	g.done[i] = true
	if err != nil && g.err == nil {
		g.err = err
	}
	g.signal()
	g.mu.Unlock()
}

// failure returns the first input's failure, nil when none failed.
func (g *mergeGate) failure() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// signal wakes every waiter; g.mu is held. With none, it allocates
// nothing: an input whose messages come first goes on without a channel
// a message.
func (g *mergeGate) signal() {
	if g.waiters == 0 {
		return
	}
	close(g.changed)
	g.changed = make(chan struct{})
}
