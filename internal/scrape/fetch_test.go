package scrape_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestFetchBounds: a target exposing more series than MaxSeries, or a
// series with more labels than MaxLabels, is refused with an error naming
// the target and the bound; one at the bounds is read.
func TestFetchBounds(t *testing.T) {
	series := func(n int) string {
		var b strings.Builder
		b.WriteString("# TYPE up gauge\n")
		for i := range n {
			fmt.Fprintf(&b, "up{i=\"%d\"} 1\n", i)
		}
		return b.String()
	}
	labels := func(n int) string {
		var b strings.Builder
		b.WriteString("# TYPE up gauge\nup{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "l%d=\"x\"", i)
		}
		b.WriteString("} 1\n")
		return b.String()
	}
	for _, c := range []struct {
		name, body, want string // want "": read
	}{
		{"series at the bound", series(scrape.MaxSeries), ""},
		{"series over the bound", series(scrape.MaxSeries + 1), fmt.Sprintf("%d series, more than the %d", scrape.MaxSeries+1, scrape.MaxSeries)},
		{"labels at the bound", labels(scrape.MaxLabels), ""},
		{"labels over the bound", labels(scrape.MaxLabels + 1), fmt.Sprintf("a series of up has %d labels, more than the %d", scrape.MaxLabels+1, scrape.MaxLabels)},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, c.body) }))
			defer srv.Close()
			url := srv.URL + "/metrics"
			_, err := scrape.Fetch(context.Background(), http.DefaultClient, url)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), url) || !errors.Is(err, scrape.ErrRefused)):
				t.Fatalf("err %v, want it to name %s, contain %q and match scrape.ErrRefused", err, url, c.want)
			}
		})
	}
}

// TestFetchBodyTooLarge: an exposition of MaxBody bytes is read; one byte
// more is refused with an error naming the target and the cap.
func TestFetchBodyTooLarge(t *testing.T) {
	line := "# " + strings.Repeat("x", 1021) + "\n" // a 1 KiB comment line
	for _, c := range []struct {
		name string
		size int
		want string // "": read
	}{
		{"at the cap", scrape.MaxBody, ""},
		{"over the cap", scrape.MaxBody + 1, fmt.Sprintf("exposition larger than %d bytes", scrape.MaxBody)},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				body := "# TYPE up gauge\nup 1\n"
				left := c.size - len(body)
				fmt.Fprint(w, body)
				for ; left >= len(line); left -= len(line) {
					fmt.Fprint(w, line)
				}
				fmt.Fprint(w, strings.Repeat("\n", left))
			}))
			defer srv.Close()
			url := srv.URL + "/metrics"
			fams, err := scrape.Fetch(context.Background(), http.DefaultClient, url)
			switch {
			case c.want == "" && (err != nil || fams["up"] == nil):
				t.Fatalf("refused or lost the series: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), url) || !errors.Is(err, scrape.ErrRefused)):
				t.Fatalf("err %v, want it to name %s, contain %q and match scrape.ErrRefused", err, url, c.want)
			}
		})
	}
}

// TestFetchErrorHidesCredentials: a target whose URL carries credentials
// (user:password@, or a token as the user) is named in Fetch's errors
// without them, whatever failed: the collector logs them. net/http hides
// a password as *** but shows the user, a token too.
func TestFetchErrorHidesCredentials(t *testing.T) {
	const secret = "hunter2-do-not-print"
	status := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer status.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "not { an exposition\n") }))
	defer garbage.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there now
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	for _, target := range []string{
		"http://ops:" + secret + "@" + host(status) + "/metrics",
		"http://ops:" + secret + "@" + host(garbage) + "/metrics",
		"http://" + secret + "@" + host(closed) + "/metrics",
		"http://ops:" + secret + "@" + host(closed) + "/metrics",
		"http://ops:" + secret + "@" + host(status) + ":bad/metrics",
	} {
		_, err := scrape.Fetch(context.Background(), http.DefaultClient, target)
		if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "ops:") || !strings.Contains(err.Error(), "scrape http://REDACTED@") {
			t.Errorf("Fetch(%s): %v, want an error naming the target without its credentials", target, err)
		}
	}
}
