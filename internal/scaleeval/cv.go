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
// from: the adaptive hold's exchange rate (0.03, 0.05, 0.07, 0.1) × the
// ramp guard (off or 3 typical changes), everything else as in base;
// Default points at base's own setting when it is in the grid.
func SuiteGrid(base Options) Grid {
	g := Grid{Knob: "hold-worth × ramp-sigmas", Default: -1}
	for _, hw := range []float64{0.03, 0.05, 0.07, 0.1} {
		for _, r := range []float64{0, 3} {
			o := base
			o.HoldWorth, o.RampSigmas = hw, r
			if hw == base.HoldWorth && r == base.RampSigmas {
				g.Default = len(g.Options)
			}
			g.Names = append(g.Names, fmt.Sprintf("hold-worth=%g ramp-sigmas=%g", hw, r))
			g.Options = append(g.Options, o)
		}
	}
	if g.Default < 0 {
		g.Default = len(g.Options)
		g.Names = append(g.Names, "shipped")
		g.Options = append(g.Options, base)
	}
	return g
}

// loss is how badly a result misses its targets: the worst of its two
// ratios to HPA at equal cost over the trace's goal, and its cost over
// twice the oracle's (1 means at a target's edge).
func loss(r Result) float64 {
	return math.Max(r.Worst()/r.goal(), r.Ours.CostRatio/2)
}

// WorstLoss returns a candidate's worst loss over every trace but
// leaveOut (-1 keeps all) and the trace it occurs on.
func WorstLoss(rs []Result, leaveOut int) (float64, string) {
	mx, at, first := 0.0, "", true
	for t, r := range rs {
		if t == leaveOut {
			continue
		}
		if l := loss(r); first || l > mx {
			mx, at, first = l, r.Name, false
		}
	}
	return mx, at
}

// nearTie is how close, relatively, two worst losses must be to count as
// equal: differences below it are within what one seed to the next moves.
const nearTie = 0.025

// Choose returns the candidate (index into results) with the smallest worst
// loss over every trace except leaveOut (-1 keeps all): a setting must hold
// on every trace, not on average. Among candidates whose worst loss is
// within nearTie of the smallest, the one with the smallest mean log loss
// wins (the earliest on equality).
func Choose(results [][]Result, leaveOut int) int {
	worst := make([]float64, len(results))
	mean := make([]float64, len(results))
	best := math.Inf(1)
	for c, rs := range results {
		sum, n := 0.0, 0
		for t, r := range rs {
			if t == leaveOut {
				continue
			}
			l := loss(r)
			worst[c] = math.Max(worst[c], l)
			sum += math.Log(math.Max(l, 1e-3))
			n++
		}
		mean[c] = sum / math.Max(1, float64(n))
		best = math.Min(best, worst[c])
	}
	pick := -1
	for c := range results {
		if worst[c] > best*(1+nearTie)+1e-12 {
			continue
		}
		if pick < 0 || mean[c] < mean[pick]-1e-12 {
			pick = c
		}
	}
	return max(pick, 0)
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
