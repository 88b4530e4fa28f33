package collector

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
)

// lockedBuffer is a log sink the scrape goroutines may write to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// unseenRounds scrapes four rounds, published on a real NATS, of a target
// whose answer body gives for the requests counted so far (150 more each
// round), under the tier's rules, and returns the harness, the stored
// ticks (one a round: the gauges make one) and the warnings logged.
func unseenRounds(t *testing.T, body func(reqs int) string, rules ...string) (h *harness, url, log string) {
	t.Helper()
	var mu sync.Mutex
	reqs := 0
	url = exposition(t, func() string {
		mu.Lock()
		defer mu.Unlock()
		reqs += 150
		return body(reqs)
	})
	h = newHarness(t, DefaultConfig(), scrapedApp("{interval: 15s, timeout: 2s}", url, rules...))
	src := h.svc.sources[0].(*scrapeSource)
	var logged lockedBuffer
	src.log = zerolog.New(&logged).Level(zerolog.WarnLevel)
	const rounds = 4
	for i := range rounds {
		if err := src.round(context.Background(), t0.Add(time.Duration(i)*15*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	got := h.stored(t)
	if len(got) != rounds {
		t.Fatalf("%d ticks stored, want %d: the gauges make a tick every round", len(got), rounds)
	}
	for i, m := range got {
		if v, ok := m.Values["rps"]; ok {
			t.Fatalf("tick %d carries rps %v from a rule that never observed a load, want none", i, v)
		}
		if m.Values["cpu"] != 0.5 {
			t.Fatalf("tick %d: values %v, want cpu 0.5", i, m.Values)
		}
	}
	return h, url, logged.String()
}

// TestScrapeMisspeltCounterNoLoad scrapes a target that exposes the tier's
// gauges and the requests it counts, while the tier's rps rule names a
// misspelt series. The series was never seen from the target, so rps was
// never observed: no tick carries it (as 0 or anything else) while the
// ticks still carry the gauges, and the absent gauge and its one warning
// still say what is wrong.
func TestScrapeMisspeltCounterNoLoad(t *testing.T) {
	h, url, log := unseenRounds(t, func(reqs int) string {
		return fmt.Sprintf("# TYPE http_requests_total counter\nhttp_requests_total %d\n# TYPE cpu gauge\ncpu 0.5\n# TYPE up_replicas gauge\nup_replicas 3\n", reqs)
	}, "{name: rps, series: http_request_total, kind: counter}", // misspelt: http_requests_total
		"{name: cpu, series: cpu, kind: gauge}", "{name: replicas, series: up_replicas, kind: gauge}")
	for i, m := range h.stored(t) {
		if m.Replicas != 3 {
			t.Fatalf("tick %d: replicas %d, want 3", i, m.Replicas)
		}
	}
	if v, ok := metricstest.Sum(t, h.reg, "headroom_scrape_series_absent", "app", "api", "tier", "web", "target", url, "series", "http_request_total"); !ok || v != 1 {
		t.Fatalf("headroom_scrape_series_absent{series=http_request_total} = %v (found %v), want 1", v, ok)
	}
	if n := strings.Count(log, `"series":"http_request_total"`); n != 1 {
		t.Fatalf("%d warnings naming the misspelt series, want 1:\n%s", n, log)
	}
}

// TestScrapeUnmatchedCounterNoLoad: the tier's rps rule names the family
// the target exposes but a label value none of its series has (handler
// "/chekout"). The family is there, so the absent-series gauge and its
// warning say nothing; the rule has still never observed a load: no tick
// carries rps (as 0 or anything else), the gauges still make ticks, and
// one warning names the rule.
func TestScrapeUnmatchedCounterNoLoad(t *testing.T) {
	_, _, log := unseenRounds(t, func(reqs int) string {
		return fmt.Sprintf("# TYPE http_requests_total counter\nhttp_requests_total{handler=\"/checkout\"} %d\n# TYPE cpu gauge\ncpu 0.5\n", reqs)
	}, "{name: rps, series: http_requests_total, kind: counter, match: {handler: /chekout}}", // misspelt: /checkout
		"{name: cpu, series: cpu, kind: gauge}")
	if n := strings.Count(log, `"rule":"rps"`); n != 1 {
		t.Fatalf("%d warnings naming the rule, want 1:\n%s", n, log)
	}
}
