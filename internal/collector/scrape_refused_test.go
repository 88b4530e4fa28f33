package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/scrape"
)

// TestScrapeRefusedNotRetried scrapes a target, with two retries allowed,
// whose answer is refused for its size (more sample lines than
// scrape.MaxSamples) or fails as a target that is down (503): the refusal
// is fetched once, since fetching it again gives the same refusal at the
// same cost, while the 503 is retried; both mark the target down once.
func TestScrapeRefusedNotRetried(t *testing.T) {
	var over strings.Builder
	over.WriteString("# TYPE inflight gauge\n")
	for i := range scrape.MaxSamples + 1 {
		fmt.Fprintf(&over, "inflight{i=\"%d\"} 1\n", i)
	}
	for _, c := range []struct {
		name     string
		status   int
		body     string
		requests int64
	}{
		{"refused for its size", http.StatusOK, over.String(), 1},
		{"target down", http.StatusServiceUnavailable, "", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				requests.Add(1)
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			t.Cleanup(srv.Close)
			url := srv.URL + "/metrics"
			h := newHarness(t, DefaultConfig(), scrapedApp("{interval: 15s, timeout: 10s, retries: 2}", url,
				"{name: inflight, series: inflight, kind: gauge, agg: sum}"))
			if err := h.svc.sources[0].(*scrapeSource).round(context.Background(), t0); err != nil {
				t.Fatal(err)
			}
			if n := requests.Load(); n != c.requests {
				t.Errorf("%d requests to the target, want %d", n, c.requests)
			}
			if v, _ := metricstest.Sum(t, h.reg, "headroom_scrape_failures_total", "app", "api", "tier", "web", "target", url); v != 1 {
				t.Errorf("headroom_scrape_failures_total = %v, want 1", v)
			}
		})
	}
}

// TestScrapeMaxSamples: a target of 7,200 histograms of a dozen buckets
// (100,800 sample lines, well within scrape.MaxSeries) is refused under the
// default scrape.max_samples, and read, giving its tick, under an app's
// raised one.
func TestScrapeMaxSamples(t *testing.T) {
	var body strings.Builder
	body.WriteString("# TYPE inflight gauge\ninflight 3\n# TYPE lat histogram\n")
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	for i := range 7200 {
		ls := fmt.Sprintf(`route="/r%d",code="200"`, i)
		for _, le := range les {
			fmt.Fprintf(&body, "lat_bucket{%s,le=%q} 1\n", ls, le)
		}
		fmt.Fprintf(&body, "lat_sum{%s} 1\nlat_count{%s} 1\n", ls, ls)
	}
	for _, c := range []struct {
		name, scrape string
		ticks        int
	}{
		{"default", "{interval: 15s, timeout: 10s}", 0},
		{"raised", "{interval: 15s, timeout: 10s, max_samples: 200000}", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := exposition(t, body.String)
			h := newHarness(t, DefaultConfig(), scrapedApp(c.scrape, url, "{name: inflight, series: inflight, kind: gauge}"))
			if err := h.svc.sources[0].(*scrapeSource).round(context.Background(), t0); err != nil {
				t.Fatal(err)
			}
			if c.ticks == 0 {
				if v, _ := metricstest.Sum(t, h.reg, "headroom_scrape_failures_total", "app", "api", "tier", "web", "target", url); v != 1 {
					t.Fatalf("headroom_scrape_failures_total = %v, want 1: refused under the default max_samples", v)
				}
				return
			}
			if got := h.stored(t); len(got) != 1 || got[0].Values["inflight"] != 3 {
				t.Fatalf("ticks %v, want one with inflight 3", got)
			}
		})
	}
}
