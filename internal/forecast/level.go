package forecast

import "math"

// level is a robust exponentially smoothed level with optional reversion to
// a slow mean. It models what is left of a series once its seasonality (and
// for the regression, its trend) is removed: the h-step forecast is
// m + rho^h·(l − m), where l is the fast level and m a one-day moving mean
// of l. rho = 1 is simple exponential smoothing; rho < 1 lets a short burst
// fade back to the recent normal. Innovations beyond clipK robust standard
// deviations are clipped, so one outlier barely moves the level while a
// lasting shift is absorbed in a few steps as the scale widens.
type level struct {
	alpha, rho float64
	slow       float64 // weight of the slow mean's update
	l, m       float64
	sigma      float64
	ready      bool
}

// clipK is the innovation clip in robust standard deviations.
const clipK = 3

// sigmaRate is the update weight of the innovation scale, which is tracked
// as a moving mean absolute innovation times madToSigma (no square roots on
// the hot path).
const (
	sigmaRate  = 0.02
	madToSigma = 1.2533
)

// levelGrid lists the (alpha, rho) pairs tried when tuning.
var levelGrid = func() [][2]float64 {
	var g [][2]float64
	for _, a := range []float64{0.07, 0.2, 0.45, 0.8} {
		for _, r := range []float64{1, 0.95} {
			g = append(g, [2]float64{a, r})
		}
	}
	return g
}()

// newLevel returns a level with the given smoothing and reversion, whose
// slow mean follows about one period of buckets.
func newLevel(alpha, rho float64, period int) level {
	return level{alpha: alpha, rho: rho, slow: 1 / float64(max(period, 1))}
}

// start initialises the state from the first observed value and a scale.
func (s *level) start(u, sigma float64) {
	s.l, s.m, s.sigma, s.ready = u, u, sigma, true
}

// path adds the forecasts for steps 1..len(out) to out.
func (s *level) path(out []float64) {
	d, r := s.l-s.m, 1.0
	for h := range out {
		r *= s.rho
		out[h] += s.m + r*d
	}
}

// update consumes one value; NaN advances the state without news.
func (s *level) update(u float64) {
	if !s.ready {
		// Nothing seen yet (the training part was all missing): the
		// first value starts the level.
		if !math.IsNaN(u) {
			s.start(u, 0)
		}
		return
	}
	f := s.m + s.rho*(s.l-s.m)
	if math.IsNaN(u) {
		s.l = f
		return
	}
	ec := clip(u-f, clipK*s.sigma)
	s.l = f + s.alpha*ec
	s.m += s.slow * (s.l - s.m)
	s.sigma = (1-sigmaRate)*s.sigma + sigmaRate*madToSigma*math.Abs(ec)
}

// scaleSpan is the number of most recent values robustScale looks at (one
// week of 5-minute buckets).
const scaleSpan = 2016

// clip limits e to [-lim, lim]; lim = 0 means no limit.
func clip(e, lim float64) float64 {
	if lim <= 0 {
		return e
	}
	if e > lim {
		return lim
	}
	if e < -lim {
		return -lim
	}
	return e
}

// robustScale returns 1.48·MAD of the first differences of u divided by √2,
// a noise scale that ignores level and seasonality; it never returns zero
// for a series that moves. Only the last scaleSpan values count.
func robustScale(u []float64) float64 {
	u = u[max(0, len(u)-scaleSpan):]
	d := make([]float64, 0, len(u))
	prev := math.NaN()
	for _, v := range u {
		if math.IsNaN(v) {
			continue
		}
		if !math.IsNaN(prev) {
			d = append(d, math.Abs(v-prev))
		}
		prev = v
	}
	s := 1.48 * median(d) / math.Sqrt2
	if s == 0 || math.IsNaN(s) {
		var sum float64
		for _, v := range d {
			sum += v
		}
		if len(d) > 0 {
			s = sum / float64(len(d))
		}
	}
	if math.IsNaN(s) {
		s = 0
	}
	return s
}

// tuneLevel picks the (alpha, rho) pair with the least mean absolute
// multi-step error over the last tuneSpan periods of u, forecasting from
// every tuneStride-th bucket after a burn-in, and returns the level run
// through all of u with that pair.
func tuneLevel(u, wt []float64, sigma float64, period, horizon, burn int) level {
	full := u
	if len(u) > tuneSpan*period {
		// Tune on the most recent days only: the level forgets within a
		// day, so older data would only cost time.
		u = u[len(u)-tuneSpan*period:]
		wt = wt[len(wt)-tuneSpan*period:]
		burn = min(burn, period)
	}
	first := -1
	for i, v := range u {
		if !math.IsNaN(v) {
			first = i
			break
		}
	}
	best, bestErr := newLevel(levelGrid[0][0], levelGrid[0][1], period), math.Inf(1)
	for _, g := range levelGrid {
		if first < 0 {
			break
		}
		s := newLevel(g[0], g[1], period)
		s.start(u[first], sigma)
		var sum float64
		cnt := 0
		for t := first + 1; t < len(u); t++ {
			if t >= burn && t%tuneStride == 0 {
				d, r := s.l-s.m, 1.0
				for h := 1; h <= horizon && t+h-1 < len(u); h++ {
					r *= s.rho
					if v := u[t+h-1]; !math.IsNaN(v) {
						sum += wt[t+h-1] * math.Abs(v-s.m-r*d)
						cnt++
					}
				}
			}
			s.update(u[t])
		}
		if cnt == 0 {
			break
		}
		if e := sum / float64(cnt); e < bestErr {
			best, bestErr = s, e
		}
	}
	if len(full) == len(u) || bestErr == math.Inf(1) {
		return runLevel(best, full, sigma, period)
	}
	// The best run already ends at the end of u.
	return best
}

// tuneSpan is the number of most recent periods tuning looks at.
const tuneSpan = 5

// runSpan is the number of most recent periods runLevel runs through.
const runSpan = 3

// tuneStride is the spacing of the forecast origins scored when tuning.
const tuneStride = 3

// runLevel returns a level with the parameters of p run through u. Only the
// last runSpan periods are run: the level, its slow mean and its scale
// forget older data anyway.
func runLevel(p level, u []float64, sigma float64, period int) level {
	s := newLevel(p.alpha, p.rho, period)
	u = u[max(0, len(u)-runSpan*period):]
	for i, v := range u {
		if math.IsNaN(v) {
			continue
		}
		s.start(v, sigma)
		for _, w := range u[i+1:] {
			s.update(w)
		}
		break
	}
	return s
}
