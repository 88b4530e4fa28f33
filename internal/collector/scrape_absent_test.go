package collector

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestScrapeAbsentSeriesFlagged scrapes a target that does not expose the
// series the tier's load rule names (a misspelt series looks the same as a
// counter that has counted nothing yet). The rule shows nothing, never
// seen from the target, and the target's headroom_scrape_series_absent
// gauge says so while it lasts; once the series appears the gauge drops to
// 0 and the series counts whole, born since the previous round.
func TestScrapeAbsentSeriesFlagged(t *testing.T) {
	var present atomic.Bool
	url := exposition(t, func() string {
		body := "# TYPE cpu gauge\ncpu 0.5\n"
		if present.Load() {
			body += "# TYPE http_requests_total counter\nhttp_requests_total 150\n"
		}
		return body
	})
	h := newHarness(t, DefaultConfig(), scrapedApp("{interval: 15s, timeout: 2s}", url,
		"{name: rps, series: http_requests_total, kind: counter}", "{name: cpu, series: cpu, kind: gauge}"))
	src := h.svc.sources[0].(*scrapeSource)
	absent := func(series string) float64 {
		v, _ := metricstest.Sum(t, h.reg, "headroom_scrape_series_absent", "app", "api", "tier", "web", "target", url, "series", series)
		return v
	}
	round := func(i int) {
		t.Helper()
		if err := src.round(context.Background(), t0.Add(time.Duration(i)*15*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	round(0)
	round(1)
	got := h.stored(t)
	if _, ok := got[len(got)-1].Values["rps"]; len(got) != 2 || ok {
		t.Fatalf("ticks %v, want two, without rps from the counter never exposed", got)
	}
	if v := absent("http_requests_total"); v != 1 {
		t.Fatalf("headroom_scrape_series_absent{series=http_requests_total} = %v, want 1", v)
	}
	if v := absent("cpu"); v != 0 {
		t.Fatalf("headroom_scrape_series_absent{series=cpu} = %v, want 0 (exposed)", v)
	}
	present.Store(true)
	round(2)
	if v := absent("http_requests_total"); v != 0 {
		t.Fatalf("headroom_scrape_series_absent{series=http_requests_total} = %v once exposed, want 0", v)
	}
	if got := h.stored(t); len(got) != 3 || got[2].Values["rps"] != 10 {
		t.Fatalf("ticks %v, want a third with rps 10 (150 born in 15 s)", got)
	}
}

// TestScrapeAbsentForgottenOnHandOver: a member whose scrape source stops
// (the app handed to another member) drops its absent-series gauges. Kept,
// its 1 would hold HeadroomScrapeSeriesAbsent, which takes the max over
// the members, after the new owner has found the series.
func TestScrapeAbsentForgottenOnHandOver(t *testing.T) {
	url := exposition(t, func() string { return "# TYPE cpu gauge\ncpu 0.5\n" })
	h := newHarness(t, DefaultConfig(), scrapedApp("{interval: 15s, timeout: 2s}", url,
		"{name: rps, series: http_requests_total, kind: counter}"))
	src := h.svc.sources[0].(*scrapeSource)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.run(ctx, nil, func() {}) }()
	natstest.Eventually(t, 10*time.Second, func() error {
		if v, ok := metricstest.Sum(t, h.reg, "headroom_scrape_series_absent", "app", "api", "series", "http_requests_total"); !ok || v != 1 {
			return fmt.Errorf("absent gauge %v (found %v), want 1", v, ok)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, ok := metricstest.Sum(t, h.reg, "headroom_scrape_series_absent", "app", "api"); ok {
		t.Fatalf("absent gauge %v kept after the source stopped, want it dropped", v)
	}
	if len(src.tiers[0].targets[0].absent) != 0 {
		t.Fatalf("target still remembers %v absent: the next owner period would not warn", src.tiers[0].targets[0].absent)
	}
}

// TestScrapeTargetUpForgottenOnHandOver: a member whose scrape source stops
// (the app handed to another member) drops its targets' up gauges. Kept,
// the 0 of a target that was down when it let go would hold
// HeadroomScrapeTargetDown, which takes the min over the members, after
// the new owner scrapes the target again; and a kept 1 would speak for a
// target this member no longer scrapes.
func TestScrapeTargetUpForgottenOnHandOver(t *testing.T) {
	live := exposition(t, func() string { return "# TYPE cpu gauge\ncpu 0.5\n" })
	const dead = "http://127.0.0.1:1/metrics" // nothing listens on port 1
	h := newHarness(t, DefaultConfig(), fmt.Sprintf("apps:\n  api:\n    source: scrape\n    scrape: {interval: 15s, timeout: 2s}\n    tiers:\n      - name: web\n        scrape:\n          targets: [%q, %q]\n          metrics: [{name: cpu, series: cpu, kind: gauge}]\n", live, dead))
	src := h.svc.sources[0].(*scrapeSource)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.run(ctx, nil, func() {}) }()
	natstest.Eventually(t, 10*time.Second, func() error {
		up := metricstest.ByLabel(t, h.reg, "headroom_scrape_target_up", "target")
		if v, ok := up[dead]; up[live] != 1 || !ok || v != 0 {
			return fmt.Errorf("up gauges %v, want the live target 1 and the dead one 0", up)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if up := metricstest.ByLabel(t, h.reg, "headroom_scrape_target_up", "target"); len(up) != 0 {
		t.Fatalf("up gauges %v kept after the source stopped, want them dropped", up)
	}
	if tg := src.tiers[0].targets[1]; tg.down {
		t.Fatal("the dead target is still remembered down: the next owner period would not warn of it")
	}
}
