package collector

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

type harness struct {
	svc *Service
	bus *bus.Bus
	reg *prometheus.Registry
	mux *http.ServeMux
}

func newHarness(t *testing.T, cfg Config, yaml string) *harness {
	t.Helper()
	if yaml != "" {
		f, err := config.Parse("test.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		cfg.File = f
	}
	bc := bus.DefaultConfig()
	bc.URL, bc.Name = natstest.RunJetStream(t), "collector"
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	b, err := bus.Connect(context.Background(), bc, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &harness{bus: b, reg: prometheus.NewRegistry(), mux: http.NewServeMux()}
	h.svc, err = New(cfg, service.Deps{Bus: b, Log: log, Reg: h.reg, Ready: service.NewReady(), Mux: h.mux})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// runUntil runs the collector until at least n ticks are stored, stops it
// and returns what is stored.
func (h *harness) runUntil(t *testing.T, ctx context.Context, n int) []*proto.Metrics {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx) }()
	natstest.Eventually(t, 30*time.Second, func() error {
		if got := len(h.stored(t)); got < n {
			return fmt.Errorf("%d ticks of %d", got, n)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return h.stored(t)
}

// stored returns every tick in METRICS, in stream order.
func (h *harness) stored(t *testing.T) []*proto.Metrics {
	t.Helper()
	var out []*proto.Metrics
	for _, data := range natstest.Payloads(t, h.bus, proto.StreamName(h.bus.Prefix(), proto.KindMetrics), proto.Filter(h.bus.Prefix(), proto.KindMetrics)) {
		var m proto.Metrics
		if err := proto.Decode(data, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, &m)
	}
	return out
}

// target is an instrumented process: a client_golang registry over HTTP.
type target struct {
	srv  *httptest.Server
	h    atomic.Value
	reqs prometheus.Counter
	lat  prometheus.Histogram
}

func newTarget(t *testing.T) *target {
	tg := &target{}
	tg.restart()
	tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tg.h.Load().(http.Handler).ServeHTTP(w, r) }))
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *target) restart() {
	reg := prometheus.NewRegistry()
	tg.reqs = prometheus.NewCounter(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."})
	tg.lat = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.", Buckets: []float64{0.01, 0.1, 1}})
	reg.MustRegister(tg.reqs, tg.lat)
	tg.h.Store(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

// TestScrapeSource scrapes two live targets and a dead one through the
// collector: ticks carry the summed rate, the p50 and two replicas (the
// answering targets); a counter reset keeps the rate right; the dead target
// is marked down, counted and retried every round, and publishes nothing.
func TestScrapeSource(t *testing.T) {
	a, b := newTarget(t), newTarget(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/metrics"
	dead.Close()
	yaml := fmt.Sprintf(`
apps:
  api:
    source: scrape
    scrape: {interval: 15s, timeout: 2s, retries: 2}
    tiers:
      - name: web
        scrape:
          targets: [%q, %q, %q]
          metrics:
            - {name: rps, series: http_requests_total, kind: counter}
            - {name: latency_p50_ms, series: http_request_duration_seconds, kind: histogram, quantile: 0.5, scale: 1000}
`, a.srv.URL+"/metrics", b.srv.URL+"/metrics", deadURL)
	h := newHarness(t, DefaultConfig(), yaml)
	src := h.svc.sources[0].(*scrapeSource)
	ctx := context.Background()
	if err := src.round(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if n := len(h.stored(t)); n != 0 {
		t.Fatalf("%d ticks after the first round, want 0 (rates need two samples)", n)
	}
	a.reqs.Add(300)
	b.reqs.Add(150)
	for range 10 {
		a.lat.Observe(0.05)
	}
	if err := src.round(ctx, t0.Add(15*time.Second)); err != nil {
		t.Fatal(err)
	}
	b.restart()
	b.reqs.Add(30)
	a.reqs.Add(0)
	if err := src.round(ctx, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := h.stored(t)
	if len(got) != 2 {
		t.Fatalf("%d ticks, want 2", len(got))
	}
	m := got[0]
	if m.App != "api" || m.Tier != "web" || m.Source != "scrape" || m.Replicas != 2 || !m.EventTime().Equal(t0.Add(15*time.Second)) {
		t.Fatalf("tick %+v", m)
	}
	if m.Values["rps"] != 30 || math.Abs(m.Values["latency_p50_ms"]-55) > 1e-9 {
		t.Fatalf("values %v: want rps 30, p50 55 ms", m.Values)
	}
	if got[1].Values["rps"] != 2 {
		t.Fatalf("rps across b's restart %v, want 2", got[1].Values["rps"])
	}
	if _, ok := got[1].Values["latency_p50_ms"]; ok {
		t.Fatalf("p50 without observations: %v", got[1].Values)
	}
	if v := value(t, h.svc.scrape.up.WithLabelValues("api", "web", deadURL)); v != 0 {
		t.Fatalf("dead target up=%v", v)
	}
	if v := value(t, h.svc.scrape.up.WithLabelValues("api", "web", a.srv.URL+"/metrics")); v != 1 {
		t.Fatalf("live target up=%v", v)
	}
	if v := value(t, h.svc.scrape.failures.WithLabelValues("api", "web", deadURL)); v != 3 {
		t.Fatalf("dead target failures %v, want 3 rounds", v)
	}
	if v := value(t, h.svc.scrape.resets.WithLabelValues("api", "web", b.srv.URL+"/metrics")); v != 1 {
		t.Fatalf("resets %v, want 1", v)
	}
}

// TestScrapeTimeout bounds a hanging target by the timeout.
func TestScrapeTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	yaml := fmt.Sprintf("apps:\n  api:\n    source: scrape\n    scrape: {interval: 15s, timeout: 200ms}\n    tiers:\n      - name: web\n        scrape:\n          targets: [%q]\n          metrics: [{name: rps, series: x, kind: counter}]\n", slow.URL)
	h := newHarness(t, DefaultConfig(), yaml)
	start := time.Now()
	if err := h.svc.sources[0].(*scrapeSource).round(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("round took %v with a 200ms timeout", d)
	}
	if v := value(t, h.svc.scrape.failures.WithLabelValues("api", "web", slow.URL)); v != 1 {
		t.Fatalf("failures %v, want 1", v)
	}
}

// TestTraceSource replays a four-hour slice of the NASA trace as the shop's
// web demand as fast as possible: one tick per row per tier, web rps equal
// to the scaled trace, the lower tiers driven by it, event times shifted.
func TestTraceSource(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lockstep = false
	h := newHarness(t, cfg, "apps:\n  nasa:\n    source: trace\n    trace: {file: testdata/nasa_4h.csv, scale: 20, speed: 0, start: 2026-03-02T00:00:00Z}\n")
	const rows = 240
	got := h.runUntil(t, context.Background(), 3*rows)
	if len(got) != 3*rows {
		t.Fatalf("%d ticks, want %d", len(got), 3*rows)
	}
	first := got[0]
	if first.Source != "trace" || first.App != "nasa" || first.Tier != "web" || !first.EventTime().Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("first tick %+v", first)
	}
	if want := 0.7 * 20; first.Values["rps"] != want {
		t.Fatalf("web rps %v, want %v (0.7 req/s × 20)", first.Values["rps"], want)
	}
	if first.Replicas != 1 {
		t.Fatalf("web starts with %d replicas, want 1 for 14 req/s (sized to the trace, not the model)", first.Replicas)
	}
	for _, m := range got {
		if m.Tier == "cache" && !(m.Values["rps"] > 0) {
			t.Fatalf("cache tick without load: %+v", m)
		}
	}
	if last := got[len(got)-1]; !last.EventTime().Equal(time.Date(2026, 3, 2, 3, 59, 0, 0, time.UTC)) {
		t.Fatalf("last tick at %s", last.EventTime())
	}
}

// TestPushOnCollector posts to the collector's own mux.
func TestPushOnCollector(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Push.Token = "tok-0123456789abcdef"
	cfg.Push.AllowedHosts = []string{"example.com"} // httptest.NewRequest's Host
	h := newHarness(t, cfg, "")
	h.svc.Now = func() time.Time { return t0 }
	body := `[{"app":"api","tier":"web","time":"2026-01-02T03:04:00Z","replicas":3,"values":{"rps":120.5}},
	          {"app":"api","tier":"db","time":"2026-01-02T03:04:00Z","replicas":1,"values":{"rps":12}}]`
	// A Host not allowed is refused even with the token (DNS rebinding).
	req := httptest.NewRequest(http.MethodPost, ingest.Path, strings.NewReader(body))
	req.Host = "evil.example"
	req.Header.Set("Authorization", "Bearer tok-0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || len(h.stored(t)) != 0 {
		t.Fatalf("foreign Host: status %d, %d stored: %s", rec.Code, len(h.stored(t)), rec.Body)
	}
	req = httptest.NewRequest(http.MethodPost, ingest.Path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok-0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := h.stored(t)
	if len(got) != 2 || got[0].Values["rps"] != 120.5 || got[1].Tier != "db" || got[0].Source != "push" {
		t.Fatalf("stored %+v", got)
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, ingest.Path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	h.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("without token: %d", rec.Code)
	}
}

// TestStandalonePushHosts: -push.allowed-hosts wins; without it the
// listen address's host is allowed when it names one, and nothing is added
// for an address on every interface.
func TestStandalonePushHosts(t *testing.T) {
	for _, c := range []struct {
		list, listen string
		want         []string
	}{
		{"", "127.0.0.1:8082", []string{"127.0.0.1"}},
		{"", "10.0.0.5:8082", []string{"10.0.0.5"}},
		{"", "collector.internal:8082", []string{"collector.internal"}},
		{"", "[::1]:8082", []string{"::1"}},
		{"", ":8082", nil},
		{"", "0.0.0.0:8082", nil},
		{"", "[::]:8082", nil},
		{"", "", nil},
		{"a.example, b.example:80", "10.0.0.5:8082", []string{"a.example", "b.example:80"}},
	} {
		if got := StandalonePushHosts(c.list, c.listen); !slices.Equal(got, c.want) {
			t.Errorf("StandalonePushHosts(%q, %q) = %q, want %q", c.list, c.listen, got, c.want)
		}
	}
}

// value reads a single counter or gauge.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Gauge != nil {
		return d.GetGauge().GetValue()
	}
	return d.GetCounter().GetValue()
}

// exposition serves body's answer as a /metrics target for the test and
// returns its URL.
func exposition(t *testing.T, body func() string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body()) }))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// scrapedApp is the configuration of one scraped app, api, whose web tier
// reads url with scrape's settings (a YAML flow map) and the given rules
// (YAML flow maps).
func scrapedApp(scrape, url string, rules ...string) string {
	y := fmt.Sprintf("apps:\n  api:\n    source: scrape\n    scrape: %s\n    tiers:\n      - name: web\n        scrape:\n          targets: [%q]\n          metrics:\n", scrape, url)
	for _, r := range rules {
		y += "            - " + r + "\n"
	}
	return y
}
