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
	return p.daily[mod(abs, p.day)] + p.weeklyAt(abs)
}

// fill writes the seasonal values of the buckets abs0, abs0+1, … into
// out (weekly correction only when weeklyOnly), stepping through the
// profile without a division per bucket.
func (p *profile) fill(abs0 int64, out []float64, weeklyOnly bool) {
	if p.daily == nil {
		clear(out)
		return
	}
	d := mod(abs0, p.day)
	wk := mod(abs0, 7*p.day)
	per, n := 1, 1
	if p.weekly != nil {
		per, n = p.day/p.cells, len(p.weekly)
	}
	for i := range out {
		var v float64
		if !weeklyOnly {
			v = p.daily[d]
		}
		if p.weekly != nil {
			u := (float64(wk)+0.5)/float64(per) - 0.5
			i0 := math.Floor(u)
			f := u - i0
			a := int(i0)
			if a < 0 {
				a += n
			}
			b := a + 1
			if b == n {
				b = 0
			}
			v += (1-f)*p.weekly[a] + f*p.weekly[b]
		}
		out[i] = v
		if d++; d == p.day {
			d = 0
		}
		if wk++; wk == 7*p.day {
			wk = 0
		}
	}
}

// weeklyAt returns the weekly correction of the bucket with absolute index
// abs, interpolated linearly between the centres of the weekly cells.
func (p *profile) weeklyAt(abs int64) float64 {
	if p.weekly == nil {
		return 0
	}
	per := p.day / p.cells
	n := len(p.weekly)
	u := (float64(mod(abs, 7*p.day))+0.5)/float64(per) - 0.5
	i0 := math.Floor(u)
	f := u - i0
	a := mod(int64(i0), n)
	return (1-f)*p.weekly[a] + f*p.weekly[(a+1)%n]
}

// fitProfile estimates the profile of z (NaN = missing) whose first bucket
// has absolute index abs0, STL-style with medians:
//
//  1. daily: the per-slot median of z minus its one-day centred moving
//     average, smoothed across neighbouring slots;
//  2. weekly (with at least 8 days): the per-hour-of-week median of z minus
//     the daily profile minus its one-week moving average (a one-day
//     average would half follow a weekend and hide it), shrunk toward zero
//     when few weeks back it, with the part all days share removed;
//  3. daily again, on z minus the weekly correction.
//
// Medians keep outliers, outages and level shifts from bending the shape.
// It also returns the daily-only profile of step 1 (the two are equal when
// there is less than 8 days of data).
func fitProfile(z []float64, abs0 int64, day int) (p, daily profile) {
	p = profile{day: day}
	n := len(z)
	if n < 2*day {
		return p, p
	}
	out := make([]float64, n)
	buf := make([]float64, n+1)
	p.daily = dailyProfile(detrend(z, day, out, buf), abs0, day)
	daily = p
	if n < 8*day {
		return p, daily
	}
	p.cells = 24
	if day%24 != 0 {
		p.cells = day
	}
	v := make([]float64, n)
	for i, x := range z {
		v[i] = x - p.daily[mod(abs0+int64(i), day)]
	}
	p.weekly = weeklyProfile(detrend(v, 7*day, out, buf), abs0, day, p.cells)
	p.fill(abs0, v, true)
	for i, x := range z {
		v[i] = x - v[i]
	}
	p.daily = dailyProfile(detrend(v, day, out, buf), abs0, day)
	return p, daily
}

// dailyProfile returns the smoothed, centred per-slot medians of the
// detrended series x.
func dailyProfile(x []float64, abs0 int64, day int) []float64 {
	n := len(x)
	d := make([]float64, day)
	buf := make([]float64, 0, n/day+1)
	for s := 0; s < day; s++ {
		buf = buf[:0]
		for i := mod(int64(s)-abs0, day); i < n; i += day {
			if !math.IsNaN(x[i]) {
				buf = append(buf, x[i])
			}
		}
		d[s] = median(buf)
	}
	fillCircular(d)
	d = smoothCircular(d, max(1, day/96))
	center(d)
	return d
}

