package scaleeval

import (
	"fmt"
	"math"
	"slices"
	"time"
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

// SuiteGrid returns the candidates the suite's leave-one-family-out
// chooses from: the jump guard's threshold (3 or 4 typical one-minute
// changes) × the outage hold (off or 6 hours) × the seasonal guard (off
// or on), and the previous release's setting (no selector, the adaptive
// hold at 0.07 with a 5-minute short window, no seasonal or hour-phase
// guard, no outage hold, jumps calibrated in one bin), everything else as in base; Default points at base's own setting
// when it is in the grid.
func SuiteGrid(base Options) Grid {
	g := Grid{Knob: "jump sigmas × outage hold × seasonal guard", Default: -1}
	add := func(name string, o Options) {
		if o.JumpSigmas == base.JumpSigmas && o.OutageHold == base.OutageHold && slices.Equal(o.SkillQuantiles, base.SkillQuantiles) &&
			o.ShortStabilization == base.ShortStabilization && o.SeasonalPeaks == base.SeasonalPeaks &&
			(len(o.SkillQuantiles) > 0 || o.HoldWorth == base.HoldWorth) {
			g.Default = len(g.Options)
		}
		g.Names = append(g.Names, name)
		g.Options = append(g.Options, o)
	}
	for _, js := range []float64{3, 4} {
		for _, oh := range []time.Duration{0, 6 * time.Hour} {
			for _, sea := range []bool{false, true} {
				o := base
				o.JumpSigmas, o.OutageHold, o.SeasonalPeaks = js, oh, sea
				o.PhasePeaks = base.PhasePeaks && sea // it reads the seasonal guard's memory
				add(fmt.Sprintf("jump=%g outage-hold=%s seasonal=%v", js, fmtDuration(oh), sea), o)
			}
		}
	}
	o := base
	o.SkillQuantiles, o.ShortStabilization, o.HoldWorth, o.SeasonalPeaks, o.OutageHold = nil, 5*time.Minute, 0.07, false, 0
	o.PhasePeaks, o.JumpFallBin, o.WeeklyRises = false, false, false
	o.WeeklySchedule = false
	add("no skill, hold-worth=0.07 short=5m", o)
	if g.Default < 0 {
		g.Default = len(g.Options)
		g.Names = append(g.Names, "shipped")
		g.Options = append(g.Options, base)
	}
	return g
}

func fmtDuration(d time.Duration) string { return fmt.Sprintf("%gm", d.Minutes()) }

// loss is how badly a result misses its targets: the worst of its two
// ratios to HPA at equal cost over the trace's goal, and its cost over
// twice the oracle's (1 means at a target's edge).
func loss(r Result) float64 {
	return math.Max(r.Worst()/r.goal(), r.Ours.CostRatio/2)
}

// heldOut says whether row t is left out with row leaveOut: the row
// itself and every row of its family (-1 leaves nothing out).
func heldOut(rs []Result, t, leaveOut int) bool {
	if leaveOut < 0 {
		return false
	}
	if t == leaveOut {
		return true
	}
	f := rs[leaveOut].Family
	return f != "" && rs[t].Family == f
}

// WorstLoss returns a candidate's worst loss over every trace but
// leaveOut and its family (-1 keeps all) and the trace it occurs on.
func WorstLoss(rs []Result, leaveOut int) (float64, string) {
	mx, at, first := 0.0, "", true
	for t, r := range rs {
		if heldOut(rs, t, leaveOut) {
			continue
		}
		if l := loss(r); first || l > mx {
			mx, at, first = l, r.Name, false
		}
	}
	return mx, at
}

// NearTie is how close, relatively, two worst losses must be to count as
// equal: differences below it are within what one seed to the next moves.
const NearTie = 0.025

// Choose returns the candidate (index into results) with the smallest worst
// loss over every trace except leaveOut and the rest of its family (-1
// keeps all): a setting must hold on every trace, not on average. Among
// the candidates of Tied, the one with the smallest mean log loss wins
// (the earliest on equality).
func Choose(results [][]Result, leaveOut int) int {
	pick, _ := choice(results, leaveOut)
	return pick
}

// Tied returns the candidates whose worst loss over every trace except
// leaveOut and the rest of its family is within NearTie of the smallest,
// in index order: the settings Choose decides between by mean log loss
// alone.
func Tied(results [][]Result, leaveOut int) []int {
	_, tied := choice(results, leaveOut)
	return tied
}

// choice returns Choose's pick and the Tied candidates it picked among.
func choice(results [][]Result, leaveOut int) (pick int, tied []int) {
	worst := make([]float64, len(results))
	mean := make([]float64, len(results))
	best := math.Inf(1)
	for c, rs := range results {
		sum, n := 0.0, 0
		for t, r := range rs {
			if heldOut(rs, t, leaveOut) {
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
	pick = -1
	for c, w := range worst {
		if w > best*(1+NearTie)+1e-12 {
			continue
		}
		tied = append(tied, c)
		if pick < 0 || mean[c] < mean[pick]-1e-12 {
			pick = c
		}
	}
	return max(pick, 0), tied
}

// TieSpread is how far the choice's near tie reaches on row t itself:
// the least and the greatest loss of row t over the candidates Tied with
// its family left out, and how many they are. A spread that crosses 1
// means the row's cross-validated figure meets or misses its goal by
// which tied setting the mean log loss picks, not by a worse setting.
func TieSpread(results [][]Result, t int) (lo, hi float64, n int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, c := range Tied(results, t) {
		l := loss(results[c][t])
		lo, hi, n = math.Min(lo, l), math.Max(hi, l), n+1
	}
	return lo, hi, n
}

// LeaveOneOut returns, for each trace, the candidate chosen on all the
// traces of other families (leave-one-family-out; a row without a family
// is its own).
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
