package scaleeval

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Trend is how the load moves around a scored minute: the load trendSpan
// minutes later against the load trendSpan minutes earlier. It reads the
// future, so it classifies minutes for an explanation after the run; no
// decision uses it.
type Trend int

// The trends a minute can have.
const (
	Climbing Trend = iota
	Steady
	Falling
	nTrends
)

// String names the trend.
func (t Trend) String() string {
	switch t {
	case Climbing:
		return "climbing"
	case Falling:
		return "falling"
	default:
		return "steady"
	}
}

// trendSpan (minutes either side) and trendShare (relative change) tell a
// climbing or falling minute from a steady one, and smallShort is the
// shortfall, in replicas, under which a miss counts as small: a rounding
// of the headroom rather than a load nobody provisioned for.
const (
	trendSpan  = 10
	trendShare = 0.03
	smallShort = 0.2
)

// trendAt classifies minute i of demand (Steady where the span does not
// fit or the load before is zero).
func trendAt(demand []float64, i int) Trend {
	if i < trendSpan || i+trendSpan >= len(demand) || demand[i-trendSpan] <= 0 {
		return Steady
	}
	switch d := demand[i+trendSpan]/demand[i-trendSpan] - 1; {
	case d > trendShare:
		return Climbing
	case d < -trendShare:
		return Falling
	}
	return Steady
}

// MissSplit is one run's scored minutes of one trend.
type MissSplit struct {
	// Minutes is the number of scored minutes of the trend.
	Minutes int
	// Under counts the under-provisioned ones, and Small those of them
	// short by less than smallShort of a replica.
	Under, Small int
	// Unserved is the demand not served, in load units × minutes.
	Unserved float64
	// Cost is the replica-minutes paid (ready plus booting).
	Cost float64
}

// SplitMisses splits a run's scored minutes (from s.Warmup on) by the
// load's trend. Summed over the trends, the counts are ScoreRun's.
func SplitMisses(demand []float64, r Run, s Setup) [nTrends]MissSplit {
	var out [nTrends]MissSplit
	for i := s.Warmup; i < len(demand); i++ {
		m := &out[trendAt(demand, i)]
		m.Minutes++
		m.Cost += float64(r.Ready[i] + r.Booting[i])
		if short := demand[i] - float64(r.Ready[i])*s.Capacity; short > 0 {
			m.Under++
			m.Unserved += short
			if short < smallShort*s.Capacity {
				m.Small++
			}
		}
	}
	return out
}

// Breakdown is where one row's minutes are lost: ours and HPA's at the
// target whose cost is nearest ours, split by the load's trend.
type Breakdown struct {
	// Name labels the row as the suite table does.
	Name string
	// HPATarget is the target of the HPA run beside ours.
	HPATarget float64
	// Ours and HPA are the two runs' splits, indexed by Trend.
	Ours, HPA [nTrends]MissSplit
	// Points are the operating points our run decided at, in order (the
	// skill selector's switches), and Days the run's length in days.
	Points []PointSpan
	Days   float64
}

// nearestHPA runs HPA at the target of c whose cost ratio is nearest cost
// (c's rows follow HPATargets, as RunHPACurve builds them).
func nearestHPA(c Curve, cost float64, times []time.Time, demand []float64, s Setup) (float64, Run, error) {
	targets := HPATargets()
	if len(c) != len(targets) {
		return 0, Run{}, fmt.Errorf("HPA curve has %d points, want %d", len(c), len(targets))
	}
	best := 0
	for k, row := range c {
		if math.Abs(row.CostRatio-cost) < math.Abs(c[best].CostRatio-cost) {
			best = k
		}
	}
	r, err := runHPA(times, demand, s, targets[best])
	return targets[best], r, err
}

// breakdown compares a run of ours, at cost (÷ the oracle's), with HPA's
// nearest in cost.
func breakdown(name string, c Curve, times []time.Time, demand []float64, s Setup, ours Run, cost float64) (Breakdown, error) {
	tg, h, err := nearestHPA(c, cost, times, demand, s)
	if err != nil {
		return Breakdown{}, fmt.Errorf("%s: %w", name, err)
	}
	days := 0.0
	if n := len(times); n > 0 {
		days = daysSince(times[0], times[n-1].Add(time.Minute))
	}
	return Breakdown{Name: name, HPATarget: tg, Ours: SplitMisses(demand, ours, s), HPA: SplitMisses(demand, h, s), Days: days}, nil
}

// PrintBreakdowns writes, per row and trend, the scored minutes, the
// under-provisioned ones (small: short by less than a fifth of a
// replica), the demand unserved and the replica-minutes paid, ours beside
// HPA's at the target nearest our cost, then the operating points the run
// decided at: the days at each and the switches between them.
func PrintBreakdowns(w io.Writer, bs []Breakdown) {
	fmt.Fprintf(w, "where the minutes are lost, ours|HPA's at the target nearest our cost: a minute climbs or falls when the load %d minutes on is more than %.0f %% above or below the load %d minutes before; small: short by less than %.1f of a replica\n",
		trendSpan, 100*trendShare, trendSpan, smallShort)
	for _, b := range bs {
		fmt.Fprintf(w, "%s beside hpa@%.2f\n", b.Name, b.HPATarget)
		fmt.Fprintf(w, "  %-9s %8s %17s %17s %23s %23s\n", "trend", "minutes", "under", "small", "unserved", "replica-minutes")
		for t := Trend(0); t < nTrends; t++ {
			o, h := b.Ours[t], b.HPA[t]
			fmt.Fprintf(w, "  %-9s %8d %8d|%-8d %8d|%-8d %11.0f|%-11.0f %11.0f|%.0f\n",
				t, o.Minutes, o.Under, h.Under, o.Small, h.Small, o.Unserved, h.Unserved, o.Cost, h.Cost)
		}
		printPoints(w, b.Points, b.Days)
	}
}
