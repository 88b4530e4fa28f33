package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestPublishAllDropsRefusedMessage: a message the stream refuses for
// itself (over its max message size) can never be stored, so PublishAll
// does not retry it until its context ends (a collector's source would
// hang on that tick for good): it stores the others, logs the one
// dropped naming it, and returns, saying how many it stored.
func TestPublishAllDropsRefusedMessage(t *testing.T) {
	var logs natstest.Logs
	b := natstest.Bus(t, "admin", zerolog.New(&logs))
	js := natstest.JetStream(t, b)
	ctx := context.Background()
	s, err := js.Stream(ctx, proto.StreamName("apm", proto.KindMetrics))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	c.MaxMsgSize = 2048
	if _, err := js.UpdateStream(ctx, c); err != nil {
		t.Fatal(err)
	}
	values := proto.Floats{proto.MetricRPS: 1}
	for i := range 200 {
		values[fmt.Sprintf("metric_%06d", i)] = float64(i)
	}
	big := proto.NewMetrics("shop", "db", t0, 1, values)
	outs := []bus.Out{tick(0), {Subject: proto.MetricsSubject("apm", "shop", "db"), Msg: big}, tick(1)}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	stored, err := b.PublishAllStored(pctx, outs)
	if err != nil {
		t.Fatalf("PublishAll with a message refused for itself: %v after %s, want the others stored and it dropped", err, time.Since(start))
	}
	if stored != 2 {
		t.Errorf("PublishAllStored says %d stored, want 2: the one dropped is not (a source counts what it published by it)", stored)
	}
	if n := streamMsgs(t, b, proto.KindMetrics); n != 2 {
		t.Errorf("%d messages stored, want the 2 the stream takes", n)
	}
	lines := logs.Lines(t, "publish dropped: refused for itself (refused says why), no retry can store it")
	if len(lines) != 1 || lines[0]["msg_id"] != big.MsgID() || lines[0]["level"] != "error" || lines[0]["refused"] != bus.RefusedStreamMaxSize {
		t.Errorf("drop lines %v, want one error naming %s, refused %q", lines, big.MsgID(), bus.RefusedStreamMaxSize)
	}
}

// TestPublishAllRefusedLogsSeldom: a publish refused for the user's
// permissions is retried (permissions can be granted again, and a source
// loses no tick), but not logged at every retry: the first refusal is
// logged, later ones only every so many attempts; the first attempt, sent
// asynchronously, learns of its refusal as it comes rather than at its
// future's timeout (20 s); once allowed, it is stored.
func TestPublishAllRefusedLogsSeldom(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- b.PublishAll(ctx, []bus.Out{tick(0)}) }()
	const refusals = 4
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := len(logs.Lines(t, "nats refusal, reported by its caller")); n < refusals {
			return fmt.Errorf("%d refusals so far, waiting for %d", n, refusals)
		}
		return nil
	})
	warned := 0
	for _, l := range logs.Lines(t, "publish failed, retrying with the same id") {
		if l["level"] == "warn" {
			warned++
		}
		// Named as the other services' retry lines name theirs.
		if l["subject"] != tick(0).Subject || l["retry_in"] == nil {
			t.Errorf("retry line %v, want its subject and its wait (retry_in)", l)
		}
	}
	if warned > 1 {
		t.Errorf("%d warnings for %d refused attempts of one publish, want at most 1", warned, refusals)
	}
	t.Logf("%d refusals in %s", refusals, time.Since(start))
	r.Allow(t)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("PublishAll once allowed: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("PublishAll did not store the tick once allowed")
	}
}
