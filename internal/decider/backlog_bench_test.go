package decider

import (
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// BenchmarkBacklogHeapPerTier reports the heap an app's state holds per
// tier once its join's backlog is full: the forecaster and the anomaly
// service send nothing (down, or behind) while the metrics of one
// three-tier app keep coming at the default 15 s tick for the backlog's
// length and a little more. membudget's TestBudget measures the state with
// its inputs on time; this is the most the same state holds without them.
//
//	go test -run '^$' -bench BacklogHeapPerTier -benchtime 1x ./internal/decider
func BenchmarkBacklogHeapPerTier(b *testing.B) {
	cfg := DefaultConfig()
	tick := cfg.Policy.Tick
	ticks := cfg.backlog(tick) + 100
	tiers := []string{"web", "cache", "db"}
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		as := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
		start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		for i := range ticks {
			ts := proto.Millis(start.Add(time.Duration(i) * tick))
			for _, tier := range tiers {
				m := &proto.Metrics{App: "shop", Tier: tier, TS: ts, Replicas: 3,
					Values: proto.Floats{"rps": 300 + float64(i%60), "cpu": 0.5, "mem": 0.4, "latency_p50_ms": 20, "latency_p95_ms": 40, "latency_p99_ms": 80, "error_rate": 0.001}}
				if _, err := as.Handle(m); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if n := len(as.app("shop").join.pending); n != cfg.backlog(tick) {
			b.Fatalf("%d ticks pending, want the backlog %d", n, cfg.backlog(tick))
		}
		perTier := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(tiers))
		b.ReportMetric(perTier, "B/tier")
		b.ReportMetric(float64(cfg.backlog(tick)), "ticks-held")
		runtime.KeepAlive(as)
	}
}
