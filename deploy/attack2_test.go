package deploy_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestNATSConfRefusesHistoryRewrites: the executor trusts what the
// streams record (a newer decision supersedes an older one, the replica
// state says what it set). Under deploy/nats.conf no service identity may
// rewrite that history: purge or delete a stream, or delete one message
// from it (a newer decision, so that a superseded one acts), in any
// stream; and a message a service may publish cannot carry a rollup
// header that would purge the rest of its stream (the services' streams
// allow no rollups: one "Nats-Rollup: all" from the decider would erase
// every stored decision). Nothing stored is lost.
func TestNATSConfRefusesHistoryRewrites(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	adminJS := natstest.JetStream(t, admin)
	streams := []string{"METRICS", "FORECASTS", "ANOMALIES", "DECISIONS", "SCALING", "DLQ", "KV_REPLICAS"}
	// Each service stores one message where it may, then tries to roll
	// its stream up with a second.
	own := []struct{ user, subject string }{
		{"collector", "apm.metrics.shop.web"},
		{"forecaster", "apm.forecast.shop.web"},
		{"anomaly", "apm.anomaly.shop.web"},
		{"decider", "apm.decision.shop.web"},
		{"executor", "apm.scaling.shop.web"},
		{"executor", "apm.dlq.executor"},
	}
	for i, c := range own {
		js := natstest.JetStream(t, connectAs(t, url, c.user))
		if _, err := js.Publish(ctx, c.subject, []byte("stored history")); err != nil {
			t.Fatalf("%s storing on %s: %v", c.user, c.subject, err)
		}
		for _, rollup := range []string{"all", "sub"} {
			m := nats.NewMsg(c.subject)
			m.Data = []byte("rollup")
			m.Header.Set("Nats-Rollup", rollup)
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("rollup-%d-%s", i, rollup))
			if _, err := js.PublishMsg(ctx, m); err == nil {
				t.Errorf("%s publishing on %s with Nats-Rollup: %s: stored, want refused", c.user, c.subject, rollup)
			}
		}
	}
	count := func(stream string) uint64 {
		t.Helper()
		s, err := adminJS.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().State.Msgs
	}
	before := map[string]uint64{}
	for _, s := range streams {
		before[s] = count(s)
	}
	for _, user := range users[1:] {
		for _, s := range streams {
			for _, api := range []string{"STREAM.PURGE", "STREAM.DELETE", "STREAM.MSG.DELETE"} {
				if subject := "$JS.API." + api + "." + s; canPublish(t, url, user, subject) {
					t.Errorf("%s may publish %s", user, subject)
				}
			}
		}
	}
	for _, s := range streams {
		if n := count(s); n != before[s] {
			t.Errorf("%s holds %d messages, had %d", s, n, before[s])
		}
	}
	for _, s := range []string{"METRICS", "FORECASTS", "ANOMALIES", "DECISIONS", "SCALING", "DLQ"} {
		if before[s] == 0 {
			t.Errorf("%s holds nothing: the stored history is gone", s)
		}
	}
}
