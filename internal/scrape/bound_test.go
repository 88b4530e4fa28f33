package scrape_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/scrape"
)

// serve serves body as a target's /metrics and returns its url.
func serve(tb testing.TB, body string) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }))
	tb.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// buckets is one histogram series of n bucket lines, each with labels
// labels besides le.
func buckets(n, labels int) string {
	var b strings.Builder
	b.WriteString("# TYPE h histogram\n")
	ls := ""
	for i := range labels {
		ls += fmt.Sprintf("l%d=\"v\",", i)
	}
	for i := range n {
		fmt.Fprintf(&b, "h_bucket{%sle=\"%d\"} %d\n", ls, i, i)
	}
	return b.String()
}

// gauges is n gauge series of labels labels each.
func gauges(n, labels int) string {
	var b strings.Builder
	b.WriteString("# TYPE g gauge\n")
	for i := range n {
		b.WriteString("g{")
		for j := range labels {
			fmt.Fprintf(&b, "l%d=\"%d\",", j, i)
		}
		b.WriteString("} 1\n")
	}
	return b.String()
}

// TestFetchBoundsWhileReading: the sample lines and labels of an
// exposition are counted as it is read, and one passing MaxSamples,
// MaxLabelPairs or MaxLabels (plus le) is refused there with a
// *scrape.BoundError naming the bound, the line and the target; one at the
// bounds is read whole. Quoted = signs and labels after a blank are
// counted as the text format reads them.
func TestFetchBoundsWhileReading(t *testing.T) {
	many := func(prefix string, n int, value string) string {
		var b strings.Builder
		b.WriteString("# TYPE up gauge\n" + prefix + "{")
		for i := range n {
			fmt.Fprintf(&b, "l%d=%q,", i, value)
		}
		b.WriteString("} 1\n")
		return b.String()
	}
	pairsPerLine := 20
	for _, c := range []struct {
		name, body string
		bound      string // "": read
		line       int
	}{
		{"sample lines at the bound", buckets(scrape.MaxSamples, 0), "", 0},
		{"sample lines over the bound", buckets(scrape.MaxSamples+1, 0), "scrape.MaxSamples", scrape.MaxSamples + 2},
		{"label pairs at the bound", gauges(scrape.MaxLabelPairs/pairsPerLine, pairsPerLine), "", 0},
		{"label pairs over the bound", gauges(scrape.MaxLabelPairs/pairsPerLine+1, pairsPerLine), "scrape.MaxLabelPairs", scrape.MaxLabelPairs/pairsPerLine + 2},
		{"a bucket's labels and le at the bound", buckets(3, scrape.MaxLabels), "", 0},
		{"a line's labels over the bound", many("up", scrape.MaxLabels+2, "x"), "scrape.MaxLabels", 2},
		{"labels after a blank", many("up  ", scrape.MaxLabels+2, "x"), "scrape.MaxLabels", 2},
		{"quoted = and escapes not counted", many("up", scrape.MaxLabels, `a=b\"=c\\`), "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := serve(t, c.body)
			fams, err := scrape.Fetch(context.Background(), http.DefaultClient, url)
			var be *scrape.BoundError
			switch {
			case c.bound == "" && (err != nil || len(fams) != 1):
				t.Fatalf("refused or lost: %v", err)
			case c.bound == "":
			case !errors.As(err, &be) || be.Bound != c.bound || be.Line != c.line || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), c.bound) || !errors.Is(err, scrape.ErrRefused):
				t.Fatalf("err %v (%#v), want a *scrape.BoundError (scrape.ErrRefused) on %s at line %d naming %s", err, be, c.bound, c.line, url)
			}
		})
	}
}

// fetchHeap is how much heap one Fetch of url allocated in all.
func fetchHeap(tb testing.TB, url string) (uint64, error) {
	tb.Helper()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	_, err := scrape.Fetch(context.Background(), http.DefaultClient, url)
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc, err
}

// bomb is MaxBody bytes of the shortest gauge series, each a new series:
// a cardinality explosion as one target can serve it (2.2 million series).
func bomb() string {
	var b strings.Builder
	b.WriteString("# TYPE a gauge\n")
	for i := 0; b.Len() < scrape.MaxBody-32; i++ {
		fmt.Fprintf(&b, "a{i=\"%x\"} 1\n", i)
	}
	return b.String()
}

