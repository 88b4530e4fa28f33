package bus_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestRebuildMergesInputsByStoredTime: a take-over's rebuild hands a
// group's inputs their recorded messages in the order they were stored
// across the streams, one handler call at a time, as live delivery
// interleaves them. Read one stream after the other, a stage that joins
// its inputs held every message of the first until the others came: the
// decider, every metrics tick of its lookback, megabytes a tier.
func TestRebuildMergesInputsByStoredTime(t *testing.T) {
	url := natstest.RunJetStream(t)
	pub := mustBus(t, url)
	const n = 40
	var want []string
	for i := 1; i <= n; i++ {
		// Stored one at a time, acknowledged before the next: metrics i,
		// then its forecast, then a second forecast every fifth tick.
		m := proto.NewMetrics("shop", "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": 1, "i": float64(i)})
		outs := []bus.Out{{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m}}
		want = append(want, fmt.Sprintf("metrics shop.web %d", i))
		for k := range 1 + boolInt(i%5 == 0) {
			model := fmt.Sprintf("%d/%d", i, k)
			ts := proto.Millis(t0.Add(time.Duration(i)*time.Minute)) + int64(k)
			outs = append(outs, bus.Out{Subject: proto.ForecastSubject("apm", "shop", "web"),
				Msg: &proto.Forecast{V: 1, ID: proto.ForecastID("shop", "web", "rps", ts), App: "shop", Tier: "web", TS: ts, Metric: "rps", StepMS: 60000, Model: model}})
			want = append(want, "forecast shop.web "+model)
		}
		for _, o := range outs {
			if err := pub.PublishAll(context.Background(), []bus.Out{o}); err != nil {
				t.Fatal(err)
			}
		}
	}

	b := mustBus(t, url)
	st := &returningStage{}
	var running, overlapped atomic.Int32
	serial := func(h bus.Handler) bus.Handler {
		return func(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
			if running.Add(1) > 1 {
				overlapped.Add(1)
			}
			defer running.Add(-1)
			time.Sleep(time.Duration(m.Seq%3) * time.Millisecond) // widen any overlap
			return h(ctx, m)
		}
	}
	runTwoInputGroup(t, b, bus.GroupSpec{Rebuild: true}, serial(st.handler(proto.KindMetrics)), serial(st.handler(proto.KindForecast)))
	if got := st.since(0); !slices.Equal(got, want) {
		t.Fatalf("rebuild handled\n%v\nwant, in stored order,\n%v", got, want)
	}
	if k := overlapped.Load(); k > 0 {
		t.Fatalf("%d handler calls overlapped another", k)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
