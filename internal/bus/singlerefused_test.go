package bus_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// singleHint is what the refusal of a single (non-group) durable's
// creation says to do: provisioning makes only the group durables, so
// "run headroom provision" would not help.
var singleHint = []string{"may not create", "headroom provision", "ConsumerSpec.Group", "nats.conf"}

func saysHint(msg string) bool {
	for _, h := range singleHint {
		if !strings.Contains(msg, h) {
			return false
		}
	}
	return true
}

// TestSingleDurableRefusedSaysWhat: a single (non-group) durable whose
// creation the server refuses this user (deploy/nats.conf lets no
// service create durables) fails Consume with the refusal (IsRefused)
// and what to do about it, as a group's partition durable does; before,
// the error was the bare permissions violation.
func TestSingleDurableRefusedSaysWhat(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "$JS.API.CONSUMER.CREATE.METRICS.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	b := r.Connect(t, "forecaster", zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "solo", Kind: proto.KindMetrics},
		func(context.Context, *bus.Msg) ([]bus.Out, error) { return nil, nil })
	if !bus.IsRefused(err) {
		t.Fatalf("Consume refused its durable: %v, want the server's refusal", err)
	}
	if !saysHint(err.Error()) {
		t.Errorf("Consume's error %q, want it to say %q", err, singleHint)
	}
}

// TestSingleDurableRecreateRefusedLogsSeldom: a single durable deleted
// under a consumer whose user may not create it is retried, each refused
// attempt's line saying what to do (not "run headroom provision", which
// makes only group durables), at error level for the first of the
// refusals in a row and every tenth after, at debug level between
// (bus.RefusedLevel), not an error line every attempt.
func TestSingleDurableRecreateRefusedLogsSeldom(t *testing.T) {
	// Restored in a cleanup, which runs after consumeGated's has ended the
	// consumer that reads it (a defer runs before the cleanups: a race).
	t.Cleanup(bus.SetRecreateEvery(100 * time.Millisecond))
	r := natstest.StartRestricted(t, "forecaster", "$JS.API.CONSUMER.CREATE.METRICS.>")
	admin := r.Connect(t, "admin", zerolog.Nop())
	r.Allow(t) // the durable is made at the start
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	started := make(chan struct{})
	consumeGated(t, b, bus.ConsumerSpec{Service: "forecaster", Name: "solo", Kind: proto.KindMetrics,
		CheckEvery: 100 * time.Millisecond, Started: func() { close(started) }},
		func(context.Context, *bus.Msg) ([]bus.Out, error) { return nil, nil })
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the consumer never started")
	}
	r.Deny(t)
	stream := proto.StreamName(admin.Prefix(), proto.KindMetrics)
	if err := natstest.JetStream(t, admin).DeleteConsumer(context.Background(), stream, "solo"); err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	natstest.Eventually(t, 30*time.Second, func() error {
		lines = logs.Lines(t, "cannot recreate consumer")
		if len(lines) < 12 {
			return fmt.Errorf("%d refused attempts logged", len(lines))
		}
		return nil
	})
	for i, l := range lines[:12] {
		msg, _ := l["error"].(string)
		if !strings.Contains(msg, "Permissions Violation") {
			t.Fatalf("attempt %d's line says %q, want the server's refusal", i+1, msg)
		}
		if !saysHint(msg) {
			t.Errorf("attempt %d's line says %q, want %q", i+1, msg, singleHint)
		}
		want := "debug"
		if i == 0 || i == 10 {
			want = "error"
		}
		if l["level"] != want {
			t.Errorf("refused attempt %d logged at %v, want %s", i+1, l["level"], want)
		}
	}
}
