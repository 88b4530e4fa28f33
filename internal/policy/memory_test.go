package policy

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// weekOfHistory feeds apps copies of the default three-tier app a week of
// one-minute ticks (noisy daily load with a forecast per tick) and returns
// the heap bytes each tier's policy state holds afterwards.
func weekOfHistory(tb testing.TB, apps int) float64 {
	tb.Helper()
	const week = 7 * 1440
	rng := rand.New(rand.NewPCG(1, 2))
	load := make([]float64, week)
	for i := range load {
		load[i] = 300 * (1.2 + math.Sin(2*math.Pi*float64(i)/1440)) * math.Exp(0.1*rng.NormFloat64())
	}
	cfg := DefaultAppConfig()
	for i := range cfg.Tiers {
		cfg.Tiers[i].Capacity = 100
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	held := make([]*App, apps)
	for k := range held {
		held[k] = mustApp(tb, cfg)
	}
	ready := map[string]int{"web": 5, "cache": 5, "db": 5}
	in := map[string]TierInput{}
	for i, l := range load {
		t := at(i)
		fc := flatForecast(t.Truncate(5*time.Minute), func(time.Time) float64 { return l })
		for _, a := range held {
			in["web"] = TierInput{Load: l, Ready: ready["web"], Forecast: fc}
			in["cache"] = TierInput{Load: 4 * l, Ready: ready["cache"]}
			in["db"] = TierInput{Load: 0.9 * l, Ready: ready["db"]}
			for _, d := range a.Decide(t, in) {
				ready[d.Tier] = d.To
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(held)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(apps*len(cfg.Tiers))
}

// maxBytesPerTier is issue 11's budget for the decider's state per tier.
const maxBytesPerTier = 64 << 10

// TestMemoryPerTier holds the policy state of a tier that has seen a week
// of one-minute history (three days of calibration full) to 64 KB.
func TestMemoryPerTier(t *testing.T) {
	per := weekOfHistory(t, 3)
	t.Logf("policy state: %.0f bytes per tier after a week of 1-minute ticks", per)
	if per > maxBytesPerTier {
		t.Fatalf("%.0f bytes per tier, budget %d", per, maxBytesPerTier)
	}
}

// BenchmarkMemoryPerTier reports the heap bytes per tier after a week of
// one-minute ticks (go test -run '^$' -bench MemoryPerTier ./internal/policy)
// of 50 tiers; of 3 with -short, which CI uses to show every benchmark
// still runs.
func BenchmarkMemoryPerTier(b *testing.B) {
	tiers := 50
	if testing.Short() {
		tiers = 3
	}
	for i := 0; i < b.N; i++ {
		b.ReportMetric(weekOfHistory(b, tiers), "B/tier")
	}
}
