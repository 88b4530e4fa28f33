package scrape_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/headroomhq/headroom/internal/scrape"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

func inf() float64 { return math.Inf(1) }

func TestQuantile(t *testing.T) {
	b := []scrape.Bucket{{0.1, 10}, {0.2, 30}, {0.5, 90}, {1, 100}, {inf(), 100}}
	cases := []struct {
		name string
		q    float64
		b    []scrape.Bucket
		want float64
		ok   bool
	}{
		{"median interpolates in the third bucket", 0.5, b, 0.2 + 0.3*(50-30)/60.0, true},
		{"first bucket starts at zero", 0.05, b, 0.05, true},
		{"p95 in the last finite bucket", 0.95, b, 0.5 + 0.5*(95-90)/10.0, true},
		{"rank in +Inf answers the highest finite bound", 0.99, []scrape.Bucket{{0.1, 10}, {inf(), 20}}, 0.1, true},
		{"no observations", 0.5, []scrape.Bucket{{0.1, 0}, {inf(), 0}}, 0, false},
		{"no buckets", 0.5, nil, 0, false},
		{"only +Inf", 0.5, []scrape.Bucket{{inf(), 5}}, 0, false},
		{"q=1 is the top of the last non-empty bucket", 1, b, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := scrape.Quantile(c.q, c.b)
			if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
				t.Fatalf("Quantile(%v) = %v, %v; want %v, %v", c.q, got, ok, c.want, c.ok)
			}
		})
	}
}

func mustMapping(t *testing.T, rules ...scrape.Rule) *scrape.Mapping {
	t.Helper()
	m, err := scrape.NewMapping(rules)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

var rules = []scrape.Rule{
	{Name: "rps", Series: "http_requests_total", Kind: scrape.KindCounter},
	{Name: "error_rps", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"code": "5.."}},
	{Name: "error_rate", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"code": "5.."}, Over: map[string]string{}},
	{Name: "latency_p50_ms", Series: "http_request_duration_seconds", Kind: scrape.KindHistogram, Quantile: 0.5, Scale: 1000},
	{Name: "cpu", Series: "cpu_utilisation", Kind: scrape.KindGauge},
	{Name: "queue", Series: "queue_length", Kind: scrape.KindGauge, Agg: scrape.AggSum},
	{Name: scrape.ReplicasName, Series: "ready_replicas", Kind: scrape.KindGauge, Agg: scrape.AggMax},
}

func exposition(ok, fail, b1, b2, bInf float64, cpu float64) string {
	var sb strings.Builder
	w := func(format string, a ...any) { sb.WriteString(strings.TrimSpace(fmt.Sprintf(format, a...)) + "\n") }
	w("# TYPE http_requests_total counter")
	w(`http_requests_total{code="200"} %g`, ok)
	w(`http_requests_total{code="503"} %g`, fail)
	w("# TYPE http_request_duration_seconds histogram")
	w(`http_request_duration_seconds_bucket{le="0.1"} %g`, b1)
	w(`http_request_duration_seconds_bucket{le="0.2"} %g`, b2)
	w(`http_request_duration_seconds_bucket{le="+Inf"} %g`, bInf)
	w("http_request_duration_seconds_sum 1")
	w("http_request_duration_seconds_count %g", bInf)
	w("# TYPE cpu_utilisation gauge")
	w(`cpu_utilisation{core="0"} %g`, cpu)
	w(`cpu_utilisation{core="1"} %g`, cpu+0.2)
	w("# TYPE queue_length gauge")
	w(`queue_length{q="a"} 3`)
	w(`queue_length{q="b"} 4`)
	w("# TYPE ready_replicas gauge")
	w("ready_replicas 2.6")
	return sb.String()
}

