package allinone_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

func benchBus(b *testing.B, url, name string) *bus.Bus {
	bb, _ := benchBusReg(b, url, name)
	return bb
}

// benchBusReg is benchBus with the registry its metrics go to.
func benchBusReg(b *testing.B, url, name string) (*bus.Bus, *prometheus.Registry) {
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, name
	cfg.Streams.Duplicates = time.Minute
	reg := prometheus.NewRegistry()
	bb, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), reg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bb.Close(5 * time.Second) })
	return bb, reg
}

// handledBy counts the messages each of a member's partition consumers
// acknowledged, by consumer name, from its bus's metrics.
func handledBy(b *testing.B, reg *prometheus.Registry) map[string]float64 {
	b.Helper()
	return metricstest.ByLabel(b, reg, "headroom_bus_handled_total", "consumer")
}

// BenchmarkPipelineThroughput pushes metric ticks (7 values each, as the
// collector publishes them) into METRICS while the forecaster and the anomaly
// service consume them, and measures ticks/s (and samples/s: 7 per tick)
// from the first publish until every tick is scored (its anomaly message
// stored) and handled by the forecaster (its durables acknowledged it).
//
// apps=1 is one app's three tiers, all in one partition: a second member
// has nothing to share. apps=64 spreads 192 tiers over the partitions, and
// members=2 runs two copies of each service (same process, same machine,
// sharing its cores with the NATS server and the publisher).
func BenchmarkPipelineThroughput(b *testing.B) {
	for _, c := range []struct{ apps, members int }{{1, 1}, {64, 1}, {64, 2}} {
		b.Run(fmt.Sprintf("apps=%d/members=%d", c.apps, c.members), func(b *testing.B) {
			benchPipeline(b, c.apps, c.members)
		})
	}
}

