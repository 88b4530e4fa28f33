package forecast

import "math"

// ets is additive Holt-Winters exponential smoothing with a damped trend and
// daily seasonality, ETS(A,Ad,A) with m = one day, made robust by clipping
// innovations like level does. The seasonal states start from the window's
// smoothed daily profile; alpha and gamma are tuned on a small grid by
// multi-step error, beta and phi are fixed (a gentle, damped trend).
type ets struct {
	alpha, gamma float64
	l, b, sigma  float64
	s            []float64
	next         int64
	slot         int // next mod len(s)
}

const (
	etsBeta = 0.01
	etsPhi  = 0.9
)

var etsGrid = [][2]float64{
	{0.05, 0}, {0.05, 0.1},
	{0.15, 0}, {0.15, 0.1},
	{0.3, 0}, {0.3, 0.1},
	{0.5, 0}, {0.5, 0.1},
}

func (m *ets) name() string { return "ets" }

// reset starts the state at bucket from of the window: seasonal states from
// the window's daily profile, level from the mean adjusted value of the
// following day. It reports false when that day has no observation.
func (m *ets) reset(w *window, from int) bool {
	d := w.day
	if m.s == nil {
		m.s = make([]float64, d)
	}
	copy(m.s, w.profD.daily)
	var sum float64
	k := 0
	for i := from; i < min(from+d, len(w.z)); i++ {
		if v := w.z[i]; !math.IsNaN(v) {
			sum += v - m.s[mod(w.abs0+int64(i), d)]
			k++
		}
	}
	if k == 0 {
		return false
	}
	m.l, m.b = sum/float64(k), 0
	m.sigma = w.scale
	m.next = w.abs0 + int64(from)
	m.slot = mod(m.next, d)
	return true
}

func (m *ets) fit(w *window) {
	// Tune on the most recent days only, starting from the profile.
	from := max(0, len(w.z)-tuneSpan*w.day)
	best, bestErr := etsGrid[0], math.Inf(1)
	for _, g := range etsGrid {
		m.alpha, m.gamma = g[0], g[1]
		if !m.reset(w, from) {
			break
		}
		if e := m.run(w, from, true); e < bestErr {
			best, bestErr = g, e
		}
	}
	m.alpha, m.gamma = best[0], best[1]
	m.reset(w, 0)
	m.run(w, 0, false)
}

// run advances through the window from bucket from, and when scoring
// returns the mean absolute multi-step error from every tuneStride-th
// bucket after the first day.
func (m *ets) run(w *window, from int, score bool) float64 {
	var sum float64
	cnt := 0
	n := len(w.z)
	for t := from; t < n; t++ {
		if score && t >= from+w.day && t%tuneStride == 0 {
			damp := 0.0
			for h := 1; h <= w.horizon && t+h-1 < n; h++ {
				damp = damp*etsPhi + etsPhi
				if v := w.z[t+h-1]; !math.IsNaN(v) {
					k := m.slot + h - 1
					if k >= len(m.s) {
						k -= len(m.s)
					}
					f := m.l + damp*m.b + m.s[k]
					sum += w.wt[t+h-1] * math.Abs(v-f)
					cnt++
				}
			}
		}
		m.step(w.z[t])
	}
	if cnt == 0 {
		return math.Inf(1)
	}
	return sum / float64(cnt)
}

func (m *ets) step(v float64) {
	slot := m.slot
	m.next++
	if m.slot++; m.slot == len(m.s) {
		m.slot = 0
	}
	f := m.l + etsPhi*m.b
	if math.IsNaN(v) {
		m.l, m.b = f, etsPhi*m.b
		return
	}
	ec := clip(v-f-m.s[slot], clipK*m.sigma)
	m.l = f + m.alpha*ec
	m.b = etsPhi*m.b + etsBeta*ec
	m.s[slot] += m.gamma * (1 - m.alpha) * ec
	m.sigma = (1-sigmaRate)*m.sigma + sigmaRate*madToSigma*math.Abs(ec)
}

func (m *ets) predict(out []float64) {
	damp := 0.0
	for h := range out {
		damp = damp*etsPhi + etsPhi
		out[h] = m.l + damp*m.b + m.s[mod(m.next+int64(h), len(m.s))]
	}
}
