package gateway_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// loadApps is how many apps the load publisher spreads its ticks over.
const loadApps = 20

// publishBurst publishes n metrics ticks spread over loadApps apps × 3 tiers
// as fast as JetStream acknowledges them, and returns the rate.
func publishBurst(tb testing.TB, b *bus.Bus, n, offset int) float64 {
	tb.Helper()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	for i := range n {
		if b.PendingPublishes() >= 3072 {
			// Keep the window of unacknowledged publishes under the
			// client's limit: wait for the acknowledgements to catch up.
			if err := b.Flush(ctx); err != nil {
				tb.Fatal(err)
			}
		}
		app := fmt.Sprintf("app%02d", i%loadApps)
		tier := shopTiers[(i/loadApps)%3]
		ts := t0.Add(time.Duration(offset+i) * time.Millisecond)
		m := proto.NewMetrics(app, tier, ts, 4, proto.Floats{"rps": float64(i), "cpu": 0.5, "latency_p95_ms": 80, "latency_p99_ms": 120, "error_rate": 0.001, "mem": 0.4})
		if _, err := b.PublishAsync(bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: m}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// publishPaced offers n ticks at rate msg/s (async, paced by a ticker) and
// returns the achieved rate (n over the time until the last acknowledgement)
// and the median and 99th percentile acknowledgement latency of a sample.
func publishPaced(tb testing.TB, b *bus.Bus, n, offset int, rate float64) (achieved float64, p50, p99 time.Duration) {
	tb.Helper()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	const tick = 5 * time.Millisecond
	tk := time.NewTicker(tick)
	defer tk.Stop()
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; {
		<-tk.C
		// Catch up to the offered rate even when ticks were missed.
		due := min(n, int(rate*time.Since(start).Seconds())+1)
		for ; i < due; i++ {
			app := fmt.Sprintf("app%02d", i%loadApps)
			tier := shopTiers[(i/loadApps)%3]
			m := proto.NewMetrics(app, tier, t0.Add(time.Duration(offset+i)*time.Millisecond), 4, proto.Floats{"rps": float64(i), "cpu": 0.5, "latency_p95_ms": 80, "latency_p99_ms": 120, "error_rate": 0.001, "mem": 0.4})
			sent := time.Now()
			f, err := b.PublishAsync(bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: m})
			if err != nil {
				tb.Fatal(err)
			}
			if i%20 == 0 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					select {
					case <-f.Ok():
					case <-f.Err():
						return
					}
					mu.Lock()
					lats = append(lats, time.Since(sent))
					mu.Unlock()
				}()
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	achieved = float64(n) / time.Since(start).Seconds()
	wg.Wait()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	return achieved, lats[len(lats)/2], lats[len(lats)*99/100]
}

// loadClients connects clients to the gateway: the first stuck ones follow
// everything and never read (frozen tabs), the others follow one app each,
// like a dashboard, and read everything. close disconnects them all.
func loadClients(tb testing.TB, srvURL string, clients, stuck int, frames, bytes *atomic.Int64) (closeAll func()) {
	tb.Helper()
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, 0, clients)
	u := "ws" + strings.TrimPrefix(srvURL, "http") + "/ws"
	for i := range clients {
		c, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
		req := gateway.Request{Op: gateway.OpSubscribe, ID: "d", App: fmt.Sprintf("app%02d", i%loadApps)}
		if i < stuck {
			req = gateway.Request{Op: gateway.OpSubscribe, ID: "all", Subjects: []string{"apm.>"}}
		}
		if err := c.WriteJSON(req); err != nil {
			tb.Fatal(err)
		}
		if i < stuck {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, data, err := c.ReadMessage()
				if err != nil {
					return
				}
				frames.Add(1)
				bytes.Add(int64(len(data)))
			}
		}()
	}
	return func() {
		for _, c := range conns {
			_ = c.Close()
		}
		wg.Wait()
	}
}

