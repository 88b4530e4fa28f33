package bus

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// replayMerged runs replay for each of n inputs at once, with a gate that
// hands their messages to the handlers in stored order across the inputs
// (nil for a single input, which has nothing to merge: rebuildOne skips
// it), and returns the first error; an input is done when its replay
// returns.
func replayMerged(ctx context.Context, n int, replay func(ctx context.Context, i int, gate *mergeGate) error) error {
	var gate *mergeGate
	if n > 1 {
		gate = newMergeGate(n)
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() error {
			if gate != nil {
				defer gate.finish(i)
			}
			return replay(gctx, i, gate)
		})
	}
	return g.Wait()
}

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
// the inputs read on; one that fails is done, and the others stop with
// the rebuild's context. Where a stream's times do go back (its leader
// moved to a node whose clock is behind), a message may be handled after
// another input's later one: out of order, never stalled. An input holds
// the gate while its handler retries a failing message (rebuildOne's
// pauses included), as the sequential replay held everything.
type mergeGate struct {
	mu      sync.Mutex
	at      []time.Time // per input: the time of the message it holds, or last handled (zero: none yet)
	done    []bool
	busy    bool          // a handler runs
	waiters int           // inputs waiting for their turn
	changed chan struct{} // closed and replaced on a change while inputs wait
}

func newMergeGate(inputs int) *mergeGate {
	return &mergeGate{at: make([]time.Time, inputs), done: make([]bool, inputs), changed: make(chan struct{})}
}

// wait blocks until input i may handle its message stored at t, or ctx
// ends; on nil the caller handles it, then calls release.
func (g *mergeGate) wait(ctx context.Context, i int, t time.Time) error {
	g.mu.Lock()
	g.at[i] = t
	g.signal()
	for !g.turn(i, t) {
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

// finish marks input i done: it reads nothing more.
func (g *mergeGate) finish(i int) {
	g.mu.Lock()
	g.done[i] = true
	g.signal()
	g.mu.Unlock()
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
