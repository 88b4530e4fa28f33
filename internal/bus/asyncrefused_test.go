package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestPublishAsyncOnceTellsItsRefusal: the future of an asynchronous
// publish the server refuses for the user's permissions tells the refusal
// (Refused, IsRefused) as it arrives, not at the client's timeout (20 s):
// its Ok and Err stay silent, the server having dropped the publish. While
// the caller waits on it, the connection's handler leaves the refusal to
// the caller; once the future is Done, a refusal nobody waits on is logged
// again. Once allowed, the subject's next publish is acknowledged.
func TestPublishAsyncOnceTellsItsRefusal(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	start := time.Now()
	f, err := b.PublishAsyncOnce(tick(0))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		changed, err := f.Refused()
		if err != nil {
			if !bus.IsRefused(err) {
				t.Fatalf("Refused: %v, want the server's permission refusal", err)
			}
			break
		}
		select {
		case ack := <-f.Ok():
			t.Fatalf("acknowledged (%v) a publish to a denied subject", ack)
		case err := <-f.Err():
			t.Fatalf("future failed with %v before its refusal was told", err)
		case <-changed:
		case <-deadline:
			t.Fatalf("no refusal told %s after the publish", time.Since(start))
		}
	}
	f.Done()
	f.Done() // a second call does nothing
	if n := len(logs.Lines(t, "nats async error")); n != 0 {
		t.Errorf("%d \"nats async error\" lines for a refusal its caller reports, want 0", n)
	}
	// Nobody waits on the next refusal (a PublishAsync's): it is logged.
	if _, err := b.PublishAsync(tick(1)); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		if n := len(logs.Lines(t, "nats async error")); n != 1 {
			return fmt.Errorf("%d \"nats async error\" lines for a refusal nobody waits on, want 1", n)
		}
		return nil
	})
	r.Allow(t)
	f, err = b.PublishAsyncOnce(tick(2))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-f.Ok():
	case err := <-f.Err():
		t.Fatalf("publish once allowed: %v", err)
	case <-ctx.Done():
		t.Fatal("publish once allowed: no acknowledgement")
	}
}
