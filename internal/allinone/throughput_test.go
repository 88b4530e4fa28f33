package allinone_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

func benchBus(b *testing.B, url, name string) *bus.Bus {
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, name
	cfg.Streams.Duplicates = time.Minute
	bb, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bb.Close(5 * time.Second) })
	return bb
}

// BenchmarkPipelineThroughput pushes metric ticks (7 values each, as the
// collector publishes them) into METRICS while the forecaster and the anomaly
// service consume them, and measures ticks/s until the anomaly service has
// scored the last one.
func BenchmarkPipelineThroughput(b *testing.B) {
	url := natstest.RunJetStream(b)
	pub := benchBus(b, url, "collector")
	if err := pub.EnsureStreams(context.Background()); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := service.NewReady()
	fc, err := forecaster.New(forecaster.DefaultConfig(), service.Deps{Bus: benchBus(b, url, "forecaster"), Log: zerolog.Nop(), Ready: ready})
	if err != nil {
		b.Fatal(err)
	}
	an, err := detector.New(detector.DefaultConfig(), service.Deps{Bus: benchBus(b, url, "anomaly"), Log: zerolog.Nop(), Ready: ready})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { _ = fc.Run(ctx); done <- struct{}{} }()
	go func() { _ = an.Run(ctx); done <- struct{}{} }()
	natstest.Eventually(b, 10*time.Second, ready.Err)

	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tiers := []string{"web", "cache", "db"}
	values := func(i int) proto.Floats {
		x := float64(i % 1000)
		return proto.Floats{"rps": 100 + x, "cpu": 0.5, "mem": 0.4, "latency_p50_ms": 20, "latency_p95_ms": 60, "latency_p99_ms": 90, "error_rate": 0.001}
	}
	anomalies, err := pub.Stream(context.Background(), proto.KindAnomaly)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		tier := tiers[i%3]
		ts := t0.Add(time.Duration(i/3) * 15 * time.Second)
		m := proto.NewMetrics("bench", tier, ts, 3, values(i))
		if _, err := pub.PublishAsync(bus.Out{Subject: proto.MetricsSubject("apm", "bench", tier), Msg: m}); err != nil {
			b.Fatal(err)
		}
	}
	natstest.Eventually(b, 5*time.Minute, func() error {
		info, err := anomalies.Info(context.Background())
		if err != nil {
			return err
		}
		if info.State.Msgs < uint64(b.N) {
			return fmt.Errorf("%d of %d scored", info.State.Msgs, b.N)
		}
		return nil
	})
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/el, "ticks/s")
	b.ReportMetric(float64(7*b.N)/el, "samples/s")
	cancel()
	<-done
	<-done
}

// BenchmarkRawAsyncPublish is the yardstick: JetStream async publishes of
// payloads the size of a tick into a file stream, on the same server setup.
func BenchmarkRawAsyncPublish(b *testing.B) {
	url := natstest.RunJetStream(b)
	pub := benchBus(b, url, "raw")
	if err := pub.EnsureStreams(context.Background()); err != nil {
		b.Fatal(err)
	}
	// Raw access on a connection of its own: the bus has no raw publish.
	js := natstest.JetStream(b, pub)
	m := proto.NewMetrics("bench", "web", time.Now(), 3, proto.Floats{"rps": 100, "cpu": 0.5, "mem": 0.4, "latency_p50_ms": 20, "latency_p95_ms": 60, "latency_p99_ms": 90, "error_rate": 0.001})
	data, _ := proto.Encode(m)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := js.PublishAsync("apm.metrics.bench.web", data); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatalf("%d raw publishes not acknowledged in a minute", js.PublishAsyncPending())
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
