package scrape_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/headroomhq/headroom/internal/scrape"
)

// FuzzSelect parses two successive expositions of one target as Fetch does,
// selects them with the test rules (counters, a ratio, a histogram, gauges,
// replicas), observes them 15 s apart and combines the parts. A refused
// selection must say why; a selected reading must be finite, a histogram's
// buckets ascending with +Inf last and finite counts; every combined value
// must be finite and the replicas not negative.
func FuzzSelect(f *testing.F) {
	summary := "# TYPE rpc_seconds summary\n" +
		"rpc_seconds{h=\"a\",quantile=\"0.5\"} 0.01\nrpc_seconds{h=\"a\",quantile=\"0.99\"} 0.2\nrpc_seconds_sum{h=\"a\"} 3\nrpc_seconds_count{h=\"a\"} 100\n"
	nonFinite := "# TYPE cpu_utilisation gauge\ncpu_utilisation{h=\"a\"} NaN\ncpu_utilisation{h=\"b\"} +Inf\ncpu_utilisation{h=\"c\"} 2\n" +
		"# TYPE queue_length gauge\nqueue_length{h=\"a\"} 1e308\nqueue_length{h=\"b\"} 1e308\n"
	f.Add(exposition(1000, 10, 0, 0, 0, 0.2), exposition(1100, 12, 5, 8, 10, 0.3))
	f.Add(exposition(1000, 10, 5, 8, 10, 0.2), exposition(10, 1, 1, 1, 2, 0.3)) // reset
	f.Add(summary, nonFinite)
	f.Add("# TYPE cpu_utilisation histogram\ncpu_utilisation_bucket{le=\"1\"} 1\n", "# TYPE other gauge\nother 1\n")
	f.Add("# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{le=\"-1\"} 1\nhttp_request_duration_seconds_count 3\n",
		"# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{le=\"-1\"} 2\nhttp_request_duration_seconds_bucket{le=\"+Inf\"} 9\n")
	m, err := scrape.NewMapping(rules)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		var tr scrape.Target
		var parts [][]scrape.Part
		for i, body := range []string{first, second} {
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(strings.NewReader(body))
			if err != nil {
				return // the parser's own refusal, as Fetch reports it
			}
			s, err := m.Select(t0.Add(time.Duration(i)*15*time.Second), fams)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("refused with an empty error")
				}
				return
			}
			for _, set := range [][]map[string]scrape.Reading{s.Series, s.Over} {
				for _, series := range set {
					for k, rd := range series {
						checkReading(t, k, rd)
					}
				}
			}
			parts = append(parts, tr.Observe(m, s))
		}
		for _, ps := range parts {
			v, replicas, _, _ := m.Combine([][]scrape.Part{ps})
			for name, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("%s = %v", name, x)
				}
			}
			if replicas < 0 {
				t.Fatalf("replicas %d", replicas)
			}
		}
	})
}

func checkReading(t *testing.T, key string, rd scrape.Reading) {
	t.Helper()
	if math.IsNaN(rd.Value) || math.IsInf(rd.Value, 0) {
		t.Fatalf("series {%s} selected with value %v", key, rd.Value)
	}
	if rd.Buckets == nil {
		return
	}
	n := len(rd.Buckets)
	if !math.IsInf(rd.Buckets[n-1].UpperBound, 1) {
		t.Fatalf("series {%s}: last bucket %v, want +Inf", key, rd.Buckets[n-1])
	}
	for i, b := range rd.Buckets {
		if math.IsNaN(b.UpperBound) || math.IsNaN(b.Count) || math.IsInf(b.Count, 0) || b.Count < 0 {
			t.Fatalf("series {%s}: bucket %d is %+v", key, i, b)
		}
		if i > 0 && !(rd.Buckets[i-1].UpperBound <= b.UpperBound) {
			t.Fatalf("series {%s}: buckets out of order: %v", key, rd.Buckets)
		}
	}
}
