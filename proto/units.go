package proto

import (
	"fmt"
	"math"
)

// UnitRange is the closed interval a well-known metric's values must lie in.
type UnitRange struct {
	Min, Max float64
}

// unitRanges holds the documented units of the well-known metrics: shares
// in 0..1, rates and latencies non-negative. Custom names are not checked.
var unitRanges = map[string]UnitRange{
	MetricRPS:        {0, math.MaxFloat64},
	MetricCPU:        {0, 1},
	MetricMem:        {0, 1},
	MetricErrorRate:  {0, 1},
	MetricLatencyP50: {0, math.MaxFloat64},
	MetricLatencyP95: {0, math.MaxFloat64},
	MetricLatencyP99: {0, math.MaxFloat64},
}

// MetricUnitRange returns the range a well-known metric's values must lie
// in, and false for a custom name (any finite value).
func MetricUnitRange(name string) (UnitRange, bool) {
	r, ok := unitRanges[name]
	return r, ok
}

// CheckMetricUnit reports a value of a well-known metric outside its
// documented unit range (cpu 5, a negative latency); custom names pass.
func CheckMetricUnit(name string, v float64) error {
	r, ok := unitRanges[name]
	if !ok || (v >= r.Min && v <= r.Max) {
		return nil
	}
	if r.Max == math.MaxFloat64 {
		return fmt.Errorf("%s %v: want ≥ %v", name, v, r.Min)
	}
	return fmt.Errorf("%s %v: want %v..%v", name, v, r.Min, r.Max)
}
