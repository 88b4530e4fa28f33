package collector

import (
	"context"
	"testing"

	"github.com/headroomhq/headroom/internal/metricstest"
)

// TestScrapeNonFiniteCounted scrapes a target whose selected series hold
// NaN, +Inf and -Inf values: they are left out of the tick, whose value
// comes from the finite series alone, and counted per target by reason on
// the service's registry rather than skipped silently.
func TestScrapeNonFiniteCounted(t *testing.T) {
	const body = "# TYPE inflight gauge\n" +
		"inflight{h=\"a\"} NaN\ninflight{h=\"b\"} +Inf\ninflight{h=\"c\"} -Inf\ninflight{h=\"d\"} 3\ninflight{h=\"e\"} 4\n" +
		"# TYPE queue_depth untyped\nqueue_depth NaN\n"
	url := exposition(t, func() string { return body })
	h := newHarness(t, DefaultConfig(), scrapedApp("{interval: 15s, timeout: 2s}", url,
		"{name: inflight, series: inflight, kind: gauge, agg: sum}", "{name: queue, series: queue_depth, kind: gauge}"))
	if err := h.svc.sources[0].(*scrapeSource).round(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	got := h.stored(t)
	if len(got) != 1 || got[0].Values["inflight"] != 7 {
		t.Fatalf("ticks %v, want one with inflight 7 (the finite series' sum)", got)
	}
	if _, ok := got[0].Values["queue"]; ok {
		t.Fatalf("a NaN series gave a value: %v", got[0].Values)
	}
	for reason, want := range map[string]float64{"nan": 2, "inf": 2} {
		if v, _ := metricstest.Sum(t, h.reg, "headroom_scrape_nonfinite_samples_total", "app", "api", "tier", "web", "target", url, "reason", reason); v != want {
			t.Errorf("headroom_scrape_nonfinite_samples_total{reason=%q} = %v, want %v", reason, v, want)
		}
	}
}
