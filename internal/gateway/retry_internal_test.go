package gateway

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestConsumerRetrySchedule: refusals in a row double the wait up to
// bus.RefusedRetryMax; any other failure (a stream not created yet) waits
// retryEvery and starts the refusals' count again.
func TestConsumerRetrySchedule(t *testing.T) {
	refused := fmt.Errorf("watch METRICS: %w", nats.ErrPermissionViolation)
	other := errors.New("stream not found")
	var r consumerRetry
	for i, tc := range []struct {
		err  error
		want time.Duration
	}{
		{other, time.Second},
		{refused, time.Second},
		{refused, 2 * time.Second},
		{refused, 4 * time.Second},
		{refused, 8 * time.Second},
		{refused, 16 * time.Second},
		{refused, 30 * time.Second},
		{refused, 30 * time.Second},
		{other, time.Second},
		{refused, time.Second},
	} {
		if got := r.next(tc.err); got != tc.want {
			t.Errorf("attempt %d (%v): wait %s, want %s", i, tc.err, got, tc.want)
		}
	}
}
