package scaleeval

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Row is one scored controller in a comparison.
type Row struct {
	// Name labels the controller, e.g. "headroom", "hpa@0.70", "static-peak".
	Name string
	Score
}

// Curve is HPA's cost/quality curve over a range of targets.
type Curve []Row

// HPATargets are the targets 0.40, 0.41, …, 0.95 the baseline is run at.
//
// Our point is compared with the curve interpolated linearly at our cost.
// HPA's quality falls with cost along a convex curve, so a chord between
// two targets lies above it: read at every 0.05, a point between two
// targets was compared with a worse HPA than any target at its cost gives
// (the forty-third round found the shop's fronts winning by up to 6 % on
// the chord alone). At every 0.01 the chords are short enough that a point
// beats the curve only by beating HPA at targets on both sides of it.
func HPATargets() []float64 {
	var ts []float64
	for k := hpaTargetLow; k <= hpaTargetHigh; k++ {
		ts = append(ts, float64(k)/100)
	}
	return ts
}

// The HPA targets in hundredths, and how many of them a printed listing
// steps over (every 0.05).
const (
	hpaTargetLow, hpaTargetHigh = 40, 95
	hpaListEvery                = 5
)

// RunHPACurve simulates the HPA rule at every target and scores it.
func RunHPACurve(times []time.Time, demand []float64, s Setup, targets []float64, oracleCost float64) (Curve, error) {
	var c Curve
	for _, tg := range targets {
		r, err := runHPA(times, demand, s, tg)
		if err != nil {
			return nil, err
		}
		c = append(c, Row{Name: fmt.Sprintf("hpa@%.2f", tg), Score: ScoreRun(demand, r, s, oracleCost)})
	}
	return c, nil
}

// runHPA simulates the HPA rule at target tg over demand.
func runHPA(times []time.Time, demand []float64, s Setup, tg float64) (Run, error) {
	h, err := NewHPA(tg, s.Capacity)
	if err != nil {
		return Run{}, err
	}
	r, err := Simulate(times, demand, s, h)
	if err != nil {
		return Run{}, fmt.Errorf("hpa %.2f: %w", tg, err)
	}
	return r, nil
}

// At interpolates the curve linearly in cost ratio at cost, returning the
// under-provisioned and unserved percentages and whether cost lay inside the
// curve's range (outside it the nearest end is returned).
func (c Curve) At(cost float64) (under, unserved float64, inside bool) {
	if len(c) == 0 {
		return math.NaN(), math.NaN(), false
	}
	pts := append(Curve(nil), c...)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].CostRatio < pts[j].CostRatio })
	if cost <= pts[0].CostRatio {
		return pts[0].UnderPct, pts[0].UnservedPct, cost == pts[0].CostRatio
	}
	last := pts[len(pts)-1]
	if cost >= last.CostRatio {
		return last.UnderPct, last.UnservedPct, cost == last.CostRatio
	}
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		if cost <= b.CostRatio {
			f := (cost - a.CostRatio) / (b.CostRatio - a.CostRatio)
			return a.UnderPct + f*(b.UnderPct-a.UnderPct), a.UnservedPct + f*(b.UnservedPct-a.UnservedPct), true
		}
	}
	return last.UnderPct, last.UnservedPct, false
}
