package collector

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestSimSurvivesNATSRestart kills the NATS server twice while the simulated
// shop publishes (once during the backfill, once live) and restarts it on
// the same port and store. Every tick must end up in METRICS exactly once:
// each failed publish is retried with its Nats-Msg-Id until stored, and the
// stream drops the retries of ticks it had stored before dying.
func TestSimSurvivesNATSRestart(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.Start(t, dir, -1)
	port := srv.Addr().(*net.TCPAddr).Port

	bc := bus.DefaultConfig()
	bc.URL, bc.Name = srv.ClientURL(), "collector"
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	b, err := bus.Connect(context.Background(), bc, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}

	const (
		backfillTicks = 240 // 4h at one minute
		liveTicks     = 400
	)
	cfg := DefaultConfig()
	cfg.Lockstep, cfg.Speed, cfg.Ticks = false, 0, liveTicks
	cfg.Backfill, cfg.BackfillTick = backfillTicks*time.Minute, time.Minute
	cfg.Start = t0
	svc, err := New(cfg, service.Deps{Bus: b, Log: log, Reg: prometheus.NewRegistry(), Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	tiers := len(svc.sources[0].(*simSource).model.Config().TierNames())
	want := (backfillTicks + liveTicks) * tiers

	// A plain subscriber counts ticks as they reach the server and says
	// when to kill it: mid-backfill, then mid-live.
	killAt := []int64{int64(backfillTicks * tiers / 2), int64(backfillTicks*tiers + liveTicks*tiers/2)}
	var seen atomic.Int64
	kill := make(chan int, len(killAt))
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if _, err := nc.Subscribe(proto.Filter(b.Prefix(), proto.KindMetrics), func(*nats.Msg) {
		n := seen.Add(1)
		for i, at := range killAt {
			if n == at {
				kill <- i
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	for range killAt {
		select {
		case i := <-kill:
			srv.Shutdown()
			srv.WaitForShutdown()
			t.Logf("server killed after %d ticks seen (kill %d)", seen.Load(), i+1)
			srv = natstest.Start(t, dir, port)
		case err := <-done:
			t.Fatalf("collector stopped before the kill: %v", err)
		case <-time.After(60 * time.Second):
			t.Fatalf("only %d ticks seen in 60s", seen.Load())
		}
	}

	h := &harness{svc: svc, bus: b}
	natstest.Eventually(t, 60*time.Second, func() error {
		if got := lastTick(t, b); !got.Equal(t0.Add((liveTicks - 1) * cfg.Tick)) {
			return fmt.Errorf("last tick at %s", got)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := h.stored(t)
	type key struct {
		tier string
		ts   int64
	}
	count := map[key]int{}
	for _, m := range got {
		count[key{m.Tier, m.TS}]++
	}
	var dup int
	for k, n := range count {
		if n > 1 {
			dup += n - 1
			t.Errorf("tick %s %s stored %d times", k.tier, proto.Time(k.ts).Format(time.RFC3339), n)
		}
	}
	lost := want - len(count)
	t.Logf("ticks: want %d, stored %d distinct, %d lost, %d duplicated", want, len(count), lost, dup)
	if lost != 0 || dup != 0 {
		t.Fatalf("%d ticks lost, %d duplicated over two NATS restarts", lost, dup)
	}
}

// lastTick is the event time of the last tick stored in METRICS.
func lastTick(t *testing.T, b *bus.Bus) time.Time {
	t.Helper()
	last, err := b.LastEventTimes(context.Background(), proto.KindMetrics, proto.Filter(b.Prefix(), proto.KindMetrics))
	if err != nil {
		return time.Time{}
	}
	var at time.Time
	for _, ts := range last {
		if ts.After(at) {
			at = ts
		}
	}
	return at
}