// TestObserveCombine walks two targets through three scrapes: rates and
// quantiles from the second on, a counter and histogram reset on one target
// at the third, gauges aggregated as configured.
func TestObserveCombine(t *testing.T) {
	m := mustMapping(t, rules...)
	var a, b scrape.Target
	step := func(at time.Time, ta, tb string) (map[string]float64, int, bool, []string) {
		t.Helper()
		sa, err := m.Select(at, parse(t, ta))
		if err != nil {
			t.Fatal(err)
		}
		sb, err := m.Select(at, parse(t, tb))
		if err != nil {
			t.Fatal(err)
		}
		return m.Combine([][]scrape.Part{a.Observe(m, sa), b.Observe(m, sb)})
	}
	v, reps, has, _ := step(t0, exposition(1000, 10, 0, 0, 0, 0.2), exposition(500, 0, 0, 0, 0, 0.4))
	if _, ok := v["rps"]; ok {
		t.Fatalf("first scrape has a rate: %v", v)
	}
	if _, ok := v["latency_p50_ms"]; ok {
		t.Fatalf("first scrape has a quantile: %v", v)
	}
	if !has || reps != 3 {
		t.Fatalf("replicas %d %v, want 3 (max of 2.6 rounded)", reps, has)
	}
	if math.Abs(v["cpu"]-0.4) > 1e-12 || v["queue"] != 14 {
		t.Fatalf("gauges %v: want cpu avg 0.4 over four series, queue sum 14", v)
	}
	// 60 s later: a +600 ok +60 fail, b +1200 ok; a's histogram gains 100
	// observations, half under 0.1 s, all under 0.2 s.
	v, _, _, _ = step(t0.Add(time.Minute), exposition(1600, 70, 50, 100, 100, 0.2), exposition(1700, 0, 0, 0, 0, 0.4))
	if want := (600.0 + 60 + 1200) / 60; math.Abs(v["rps"]-want) > 1e-9 {
		t.Fatalf("rps %v, want %v", v["rps"], want)
	}
	if want := 1.0; math.Abs(v["error_rps"]-want) > 1e-9 {
		t.Fatalf("error_rps %v, want %v", v["error_rps"], want)
	}
	if want := 60.0 / 1860; math.Abs(v["error_rate"]-want) > 1e-12 {
		t.Fatalf("error_rate %v, want %v (5xx over all requests of both targets)", v["error_rate"], want)
	}
	if want := 100.0; math.Abs(v["latency_p50_ms"]-want) > 1e-9 {
		t.Fatalf("p50 %v ms, want %v (top of the first bucket)", v["latency_p50_ms"], want)
	}
	// b restarts: its counter falls to 120 (the increase is 120, not −1580).
	v, _, _, _ = step(t0.Add(2*time.Minute), exposition(2200, 70, 50, 100, 100, 0.2), exposition(120, 0, 0, 0, 0, 0.4))
	if want := (600.0 + 120) / 60; math.Abs(v["rps"]-want) > 1e-9 {
		t.Fatalf("rps after reset %v, want %v", v["rps"], want)
	}
	if b.Resets == 0 {
		t.Fatal("reset not counted")
	}
	if v["error_rate"] != 0 {
		t.Fatalf("error_rate %v without new errors, want 0", v["error_rate"])
	}
	if _, ok := v["latency_p50_ms"]; ok {
		t.Fatalf("no observations in the interval, yet a p50: %v", v)
	}
}

// TestSummaryQuantiles reads a summary's p99 as a gauge, averaged over
// its two handlers.
func TestSummaryQuantiles(t *testing.T) {
	m := mustMapping(t, scrape.Rule{Name: "latency_p99_ms", Series: "rpc_seconds", Kind: scrape.KindGauge, Match: map[string]string{"quantile": "0.99"}, Scale: 1000})
	text := "# TYPE rpc_seconds summary\n" +
		"rpc_seconds{h=\"a\",quantile=\"0.5\"} 0.01\nrpc_seconds{h=\"a\",quantile=\"0.99\"} 0.2\nrpc_seconds_sum{h=\"a\"} 3\nrpc_seconds_count{h=\"a\"} 100\n" +
		"rpc_seconds{h=\"b\",quantile=\"0.5\"} 0.02\nrpc_seconds{h=\"b\",quantile=\"0.99\"} 0.4\nrpc_seconds_sum{h=\"b\"} 3\nrpc_seconds_count{h=\"b\"} 100\n"
	s, err := m.Select(t0, parse(t, text))
	if err != nil {
		t.Fatal(err)
	}
	var tr scrape.Target
	v, _, _, _ := m.Combine([][]scrape.Part{tr.Observe(m, s)})
	if math.Abs(v["latency_p99_ms"]-300) > 1e-9 {
		t.Fatalf("p99 %v ms, want 300 (mean of 200 and 400)", v["latency_p99_ms"])
	}
}

func TestSelectErrors(t *testing.T) {
	m := mustMapping(t, scrape.Rule{Name: "rps", Series: "cpu_utilisation", Kind: scrape.KindHistogram, Quantile: 0.5})
	_, err := m.Select(t0, parse(t, exposition(1, 1, 1, 1, 1, 0.1)))
	if err == nil || !strings.Contains(err.Error(), "cpu_utilisation is a gauge") {
		t.Fatalf("type mismatch: %v", err)
	}
	s, err := m.Select(t0, parse(t, "# TYPE other gauge\nother 1\n"))
	if err != nil || len(s.Series[0]) != 0 {
		t.Fatalf("absent family: %v %v", s, err)
	}
}

// TestSelectNamesAbsentSeries: a series some rule reads that the answer
// lacks is named, once however many rules read it; present ones are not.
func TestSelectNamesAbsentSeries(t *testing.T) {
	m := mustMapping(t, scrape.Rule{Name: "rps", Series: "http_requests_total", Kind: scrape.KindCounter},
		scrape.Rule{Name: "errors", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"code": "5.."}},
		scrape.Rule{Name: "cpu", Series: "cpu_utilisation", Kind: scrape.KindGauge})
	s, err := m.Select(t0, parse(t, "# TYPE cpu_utilisation gauge\ncpu_utilisation 0.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Absent, []string{"http_requests_total"}) {
		t.Fatalf("absent %q, want [http_requests_total]", s.Absent)
	}
	s, err = m.Select(t0, parse(t, "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 3\n# TYPE cpu_utilisation gauge\ncpu_utilisation 0.5\n"))
	if err != nil || len(s.Absent) != 0 {
		t.Fatalf("absent %q (%v), want none", s.Absent, err)
	}
}

