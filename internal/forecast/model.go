package forecast

import "math"

// model is one forecasting method working on the transformed series.
// fit trains on a window (tuning its few hyperparameters) and leaves the
// state just after its last bucket; step advances the state by one bucket;
// predict writes the forecasts of the next len(out) buckets.
type model interface {
	name() string
	fit(w *window)
	step(v float64)
	predict(out []float64)
}

// window is the data a fit sees: the transformed series z (NaN = missing)
// whose first bucket has absolute index abs0, plus what several models
// share.
type window struct {
	z       []float64
	abs0    int64
	day     int
	horizon int
	prof    profile // daily+weekly; zero when the window is shorter than two days
	profD   profile // daily only
	lastObs float64 // last observed value, NaN when none
	scale   float64 // robust one-step noise scale of z
	// wt weighs absolute errors on the model scale when tuning: the square
	// root of the inverse transform's derivative (1 without a transform),
	// halfway between relative and absolute errors, so that busy hours
	// count more than quiet nights without letting rare spikes rule.
	wt []float64
}

// newWindow prepares a fit window; wt is as in window.
func newWindow(z, wt []float64, abs0 int64, day, horizon int) *window {
	w := &window{z: z, wt: wt, abs0: abs0, day: day, horizon: horizon, lastObs: math.NaN()}
	w.prof, w.profD = fitProfile(z, abs0, day)
	w.scale = robustScale(z)
	for i := len(z) - 1; i >= 0; i-- {
		if !math.IsNaN(z[i]) {
			w.lastObs = z[i]
			break
		}
	}
	return w
}

// next returns the absolute index of the bucket after the window.
func (w *window) next() int64 { return w.abs0 + int64(len(w.z)) }

// naive forecasts the last observed value.
type naive struct{ last float64 }

func (m *naive) name() string { return "naive" }

func (m *naive) fit(w *window) { m.last = w.lastObs }

func (m *naive) step(v float64) {
	if !math.IsNaN(v) {
		m.last = v
	}
}

func (m *naive) predict(out []float64) {
	for i := range out {
		out[i] = m.last
	}
}

// snaive forecasts the value one day earlier; a missing value there is
// replaced by the seasonal profile plus the level of the day it belongs to.
type snaive struct {
	ring []float64 // last day of values, indexed by absolute index mod day
	next int64
}

func (m *snaive) name() string { return "snaive" }

func (m *snaive) fit(w *window) {
	d := w.day
	m.ring = make([]float64, d)
	for i := range m.ring {
		m.ring[i] = math.NaN()
	}
	n := len(w.z)
	for i := max(0, n-2*d); i < n; i++ {
		if v := w.z[i]; !math.IsNaN(v) {
			m.ring[mod(w.abs0+int64(i), d)] = v
		}
	}
	// Fill slots never observed from the profile around the last value.
	for s, v := range m.ring {
		if math.IsNaN(v) {
			m.ring[s] = w.lastObs + w.prof.at(int64(s)) - w.prof.at(w.next()-1)
		}
	}
	m.next = w.next()
}

func (m *snaive) step(v float64) {
	if !math.IsNaN(v) {
		m.ring[mod(m.next, len(m.ring))] = v
	}
	m.next++
}

func (m *snaive) predict(out []float64) {
	for h := range out {
		out[h] = m.ring[mod(m.next+int64(h), len(m.ring))]
	}
}

// decomp is the multi-seasonal decomposition model: the window's robust
// daily and weekly profile (see fitProfile) plus a robust level with
// reversion (see level) on the seasonally adjusted series. Its daily-only
// variant ("stl") competes with it, since a weekly shape learnt from two
// weeks helps series whose weeks repeat and hurts those whose do not.
type decomp struct {
	daily bool // daily profile only ("stl")
	prof  profile
	lv    level
	next  int64
}

func (m *decomp) name() string {
	if m.daily {
		return "stl"
	}
	return "mstl"
}

func (m *decomp) fit(w *window) {
	m.prof = w.prof
	if m.daily {
		m.prof = w.profD
	}
	u := make([]float64, len(w.z))
	m.prof.fill(w.abs0, u, false)
	for i, v := range w.z {
		u[i] = v - u[i]
	}
	m.lv = tuneLevel(u, w.wt, w.scale, w.day, w.horizon, min(w.day, len(u)/2))
	m.next = w.next()
}

func (m *decomp) step(v float64) {
	m.lv.update(v - m.prof.at(m.next))
	m.next++
}

func (m *decomp) predict(out []float64) {
	for h := range out {
		out[h] = m.prof.at(m.next + int64(h))
	}
	m.lv.path(out)
}