// weeklyProfile returns the weekly correction from the detrended, daily-
// adjusted series x: per cell (cells per day) the mean over weeks of that
// week's median, smoothed, with the per-hour mean over the seven days
// removed, and shrunk toward zero by how much the weeks disagree (a
// positive-part James-Stein factor: week-to-week noise variance over total
// variance). A series whose weeks do not repeat gets little or no weekly
// correction; one whose weeks do gets nearly all of it.
func weeklyProfile(x []float64, abs0 int64, day, cells int) []float64 {
	per := day / cells
	nc := 7 * cells
	week := int64(7 * day)
	w0 := floorDiv(abs0, week)
	nw := int(floorDiv(abs0+int64(len(x))-1, week)-w0) + 1
	// Group the values by (week, cell) in one backing array.
	key := make([]int32, len(x))
	counts := make([]int, nw*nc+1)
	for i, v := range x {
		key[i] = -1
		if math.IsNaN(v) {
			continue
		}
		abs := abs0 + int64(i)
		k := int(floorDiv(abs, week)-w0)*nc + mod(abs, 7*day)/per
		key[i] = int32(k)
		counts[k+1]++
	}
	for k := 1; k < len(counts); k++ {
		counts[k] += counts[k-1]
	}
	back := make([]float64, counts[len(counts)-1])
	fill := append([]int(nil), counts...)
	for i, k := range key {
		if k >= 0 {
			back[fill[k]] = x[i]
			fill[k]++
		}
	}
	vals := func(k int) []float64 { return back[counts[k]:counts[k+1]] }
	w := make([]float64, nc)
	var noise float64
	noisy := 0
	for c := range w {
		var sum, sq float64
		k := 0
		for j := 0; j < nw; j++ {
			if v := vals(j*nc + c); 2*len(v) >= per {
				m := median(v)
				sum += m
				sq += m * m
				k++
			}
		}
		if k == 0 {
			w[c] = math.NaN()
			continue
		}
		mean := sum / float64(k)
		w[c] = mean
		if k >= 2 {
			// Variance of the mean over k weeks.
			noise += (sq/float64(k) - mean*mean) / float64(k-1)
			noisy++
		}
	}
	fillCircular(w)
	w = smoothCircular(w, 1)
	for h := 0; h < cells; h++ {
		var m float64
		for d := 0; d < 7; d++ {
			m += w[d*cells+h]
		}
		m /= 7
		for d := 0; d < 7; d++ {
			w[d*cells+h] -= m
		}
	}
	var total float64
	for _, v := range w {
		total += v * v
	}
	total /= float64(nc)
	f := weeklyPrior
	if noisy > 0 && total > 0 {
		f = max(0, 1-noise/float64(noisy)/total)
	}
	for c := range w {
		w[c] *= f
	}
	return w
}

// weeklyPrior is the shrink factor of the weekly correction when no cell
// has two weeks of data to measure its noise.
const weeklyPrior = 0.5

// floorDiv returns a/b rounded toward minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// detrend writes to out (len(z)) z minus its centred moving average over
// one period (missing values ignored), using buf (len(z)+1) as scratch, and
// returns out. Within half a period of either end, where no centred window
// fits, the average is extended linearly with its slope over the nearest
// period of centres, so a trend does not leak into what is left.
func detrend(z []float64, period int, out, buf []float64) []float64 {
	n := len(z)
	// buf holds prefix sums; counts of observed values are only kept when
	// some are missing.
	missing := false
	buf[0] = 0
	for i, v := range z {
		if v != v {
			missing = true
			buf[i+1] = buf[i]
			continue
		}
		buf[i+1] = buf[i] + v
	}
	var cnt []int32
	if missing {
		cnt = make([]int32, n+1)
		for i, v := range z {
			cnt[i+1] = cnt[i]
			if v == v {
				cnt[i+1]++
			}
		}
	}
	ma := func(a int) float64 {
		k := float64(period)
		if cnt != nil {
			k = float64(cnt[a+period] - cnt[a])
			if k == 0 {
				return math.NaN()
			}
		}
		return (buf[a+period] - buf[a]) / k
	}
	half := period / 2
	last := n - period // last window start
	span := min(period, last)
	slope := func(a, b int) float64 {
		if b == a {
			return 0
		}
		s := (ma(b) - ma(a)) / float64(b-a)
		if math.IsNaN(s) {
			return 0
		}
		return s
	}
	left, right := slope(0, span), slope(last-span, last)
	m0, m1 := ma(0), ma(last)
	for i, v := range z {
		a := i - half
		switch {
		case a < 0:
			out[i] = v - (m0 + left*float64(a))
		case a > last:
			out[i] = v - (m1 + right*float64(a-last))
		case cnt == nil:
			out[i] = v - (buf[a+period]-buf[a])/float64(period)
		default:
			out[i] = v - ma(a)
		}
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
