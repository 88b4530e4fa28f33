package shop

import "math"

// Each tier is an M/M/c queue: ready replicas × Workers servers sharing the
// tier's capacity. Erlang C gives the chance a request waits and the tail of
// its wait, P(W > w) = C·exp(−N(1−ρ)·w/S) with S the mean service time; so
// latency is flat at low utilisation and climbs sharply as ρ nears 1. Load
// beyond capacity is shed (errors) while the queue fills toward the timeout.

// quantiles are the latency percentiles reported, with their standard normal
// scores for the log-normal service time.
// full is the share of the timeout each percentile reaches once the tier is
// overloaded and its queue is full.
var quantiles = [3]struct{ p, z, full float64 }{
	{0.50, 0, 0.6},
	{0.95, 1.6448536269514722, 0.95},
	{0.99, 2.3263478740408408, 1},
}

// rhoMax caps the utilisation fed to the queueing formulas: at ρ = 1 the
// M/M/c wait is unbounded, and a real queue is bounded by its timeout.
const rhoMax = 0.999

// overloadSpan is the relative overload (offered/capacity − 1) at which
// latency reaches the timeout.
const overloadSpan = 0.2

// overloadTimeouts is the share of accepted requests that time out once the
// tier is overloaded by overloadSpan or more (on top of the shed excess).
const overloadTimeouts = 0.3

// tierState is a tier's response to its offered load at one instant.
type tierState struct {
	offered  float64    // ops/s offered
	capacity float64    // ops/s the ready replicas can serve
	served   float64    // ops/s accepted, min(offered, capacity)
	util     float64    // served / capacity, in [0, 1]
	errRate  float64    // fraction of offered ops that fail, in [0, 1]
	latMs    [3]float64 // p50, p95, p99 in ms
}

// evalTier offers load (ops/s) to a tier with ready replicas. capFactor and
// latFactor scale capacity and service time (incidents); extraErr adds to
// the error rate.
func evalTier(tc TierConfig, ready int, offered, capFactor, latFactor, extraErr float64) tierState {
	st := tierState{offered: offered}
	if ready <= 0 {
		st.errRate = 1
		for i := range st.latMs {
			st.latMs[i] = tc.TimeoutMs
		}
		return st
	}
	n := ready * tc.Workers
	st.capacity = float64(ready) * tc.Capacity * capFactor
	st.served = math.Min(offered, st.capacity)
	st.util = st.served / st.capacity
	shed := 0.0
	if offered > 0 {
		shed = (offered - st.served) / offered
	}

	rho := math.Min(st.util, rhoMax)
	c := erlangC(n, rho*float64(n))
	median := tc.LatencyMs * latFactor
	mean := median * math.Exp(tc.LatencySpread*tc.LatencySpread/2)
	decay := float64(n) * (1 - rho) / mean // per ms

	// Past capacity the queue fills toward the timeout.
	over := 0.0
	if st.capacity > 0 && offered > st.capacity {
		over = smoothstep((offered/st.capacity - 1) / overloadSpan)
	}
	for i, q := range quantiles {
		lat := median * math.Exp(q.z*tc.LatencySpread)
		if tail := 1 - q.p; c > tail {
			lat += math.Log(c/tail) / decay
		}
		lat = math.Min(lat, q.full*tc.TimeoutMs)
		st.latMs[i] = lat + (q.full*tc.TimeoutMs-lat)*over
	}

	// Requests still queued at the timeout fail.
	timeouts := c * math.Exp(-decay*math.Max(0, tc.TimeoutMs-median))
	timeouts += (1 - timeouts) * overloadTimeouts * over
	st.errRate = clamp01(tc.BaseErrorRate + extraErr + shed + (1-shed)*timeouts)
	return st
}

// erlangC is the probability that an arrival waits in an M/M/n queue with
// offered load a erlangs (a < n), computed through the Erlang B recursion,
// which is stable for any n.
func erlangC(n int, a float64) float64 {
	if n <= 0 || a <= 0 {
		return 0
	}
	if a >= float64(n) {
		return 1
	}
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return clamp01(float64(n) * b / (float64(n) - a*(1-b)))
}

func clamp01(x float64) float64 {
	switch {
	case x < 0 || math.IsNaN(x):
		return 0
	case x > 1:
		return 1
	}
	return x
}
