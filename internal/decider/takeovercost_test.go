package decider

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// longestTook sums, over the partitions, the longest "took" (ms) of the
// lines logged with msg for each (a partition's inputs are rebuilt
// together), and counts the partitions.
func longestTook(t *testing.T, l *natstest.Logs, msg string) (time.Duration, int) {
	longest := map[float64]time.Duration{}
	for _, line := range l.Lines(t, msg) {
		p, _ := line["partition"].(float64)
		took, _ := line["took"].(float64)
		longest[p] = max(longest[p], time.Duration(took*float64(time.Millisecond)))
	}
	var sum time.Duration
	for _, d := range longest {
		sum += d
	}
	return sum, len(longest)
}

// TestTakeOverCost measures what a take-over's rebuild of one app's tiers
// × a full lookback of inputs (one-minute ticks) costs, next to its read
// of the ticks stored over Config.StoredWindow (bus.EventTimesSince),
// from the two's logged durations: HEADROOM_TAKEOVER_COST=tiers, skipped
// without it.
func TestTakeOverCost(t *testing.T) {
	tiersN, _ := strconv.Atoi(os.Getenv("HEADROOM_TAKEOVER_COST"))
	if tiersN == 0 {
		t.Skip("HEADROOM_TAKEOVER_COST unset")
	}
	h := newOnServer(t)
	ticks := int(h.cfg.Lookback() / time.Minute)
	const app = "shop"
	tiers := make([]string, tiersN)
	for i := range tiers {
		tiers[i] = fmt.Sprintf("t%03d", i)
	}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	publishAppTiers(t, h.admin, h.cfg, app, tiers, t0, 0, ticks, func(int) float64 { return 100 })
	// The member before's decisions: holds at 2 over the last stored window.
	window := int(h.cfg.StoredWindow(app) / time.Minute)
	var outs []bus.Out
	for i := ticks - 1 - window; i < ticks-1; i++ {
		ts := proto.Millis(t0.Add(time.Duration(i) * time.Minute))
		for _, tier := range tiers {
			outs = append(outs, bus.Out{Subject: proto.DecisionSubject("apm", app, tier), Msg: &proto.Decision{V: proto.SchemaVersion,
				ID: proto.DecisionID(app, tier, ts), App: app, Tier: tier, TS: ts, From: 2, To: 2, Action: proto.ActionHold, State: "steady", TickMS: 60000,
				Reason: "hold: the forecast load over the lead time stays within the tier's headroom band, and no incident is open on the tier",
				Inputs: proto.Floats{"rps": 100, "rps_per_replica": 50, "forecast_p95": 120, "ready": 2, "desired": 2, "lead_s": 90, "band_lo": 0.5, "band_hi": 0.8}}})
			if len(outs) == 1000 {
				if err := h.admin.PublishAll(context.Background(), outs); err != nil {
					t.Fatal(err)
				}
				outs = outs[:0]
			}
		}
	}
	if err := h.admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	var l natstest.Logs
	h.log = zerolog.New(&l).Level(zerolog.InfoLevel)
	began := time.Now()
	h.start(maxUnstored, time.Second, prometheus.NewRegistry())
	natstest.Eventually(t, 10*time.Minute, h.settled)
	wall := time.Since(began)
	read, parts := longestTook(t, &l, "read the ticks of the decisions stored before the take-over")
	rebuilt, _ := longestTook(t, &l, "partition taken over")
	t.Logf("%d tiers × %d ticks: wall %s; stored ticks read %s (%.1f ms a tier), inputs rebuilt %s (%.1f ms a tier), over %d partitions: the read adds %.0f %%",
		tiersN, ticks, wall.Round(time.Millisecond), read.Round(time.Millisecond), float64(read.Milliseconds())/float64(tiersN),
		rebuilt.Round(time.Millisecond), float64(rebuilt.Milliseconds())/float64(tiersN), parts, 100*read.Seconds()/rebuilt.Seconds())
}