func TestRuleValidate(t *testing.T) {
	cases := []struct {
		r    scrape.Rule
		want string
	}{
		{scrape.Rule{Name: "Bad", Series: "x", Kind: scrape.KindGauge}, "name"},
		{scrape.Rule{Name: "ok", Kind: scrape.KindGauge}, "series is empty"},
		{scrape.Rule{Name: "ok", Series: "x", Kind: "summary"}, "kind"},
		{scrape.Rule{Name: "ok", Series: "x", Kind: scrape.KindHistogram}, "quantile"},
		{scrape.Rule{Name: "ok", Series: "x", Kind: scrape.KindCounter, Quantile: 0.5}, "quantile"},
		{scrape.Rule{Name: "ok", Series: "x", Kind: scrape.KindGauge, Agg: "median"}, "agg"},
		{scrape.Rule{Name: "ok", Series: "x", Kind: scrape.KindGauge, Match: map[string]string{"code": "5(("}}, "match.code"},
		{scrape.Rule{Name: "replicas", Series: "x", Kind: scrape.KindCounter}, "replicas rule"},
		{scrape.Rule{Name: "ok", Series: "x", Kind: scrape.KindGauge, Over: map[string]string{}}, "over: only counters"},
		{scrape.Rule{Name: "ok", Series: "x", Kind: scrape.KindCounter, Over: map[string]string{"code": "("}}, "over.code"},
	}
	for _, c := range cases {
		err := c.r.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want mention of %q", c.r, err, c.want)
		}
	}
	if _, err := scrape.NewMapping([]scrape.Rule{{Name: "a", Series: "x", Kind: scrape.KindGauge}, {Name: "a", Series: "y", Kind: scrape.KindGauge}}); err == nil {
		t.Fatal("duplicate names accepted")
	}
}

func BenchmarkObserveCombine(b *testing.B) {
	m, _ := scrape.NewMapping(rules)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, _ := p.TextToMetricFamilies(strings.NewReader(exposition(1000, 10, 5, 8, 10, 0.3)))
	var tr scrape.Target
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s, _ := m.Select(t0.Add(time.Duration(i)*time.Second), fams)
		m.Combine([][]scrape.Part{tr.Observe(m, s)})
	}
}

// TestDeterministic runs the same samples through two trackers: the values
// are bit for bit the same, whatever order the maps iterate in.
func TestDeterministic(t *testing.T) {
	m := mustMapping(t, rules...)
	expo := func(step int) string {
		var sb strings.Builder
		sb.WriteString("# TYPE http_requests_total counter\n")
		for i := range 50 {
			fmt.Fprintf(&sb, "http_requests_total{code=\"%d\"} %g\n", 200+i, float64(step)*(0.1+float64(i)*1.37))
		}
		return sb.String()
	}
	var runs [2][]map[string]float64
	for r := range runs {
		var tr scrape.Target
		for step := range 5 {
			s, err := m.Select(t0.Add(time.Duration(step)*time.Second), parse(t, expo(step)))
			if err != nil {
				t.Fatal(err)
			}
			v, _, _, _ := m.Combine([][]scrape.Part{tr.Observe(m, s)})
			runs[r] = append(runs[r], v)
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("runs differ:\n%v\n%v", runs[0], runs[1])
	}
}

// TestSelectAndCombineNonFinite: Select leaves out the selected series
// whose value is NaN or infinite and counts them by kind, and Combine
// names a rule whose combined value overflows instead of dropping it
// unseen.
func TestSelectAndCombineNonFinite(t *testing.T) {
	m := mustMapping(t, scrape.Rule{Name: "inflight", Series: "inflight", Kind: scrape.KindGauge, Agg: scrape.AggSum},
		scrape.Rule{Name: "huge", Series: "huge", Kind: scrape.KindGauge, Agg: scrape.AggSum})
	s, err := m.Select(t0, parse(t, "# TYPE inflight gauge\ninflight{h=\"a\"} NaN\ninflight{h=\"b\"} +Inf\ninflight{h=\"c\"} 2\n"+
		"# TYPE huge gauge\nhuge{h=\"a\"} 1e308\nhuge{h=\"b\"} 1e308\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.NaN != 1 || s.Inf != 1 || len(s.Series[0]) != 1 {
		t.Fatalf("NaN %d, Inf %d, %d series kept; want 1, 1, 1", s.NaN, s.Inf, len(s.Series[0]))
	}
	var tr scrape.Target
	v, _, _, nonFinite := m.Combine([][]scrape.Part{tr.Observe(m, s)})
	if v["inflight"] != 2 || len(v) != 1 || !reflect.DeepEqual(nonFinite, []string{"huge"}) {
		t.Fatalf("values %v, non-finite %v; want inflight 2, and huge named", v, nonFinite)
	}
}
