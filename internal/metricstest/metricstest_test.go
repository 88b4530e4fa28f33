package metricstest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestSumAndByLabel(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handled_total", Help: "h"}, []string{"consumer", "tier"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "lag", Help: "l"})
	reg.MustRegister(c, g)
	c.WithLabelValues("a", "web").Add(2)
	c.WithLabelValues("a", "db").Add(3)
	c.WithLabelValues("b", "web").Add(5)
	g.Set(-1.5)

	cases := []struct {
		name   string
		labels []string
		want   float64
		found  bool
	}{
		{"handled_total", nil, 10, true},
		{"handled_total", []string{"consumer", "a"}, 5, true},
		{"handled_total", []string{"consumer", "a", "tier", "web"}, 2, true},
		{"handled_total", []string{"consumer", "c"}, 0, false},
		{"lag", nil, -1.5, true},
		{"absent", nil, 0, false},
	}
	for _, tc := range cases {
		got, found := Sum(t, reg, tc.name, tc.labels...)
		if got != tc.want || found != tc.found {
			t.Errorf("Sum(%s, %v) = %v, %v; want %v, %v", tc.name, tc.labels, got, found, tc.want, tc.found)
		}
	}
	by := ByLabel(t, reg, "handled_total", "consumer")
	if len(by) != 2 || by["a"] != 5 || by["b"] != 5 {
		t.Errorf("ByLabel(consumer) = %v, want a:5 b:5", by)
	}
}
