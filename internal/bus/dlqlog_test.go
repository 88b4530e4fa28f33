package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// loggedBus connects a bus named name, with its streams, to a fresh
// embedded server, logging into the Logs returned.
func loggedBus(t *testing.T, name string) (*bus.Bus, *natstest.Logs) {
	t.Helper()
	logs := &natstest.Logs{}
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = natstest.RunJetStream(t), name
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(logs), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b, logs
}

// TestRetryAndDLQLogsNameTheMessage: the lines logged when a handler fails
// and when a message goes to the DLQ carry the app, the tier and the
// message id, so an operator can tell which tier and tick they are about.
// A failure's retry line is a warning; a wait the handler asked for
// (bus.RetryAfter: another executor member's lease during a hand-over) is
// expected, and its line is info.
func TestRetryAndDLQLogsNameTheMessage(t *testing.T) {
	for _, c := range []struct {
		name, level string
		err         error
	}{
		{"failure", "warn", errors.New("cannot handle it")},
		{"wait asked for", "info", bus.RetryAfter(errors.New("another member holds the tier's lease"), time.Millisecond)},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, logs := loggedBus(t, "logs")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, MaxDeliver: 2, NakDelay: time.Millisecond},
					func(context.Context, *bus.Msg) ([]bus.Out, error) { return nil, c.err })
			}()
			out := tick(0)
			if err := b.Publish(context.Background(), out); err != nil {
				t.Fatal(err)
			}
			natstest.Eventually(t, 20*time.Second, func() error {
				if n := len(logs.Lines(t, "sent to dlq")); n != 1 {
					return fmt.Errorf("%d dead-letter lines", n)
				}
				return nil
			})
			for _, msg := range []string{"handler failed, will retry", "sent to dlq"} {
				lines := logs.Lines(t, msg)
				if len(lines) == 0 {
					t.Fatalf("no %q line", msg)
				}
				l := lines[0]
				if l["app"] != "shop" || l["tier"] != "web" || l["msg_id"] != out.Msg.MsgID() {
					t.Errorf("%q line %v: want app shop, tier web, msg_id %s", msg, l, out.Msg.MsgID())
				}
			}
			if l := logs.Lines(t, "handler failed, will retry")[0]; l["level"] != c.level {
				t.Errorf("retry line at %v, want %s: %v", l["level"], c.level, l)
			}
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		})
	}
}

// TestRebuildRetryLogLevel: a take-over's rebuild logs a handler's retry
// as the consumer does: a failure as a warning, a wait the handler asked
// for (bus.RetryAfter, another executor member's lease) at info.
func TestRebuildRetryLogLevel(t *testing.T) {
	for _, c := range []struct {
		name, level string
		err         error
	}{
		{"failure", "warn", errors.New("cannot handle it")},
		{"wait asked for", "info", bus.RetryAfter(errors.New("another member holds the tier's lease"), time.Millisecond)},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, logs := loggedBus(t, "rebuildlogs")
			out := tick(0)
			if err := b.Publish(context.Background(), out); err != nil {
				t.Fatal(err)
			}
			calls := 0
			spec := bus.ConsumerSpec{Service: "test", Name: "rebuildlogs", Kind: proto.KindMetrics, MaxDeliver: 3, NakDelay: time.Millisecond}
			_, n, err := b.Rebuild(context.Background(), spec, proto.Filter("apm", proto.KindMetrics), 1, 0, func(context.Context, *bus.Msg) ([]bus.Out, error) {
				if calls++; calls == 1 {
					return nil, c.err
				}
				return nil, nil
			})
			if err != nil || n != 1 || calls != 2 {
				t.Fatalf("rebuild: %d messages, %d handler calls, %v; want 1 message handled on its second call", n, calls, err)
			}
			lines := logs.Lines(t, "rebuild: handler failed, will retry")
			if len(lines) != 1 {
				t.Fatalf("%d rebuild retry lines, want 1", len(lines))
			}
			if l := lines[0]; l["level"] != c.level || l["msg_id"] != out.Msg.MsgID() {
				t.Errorf("rebuild retry line %v: want level %s, msg_id %s", l, c.level, out.Msg.MsgID())
			}
		})
	}
}
