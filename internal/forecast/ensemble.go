package forecast

import (
	"math"
	"slices"
)

// ensemble is a fitted set of models with their weights and the per-step
// error quantiles of their weighted forecast, all on the transformed scale.
type ensemble struct {
	tr      transform
	models  []model
	weights []float64
	// qs holds, per horizon step, the 2.5 %, 10 %, 90 % and 97.5 %
	// quantiles of the held-out error.
	qs      [][4]float64
	bias    []float64
	next    int64 // absolute index of the bucket the models expect next
	trained int
	holdout int
	scores  []float64 // held-out MAE per model, NaN when not scored
	names   []string
}

// Normal quantiles for the fallback intervals.
const (
	z80 = 1.2815515655446004
	z95 = 1.959963984540054
)

// fallbackWiden inflates the intervals built without held-out errors.
const fallbackWiden = 1.5

// fitEnsemble fits the ensemble to the window y (raw values, NaN = missing)
// whose first bucket has absolute index abs0, for forecasts of up to horizon
// steps. It returns nil when y holds no observed value.
func fitEnsemble(y []float64, abs0 int64, cfg Config, horizon int) *ensemble {
	day := cfg.day()
	ym := maskOutages(y, cfg.OutageRun)
	tr := newTransform(ym)
	n := len(ym)
	z := make([]float64, n)
	wt := make([]float64, n)
	jac := make([]float64, n)
	obs := 0
	for i, v := range ym {
		z[i] = tr.fwd(v)
		wt[i], jac[i] = 1, 1
		if !math.IsNaN(v) {
			obs++
			if tr.log {
				jac[i] = v + tr.c
				wt[i] = math.Sqrt(jac[i])
			}
		}
	}
	if obs == 0 {
		return nil
	}
	e := &ensemble{tr: tr, next: abs0 + int64(n), trained: obs}
	hold := min(cfg.Holdout, n/4)
	// Whether to score models depends on the configured horizon, not on
	// the one asked for: a longer forecast (buckets skipped) must fit the
	// same models, or the forecasts after it would depend on whether it
	// was asked for (a stage that took the series over never asks).
	if hold < 2*cfg.Horizon {
		hold = 0
	}
	fitLen := n - hold
	cands := candidates(fitLen, day, cfg.Models)
	if hold == 0 {
		// Too little history to score models: the level model alone.
		e.fallback(cands[len(cands)-1], newWindow(z, wt, abs0, day, cfg.Horizon), horizon)
		return e
	}
	e.holdout = hold
	// Models are tuned and scored on the configured horizon only, so that a
	// longer forecast changes nothing in the first Horizon steps.
	h := holdout{z: z, jac: jac, fitLen: fitLen, horizon: horizon, scored: min(horizon, cfg.Horizon)}
	h.run(cands, newWindow(z[:fitLen], wt[:fitLen], abs0, day, cfg.Horizon))
	scores := h.scores()
	weights := weigh(scores)
	var calibrated bool
	if e.qs, e.bias, calibrated = h.calibrate(weights); !calibrated {
		// Too few held-out errors to calibrate intervals (they would
		// have no width): the level model's noise intervals, as without
		// a holdout; the forecast itself is the scored models' as ever.
		e.qs = noiseQuantiles(newWindow(z, wt, abs0, day, cfg.Horizon), horizon)
	} else if r := robustScale(z[max(fitLen, n-day):]) / robustScale(z[fitLen:]); r > 0 && !math.IsInf(r, 0) {
		// Scale the quantiles by how much noisier or calmer the last day
		// was than the holdout as a whole (noise comes in spells).
		r = min(max(r, 0.7), 1.4)
		for h := range e.qs {
			for j := range e.qs[h] {
				e.qs[h][j] *= r
			}
		}
	}
	// Keep the weighted models as they are: fitted on the head and advanced
	// through the holdout, they are at the end of the window, and they are
	// exactly the models whose errors set the weights and intervals.
	for k, m := range cands {
		e.names = append(e.names, m.name())
		e.scores = append(e.scores, scores[k])
		if weights[k] == 0 {
			continue
		}
		e.models = append(e.models, m)
		e.weights = append(e.weights, weights[k])
	}
	return e
}

