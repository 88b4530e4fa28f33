package stagetest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/proto"
)

// BenchmarkStagesPerTick is the pipeline benchmark's work without NATS:
// per tick of 7 values, decode it twice (the forecaster and the anomaly
// service each get their copy), step both stages and encode their
// outputs. It bounds what any transport can reach on this machine: samples
// per second per core can be no more than 7e9 / (ns per tick). With -short,
// which CI uses to show every benchmark still runs, it skips the 192 tiers'
// day of warm-up.
func BenchmarkStagesPerTick(b *testing.B) {
	for _, tiers := range []int{3, 192} {
		if tiers > 3 && testing.Short() {
			continue
		}
		b.Run(fmt.Sprintf("tiers=%d", tiers), func(b *testing.B) {
			lim := config.DefaultLimits()
			lim.IdleAfter = 0
			fc := forecaster.NewTiers(forecaster.DefaultConfig(), lim, zerolog.Nop())
			an := detector.NewTiers(detector.DefaultConfig(), lim)
			// Warm: a day of ticks, so the detectors are past warm-up and
			// the forecasters refit on schedule.
			ticks := make([][]byte, 0, 1440*tiers)
			for i := range 1440 + 2000 {
				for k := range tiers {
					x := float64(i%1440) / 1440
					v := proto.Floats{"rps": 100 + 50*math.Sin(2*math.Pi*x) + float64(k), "cpu": 0.5, "mem": 0.4, "latency_p50_ms": 20,
						"latency_p95_ms": 60, "latency_p99_ms": 90, "error_rate": 0.001}
					m := proto.NewMetrics(fmt.Sprintf("app%03d", k/3), []string{"web", "cache", "db"}[k%3], t0.Add(time.Duration(i)*time.Minute), 3, v)
					data, err := proto.Encode(m)
					if err != nil {
						b.Fatal(err)
					}
					ticks = append(ticks, data)
				}
			}
			step := func(data []byte) {
				var f, a proto.Metrics
				if err := proto.Decode(data, &f); err != nil {
					b.Fatal(err)
				}
				if err := proto.Decode(data, &a); err != nil {
					b.Fatal(err)
				}
				if out, _, err := fc.Step(&f); err != nil {
					b.Fatal(err)
				} else if out != nil {
					if _, err := proto.Encode(out); err != nil {
						b.Fatal(err)
					}
				}
				out, _, err := an.Step(&a)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Encode(out); err != nil {
					b.Fatal(err)
				}
			}
			warm := 1440 * tiers
			for _, d := range ticks[:warm] {
				step(d)
			}
			live := ticks[warm:]
			if b.N > len(live) {
				b.Fatalf("-benchtime %dx is more than the %d ticks prepared", b.N, len(live))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				step(live[i])
			}
			b.ReportMetric(7*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
