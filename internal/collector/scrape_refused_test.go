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
