package detector

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// BenchmarkCatchUp measures how fast the service works through a backlog
// (a first start after the collector's backfill): 8 tiers × 2,000 ticks
// stored before it starts, timed until every output is stored.
func BenchmarkCatchUp(b *testing.B) {
	const ticks = 2000
	tiers := []string{"web", "api", "cart", "search", "auth", "db", "cache", "queue"}
	for range b.N {
		b.StopTimer()
		bc := bus.DefaultConfig()
		bc.URL, bc.Name = natstest.RunJetStream(b), "anomaly"
		log := zerolog.Nop()
		bb, err := bus.Connect(context.Background(), bc, log, prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		if err := bb.EnsureStreams(context.Background()); err != nil {
			b.Fatal(err)
		}
		var outs []bus.Out
		for i := range ticks {
			for _, tier := range tiers {
				outs = append(outs, bus.Out{Subject: proto.MetricsSubject(bb.Prefix(), "shop", tier),
					Msg: proto.NewMetrics("shop", tier, tickTime(i), 3, map[string]float64{"rps": float64(100 + i%17), "cpu": 0.5, "p95_ms": 80})})
			}
		}
		if err := bb.PublishAll(context.Background(), outs); err != nil {
			b.Fatal(err)
		}
		svc, err := New(DefaultConfig(), service.Deps{Bus: bb, Log: log, Ready: service.NewReady()})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		b.StartTimer()
		began := time.Now()
		done := make(chan error, 1)
		go func() { done <- svc.Run(ctx) }()
		var subjects []string
		for _, tier := range tiers {
			subjects = append(subjects, proto.AnomalySubject(bb.Prefix(), "shop", tier))
		}
		natstest.WaitEventTime(b, bb, proto.StreamName(bb.Prefix(), proto.KindAnomaly), subjects, tickTime(ticks-1), 5*time.Minute)
		b.ReportMetric(float64(ticks*len(tiers))/time.Since(began).Seconds(), "ticks/s")
		b.StopTimer()
		cancel()
		<-done
		_ = bb.Close(5 * time.Second)
	}
}
