package forecast

import (
	"math"
	"time"
)

// Origins returns the forecast origins of the backtest protocol: every
// multiple of every (6 hours in DESIGN.md, counted from midnight UTC) in
// [start, end) such that origin + span <= end.
func Origins(start, end time.Time, every, span time.Duration) []time.Time {
	if every <= 0 {
		return nil
	}
	var out []time.Time
	o := start.UTC().Truncate(every)
	if o.Before(start) {
		o = o.Add(every)
	}
	for ; !o.Add(span).After(end); o = o.Add(every) {
		out = append(out, o)
	}
	return out
}

// SeasonalNaiveMAE returns the in-sample mean absolute error of the
// seasonal-naive forecast with the given lag over y (pairs with a missing
// side are skipped); it is the MASE scale. It returns NaN when no pair
// exists.
func SeasonalNaiveMAE(y []float64, lag int) float64 {
	var sum float64
	n := 0
	for i := lag; i < len(y); i++ {
		a, b := y[i], y[i-lag]
		if math.IsNaN(a) || math.IsNaN(b) {
			continue
		}
		sum += math.Abs(a - b)
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Scores summarises a backtest. Means are over every (origin, step) pair
// whose actual value is known.
type Scores struct {
	// Origins is the number of origins scored.
	Origins int
	// Missed is the number of origins that had no forecast to score
	// (nothing observed before them): counted, never scored.
	Missed int
	// Points is the number of (origin, step) pairs with a known actual.
	Points int
	// MASEPoints is the number of those pairs in the MASE mean: the ones
	// whose origin has a positive MASE scale.
	MASEPoints int
	// MASE is the mean absolute error scaled per origin by the in-sample MAE
	// of the one-day seasonal-naive forecast over that origin's training
	// window (pairs whose scale is zero or unknown are left out).
	MASE float64
	// SMAPE is the symmetric mean absolute percentage error in percent.
	SMAPE float64
	// Coverage80 and Coverage95 are the fractions of actuals inside the 80 %
	// and 95 % intervals.
	Coverage80, Coverage95 float64
	// Width80 is the mean width of the 80 % interval.
	Width80 float64
	// StepCoverage80 holds the 80 % coverage per horizon step.
	StepCoverage80 []float64
}

// Scorer accumulates the backtest scores origin by origin.
type Scorer struct {
	origins, missed           int
	n, nMASE                  int
	mase, smape, cov80, cov95 float64
	width                     float64
	stepIn, stepN             []int
}

// Add scores one origin: scale is its MASE scale (see SeasonalNaiveMAE),
// actual holds the observed bucket values for the forecast points (NaN when
// unknown, those pairs are skipped).
func (s *Scorer) Add(scale float64, actual []float64, pts []Point) {
	s.origins++
	for len(s.stepN) < len(pts) {
		s.stepN = append(s.stepN, 0)
		s.stepIn = append(s.stepIn, 0)
	}
	for i, p := range pts {
		if i >= len(actual) || math.IsNaN(actual[i]) {
			continue
		}
		y := actual[i]
		e := math.Abs(y - p.Yhat)
		s.n++
		if scale > 0 && !math.IsNaN(scale) {
			s.mase += e / scale
			s.nMASE++
		}
		if d := math.Abs(y) + math.Abs(p.Yhat); d > 0 {
			s.smape += 200 * e / d
		}
		s.stepN[i]++
		if y >= p.Lo80 && y <= p.Hi80 {
			s.cov80++
			s.stepIn[i]++
		}
		if y >= p.Lo95 && y <= p.Hi95 {
			s.cov95++
		}
		s.width += p.Hi80 - p.Lo80
	}
}

// Miss counts an origin that has no forecast to score, such as one with
// no observed bucket before it (ErrNoData): it is left out of every mean
// and reported in Scores.Missed, so that it is neither scored nor hidden.
func (s *Scorer) Miss() { s.missed++ }

// Scores returns the scores accumulated so far.
func (s *Scorer) Scores() Scores {
	out := Scores{Origins: s.origins, Missed: s.missed, Points: s.n, MASEPoints: s.nMASE}
	if s.nMASE > 0 {
		out.MASE = s.mase / float64(s.nMASE)
	} else {
		out.MASE = math.NaN()
	}
	if s.n > 0 {
		n := float64(s.n)
		out.SMAPE = s.smape / n
		out.Coverage80 = s.cov80 / n
		out.Coverage95 = s.cov95 / n
		out.Width80 = s.width / n
	}
	out.StepCoverage80 = make([]float64, len(s.stepN))
	for i, k := range s.stepN {
		if k > 0 {
			out.StepCoverage80[i] = float64(s.stepIn[i]) / float64(k)
		}
	}
	return out
}
