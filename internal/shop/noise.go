package shop

import (
	"math"
	"time"
)

// Randomness here is stateless: every draw is a hash of (seed, stream, key),
// where the key is derived from event time (a second, a lattice index, a day
// number). That is what makes the series independent of how often, in which
// order or at which spacing the model is sampled.

// Streams keep the draws of different purposes independent.
const (
	streamDemandSlow uint64 = iota + 1
	streamDemandMid
	streamDemandFast
	streamDayLevel
	streamBurst
	streamSpike
	streamSlowDB
	streamHitRatio
	streamMetric // + tier and metric offsets, see metricStream
)

// mix is the splitmix64 finaliser: a bijective, well-avalanching 64-bit hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash3 combines a seed, a stream and a key into one 64-bit value.
func hash3(seed int64, stream uint64, key int64) uint64 {
	return mix(mix(mix(uint64(seed))^stream) ^ uint64(key))
}

// uniform returns a value in [0, 1) drawn from (seed, stream, key).
func uniform(seed int64, stream uint64, key int64) float64 {
	return float64(hash3(seed, stream, key)>>11) / (1 << 53)
}

// uniformN returns the i-th of several independent uniforms for one key.
func uniformN(seed int64, stream uint64, key int64, i int) float64 {
	return uniform(seed, stream+uint64(i)<<32, key)
}

// gauss returns a standard normal value drawn from (seed, stream, key) by the
// Box–Muller transform.
func gauss(seed int64, stream uint64, key int64) float64 {
	u1 := 1 - uniformN(seed, stream, key, 0) // (0, 1], safe for Log
	u2 := uniformN(seed, stream, key, 1)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// lerpRange maps u in [0, 1) onto [lo, hi).
func lerpRange(u, lo, hi float64) float64 { return lo + u*(hi-lo) }

// floorDiv is integer division rounding toward minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// valueNoise is smooth noise with roughly unit variance: standard normals on a
// lattice of the given spacing, joined by smoothstep interpolation. It is a
// pure function of (seed, stream, t).
func valueNoise(seed int64, stream uint64, t time.Time, spacing time.Duration) float64 {
	ns, sp := t.UnixNano(), int64(spacing)
	k := floorDiv(ns, sp)
	f := float64(ns-k*sp) / float64(sp)
	s := smoothstep(f)
	a, b := gauss(seed, stream, k), gauss(seed, stream, k+1)
	// Interpolating two independent normals shrinks the variance mid-way;
	// rescale so the spread is the same everywhere.
	return (a*(1-s) + b*s) / math.Sqrt((1-s)*(1-s)+s*s)
}

// whiteNoise is a standard normal per whole second of event time.
func whiteNoise(seed int64, stream uint64, t time.Time) float64 {
	return gauss(seed, stream, floorDiv(t.UnixNano(), int64(time.Second)))
}

// smoothstep is the cubic Hermite step from 0 at x <= 0 to 1 at x >= 1.
func smoothstep(x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	return x * x * (3 - 2*x)
}

// envelope rises smoothly from 0 at start to 1 at start+ramp, holds, and falls
// back to 0 at end. Outside [start, end) it is 0.
func envelope(t, start, end time.Time, ramp time.Duration) float64 {
	if t.Before(start) || !t.Before(end) {
		return 0
	}
	if ramp <= 0 {
		return 1
	}
	up := float64(t.Sub(start)) / float64(ramp)
	down := float64(end.Sub(t)) / float64(ramp)
	return smoothstep(math.Min(up, down))
}
