package decider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestUnstoredBoundAfterOutage fills the member's bound of decisions not
// stored (lowered to 4) during an outage of the decisions stream, then
// lets the stream accept again and sends the ticks of an app that has
// nothing waiting. The periodic retry, which stores the others' waiting
// decisions, is kept from running (it runs every retryEvery, and under
// load one round stores only what it can in retryEvery): the app's inputs
// must not be refused for as long as the stream works. Before, they were
// refused "waiting for the periodic retry", redelivered MaxDeliver times
// within a few seconds and dead-lettered: the app's decisions were lost
// though every store would have succeeded.
func TestUnstoredBoundAfterOutage(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.Disabled)
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", log, true)
	js := natstest.JetStream(t, admin)
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	ready := service.NewReady()
	d, err := New(cfg, service.Deps{Bus: natstest.Connect(t, url, "decider", log, false), Log: log, Reg: prometheus.NewRegistry(), Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 4
	d.publishPause = time.Millisecond
	d.retryEvery = time.Hour // the periodic retry does not run here
	d.unstoredLimit = limit
	natstest.Serve(t, "decider", d.Run)
	natstest.Eventually(t, 30*time.Second, ready.Err)

	apps := []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	stored := func(app string) int {
		return len(natstest.Payloads(t, admin, "DECISIONS", "apm.decision."+app+".web"))
	}
	settled := func() error {
		for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly} {
			if err := natstest.GroupDrained(context.Background(), admin, proto.StreamName("apm", k), "decider-"+string(k)); err != nil {
				return err
			}
		}
		return nil
	}
	unstored := func() int {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.unstored
	}

	stream, err := js.Stream(context.Background(), "DECISIONS")
	if err != nil {
		t.Fatal(err)
	}
	working := stream.CachedInfo().Config
	outage := working
	outage.MaxMsgs, outage.Discard = 1, jetstream.DiscardNew
	if _, err := js.UpdateStream(context.Background(), outage); err != nil {
		t.Fatal(err)
	}
	// The one message the stream takes: every decision after it is refused.
	publishAppTicks(t, admin, cfg, "a0", t0, 0, 2)
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := stored("a0"); n != 1 {
			return fmt.Errorf("%d a0 decisions stored, want 1", n)
		}
		return nil
	})
	for _, app := range apps {
		publishAppTicks(t, admin, cfg, app, t0, 2, 6)
	}
	natstest.Eventually(t, 2*time.Minute, settled)
	if n := unstored(); n < limit {
		t.Fatalf("%d decisions wait, want the bound, %d: the test did not reach it", n, limit)
	}

	if _, err := js.UpdateStream(context.Background(), working); err != nil {
		t.Fatal(err)
	}
	publishAppTicks(t, admin, cfg, "fresh", t0, 5, 7)
	natstest.Eventually(t, 2*time.Minute, settled)
	for _, data := range natstest.Payloads(t, admin, "DLQ", "apm.dlq.decider") {
		var dl proto.DeadLetter
		if err := proto.Decode(data, &dl); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dl.Subject, ".fresh.") {
			t.Errorf("an input of fresh was dead-lettered with the stream accepting again: %s", dl.Error)
		}
	}
	if n := stored("fresh"); n != 1 {
		t.Fatalf("%d decisions of fresh stored, want 1 (its tick 5)", n)
	}
	if n := unstored(); n >= limit {
		t.Errorf("%d decisions still wait with the stream accepting, want fewer than the bound, %d", n, limit)
	}
}
