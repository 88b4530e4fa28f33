package bus_test

import (
	"context"
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