// TestLoad200Clients measures the publish rate of the pipeline with the
// gateway running and no client, then with 200 WebSocket clients attached
// (190 dashboards each following one app, 10 stuck tabs following
// everything), in alternating rounds so that other load on the machine hits
// both alike. Steady rounds offer 2000 msg/s, a hundred times what the
// all-in-one shop publishes: the achieved rate must drop by at most 5 %.
// A saturation round (no pacing) is reported, not asserted: there the
// in-process clients and the fan-out share the CPU with the publisher. The
// heap must stay bounded and every stuck client must be cut. It runs only
// with HEADROOM_LOAD=1 (about 40 s):
//
//	HEADROOM_LOAD=1 go test -run TestLoad200Clients -v ./internal/gateway
func TestLoad200Clients(t *testing.T) {
	if os.Getenv("HEADROOM_LOAD") != "1" {
		t.Skip("set HEADROOM_LOAD=1 to run the load test")
	}
	const (
		clients = 200
		stuck   = 10
		n       = 15000  // messages per saturation burst
		paced   = 6000   // messages per steady round
		rate    = 2000.0 // offered msg/s in steady rounds
		rounds  = 4
	)
	url := natstest.RunJetStream(t)
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, "load"
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close(5 * time.Second) }()
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, mux, reg, stop := startGateway(t, b, gateway.DefaultConfig())
	defer stop()
	srv := httptestServer(t, mux)

	var peak atomic.Uint64
	sampleDone := make(chan struct{})
	defer close(sampleDone)
	go func() {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-sampleDone:
				return
			case <-tk.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()

	offset := 0
	for range 3 { // warm-up: the first bursts of a fresh server are slow
		publishBurst(t, b, n, offset)
		offset += n
	}
	var frames, bytes atomic.Int64
	connect := func() func() {
		cutBefore := metricValue(t, reg, "headroom_gateway_slow_clients_total")
		closeAll := loadClients(t, srv, clients, stuck, &frames, &bytes)
		natstest.Eventually(t, 10*time.Second, func() error {
			cut := metricValue(t, reg, "headroom_gateway_slow_clients_total") - cutBefore
			if v := metricValue(t, reg, "headroom_gateway_subscriptions"); v+cut != clients {
				return fmt.Errorf("%v subscriptions, %v cut", v, cut)
			}
			return nil
		})
		return func() {
			closeAll()
			natstest.Eventually(t, 10*time.Second, func() error {
				if v := metricValue(t, reg, "headroom_gateway_clients"); v != 0 {
					return fmt.Errorf("%v clients still connected", v)
				}
				return nil
			})
		}
	}
	// Rounds go A B B A (A without clients, B with), so that a drift of the
	// machine's other load weighs on both alike.
	abba := func(cycles int, measure func() float64) (base, with []float64) {
		for range cycles {
			base = append(base, measure())
			disconnect := connect()
			with = append(with, measure(), measure())
			disconnect()
			base = append(base, measure())
		}
		return base, with
	}

	// Steady flow: the pipeline offers rate msg/s (far above what the
	// all-in-one shop publishes).
	var lat0, lat1 []time.Duration
	base, with := abba(rounds/2, func() float64 {
		a, _, p99 := publishPaced(t, b, paced, offset, rate)
		offset += paced
		if metricValue(t, reg, "headroom_gateway_clients") > 0 {
			lat1 = append(lat1, p99)
		} else {
			lat0 = append(lat0, p99)
		}
		return a
	})

	// Saturation: as fast as JetStream acknowledges.
	satBase, satWith := abba(4, func() float64 {
		r := publishBurst(t, b, n, offset)
		offset += n
		return r
	})

	// Stuck clients: keep the flow going until every one of them is cut.
	heapNow := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapInuse) / 1e6
	}
	h0 := heapNow()
	cutBefore := metricValue(t, reg, "headroom_gateway_slow_clients_total")
	disconnect := connect()
	h1 := heapNow()
	for i := 0; metricValue(t, reg, "headroom_gateway_slow_clients_total")-cutBefore < stuck; i++ {
		if i == 10 {
			t.Fatalf("stuck clients not cut after %d messages", i*n)
		}
		publishBurst(t, b, n, offset)
		offset += n
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if v := metricValue(t, reg, "headroom_gateway_clients"); v > clients-stuck {
			return fmt.Errorf("%v clients connected, want at most %d", v, clients-stuck)
		}
		return nil
	})
	kept := metricValue(t, reg, "headroom_gateway_clients")
	h2 := heapNow()
	disconnect()

	med := func(x []float64) float64 {
		s := append([]float64(nil), x...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	medDur := func(x []time.Duration) time.Duration {
		s := append([]time.Duration(nil), x...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2].Round(100 * time.Microsecond)
	}
	b0, b1 := med(base), med(with)
	drop := (b0 - b1) / b0 * 100
	s0, s1 := med(satBase), med(satWith)
	t.Logf("steady flow offered at %.0f msg/s, no clients: achieved median %.0f msg/s (rounds %v), ack p99 median %v", rate, b0, roundAll(base), medDur(lat0))
	t.Logf("steady flow offered at %.0f msg/s, %d clients: achieved median %.0f msg/s (rounds %v), ack p99 median %v; drop %.1f %%", rate, clients, b1, roundAll(with), medDur(lat1), drop)
	t.Logf("saturation, no clients: median %.0f msg/s (rounds %v)", s0, roundAll(satBase))
	t.Logf("saturation, %d clients: median %.0f msg/s (rounds %v); %.1f %% lower (the in-process clients share the CPU)", clients, s1, roundAll(satWith), (s0-s1)/s0*100)
	t.Logf("frames sent %.0f in %d WebSocket messages (%.1f MB) read by the dashboards; slow clients cut %.0f",
		metricValue(t, reg, "headroom_gateway_frames_sent_total"), frames.Load(), float64(bytes.Load())/1e6,
		metricValue(t, reg, "headroom_gateway_slow_clients_total"))
	t.Logf("after saturation %v of %d dashboards still connected (a dashboard starved of CPU may fall behind and be cut too)", kept, clients-stuck)
	t.Logf("live heap after GC: %.1f MB without clients, %.1f MB with %d connected, %.1f MB after bursts of flow with them (gateway queues and write buffers plus the in-process clients)", h0, h1, clients, h2)
	t.Logf("peak heap in use %.1f MB (whole test process: NATS server, publisher, gateway, clients, garbage)", float64(peak.Load())/1e6)
	if h2-h0 > 256 {
		t.Errorf("heap grew by %.0f MB with %d clients, want a bounded growth under 256 MB", h2-h0, clients)
	}
	if drop > 5 {
		t.Errorf("publish rate dropped %.1f %% with %d clients, want at most 5 %%", drop, clients)
	}
	if peak.Load() > 1<<30 {
		t.Errorf("heap peaked at %d bytes", peak.Load())
	}
}

func roundAll(x []float64) []int {
	out := make([]int, len(x))
	for i, v := range x {
		out[i] = int(v)
	}
	return out
}
