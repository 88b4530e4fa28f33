package deploy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestNATSConfCollectorReplays: `collector replay` from the collector's
// own account: it seeks the range's start by sequence (the message get
// API), reads the recording through an ordered consumer of its own on
// METRICS (created, pulled with heartbeats, deleted through the imports)
// and republishes the range under the shadow app, whose ticks METRICS
// stores.
func TestNATSConfCollectorReplays(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	col := connectAs(t, url, "collector")
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var outs []bus.Out
	for i := range 40 {
		for _, tier := range []string{"web", "db"} {
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", "shop", tier),
				Msg: proto.NewMetrics("shop", tier, start.Add(time.Duration(i)*time.Minute), 2, map[string]float64{"rps": float64(i)})})
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := col.PublishAll(pctx, outs); err != nil {
		t.Fatal(err)
	}
	js := natstest.JetStream(t, admin)
	consumers := func() int {
		t.Helper()
		s, err := js.Stream(ctx, "METRICS")
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().State.Consumers
	}
	before := consumers()
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	defer rcancel()
	st, err := collector.Replay(rctx, col, collector.ReplayConfig{App: "shop", As: "shadow",
		From: start.Add(10 * time.Minute), To: start.Add(30 * time.Minute)}, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if st.Published != 40 { // 20 minutes of two tiers
		t.Errorf("replay republished %d ticks, want 40: %+v", st.Published, st)
	}
	if n := len(natstest.Payloads(t, admin, "METRICS", "apm.metrics.shadow.>")); n != 40 {
		t.Errorf("METRICS holds %d ticks of the shadow app, want 40", n)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := consumers(); n != before {
			return fmt.Errorf("METRICS has %d consumers after the replay, want the %d before", n, before)
		}
		return nil
	})
}
