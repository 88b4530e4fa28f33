package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/internal/bus"
)

// TestUntilAllowedDo: the one loop of the calls retried until the server
// allows them runs any call: refusals in a row wait the doubling
// schedule, counted afresh after another failure (retried on Other's
// schedule, or ending the call without it), and the other failures in a
// row counted afresh after a refusal (FailureRun), final's failures end it at
// once, and Stop ends it with ErrStopped and the last refusal.
func TestUntilAllowedDo(t *testing.T) {
	refused := fmt.Errorf("put: %w", nats.ErrPermissionViolation)
	other := errors.New("timeout")
	final := errors.New("too large")
	type failed struct {
		attempt, n int
		wait       time.Duration
	}
	for _, tc := range []struct {
		name     string
		errs     []error // the attempts' errors, then success
		other    bool
		attempts int
		err      error
		want     []failed
	}{
		{name: "refused then allowed", errs: []error{refused, refused, refused}, attempts: 4,
			want: []failed{{1, 1, time.Millisecond}, {2, 2, 2 * time.Millisecond}, {3, 3, 4 * time.Millisecond}}},
		{name: "another failure ends it without Other", errs: []error{refused, other}, attempts: 2, err: other,
			want: []failed{{1, 1, time.Millisecond}}},
		{name: "another failure ends the streak", errs: []error{refused, refused, other, refused}, other: true, attempts: 5,
			want: []failed{{1, 1, time.Millisecond}, {2, 2, 2 * time.Millisecond}, {3, 1, 1 * time.Microsecond}, {4, 1, time.Millisecond}}},
		{name: "a refusal ends the other failures' run", errs: []error{other, other, refused, other}, other: true, attempts: 5,
			want: []failed{{1, 1, time.Microsecond}, {2, 2, 2 * time.Microsecond}, {3, 1, time.Millisecond}, {4, 1, time.Microsecond}}},
		{name: "final ends it at once", errs: []error{refused, final}, other: true, attempts: 2, err: final,
			want: []failed{{1, 1, time.Millisecond}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []failed
			u := bus.UntilAllowed{Refused: time.Millisecond,
				Failed: func(attempt, n int, _ error, wait time.Duration) { got = append(got, failed{attempt, n, wait}) }}
			u = u.WithFinal(func(err error) bool { return errors.Is(err, final) })
			if tc.other {
				u.Other = func(attempt int) time.Duration { return time.Duration(attempt) * time.Microsecond }
			}
			calls := 0
			attempts, err := u.Do(context.Background(), func(context.Context) error {
				calls++
				if calls <= len(tc.errs) {
					return tc.errs[calls-1]
				}
				return nil
			})
			if attempts != tc.attempts || calls != tc.attempts || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("attempts %d (calls %d), error %v; want %d, %v", attempts, calls, err, tc.attempts, tc.err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("failed attempts %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("stop", func(t *testing.T) {
		stop := make(chan struct{})
		u := bus.UntilAllowed{Refused: time.Hour, Stop: stop}
		attempts, err := u.Do(context.Background(), func(context.Context) error { close(stop); return refused })
		if attempts != 1 || !errors.Is(err, bus.ErrStopped) || !bus.IsRefused(err) {
			t.Errorf("attempts %d, error %v; want 1, ErrStopped and the refusal", attempts, err)
		}
	})
}
