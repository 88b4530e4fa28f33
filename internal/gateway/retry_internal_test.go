package gateway

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// TestConsumerRetrySchedule: refusals in a row double the wait up to
// bus.RefusedRetryMax; any other failure (a stream not created yet) waits
// retryEvery and starts the refusals' count again. The first refusal in
// a row and every tenth after are a warning, and so are the other
// failures in a row: a missing stream is not a warning a second.
func TestConsumerRetrySchedule(t *testing.T) {
	refused := fmt.Errorf("watch METRICS: %w", nats.ErrPermissionViolation)
	other := errors.New("stream not found")
	var r consumerRetry
	for i, tc := range []struct {
		err    error
		want   time.Duration
		warned bool
	}{
		{other, time.Second, true},
		{other, time.Second, false},
		{refused, time.Second, true},
		{refused, 2 * time.Second, false},
		{refused, 4 * time.Second, false},
		{refused, 8 * time.Second, false},
		{refused, 16 * time.Second, false},
		{refused, 30 * time.Second, false},
		{refused, 30 * time.Second, false},
		{refused, 30 * time.Second, false},
		{refused, 30 * time.Second, false},
		{refused, 30 * time.Second, false},
		{refused, 30 * time.Second, true},
		{other, time.Second, true},
		{refused, time.Second, true},
		{other, time.Second, true},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, false},
		{other, time.Second, true},
	} {
		got, level := r.next(tc.err)
		if got != tc.want || (level == zerolog.WarnLevel) != tc.warned {
			t.Errorf("attempt %d (%v): wait %s at %s, want %s warned %v", i, tc.err, got, level, tc.want, tc.warned)
		}
	}
}
