package forecast

import "math"

// profile is a robust seasonal shape on the model scale: a daily profile
// (one value per bucket of the day) plus, when enough history exists, a
// weekly correction per hour of the week, interpolated between hours.
// Positions are absolute bucket indexes (bucket start / step since the Unix
// epoch), so shapes line up with the UTC clock.
type profile struct {
	day    int
	daily  []float64 // len day, mean zero
	weekly []float64 // 7·cells values, nil when not fitted
	cells  int       // weekly cells per day
}

// at returns the seasonal value of the bucket with absolute index abs.
func (p *profile) at(abs int64) float64 {
	if p.daily == nil {
		return 0
	}
	v := p.daily[mod(abs, p.day)]
	if p.weekly == nil {
		return v
	}
	per := p.day / p.cells
	n := len(p.weekly)
	u := (float64(mod(abs, 7*p.day))+0.5)/float64(per) - 0.5
	i0 := math.Floor(u)
	f := u - i0
	a := mod(int64(i0), n)
	return v + (1-f)*p.weekly[a] + f*p.weekly[(a+1)%n]
}

// fitProfile estimates the profile of z (NaN = missing) whose first bucket
// has absolute index abs0. The daily profile is the per-slot median of the
// series minus its one-day centred moving average, smoothed across
// neighbouring slots; the weekly correction is the per-hour-of-week median
// of what remains, shrunk toward zero when few weeks back it. Medians keep
// outliers, outages and level shifts from bending the shape.
func fitProfile(z []float64, abs0 int64, day int, weekly bool) profile {
	p := profile{day: day}
	n := len(z)
	if n < 2*day {
		return p
	}
	x := detrend(z, day)
	// Daily profile.
	p.daily = make([]float64, day)
	buf := make([]float64, 0, n/day+1)
	for s := 0; s < day; s++ {
		buf = buf[:0]
		for i := mod(int64(s)-abs0, day); i < n; i += day {
			if !math.IsNaN(x[i]) {
				buf = append(buf, x[i])
			}
		}
		p.daily[s] = median(buf)
	}
	fillCircular(p.daily)
	p.daily = smoothCircular(p.daily, max(1, day/96))
	center(p.daily)
	if !weekly || n < 8*day {
		return p
	}
	// Weekly correction per hour of the week.
	p.cells = 24
	if day%24 != 0 {
		p.cells = day
	}
	per := day / p.cells
	nc := 7 * p.cells
	p.weekly = make([]float64, nc)
	counts := make([]int, nc)
	cellVals := make([][]float64, nc)
	for i, v := range x {
		if math.IsNaN(v) {
			continue
		}
		abs := abs0 + int64(i)
		c := mod(abs, 7*day) / per
		cellVals[c] = append(cellVals[c], v-p.daily[mod(abs, day)])
		counts[c]++
	}
	for c := range p.weekly {
		if counts[c] == 0 {
			p.weekly[c] = math.NaN()
			continue
		}
		weeks := float64(counts[c]) / float64(per)
		p.weekly[c] = median(cellVals[c]) * weeks / (weeks + 1)
	}
	fillCircular(p.weekly)
	p.weekly = smoothCircular(p.weekly, 1)
	// Remove the part every day shares, which the daily profile owns.
	for h := 0; h < p.cells; h++ {
		var m float64
		for d := 0; d < 7; d++ {
			m += p.weekly[d*p.cells+h]
		}
		m /= 7
		for d := 0; d < 7; d++ {
			p.weekly[d*p.cells+h] -= m
		}
	}
	return p
}

// detrend returns z minus its centred moving average over one period
// (missing values ignored); near the ends the nearest full window is used.
func detrend(z []float64, period int) []float64 {
	n := len(z)
	sum := make([]float64, n+1)
	cnt := make([]int, n+1)
	for i, v := range z {
		sum[i+1], cnt[i+1] = sum[i], cnt[i]
		if !math.IsNaN(v) {
			sum[i+1] += v
			cnt[i+1]++
		}
	}
	out := make([]float64, n)
	half := period / 2
	for i, v := range z {
		if math.IsNaN(v) {
			out[i] = math.NaN()
			continue
		}
		a := min(max(i-half, 0), n-period)
		b := a + period
		k := cnt[b] - cnt[a]
		if k == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = v - (sum[b]-sum[a])/float64(k)
	}
	return out
}

// smoothCircular returns x smoothed by a triangular kernel of half-width hw,
// wrapping around the ends.
func smoothCircular(x []float64, hw int) []float64 {
	n := len(x)
	out := make([]float64, n)
	for i := range x {
		var s, w float64
		for k := -hw; k <= hw; k++ {
			wk := float64(hw + 1 - abs(k))
			s += wk * x[mod(int64(i+k), n)]
			w += wk
		}
		out[i] = s / w
	}
	return out
}

// fillCircular replaces NaNs by the nearest known value (circularly), or
// zeros when none is known.
func fillCircular(x []float64) {
	n := len(x)
	known := -1
	for i, v := range x {
		if !math.IsNaN(v) {
			known = i
			break
		}
	}
	if known < 0 {
		clear(x)
		return
	}
	last := x[known]
	for k := 1; k <= n; k++ {
		i := (known + k) % n
		if math.IsNaN(x[i]) {
			x[i] = last
		} else {
			last = x[i]
		}
	}
}

// center subtracts the mean from x.
func center(x []float64) {
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for i := range x {
		x[i] -= m
	}
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}
