package collector_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReplayDisorder replays recordings stored out of event-time order:
// a tick stored again past the stream's duplicate window (here 200 ms),
// as a pusher's late retry is, and one tier's ticks stored three minutes
// behind another's. Each tier's ticks in the range are republished once
// each, in event-time order, whatever the binary search probes (the copy
// sits at the first probe) and wherever the reading stops (ticks of the
// lagging tier before To are stored after the other's past To).
func TestReplayDisorder(t *testing.T) {
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = natstest.RunJetStream(t), "replay-disorder"
	cfg.Streams.Memory = true
	cfg.Streams.Duplicates = 200 * time.Millisecond
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	ctx := context.Background()
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-48 * time.Hour).Truncate(time.Minute)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	tick := func(app, tier string, i int, rps float64) bus.Out {
		return bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: proto.NewMetrics(app, tier, at(i), 2, proto.Floats{"rps": rps})}
	}
	publish := func(outs ...bus.Out) {
		t.Helper()
		if err := b.PublishAll(ctx, outs); err != nil {
			t.Fatal(err)
		}
	}

	// "late": web ticks 0..99 (sequences 1..100), tick 10 again with
	// other values past the duplicate window (sequence 101, the binary
	// search's first probe over 1..201), then ticks 100..199.
	var outs []bus.Out
	for i := range 100 {
		outs = append(outs, tick("late", "web", i, float64(i)))
	}
	publish(outs...)
	natstest.Eventually(t, 30*time.Second, func() error {
		publish(tick("late", "web", 10, 1e6))
		if n := count(t, b, "METRICS", proto.AppFilter("apm", proto.KindMetrics, "late")); n != 101 {
			return fmt.Errorf("%d ticks stored, want tick 10's copy stored past the duplicate window", n)
		}
		return nil
	})
	outs = outs[:0]
	for i := 100; i < 200; i++ {
		outs = append(outs, tick("late", "web", i, float64(i)))
	}
	publish(outs...)

	// "lag": web ticks 0..99, each followed by db's three minutes
	// earlier, then db's last three.
	outs = outs[:0]
	for i := range 100 {
		outs = append(outs, tick("lag", "web", i, float64(i)))
		if i >= 3 {
			outs = append(outs, tick("lag", "db", i-3, float64(i-3)))
		}
	}
	for i := 97; i < 100; i++ {
		outs = append(outs, tick("lag", "db", i, float64(i)))
	}
	publish(outs...)

	for _, tc := range []struct {
		name     string
		rc       collector.ReplayConfig
		from, to int      // the minutes republished, each tier: [from, to)
		tiers    []string // the tiers republished
	}{
		{"late copy, whole recording", collector.ReplayConfig{App: "late", As: "late-all"}, 0, 200, []string{"web"}},
		{"late copy at the seek's probe", collector.ReplayConfig{App: "late", As: "late-seek", From: at(60), To: at(150)}, 60, 150, []string{"web"}},
		{"late copy at the seek's probe, a disorder of 2 hours", collector.ReplayConfig{App: "late", As: "late-2h", From: at(60), To: at(150), Disorder: 2 * time.Hour}, 60, 150, []string{"web"}},
		// The copy lags the tick before it by 89 minutes, more than
		// the disorder: the seek passes it, which skips nothing here
		// since every tick before it is earlier than From.
		{"late copy at the seek's probe, before From", collector.ReplayConfig{App: "late", As: "late-5m", From: at(120), To: at(150), Disorder: 5 * time.Minute}, 120, 150, []string{"web"}},
		{"lagging tier", collector.ReplayConfig{App: "lag", As: "lag-range", From: at(40), To: at(80)}, 40, 80, []string{"web", "db"}},
		{"lagging tier, a disorder of 5 minutes", collector.ReplayConfig{App: "lag", As: "lag-5m", From: at(40), To: at(80), Disorder: 5 * time.Minute}, 40, 80, []string{"web", "db"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := collector.Replay(ctx, b, tc.rc, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			want := (tc.to - tc.from) * len(tc.tiers)
			if st.Published != want || !st.First.Equal(at(tc.from)) {
				t.Errorf("replayed %d ticks (%v … %v), want %d from minute %d", st.Published, st.First, st.Last, want, tc.from)
			}
			for _, tier := range tc.tiers {
				var got []int
				for _, data := range natstest.Payloads(t, b, "METRICS", proto.MetricsSubject("apm", tc.rc.As, tier)) {
					var m proto.Metrics
					if err := proto.Decode(data, &m); err != nil {
						t.Fatal(err)
					}
					i := int(m.EventTime().Sub(t0) / time.Minute)
					if m.Values["rps"] != float64(i) {
						t.Errorf("%s minute %d: rps %v, want the first copy's %d", tier, i, m.Values["rps"], i)
					}
					got = append(got, i)
				}
				ok := len(got) == tc.to-tc.from
				for k := 0; ok && k < len(got); k++ {
					ok = got[k] == tc.from+k
				}
				if !ok {
					t.Errorf("%s: the shadow holds minutes %v, want %d..%d once each in order", tier, got, tc.from, tc.to-1)
				}
			}
		})
	}
}