func benchPipeline(b *testing.B, apps, members int) {
	url := natstest.RunJetStream(b)
	pub := benchBus(b, url, "collector")
	if err := pub.EnsureStreams(context.Background()); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{}, 2*members)
	var readies []*service.Ready
	var regs []*prometheus.Registry // each member's bus metrics: forecaster, anomaly, forecaster, …
	for i := range members {
		ready := service.NewReady()
		readies = append(readies, ready)
		fb, freg := benchBusReg(b, url, fmt.Sprintf("forecaster-%d", i))
		ab, areg := benchBusReg(b, url, fmt.Sprintf("anomaly-%d", i))
		regs = append(regs, freg, areg)
		fc, err := forecaster.New(forecaster.DefaultConfig(), service.Deps{Bus: fb, Log: zerolog.Nop(), Ready: ready})
		if err != nil {
			b.Fatal(err)
		}
		an, err := detector.New(detector.DefaultConfig(), service.Deps{Bus: ab, Log: zerolog.Nop(), Ready: ready})
		if err != nil {
			b.Fatal(err)
		}
		go func() { _ = fc.Run(ctx); done <- struct{}{} }()
		go func() { _ = an.Run(ctx); done <- struct{}{} }()
	}
	for _, ready := range readies {
		natstest.Eventually(b, 30*time.Second, ready.Err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tiers := []string{"web", "cache", "db"}
	names := make([]string, apps)
	for a := range names {
		names[a] = "bench"
		if apps > 1 {
			names[a] = fmt.Sprintf("bench%02d", a)
		}
	}
	values := func(i int) proto.Floats {
		x := float64(i % 1000)
		return proto.Floats{"rps": 100 + x, "cpu": 0.5, "mem": 0.4, "latency_p50_ms": 20, "latency_p95_ms": 60, "latency_p99_ms": 90, "error_rate": 0.001}
	}
	series := 3 * apps
	tick := func(i int, ts time.Time) {
		app, tier := names[(i/3)%apps], tiers[i%3]
		m := proto.NewMetrics(app, tier, ts, 3, values(i))
		if _, err := pub.PublishAsync(bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: m}); err != nil {
			b.Fatal(err)
		}
	}
	js := natstest.JetStream(b, pub)
	anomalies, err := js.Stream(context.Background(), proto.StreamName("apm", proto.KindAnomaly))
	if err != nil {
		b.Fatal(err)
	}
	metrics, err := js.Stream(context.Background(), proto.StreamName("apm", proto.KindMetrics))
	if err != nil {
		b.Fatal(err)
	}
	parts, err := pub.Partitions(context.Background(), proto.KindMetrics)
	if err != nil {
		b.Fatal(err)
	}
	// handled waits until want ticks are scored and the forecaster has
	// acknowledged every tick.
	handled := func(want int) error {
		info, err := anomalies.Info(context.Background())
		if err != nil {
			return err
		}
		if info.State.Msgs < uint64(want) {
			return fmt.Errorf("%d of %d scored", info.State.Msgs, want)
		}
		for p := range parts {
			c, err := metrics.Consumer(context.Background(), fmt.Sprintf("forecaster-p%d", p))
			if err != nil {
				return err
			}
			if ci := c.CachedInfo(); ci.NumPending > 0 || ci.NumAckPending > 0 {
				return fmt.Errorf("forecaster partition %d: %d pending, %d unacknowledged", p, ci.NumPending, ci.NumAckPending)
			}
		}
		return nil
	}
	// Warm-up, untimed: rounds of one tick per series until the rounds
	// have been handled with the same split of the partitions, each by one
	// member, for settleFor: the members have settled their shares before
	// the clock starts. Two rounds in a row are not enough: a member whose
	// first ping went out before the other joined owns every partition in
	// its view, but handles only those it pinned first, a split that looks
	// settled until its next ping (every GroupCheck, 2 s by default) hands
	// the others over, and their rebuilds then stalled the timed part for
	// 2 to 10 s. Every member need not handle some: rendezvous hashing
	// gives all 8 partitions to one of 2 members once in 128 (per
	// service), a settled split too; busy-members reports it (the fewest
	// members that handled any of a service's partitions).
	const settleFor = 3 * 2 * time.Second
	var last string
	var since time.Time // when last became the split
	busyMembers := members
	settleBy := time.Now().Add(2 * time.Minute)
	for round := 0; ; round++ {
		if time.Now().After(settleBy) {
			b.Fatalf("members did not settle their shares in 2 minutes (%d rounds): %s", round, last)
		}
		before := make([]map[string]float64, len(regs))
		for i, reg := range regs {
			before[i] = handledBy(b, reg)
		}
		for i := range series {
			tick(i, t0.Add(time.Duration(round)*15*time.Second))
		}
		natstest.Eventually(b, time.Minute, func() error { return handled((round + 1) * series) })
		split, settled, fewest := "", true, members
		for svc := range 2 { // forecaster, anomaly
			owner := map[string]int{}
			busy := 0
			for m := range members {
				i := 2*m + svc
				handles := false
				for name, n := range handledBy(b, regs[i]) {
					if n > before[i][name] {
						if _, dup := owner[name]; dup {
							settled = false
						}
						owner[name] = m
						handles = true
					}
				}
				if handles {
					busy++
				}
			}
			fewest = min(fewest, busy)
			split += fmt.Sprint(owner)
		}
		busyMembers = fewest
		if !settled || split != last {
			last, since = split, time.Now()
			continue
		}
		if time.Since(since) >= settleFor {
			t0 = t0.Add(time.Duration(round+1) * 15 * time.Second) // the timed ticks follow on
			break
		}
	}
	warm := 0
	if info, err := anomalies.Info(context.Background()); err == nil {
		warm = int(info.State.Msgs)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	for i := range b.N {
		tick(i, t0.Add(time.Duration(i/series)*15*time.Second))
	}
	natstest.Eventually(b, 5*time.Minute, func() error { return handled(warm + b.N) })
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/el, "ticks/s")
	b.ReportMetric(float64(7*b.N)/el, "samples/s")
	b.ReportMetric(float64(busyMembers), "busy-members")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/tick")
	b.StopTimer()
	cancel()
	for range 2 * members {
		<-done
	}
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
	start, cpu0 := time.Now(), cpuTime(b)
	for range b.N {
		// The same stall wait as bus.PublishAsync: a loaded machine must
		// slow the publisher down, not fail it.
		if _, err := js.PublishAsync("apm.metrics.bench.web", data, jetstream.WithStallWait(30*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatalf("%d raw publishes not acknowledged in a minute", js.PublishAsyncPending())
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/msg")
}
