package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestDurableCreateEndsOnItsRefusal: a durable's creation the server
// refuses for the user's permissions (nats.conf lets only provisioning
// create them) ends as the refusal arrives, with that refusal
// (IsRefused), not when the request times out: a consumer's (apiTimeout,
// 20 s) and a partition durable's (createTimeout, 10 s). The caller
// reports it, so the connection's handler does not log it as well.
func TestDurableCreateEndsOnItsRefusal(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "$JS.API.CONSUMER.CREATE.METRICS.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	for _, tc := range []struct {
		name   string
		create func(ctx context.Context) error
	}{
		{"consumer", func(ctx context.Context) error {
			return b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics},
				func(context.Context, *bus.Msg) ([]bus.Out, error) { return nil, nil })
		}},
		{"partition durables", func(ctx context.Context) error {
			_, err := b.EnsureConsumers(ctx)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err := tc.create(ctx)
			took := time.Since(start)
			if !bus.IsRefused(err) {
				t.Fatalf("create refused: %v after %s, want the server's permission refusal", err, took)
			}
			if took > 5*time.Second {
				t.Errorf("the refused create took %s, want it ended as the refusal came", took)
			}
		})
	}
	if n := len(logs.Lines(t, "nats async error")); n != 0 {
		t.Errorf("%d \"nats async error\" lines for refusals their callers report, want 0", n)
	}
}

// TestRecreateRefusedSaysSo: a group's partition durable deleted under a
// member whose user may not create durables is retried, each attempt
// ended by the server's refusal and logged once, saying so and what to
// run, the next attempt a retry period (10 s) later; once the durable is
// provisioned again the member resumes on it (its create, an update now,
// is refused all the same). Before, each attempt waited out
// the request's timeout (20 s) and its line said only that it timed out.
func TestRecreateRefusedSaysSo(t *testing.T) {
	_, admin, logs, handled, durable := memberLosesDurable(t)
	deleted := time.Now()
	lines := func() []map[string]any {
		var out []map[string]any
		for _, l := range logs.Lines(t, "cannot recreate consumer") {
			if l["consumer"] == durable {
				out = append(out, l)
			}
		}
		return out
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		if len(lines()) == 0 {
			return errors.New("no attempt to recreate the durable logged")
		}
		return nil
	})
	firstSeen := time.Now()
	if took := firstSeen.Sub(deleted); took > 5*time.Second {
		t.Errorf("the first refused attempt was logged %s after the deletion, want it ended as the refusal came", took)
	}
	first := lines()[0]
	if msg, _ := first["error"].(string); !strings.Contains(msg, "Permissions Violation") || !strings.Contains(msg, "may not create") ||
		!strings.Contains(msg, "headroom provision") {
		t.Errorf("the attempt's line says %q, want the server's refusal and what to run", msg)
	}
	if _, err := admin.EnsureConsumers(context.Background()); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		if len(logs.Lines(t, "consumer made again meanwhile, resuming on it")) == 0 {
			return fmt.Errorf("not resumed once provisioned again: %d attempts logged", len(lines()))
		}
		return nil
	})
	// The retry period: the next attempt, which finds the durable
	// provisioned again, comes 10 s after the refused one (the polls
	// that saw the two lines were 10 ms apart at most).
	if gap := time.Since(firstSeen); gap < 9*time.Second {
		t.Errorf("resumed %s after the refused attempt, want the next attempt a retry period (10 s) later", gap)
	}
	if n := len(lines()); n != 1 {
		t.Errorf("%d refused attempts logged, want 1: the next found the durable", n)
	}
	if n := len(logs.Lines(t, "nats async error")); n != 0 {
		t.Errorf("%d \"nats async error\" lines for refusals their callers report, want 0", n)
	}
	before := handled.Load()
	publishRange(t, admin, 4, 5) // (or ticks again: the provisioned durable starts anew)
	natstest.Eventually(t, 30*time.Second, func() error {
		if handled.Load() == before {
			return errors.New("nothing handled once resumed")
		}
		return nil
	})
}
