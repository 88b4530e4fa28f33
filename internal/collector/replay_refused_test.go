package collector_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReplayFailsOnRefusedPublishes replays as a user the server does not
// let publish the shadow's subjects: the replay must fail, naming the
// refused tick and that none was stored, instead of reporting the ticks as
// republished (as a replay against the all-in-one's read-only observer did).
// Once the rule is lifted, the same replay stores every tick.
func TestReplayFailsOnRefusedPublishes(t *testing.T) {
	srv := natstest.StartRestricted(t, "replay", "apm.metrics.shop-shadow.>")
	admin := srv.Connect(t, "admin", zerolog.Nop())
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	const n = 5
	var outs []bus.Out
	for i := range n {
		m := proto.NewMetrics("shop", "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(10 + i)})
		outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m})
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	replayer := srv.Connect(t, "replay", zerolog.Nop())
	rc := collector.ReplayConfig{App: "shop", As: "shop-shadow"}

	_, err := collector.Replay(context.Background(), replayer, rc, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "not stored (0 stored before it)") || !strings.Contains(err.Error(), "Permissions Violation") {
		t.Fatalf("replay with its publishes refused: %v, want the refused tick and the server's reason named", err)
	}
	t.Logf("refused: %v", err)
	if got := len(natstest.Payloads(t, admin, "METRICS", proto.AppFilter("apm", proto.KindMetrics, "shop-shadow"))); got != 0 {
		t.Fatalf("%d shadow ticks stored while refused", got)
	}

	srv.Allow(t)
	st, err := collector.Replay(context.Background(), replayer, rc, zerolog.Nop())
	if err != nil {
		t.Fatalf("replay once allowed: %v", err)
	}
	if got := len(natstest.Payloads(t, admin, "METRICS", proto.AppFilter("apm", proto.KindMetrics, "shop-shadow"))); st.Published != n || got != n {
		t.Fatalf("replayed %d, stored %d, want %d", st.Published, got, n)
	}
}
