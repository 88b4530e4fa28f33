package decider

import (
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// BenchmarkUnstoredDecisions measures the heap one decision holds while it
// waits in its app's outbox (a publish outage), the figure maxUnstored
// and maxOutbox are sized by: an app of three tiers with the seven
// standard metrics is fed one tick per iteration, and every decision it
// makes is kept, as the outbox keeps them. Reported as B/decision (live
// heap after full GCs, the joiner's fixed state amortised away); -benchmem
// gives the allocations of making them.
func BenchmarkUnstoredDecisions(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Policy.Tick = time.Minute
	st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
	tiers := []string{"web", "cache", "db"}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	step := cfg.ForecastStep
	var held []*proto.Decision
	feed := func(i int) {
		at := t0.Add(time.Duration(i) * time.Minute)
		ts := proto.Millis(at)
		for _, tier := range tiers {
			l := 100 + float64(i%60)
			if at.Equal(at.Truncate(step)) {
				f := &proto.Forecast{V: proto.SchemaVersion, App: "api", Tier: tier, TS: ts, Metric: proto.MetricRPS, StepMS: step.Milliseconds(), Model: "mstl"}
				for p := range 12 {
					f.Points = append(f.Points, proto.ForecastPoint{TS: ts + int64(p)*step.Milliseconds(), Yhat: l, Lo80: 0.9 * l, Hi80: 1.1 * l, Lo95: 0.8 * l, Hi95: 1.2 * l})
				}
				ds, err := st.AddForecast(f)
				if err != nil {
					b.Fatal(err)
				}
				held = append(held, ds...)
			}
			ds, err := st.AddAnomaly(&proto.Anomaly{V: proto.SchemaVersion, App: "api", Tier: tier, TS: ts})
			if err != nil {
				b.Fatal(err)
			}
			held = append(held, ds...)
			m := proto.NewMetrics("api", tier, at, 2, map[string]float64{proto.MetricRPS: l, proto.MetricCPU: 0.5, proto.MetricMem: 0.4,
				proto.MetricLatencyP50: 20, proto.MetricLatencyP95: 60, proto.MetricLatencyP99: 120, proto.MetricErrorRate: 0})
			if ds, err = st.AddMetrics(m); err != nil {
				b.Fatal(err)
			}
			held = append(held, ds...)
		}
	}
	// Warm the app up (its policy, joiner and first frames), then measure
	// what the decisions add.
	const warm = 30
	for i := range warm {
		feed(i)
	}
	held = held[:0:0]
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := range b.N {
		feed(warm + i)
	}
	b.StopTimer()
	// The slice's own spare capacity is not the decisions': trim it.
	held = append([]*proto.Decision(nil), held...)
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(held) == 0 {
		b.Fatal("no decision made")
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(len(held)), "B/decision")
	b.ReportMetric(float64(len(held))/float64(b.N), "decisions/op")
	runtime.KeepAlive(held)
}
