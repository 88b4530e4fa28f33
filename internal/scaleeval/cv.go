package scaleeval

import (
	"fmt"
	"math"
)

// Grid is a set of candidate settings for one knob of the policy.
type Grid struct {
	// Knob names the setting the candidates vary.
	Knob string
	// Names labels each candidate.
	Names []string
	// Options holds each candidate.
	Options []Options
	// Default is the index of the shipped setting.
	Default int
}

// SuiteGrid returns the candidates the suite's leave-one-trace-out chooses
// from: the ramp guard (off or 3 typical changes) × the jump guard (off or
// 3) × the adaptive hold's exchange rate (0.01, 0.03, 0.1), everything else
// as in base; Default points at base's own setting when it is in the grid.
func SuiteGrid(base Options) Grid {
	g := Grid{Knob: "ramp-sigmas × jump-sigmas × hold-worth", Default: -1}
	for _, r := range []float64{0, 3} {
		for _, j := range []float64{0, 3} {
			for _, hw := range []float64{0.01, 0.03, 0.1} {
				o := base
				o.RampSigmas, o.JumpSigmas, o.HoldWorth = r, j, hw
				if r == base.RampSigmas && j == base.JumpSigmas && hw == base.HoldWorth {
					g.Default = len(g.Options)
				}
				g.Names = append(g.Names, fmt.Sprintf("ramp-sigmas=%g jump-sigmas=%g hold-worth=%g", r, j, hw))
				g.Options = append(g.Options, o)
			}
		}
	}
	if g.Default < 0 {
		g.Default = len(g.Options)
		g.Names = append(g.Names, "shipped")
		g.Options = append(g.Options, base)
	}
	return g
}

// loss is how badly a result misses the targets: the worst of its two
// ratios to HPA at equal cost and of its cost over twice the oracle's
// (1 means at a target's edge).
func loss(r Result) float64 {
	return math.Max(r.Worst(), r.Ours.CostRatio/2)
}

// Choose returns the candidate (index into results) with the smallest worst
// loss over every trace except leaveOut (-1 keeps all), ties broken by the
// mean log loss: a setting must hold on every trace, not on average.
func Choose(results [][]Result, leaveOut int) int {
	best, bestMax, bestMean := 0, math.Inf(1), math.Inf(1)
	for c, rs := range results {
		mx, sum, n := 0.0, 0.0, 0
		for t, r := range rs {
			if t == leaveOut {
				continue
			}
			l := loss(r)
			mx = math.Max(mx, l)
			sum += math.Log(math.Max(l, 1e-3))
			n++
		}
		mean := sum / math.Max(1, float64(n))
		if mx < bestMax-1e-12 || (math.Abs(mx-bestMax) <= 1e-12 && mean < bestMean) {
			best, bestMax, bestMean = c, mx, mean
		}
	}
	return best
}

// LeaveOneOut returns, for each trace, the candidate chosen on all the
// other traces.
func LeaveOneOut(results [][]Result) []int {
	if len(results) == 0 {
		return nil
	}
	out := make([]int, len(results[0]))
	for t := range out {
		out[t] = Choose(results, t)
	}
	return out
}
