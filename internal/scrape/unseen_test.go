package scrape_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/scrape"
)

// TestCounterNeverSeenLeftOut walks targets through scrapes where a counter
// rule's series is absent. Absent since the target's tracking began (a
// misspelt name, or a vector that has counted nothing yet), the counter
// rule shows nothing, like a gauge rule on an absent series: a 0 there
// would be a load never observed. Once seen, an absence reads no increase
// (a restarted process whose vector has not counted yet) and the series'
// return counts its whole value (born since the previous sample). A tier
// with one target that never exposed the series shows no rate either:
// summing the others' would read that target's load as 0.
func TestCounterNeverSeenLeftOut(t *testing.T) {
	m := mustMapping(t,
		scrape.Rule{Name: "rps", Series: "http_requests_total", Kind: scrape.KindCounter},
		scrape.Rule{Name: "error_rate", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"code": "5.."}, Over: map[string]string{}},
		scrape.Rule{Name: "cpu", Series: "cpu_utilisation", Kind: scrape.KindGauge})
	const cpu = "# TYPE cpu_utilisation gauge\ncpu_utilisation 0.5\n"
	reqs := func(n float64) string {
		return fmt.Sprintf("# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} %g\n", n)
	}
	cases := []struct {
		name string
		// rounds[i][k] is target k's answer at t0+i minutes.
		rounds [][]string
		// want[i] is the tier's rps at round i, or -1 for none.
		want []float64
	}{
		{"never exposed: no rps, ever", [][]string{{cpu}, {cpu}, {cpu}, {cpu}}, []float64{-1, -1, -1, -1}},
		{"first exposed later: born since the previous sample", [][]string{{cpu}, {cpu}, {cpu + reqs(300)}, {cpu + reqs(420)}}, []float64{-1, -1, 5, 2}},
		{"seen, then absent (a restart not counted yet), then back", [][]string{{cpu + reqs(100)}, {cpu + reqs(160)}, {cpu}, {cpu + reqs(60)}}, []float64{-1, 1, 0, 1}},
		{"one of two targets never exposed it: no tier rps", [][]string{{cpu + reqs(100), cpu}, {cpu + reqs(160), cpu}, {cpu + reqs(220), cpu + reqs(30)}, {cpu + reqs(280), cpu + reqs(90)}}, []float64{-1, -1, 1.5, 2}},
		{"the target that never exposed it is down: the others' rate", [][]string{{cpu + reqs(100), cpu}, {cpu + reqs(160), ""}, {cpu + reqs(220), ""}}, []float64{-1, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			trs := make([]scrape.Target, len(c.rounds[0]))
			for i, round := range c.rounds {
				var parts [][]scrape.Part
				for k, body := range round {
					if body == "" {
						continue
					}
					s, err := m.Select(t0.Add(time.Duration(i)*time.Minute), parse(t, body))
					if err != nil {
						t.Fatal(err)
					}
					parts = append(parts, trs[k].Observe(m, s))
				}
				v, _, _, _ := m.Combine(parts)
				rps, has := v["rps"]
				if c.want[i] < 0 {
					if has {
						t.Fatalf("round %d: rps %v, want none (a series never seen is not zero load)", i, rps)
					}
					if _, has := v["error_rate"]; has {
						t.Fatalf("round %d: error_rate %v, want none", i, v["error_rate"])
					}
				} else if !has || math.Abs(rps-c.want[i]) > 1e-9 {
					t.Fatalf("round %d: rps %v (present %v), want %v", i, rps, has, c.want[i])
				}
				if v["cpu"] != 0.5 {
					t.Fatalf("round %d: cpu %v, want 0.5 (gauges unaffected)", i, v["cpu"])
				}
			}
		})
	}
}

// TestCounterNoMatchingSeriesLeftOut: a counter rule whose family the
// targets expose but none of whose series its labels select on any target
// (a misspelt label value: handler "/chekout") has not observed a load any
// more than one on a misspelt family, and no absent-series warning speaks
// for it: it shows nothing until a series it selects appears, never a
// rate of 0. Once one target's series is selected, a target selecting
// none beside it reads 0 (it has not counted a 5xx yet). A ratio rule is
// observed once its denominator selects a series: no 5xx among counted
// requests is an error rate of 0.
func TestCounterNoMatchingSeriesLeftOut(t *testing.T) {
	m := mustMapping(t,
		scrape.Rule{Name: "rps", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"handler": "/chekout"}},
		scrape.Rule{Name: "errors", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"code": "5.."}},
		scrape.Rule{Name: "error_rate", Series: "http_requests_total", Kind: scrape.KindCounter, Match: map[string]string{"code": "5.."}, Over: map[string]string{}},
		scrape.Rule{Name: "cpu", Series: "cpu_utilisation", Kind: scrape.KindGauge})
	body := func(ok, failed float64) string {
		b := fmt.Sprintf("# TYPE cpu_utilisation gauge\ncpu_utilisation 0.5\n# TYPE http_requests_total counter\nhttp_requests_total{handler=\"/checkout\",code=\"200\"} %g\n", ok)
		if failed > 0 {
			b += fmt.Sprintf("http_requests_total{handler=\"/checkout\",code=\"500\"} %g\n", failed)
		}
		return b
	}
	// Two targets; the first counts its first 5xx (60) in round 2, the
	// second never does.
	rounds := [][2]string{{body(100, 0), body(100, 0)}, {body(160, 0), body(160, 0)}, {body(220, 60), body(220, 0)}, {body(280, 120), body(280, 0)}}
	// want[i] is round i's errors and error_rate; -1 for none.
	want := [][2]float64{{-1, -1}, {-1, 0}, {1, 60.0 / 180}, {1, 60.0 / 180}}
	var trs [2]scrape.Target
	for i, round := range rounds {
		var parts [][]scrape.Part
		for k, b := range round {
			s, err := m.Select(t0.Add(time.Duration(i)*time.Minute), parse(t, b))
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Absent) != 0 {
				t.Fatalf("round %d: absent %v, want none (the family is there)", i, s.Absent)
			}
			parts = append(parts, trs[k].Observe(m, s))
		}
		v, _, _, _ := m.Combine(parts)
		if rps, has := v["rps"]; has {
			t.Fatalf("round %d: rps %v from a rule that never selected a series, want none", i, rps)
		}
		for k, name := range []string{"errors", "error_rate"} {
			got, has := v[name]
			if w := want[i][k]; (w >= 0) != has || (has && math.Abs(got-w) > 1e-9) {
				t.Fatalf("round %d: %s %v (present %v), want %v (-1: none)", i, name, got, has, w)
			}
		}
	}
}
