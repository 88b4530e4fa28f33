package forecast

import "math"

// holdout runs the candidate models through the last days of a window they
// were not fitted on and keeps their forecasts, to weigh the models and
// calibrate the intervals out of sample.
type holdout struct {
	z       []float64 // the whole window on the model scale
	jac     []float64 // dy/dz per bucket (1 without a transform)
	fitLen  int       // buckets the models were fitted on
	horizon int
	scored  int         // leading steps that count in the scores
	preds   [][]float64 // per model, per origin, per step
}

// holdStride is the spacing of the forecast origins in the holdout.
const holdStride = 3

// biasShrink is the share of the held-out median error corrected.
const biasShrink = 0.5

// origins returns the number of forecast origins in the holdout.
func (h *holdout) origins() int {
	return (len(h.z) - h.fitLen + holdStride - 1) / holdStride
}

// run fits every model on head and advances it through the holdout,
// forecasting from every holdStride-th bucket.
func (h *holdout) run(models []model, head *window) {
	no, H := h.origins(), h.horizon
	h.preds = make([][]float64, len(models))
	for k, m := range models {
		m.fit(head)
		p := make([]float64, no*H)
		for t := 0; t < len(h.z)-h.fitLen; t++ {
			if t%holdStride == 0 {
				o := t / holdStride
				m.predict(p[o*H : (o+1)*H])
			}
			m.step(h.z[h.fitLen+t])
		}
		h.preds[k] = p
	}
}

// scores returns each model's held-out mean absolute error on the
// original scale, linearised: |Δy| ≈ |Δz|·dy/dz at the actual value (NaN
// when nothing could be scored).
func (h *holdout) scores() []float64 {
	n, H := len(h.z), h.horizon
	out := make([]float64, len(h.preds))
	for k, p := range h.preds {
		var sum float64
		cnt := 0
		for o := 0; o < h.origins(); o++ {
			t := h.fitLen + o*holdStride
			for s := 0; s < h.scored && t+s < n; s++ {
				a := h.z[t+s]
				if math.IsNaN(a) {
					continue
				}
				sum += h.jac[t+s] * math.Abs(a-p[o*H+s])
				cnt++
			}
		}
		out[k] = math.NaN()
		if cnt > 0 {
			out[k] = sum / float64(cnt)
		}
	}
	return out
}

// minCalibration is the fewest held-out errors a horizon step's quantiles
// are read from; a step with fewer takes the previous step's.
const minCalibration = 10

// calibrate returns, per horizon step, the 2.5, 10, 90 and 97.5 %
// quantiles of the weighted forecast's held-out errors and the bias to add
// to the forecast: half the median error (shrunk, since the holdout is
// short), the quantiles being of the recentred errors. Quantiles never
// narrow as the horizon grows. ok is false when the first step has fewer
// than minCalibration errors (a short holdout, or one mostly missing):
// nothing could be calibrated, and the quantiles are all zero.
func (h *holdout) calibrate(weights []float64) (qs [][4]float64, bias []float64, ok bool) {
	H := h.horizon
	hold := len(h.z) - h.fitLen
	qs = make([][4]float64, H)
	bias = make([]float64, H)
	errs := make([]float64, 0, h.origins())
	for s := 0; s < H; s++ {
		errs = errs[:0]
		for o := 0; o*holdStride+s < hold; o++ {
			a := h.z[h.fitLen+o*holdStride+s]
			if math.IsNaN(a) {
				continue
			}
			var f float64
			for k, w := range weights {
				if w > 0 {
					f += w * h.preds[k][o*H+s]
				}
			}
			errs = append(errs, a-f)
		}
		if len(errs) < minCalibration {
			if s > 0 {
				qs[s], bias[s] = qs[s-1], bias[s-1]
			}
			continue
		}
		if s == 0 {
			ok = true
		}
		bias[s] = biasShrink * quantile(errs, 0.5)
		for i := range errs {
			errs[i] -= bias[s]
		}
		qs[s] = [4]float64{quantile(errs, qLo95), quantile(errs, qLo80), quantile(errs, 1-qLo80), quantile(errs, 1-qLo95)}
		if s > 0 {
			for j := 0; j < 2; j++ {
				qs[s][j] = math.Min(qs[s][j], qs[s-1][j])
			}
			for j := 2; j < 4; j++ {
				qs[s][j] = math.Max(qs[s][j], qs[s-1][j])
			}
		}
	}
	return qs, bias, ok
}

// weighRatio bounds the models kept: those whose held-out error is within
// this factor of the best one's.
const weighRatio = 1.15

// weigh turns held-out errors into combination weights: models within
// weighRatio of the best get weights proportional to 1/MAE², the others
// zero.
func weigh(scores []float64) []float64 {
	w := make([]float64, len(scores))
	best := math.Inf(1)
	for _, s := range scores {
		if !math.IsNaN(s) && s < best {
			best = s
		}
	}
	if math.IsInf(best, 1) {
		w[len(w)-1] = 1
		return w
	}
	var sum float64
	for k, s := range scores {
		if math.IsNaN(s) || s > weighRatio*best {
			continue
		}
		if s == 0 {
			s = 1e-12
		}
		w[k] = 1 / (s * s)
		sum += w[k]
	}
	for k := range w {
		w[k] /= sum
	}
	return w
}

// Quantile levels of the held-out errors used for the lower bounds (the
// upper ones are symmetric).
const (
	qLo80 = 0.1
	qLo95 = 0.025
)
