package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestPublishEndsOnItsRefusal: a publish the server refuses for the user's
// permissions (a decider whose DECISIONS publish nats.conf no longer
// allows) ends as the refusal arrives, with that refusal (IsRefused), not
// at its timeout (20 s, or its context's): the decider's handler, which
// tries a decision five times holding its lock, and its retry round,
// which gives each round retryEvery, waited it out on every attempt. It is
// not a refusal of the message itself (IsRefusedMessage): the decision is
// held, not dropped, since allowing the subject again stores it. The
// caller reports it, so the connection's handler does not log it as well.
func TestPublishEndsOnItsRefusal(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := b.Publish(ctx, tick(0))
	took := time.Since(start)
	if !bus.IsRefused(err) {
		t.Fatalf("publish to a denied subject: %v after %s, want the server's permission refusal", err, took)
	}
	if took > 5*time.Second {
		t.Errorf("the refused publish took %s, want it ended as the refusal came", took)
	}
	if bus.IsRefusedMessage(err) {
		t.Errorf("IsRefusedMessage(%v): a permission refusal is the subject's, not the message's", err)
	}
	if n := len(logs.Lines(t, "nats async error")); n != 0 {
		t.Errorf("%d \"nats async error\" lines for a refusal its caller reports, want 0", n)
	}
	r.Allow(t)
	if err := b.Publish(context.Background(), tick(1)); err != nil {
		t.Errorf("publish once allowed: %v", err)
	}
}

// TestPublishUntilAllowed: the one call that publishes until the server
// allows it (the executor's scaling events, PublishAll's retries) tells
// its caller of each refused attempt with its place in the refusals in a
// row and the doubling wait, ends at its Stop with ErrStopped and the
// last refusal (IsRefused), and, allowed again, stores the message and
// says how many attempts it took.
func TestPublishUntilAllowed(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	b := r.Connect(t, "forecaster", zerolog.Nop())
	type failure struct {
		attempt, n int
		wait       time.Duration
	}
	failed := make(chan failure, 100)
	stop := make(chan struct{})
	u := bus.UntilAllowed{Refused: time.Millisecond, Stop: stop, Failed: func(attempt, n int, err error, wait time.Duration) {
		if !bus.IsRefused(err) {
			t.Errorf("attempt %d: told of %v, want a refusal", attempt, err)
		}
		failed <- failure{attempt, n, wait}
	}}
	done := make(chan error, 1)
	go func() {
		_, err := b.PublishUntilAllowed(context.Background(), tick(0), u)
		done <- err
	}()
	for i := 1; i <= 3; i++ {
		select {
		case f := <-failed:
			if want := (failure{i, i, time.Millisecond << (i - 1)}); f != want {
				t.Errorf("failure %d: %+v, want %+v", i, f, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no refused attempt %d in 10s", i)
		}
	}
	close(stop)
	select {
	case err := <-done:
		if !errors.Is(err, bus.ErrStopped) || !bus.IsRefused(err) {
			t.Errorf("stopped: %v, want ErrStopped and the last refusal", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PublishUntilAllowed did not end in 10s of its stop")
	}
	r.Allow(t)
	u.Stop, u.Failed = nil, nil
	if attempts, err := b.PublishUntilAllowed(context.Background(), tick(1), u); err != nil || attempts != 1 {
		t.Errorf("allowed: %d attempts, %v; want 1, nil", attempts, err)
	}
}