// fallback makes e the model m alone, fitted on w, with normal intervals
// from the one-step noise, widened by fallbackWiden and growing with the
// square root of the horizon.
func (e *ensemble) fallback(m model, w *window, horizon int) {
	m.fit(w)
	e.models, e.weights = []model{m}, []float64{1}
	e.names, e.scores = []string{m.name()}, []float64{math.NaN()}
	e.qs = noiseQuantiles(w, horizon)
	e.bias = make([]float64, horizon)
}

// noiseQuantiles returns normal intervals from w's one-step noise, widened
// by fallbackWiden and growing with the square root of the horizon: the
// intervals of a fit that could not calibrate its own.
func noiseQuantiles(w *window, horizon int) [][4]float64 {
	sigma := w.scale
	if sigma == 0 {
		sigma = 0.1 * math.Abs(w.lastObs)
	}
	qs := make([][4]float64, horizon)
	for h := range qs {
		s := fallbackWiden * sigma * math.Sqrt(float64(h+1))
		qs[h] = [4]float64{-z95 * s, -z80 * s, z80 * s, z95 * s}
	}
	return qs
}

// candidates returns the models worth fitting on a window of n buckets,
// restricted to the names in only when it is not empty; the last one is the
// model used alone when nothing can be scored. A restriction that leaves
// nothing (too little data for the named models) falls back to mstl, which
// degrades to a robust level without a profile.
func candidates(n, day int, only []string) []model {
	ms := []model{&naive{}}
	if n >= 2*day {
		ms = append(ms, &snaive{}, &ets{})
	}
	if n >= 3*day {
		ms = append(ms, &regress{})
	}
	if n >= 8*day {
		ms = append(ms, &decomp{daily: true})
	}
	ms = append(ms, &decomp{})
	if len(only) == 0 {
		return ms
	}
	kept := ms[:0]
	for _, m := range ms {
		if slices.Contains(only, m.name()) {
			kept = append(kept, m)
		}
	}
	if len(kept) == 0 {
		return []model{&decomp{}}
	}
	return kept
}

// step advances every model by one raw value.
func (e *ensemble) step(v float64) {
	z := e.tr.fwd(v)
	for _, m := range e.models {
		m.step(z)
	}
	e.next++
}

// predict returns the back-transformed median and interval bounds for the
// next h steps; steps beyond the calibrated horizon reuse the last step's
// quantiles scaled by the square root of the horizon ratio.
func (e *ensemble) predict(h int) (yhat []float64, bounds [][4]float64) {
	f := make([]float64, h)
	buf := make([]float64, h)
	for k, m := range e.models {
		m.predict(buf)
		for i := range f {
			f[i] += e.weights[k] * buf[i]
		}
	}
	yhat = make([]float64, h)
	bounds = make([][4]float64, h)
	H := len(e.qs)

	for i := range f {
		if e.bias != nil {
			f[i] += e.bias[min(i, H-1)]
		}
		q := e.qs[min(i, H-1)]
		if i >= H {
			s := math.Sqrt(float64(i+1) / float64(H))
			for j := range q {
				q[j] *= s
			}
		}
		yhat[i] = e.tr.inv(f[i])
		for j := range q {
			bounds[i][j] = e.tr.inv(f[i] + q[j])
		}
		// Keep the bounds ordered around the median.
		bounds[i][0] = math.Min(bounds[i][0], bounds[i][1])
		bounds[i][1] = math.Min(bounds[i][1], yhat[i])
		bounds[i][2] = math.Max(bounds[i][2], yhat[i])
		bounds[i][3] = math.Max(bounds[i][3], bounds[i][2])
	}
	return yhat, bounds
}

// label names the models in use, heaviest first.
func (e *ensemble) label() string {
	idx := make([]int, len(e.models))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case e.weights[a] > e.weights[b]:
			return -1
		case e.weights[a] < e.weights[b]:
			return 1
		}
		return 0
	})
	s := ""
	for i, k := range idx {
		if i > 0 {
			s += "+"
		}
		s += e.models[k].name()
	}
	return s
}