// TestFetchRefusedHeap: a target serving MaxBody bytes of new series is
// refused at MaxSamples having allocated about 40 MiB, not the 877 MiB (557
// live) the parser took to build all of it before MaxSeries refused it.
func TestFetchRefusedHeap(t *testing.T) {
	url := serve(t, bomb())
	alloc, err := fetchHeap(t, url)
	t.Logf("allocated %d MiB: %v", alloc>>20, err)
	var be *scrape.BoundError
	if !errors.As(err, &be) || be.Bound != "scrape.MaxSamples" {
		t.Fatalf("err %v, want the scrape.MaxSamples *scrape.BoundError", err)
	}
	const budget = 64 << 20
	if alloc > budget {
		t.Fatalf("allocated %d MiB refusing it, budget %d MiB", alloc>>20, budget>>20)
	}
}

// BenchmarkFetchRefused measures what one Fetch allocates for an
// exposition of MaxBody bytes of new series, refused at MaxSamples:
//
//	go test -run '^$' -bench FetchRefused -benchmem ./internal/scrape
func BenchmarkFetchRefused(b *testing.B) {
	url := serve(b, bomb())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scrape.Fetch(context.Background(), http.DefaultClient, url); err == nil {
			b.Fatal("read")
		}
	}
}

// BenchmarkFetchAtBounds measures one Fetch of an exposition at MaxSamples
// and MaxLabelPairs (100,000 gauge series of five labels), read whole
// although over MaxSeries: the most the parser builds for one target.
func BenchmarkFetchAtBounds(b *testing.B) {
	url := serve(b, gauges(scrape.MaxSamples, scrape.MaxLabelPairs/scrape.MaxSamples))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scrape.Fetch(context.Background(), http.DefaultClient, url); err == nil || !strings.Contains(err.Error(), "scrape.MaxSeries") {
			b.Fatalf("err %v, want MaxSeries's", err)
		}
	}
}

// histograms is n histogram series of a dozen buckets (the Prometheus
// client's default), with their _sum and _count: 14 sample lines each.
func histograms(n int) string {
	var b strings.Builder
	b.WriteString("# TYPE http_request_duration_seconds histogram\n")
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	for i := range n {
		ls := fmt.Sprintf(`handler="/api/v1/r%d",method="GET",code="200"`, i)
		for _, le := range les {
			fmt.Fprintf(&b, "http_request_duration_seconds_bucket{%s,le=%q} %d\n", ls, le, i)
		}
		fmt.Fprintf(&b, "http_request_duration_seconds_sum{%s} %d\nhttp_request_duration_seconds_count{%s} %d\n", ls, i, ls, i)
	}
	return b.String()
}

// TestFetchLimits: an exposition well within MaxSeries may pass the bounds
// counted while reading: 7,200 histograms of default buckets make 100,800
// lines. Refused under the defaults with an error naming what raises them
// (scrape.max_samples), it is read whole under a raised Limits.Samples,
// which raises the labels' bound in proportion (LabelsPerSample per line).
func TestFetchLimits(t *testing.T) {
	for _, c := range []struct {
		name, body  string
		series      int
		bound       string // under low
		low, raised int    // Limits.Samples
	}{
		{"histograms of default buckets", histograms(7200), 7200, "scrape.MaxSamples", 0, 2 * scrape.MaxSamples},
		{"series of many labels", gauges(1000, 2*scrape.LabelsPerSample), 1000, "scrape.MaxLabelPairs", 1000, 2000},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := serve(t, c.body)
			_, err := scrape.FetchLimits(context.Background(), http.DefaultClient, url, scrape.Limits{Samples: c.low})
			var be *scrape.BoundError
			if !errors.As(err, &be) || be.Bound != c.bound || !strings.Contains(err.Error(), "scrape.max_samples raises it") {
				t.Fatalf("Samples %d: err %v, want %s's *scrape.BoundError naming scrape.max_samples", c.low, err, c.bound)
			}
			fams, err := scrape.FetchLimits(context.Background(), http.DefaultClient, url, scrape.Limits{Samples: c.raised})
			if err != nil {
				t.Fatalf("Samples %d: %v", c.raised, err)
			}
			n := 0
			for _, f := range fams {
				n += len(f.GetMetric())
			}
			if n != c.series {
				t.Fatalf("Samples %d: %d series read, want %d", c.raised, n, c.series)
			}
		})
	}
}
