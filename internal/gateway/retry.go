package gateway

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
)

// A stream's live or digest consumer that fails to start is tried again:
// every retryEvery for a stream that does not exist yet (another process
// creates it) or a bus that fails for now; at an interval doubling from
// retryEvery up to bus.RefusedRetryMax while the server refuses this user
// the stream (bus.IsRefused: its nats.conf does not let it read there),
// which lasts until an operator changes the permissions and costs a
// permissions violation line in the server's log at each attempt. The
// failed attempts are logged as a warning at the first of a kind in a
// row (a refusal, or any other failure) and every tenth after it, at
// debug level in between (consumerRetry.next): a refusal after other
// failures is said at once, and a stream not created yet does not write
// a warning a second.
const retryEvery = time.Second

// consumerRetry is the retry schedule of one stream's consumer.
type consumerRetry struct {
	run bus.FailureRun
}

// next is the wait after an attempt that failed with err, and the level
// of its line: a warning for the first failure of its kind in a row (a
// refusal, or any other failure) and every tenth after (bus.FailureRun,
// bus.RefusedLevel), debug for the ones in between.
func (r *consumerRetry) next(err error) (time.Duration, zerolog.Level) {
	wait, n := r.run.Wait(err, retryEvery, retryEvery)
	return wait, bus.RefusedLevel(n, zerolog.WarnLevel)
}

// retryWait waits d, or runs the test's hook instead.
func (g *Gateway) retryWait(ctx context.Context, d time.Duration) error {
	if g.retryHook != nil {
		return g.retryHook(ctx, d)
	}
	return sleep(ctx, d)
}

// sleep waits d, or until ctx ends (its error then).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
