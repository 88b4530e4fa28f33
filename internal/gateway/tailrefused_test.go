package gateway_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestTailRefusalSaidOnceAtOnce: a tail of 'apm.>' by a user the server
// refuses the DLQ (the all-in-one's observer) is told so by the friendly
// Skipped as the refusal arrives, not when the consumer request times out,
// and the connection's log holds no error-level line about it: the
// expected refusal is said once.
func TestTailRefusalSaidOnceAtOnce(t *testing.T) {
	r := natstest.StartRestricted(t, "observer", "$JS.API.CONSUMER.CREATE.DLQ.>")
	_ = r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	logs := newSyncBuf()
	obs := r.Connect(t, "observer", zerolog.New(logs))

	// Well inside the bus's 20 s API timeout, which a tail learning the
	// refusal only from the request's failure waits out.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	skipped := make(chan string, 4)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Tail(ctx, obs, gateway.TailConfig{Filters: []string{"apm.>"}, Follow: true,
			Skipped: func(stream string, err error) { skipped <- stream }}, newSyncBuf())
	}()
	select {
	case s := <-skipped:
		if s != "DLQ" {
			t.Fatalf("left out %s, want DLQ", s)
		}
	case err := <-done:
		t.Fatalf("tail ended before leaving out the DLQ: %v", err)
	case <-ctx.Done():
		t.Fatal("the DLQ's refusal not told within 5 s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); strings.Contains(l, `"level":"error"`) {
		t.Fatalf("the expected refusal logged as an error besides being told:\n%s", l)
	}
}

// TestTailNamedRefusedEmpty: 'apm.dlq.>' --since 24h --no-follow by a user
// the server refuses the DLQ fails naming the refusal, quickly, even with
// the DLQ empty (which the user may see, not read), instead of exiting as
// if there were nothing to print.
func TestTailNamedRefusedEmpty(t *testing.T) {
	r := natstest.StartRestricted(t, "observer", "$JS.API.CONSUMER.CREATE.DLQ.>")
	_ = r.Connect(t, "admin", zerolog.Nop())
	obs := r.Connect(t, "observer", zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := gateway.Tail(ctx, obs, gateway.TailConfig{Filters: []string{"apm.dlq.>"}, Since: time.Now().Add(-24 * time.Hour)}, newSyncBuf())
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "tail DLQ: this NATS user may not read it") || !strings.Contains(err.Error(), "Permissions Violation") {
		t.Fatalf("tail of a refused, empty DLQ: %v, want the refusal named", err)
	}
	t.Logf("refused: %v", err)
}

// TestTailEveryStreamRefused: a tail of 'apm.>' by a user refused every
// stream fails, each stream told as left out, instead of exiting 0 having
// read nothing.
func TestTailEveryStreamRefused(t *testing.T) {
	r := natstest.StartRestricted(t, "observer", "$JS.API.CONSUMER.CREATE.>")
	_ = r.Connect(t, "admin", zerolog.Nop())
	obs := r.Connect(t, "observer", zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n atomic.Int32 // Skipped is called from each stream's goroutine
	err := gateway.Tail(ctx, obs, gateway.TailConfig{Filters: []string{"apm.>"}, Since: time.Now().Add(-time.Hour),
		Skipped: func(string, error) { n.Add(1) }}, newSyncBuf())
	if err == nil || !strings.Contains(err.Error(), "may read none of the streams") {
		t.Fatalf("tail with every stream refused (%d told): %v, want a failure", n.Load(), err)
	}
	t.Logf("%d left out: %v", n.Load(), err)
}
