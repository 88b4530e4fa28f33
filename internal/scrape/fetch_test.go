package scrape_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headroomhq/headroom/internal/scrape"
)

// app is an instrumented application: a client_golang registry served over
// real HTTP. Restart swaps in a fresh registry, as a process restart would.
type app struct {
	srv     *httptest.Server
	handler atomic.Value // http.Handler
	reqs    *prometheus.CounterVec
	lat     prometheus.Histogram
}

func newApp(t *testing.T) *app {
	a := &app{}
	a.restart()
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) restart() {
	reg := prometheus.NewRegistry()
	a.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"code"})
	a.lat = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.", Buckets: []float64{0.01, 0.05, 0.1, 0.5}})
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "inflight_requests", Help: "In flight."})
	inflight.Set(7)
	reg.MustRegister(a.reqs, a.lat, inflight)
	a.handler.Store(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

// TestFetchClientGolang scrapes real client_golang registries over HTTP:
// rates, a histogram quantile, a gauge, a counter reset and a dead target.
func TestFetchClientGolang(t *testing.T) {
	m := mustMapping(t,
		scrape.Rule{Name: "rps", Series: "http_requests_total", Kind: scrape.KindCounter},
		scrape.Rule{Name: "error_rate_rps", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"code": "5.."}},
		scrape.Rule{Name: "latency_p95_ms", Series: "http_request_duration_seconds_bucket", Kind: scrape.KindHistogram, Quantile: 0.95, Scale: 1000},
		scrape.Rule{Name: "inflight", Series: "inflight_requests", Kind: scrape.KindGauge, Agg: scrape.AggSum},
	)
	a, b := newApp(t), newApp(t)
	var ta, tb scrape.Target
	ctx := context.Background()
	client := &http.Client{Timeout: 2 * time.Second}
	round := func(at time.Time, targets ...*app) map[string]float64 {
		t.Helper()
		var parts [][]scrape.Part
		for _, x := range targets {
			fams, err := scrape.Fetch(ctx, client, x.srv.URL+"/metrics")
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.Select(at, fams)
			if err != nil {
				t.Fatal(err)
			}
			tr := &ta
			if x == b {
				tr = &tb
			}
			parts = append(parts, tr.Observe(m, s))
		}
		v, _, _, _ := m.Combine(parts)
		return v
	}
	a.reqs.WithLabelValues("200").Add(100)
	b.reqs.WithLabelValues("200").Add(100)
	if v := round(t0, a, b); v["inflight"] != 14 || len(v) != 1 {
		t.Fatalf("first round %v: want only the gauge sum 14", v)
	}
	// 15 s: a serves 300 (30 failing), b 150; a's latencies: 90 fast, 10 slow.
	a.reqs.WithLabelValues("200").Add(270)
	a.reqs.WithLabelValues("500").Add(30)
	b.reqs.WithLabelValues("200").Add(150)
	for i := range 100 {
		if i < 90 {
			a.lat.Observe(0.005)
		} else {
			a.lat.Observe(0.3)
		}
	}
	v := round(t0.Add(15*time.Second), a, b)
	if want := 450.0 / 15; math.Abs(v["rps"]-want) > 1e-9 {
		t.Fatalf("rps %v, want %v", v["rps"], want)
	}
	if want := 2.0; math.Abs(v["error_rate_rps"]-want) > 1e-9 {
		t.Fatalf("5xx rps %v, want %v", v["error_rate_rps"], want)
	}
	// Rank 95 of 100 lies in (0.1, 0.5] holding the last 10: 0.1 + 0.4·5/10.
	if want := 300.0; math.Abs(v["latency_p95_ms"]-want) > 1e-9 {
		t.Fatalf("p95 %v ms, want %v", v["latency_p95_ms"], want)
	}
	// b restarts and serves 60 more: its counter reads 60, below 250.
	b.restart()
	b.reqs.WithLabelValues("200").Add(60)
	a.reqs.WithLabelValues("200").Add(30)
	v = round(t0.Add(30*time.Second), a, b)
	if want := 90.0 / 15; math.Abs(v["rps"]-want) > 1e-9 {
		t.Fatalf("rps across a reset %v, want %v", v["rps"], want)
	}
	if tb.Resets == 0 {
		t.Fatal("reset not counted")
	}
	// A dead target fails with an error naming it.
	url := b.srv.URL
	b.srv.Close()
	if _, err := scrape.Fetch(ctx, client, url+"/metrics"); err == nil {
		t.Fatal("dead target scraped")
	}
}
