package scaleeval

import "math"

// Score is the quality and cost of one run over the scored minutes.
type Score struct {
	// Minutes is the number of scored minutes.
	Minutes int
	// UnderPct is the share of minutes with demand above ready × C, in %.
	UnderPct float64
	// UnservedPct is Σ max(0, d − ready·C) / Σ d, in %.
	UnservedPct float64
	// Cost is Σ (ready + booting), in replica-minutes.
	Cost float64
	// CostRatio is Cost divided by the oracle's cost.
	CostRatio float64
}

// ScoreRun scores a run against the demand from minute s.Warmup on, with
// oracleCost as the denominator of CostRatio.
func ScoreRun(demand []float64, r Run, s Setup, oracleCost float64) Score {
	var sc Score
	var under, unserved, total float64
	for i := s.Warmup; i < len(demand); i++ {
		sc.Minutes++
		served := float64(r.Ready[i]) * s.Capacity
		if demand[i] > served {
			under++
			unserved += demand[i] - served
		}
		total += demand[i]
		sc.Cost += float64(r.Ready[i] + r.Booting[i])
	}
	if sc.Minutes > 0 {
		sc.UnderPct = 100 * under / float64(sc.Minutes)
	}
	if total > 0 {
		sc.UnservedPct = 100 * unserved / total
	}
	if oracleCost > 0 {
		sc.CostRatio = sc.Cost / oracleCost
	}
	return sc
}

// Oracle returns, per minute, the replicas (ready plus booting) of the
// cheapest schedule that serves all demand given the boot delay: a replica
// needed at minute j must be paid from j − boot on, and one idle for no
// longer than the boot delay is cheaper kept than restarted, so the count at
// minute t is the most replicas needed over [t, t + boot].
func Oracle(demand []float64, s Setup) []int {
	boot := int(math.Ceil(s.BootDelay.Minutes()))
	need := make([]int, len(demand))
	for i, d := range demand {
		need[i] = s.clamp(needed(d, s.Capacity))
	}
	out := make([]int, len(demand))
	for i := range demand {
		m := need[i]
		for j := i + 1; j <= i+boot && j < len(demand); j++ {
			m = max(m, need[j])
		}
		out[i] = m
	}
	return out
}

// OracleCost sums the oracle's replicas over the scored minutes.
func OracleCost(demand []float64, s Setup) float64 {
	o := Oracle(demand, s)
	c := 0.0
	for i := s.Warmup; i < len(o); i++ {
		c += float64(o[i])
	}
	return c
}
