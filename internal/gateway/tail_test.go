package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// syncBuf is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuf struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuf() *syncBuf { return &syncBuf{mu: make(chan struct{}, 1)} }

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.Write(p)
}

func (s *syncBuf) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.String()
}

// TestTail: the tail prints the matching messages since a time as JSON
// lines with decoded payloads, history then new ones, dead letters included.
func TestTail(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t), "tail")
	now := time.Now().Truncate(time.Second)
	dec := func(ts time.Time, to int) bus.Out {
		return bus.Out{Subject: proto.Subject("apm", proto.KindDecision, "shop", "web"), Msg: &proto.Decision{V: proto.SchemaVersion,
			ID: proto.DecisionID("shop", "web", ts.UnixMilli()), App: "shop", Tier: "web", TS: ts.UnixMilli(), From: 2, To: to, Action: proto.ActionUp, Reason: "web 2→3: more", Inputs: proto.Floats{"capacity": 50}}}
	}
	publish(t, b, dec(now.Add(-3*time.Hour), 3), dec(now.Add(-30*time.Minute), 4))
	publish(t, b, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: proto.NewMetrics("shop", "web", now.Add(-time.Minute), 2, proto.Floats{"rps": 1})})

	// History only: the decision of the last hour, not the older one, no metrics.
	var out bytes.Buffer
	if err := gateway.Tail(context.Background(), b, gateway.TailConfig{Filters: []string{"apm.decision.>"}, Since: now.Add(-time.Hour)}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1:\n%s", len(lines), out.String())
	}
	var l struct {
		Subject string         `json:"subject"`
		Time    string         `json:"time"`
		Msg     map[string]any `json:"msg"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
		t.Fatal(err)
	}
	if l.Subject != "apm.decision.shop.web" || l.Msg["to"] != float64(4) || l.Msg["reason"] != "web 2→3: more" || l.Time != now.Add(-30*time.Minute).UTC().Format(time.RFC3339Nano) {
		t.Fatalf("line %s", lines[0])
	}

	// Following every kind, dead letters included: new messages appear.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	buf := newSyncBuf()
	done := make(chan error, 1)
	go func() {
		done <- gateway.Tail(ctx, b, gateway.TailConfig{Filters: []string{"apm.>"}, Follow: true}, buf)
	}()
	n := 100
	natstest.Eventually(t, 10*time.Second, func() error {
		n++ // a new id each time: a repeated one is dropped as a duplicate
		publish(t, b, deadLetter(n))
		if !strings.Contains(buf.String(), `"subject":"apm.dlq.decider"`) {
			return context.DeadlineExceeded
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestTailLeavesOutRefusedStream: a user the server refuses consumers on
// some streams (the all-in-one's observer, the DLQ) tails 'apm.>' without
// them, told once for each, and stops cleanly; a tail whose filter names
// the DLQ fails on the refusal. The two streams are refused at once: each
// is told apart from a failure of another kind, not only the connection's
// last error's.
func TestTailLeavesOutRefusedStream(t *testing.T) {
	r := natstest.StartRestricted(t, "observer", "$JS.API.CONSUMER.CREATE.DLQ.>", "$JS.API.CONSUMER.CREATE.SCALING.>")
	admin := r.Connect(t, "admin", zerolog.Nop())
	obs := r.Connect(t, "observer", zerolog.Nop())
	now := time.Now().Truncate(time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	buf := newSyncBuf()
	skipped := make(chan string, 4)
	skip := func(stream string, err error) {
		if !strings.Contains(err.Error(), "CONSUMER.CREATE."+stream+".") {
			t.Errorf("%s left out for %v, not its own refusal", stream, err)
		}
		skipped <- stream
	}
	done, named := make(chan error, 1), make(chan error, 1)
	go func() {
		done <- gateway.Tail(ctx, obs, gateway.TailConfig{Filters: []string{"apm.>"}, Follow: true, Skipped: skip}, buf)
	}()
	// Side by side (a refused request takes as long as the client's retries).
	go func() {
		named <- gateway.Tail(ctx, obs, gateway.TailConfig{Filters: []string{"apm.dlq.>"}, Follow: true, Skipped: skip}, newSyncBuf())
	}()
	left := map[string]bool{}
	for len(left) < 2 {
		select {
		case s := <-skipped:
			if s != "DLQ" && s != "SCALING" || left[s] {
				t.Fatalf("left out %s after %v, want DLQ and SCALING once each", s, left)
			}
			left[s] = true
		case err := <-done:
			t.Fatalf("tail of apm.> ended after leaving out %v: %v", left, err)
		case <-time.After(60 * time.Second):
			t.Fatalf("left out %v, want DLQ and SCALING", left)
		}
	}
	select {
	case err := <-named:
		if err == nil {
			t.Fatal("tail of apm.dlq.> ended without the refusal")
		}
		// The error names the server's refusal, not only the timeout the
		// refused request ended in, so the user learns why.
		if !strings.Contains(err.Error(), "CONSUMER.CREATE.DLQ.") || !strings.Contains(err.Error(), "may not read") {
			t.Fatalf("tail of apm.dlq.> failed with %v, want the server's refusal", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("tail of apm.dlq.> still running")
	}
	if len(skipped) > 0 {
		t.Fatalf("left out %s again, or where the filter names it", <-skipped)
	}
	n := 0
	natstest.Eventually(t, 10*time.Second, func() error {
		n++
		publish(t, admin, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"),
			Msg: proto.NewMetrics("shop", "web", now.Add(time.Duration(n)*time.Second), 2, proto.Floats{"rps": 1})})
		if !strings.Contains(buf.String(), `"subject":"apm.metrics.shop.web"`) {
			return context.DeadlineExceeded
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("tail of the readable streams ended with %v", err)
	}
}
