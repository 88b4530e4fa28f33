// Package metricstest reads counters and gauges back out of a Prometheus
// registry in tests, so a test can assert on what a service exported.
package metricstest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Sum returns the sum over every series of the named counter or gauge
// whose labels include each name, value pair in labels, and whether any
// series matched.
func Sum(tb testing.TB, g prometheus.Gatherer, name string, labels ...string) (sum float64, found bool) {
	tb.Helper()
	if len(labels)%2 != 0 {
		tb.Fatalf("metricstest.Sum(%q): labels %q are not name, value pairs", name, labels)
	}
	for _, m := range series(tb, g, name) {
		if has(m, labels) {
			sum += value(m)
			found = true
		}
	}
	return sum, found
}

// ByLabel returns the named counter or gauge summed by the value of label
// (series without the label are left out).
func ByLabel(tb testing.TB, g prometheus.Gatherer, name, label string) map[string]float64 {
	tb.Helper()
	out := map[string]float64{}
	for _, m := range series(tb, g, name) {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out[l.GetValue()] += value(m)
			}
		}
	}
	return out
}

func series(tb testing.TB, g prometheus.Gatherer, name string) []*dto.Metric {
	tb.Helper()
	fams, err := g.Gather()
	if err != nil {
		tb.Fatalf("gather metrics: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

func has(m *dto.Metric, labels []string) bool {
	for i := 0; i < len(labels); i += 2 {
		ok := false
		for _, l := range m.GetLabel() {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// value is a counter's or a gauge's value (a series is one or the other).
func value(m *dto.Metric) float64 {
	return m.GetCounter().GetValue() + m.GetGauge().GetValue()
}
