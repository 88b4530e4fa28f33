package proto_test

import (
	"math"
	"testing"

	"github.com/headroomhq/headroom/proto"
)

// TestMetricUnits checks the documented unit ranges at and beyond their
// edges; custom names take any value.
func TestMetricUnits(t *testing.T) {
	for _, c := range []struct {
		name string
		v    float64
		ok   bool
	}{
		{"cpu", 0, true}, {"cpu", 1, true}, {"cpu", 1.0001, false}, {"cpu", -0.01, false}, {"cpu", math.NaN(), false},
		{"mem", 0.5, true}, {"mem", 5, false}, {"error_rate", 1, true}, {"error_rate", 1.5, false},
		{"rps", 0, true}, {"rps", 1e9, true}, {"rps", -1, false},
		{"latency_p50_ms", 0, true}, {"latency_p95_ms", -1, false}, {"latency_p99_ms", 3e4, true},
		{"queue_depth", -5, true}, {"custom", 1e300, true},
	} {
		if err := proto.CheckMetricUnit(c.name, c.v); (err == nil) != c.ok {
			t.Errorf("%s %v: %v, want ok=%v", c.name, c.v, err, c.ok)
		}
	}
	if r, ok := proto.MetricUnitRange("cpu"); !ok || r.Min != 0 || r.Max != 1 {
		t.Fatalf("cpu range %+v %v", r, ok)
	}
	if _, ok := proto.MetricUnitRange("custom"); ok {
		t.Fatal("custom metric has a range")
	}
}
