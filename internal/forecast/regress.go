package forecast

import "math"

// regress is the Prophet-class additive regression: a piecewise-linear
// trend with a changepoint at every day boundary of the first 80 % of the
// window (at most regMaxCP, then evenly spread), daily Fourier terms (order
// regDaily) and, with at least 8 days of data, weekly Fourier terms (order
// regWeekly), fitted by ridge-regularised least squares (Gaussian priors in
// place of Prophet's Laplace one on the changepoints). To stay cheap it is
// fitted on hourly block means. Beyond the fitted span the trend is held
// flat. Its residual is followed by a robust level with reversion, which
// adds the short-term correction a pure curve fit lacks; outages are
// already masked and spikes are diluted by the hourly means.
type regress struct {
	day    int
	abs0   int64
	ncp    int
	cpGap  float64 // days between changepoints
	weekly bool
	coef   []float64
	lastT  float64   // time (days) of the window end; the trend is flat after
	daily  []float64 // daily Fourier part per slot
	// memo caches curve values; memoPos holds position+1 (0 = empty).
	memo    [memoSize]float64
	memoPos [memoSize]int64
	lv      level
	next    int64
}

const (
	regDaily = 6
	// regMaxCP caps the number of changepoints (Prophet's default).
	regMaxCP  = 25
	regWeekly = 3
	// regCPScale is the prior scale of a changepoint's slope change, in
	// model units per day; smaller means a stiffer trend.
	regCPScale = 0.05
	// regFourierScale is the prior scale of a Fourier coefficient.
	regFourierScale = 1.0
)

func (m *regress) name() string { return "prophet" }

// The columns are: intercept, slope, daily sin/cos pairs, weekly sin/cos
// pairs (when fitted), then one hinge (t − c)+ per changepoint c = 1, 2, …
// days. Hinges come last so that a row's non-zero columns form a prefix.

// base returns the index of the first hinge column.
func (m *regress) base() int {
	p := 2 + 2*regDaily
	if m.weekly {
		p += 2 * regWeekly
	}
	return p
}

// nfeat returns the number of regression columns.
func (m *regress) nfeat() int { return m.base() + m.ncp }

// active returns the number of leading columns that can be non-zero at
// time t (days): all but the hinges whose changepoint is not yet passed.
func (m *regress) active(t float64) int {
	return m.base() + min(m.ncp, max(0, int(math.Ceil(t/m.cpGap))-1))
}

// features writes the basis at absolute (fractional) bucket position pos.
func (m *regress) features(pos float64, x []float64) {
	t := math.Min((pos-float64(m.abs0))/float64(m.day), m.lastT)
	x[0], x[1] = 1, t
	k := harmonics(x, 2, pos, m.day, regDaily)
	if m.weekly {
		k = harmonics(x, k, pos, 7*m.day, regWeekly)
	}
	for c := 1; c <= m.ncp; c++ {
		x[k] = math.Max(0, t-float64(c)*m.cpGap)
		k++
	}
}

// harmonics writes sin and cos of j·2π·pos/period for j = 1..order into x
// from index k on (by the angle-addition recurrence) and returns the next
// free index.
func harmonics(x []float64, k int, pos float64, period, order int) int {
	ph := pos - float64(period)*math.Floor(pos/float64(period))
	s1, c1 := math.Sincos(2 * math.Pi * ph / float64(period))
	s, c := s1, c1
	for j := 1; j <= order; j++ {
		x[k], x[k+1] = s, c
		k += 2
		s, c = s*c1+c*s1, c*c1-s*s1
	}
	return k
}

func (m *regress) fit(w *window) {
	m.day, m.abs0 = w.day, w.abs0
	n := len(w.z)
	span := float64(n) / float64(w.day)
	m.lastT = span
	// A changepoint per day over the first 80 %, at most regMaxCP of them
	// (then evenly spread).
	m.cpGap = max(1, 0.8*span/regMaxCP)
	m.ncp = max(0, int(math.Floor(0.8*span/m.cpGap)))
	m.weekly = span >= 8
	p := m.nfeat()
	// Block means.
	blk := max(1, w.day/24)
	nb := n/blk + 2
	rows := make([]float64, 0, nb*p)
	ys := make([]float64, 0, nb)
	x := make([]float64, p)
	for a := -mod(w.abs0, blk); a < n; a += blk {
		var sum float64
		k := 0
		for i := max(a, 0); i < min(a+blk, n); i++ {
			if v := w.z[i]; !math.IsNaN(v) {
				sum += v
				k++
			}
		}
		if 2*k < blk || k == 0 {
			continue
		}
		m.features(float64(w.abs0)+float64(a)+float64(blk-1)/2, x)
		rows = append(rows, x...)
		ys = append(ys, sum/float64(k))
	}
	m.coef = nil
	m.memoPos = [memoSize]int64{}
	if len(ys) >= p {
		m.coef = m.solve(rows, ys, p)
	}
	m.tabulate()
	// Residual level on the bucket series.
	u := make([]float64, n)
	m.evalRange(w.abs0, u)
	for i, v := range w.z {
		u[i] = v - u[i]
	}
	m.lv = tuneLevel(u, w.wt, w.scale, w.day, w.horizon, min(w.day, n/2))
	m.next = w.next()
}

// tabulate stores the daily Fourier part per slot of the day, so that
// evaluating the curve costs one sine and cosine (for the weekly part).
func (m *regress) tabulate() {
	if m.daily == nil {
		m.daily = make([]float64, m.day)
	}
	clear(m.daily)
	if m.coef == nil {
		return
	}
	x := make([]float64, 2*regDaily)
	off := 2
	for s := range m.daily {
		harmonics(x, 0, float64(s), m.day, regDaily)
		var f float64
		for j, v := range x {
			f += v * m.coef[off+j]
		}
		m.daily[s] = f
	}
}

// solve returns the ridge coefficients (nil when the system is singular).
func (m *regress) solve(rows, ys []float64, p int) []float64 {
	// Noise scale of the block means, for the prior's weight.
	sigma := robustScale(ys)
	if sigma == 0 {
		sigma = 1e-6
	}
	a := make([]float64, p*p)
	b := make([]float64, p)
	for r := range ys {
		x := rows[r*p : (r+1)*p]
		// Hinges come last and are zero before their changepoint: only the
		// leading active columns contribute.
		for i := 0; i < m.active(x[1]); i++ {
			row := a[i*p:]
			for j := 0; j <= i; j++ {
				row[j] += x[i] * x[j]
			}
			b[i] += x[i] * ys[r]
		}
	}
	for j := 0; j < p; j++ {
		switch {
		case j < 2:
			a[j*p+j] += 1e-9
		case j >= m.base():
			a[j*p+j] += sigma * sigma / (regCPScale * regCPScale)
		default:
			a[j*p+j] += sigma * sigma / (regFourierScale * regFourierScale)
		}
	}
	coef, ok := cholSolve(a, b, p)
	if !ok {
		return nil
	}
	return coef
}

// memoSize is the number of recent curve values regress remembers; the
// holdout asks for each position once per horizon step.
const memoSize = 32

// curve returns the regression value at absolute bucket index pos,
// remembering recent ones.
func (m *regress) curve(pos int64) float64 {
	k := int(pos & (memoSize - 1))
	if m.memoPos[k] == pos+1 {
		return m.memo[k]
	}
	v := m.eval(pos)
	m.memoPos[k], m.memo[k] = pos+1, v
	return v
}

// evalRange writes the regression values at positions pos0, pos0+1, … into
// out; it equals eval position by position but turns the weekly harmonics
// by rotation instead of calling Sincos each time.
func (m *regress) evalRange(pos0 int64, out []float64) {
	if m.coef == nil || !m.weekly {
		for i := range out {
			out[i] = m.eval(pos0 + int64(i))
		}
		return
	}
	c := m.coef
	base := m.base()
	period := 7 * m.day
	var x [2 * regWeekly]float64
	harmonics(x[:], 0, float64(pos0), period, 1)
	s1, c1 := x[0], x[1]
	sd, cd := math.Sincos(2 * math.Pi / float64(period))
	for i := range out {
		pos := pos0 + int64(i)
		t := math.Min(float64(pos-m.abs0)/float64(m.day), m.lastT)
		f := c[0] + c[1]*t
		for k := 1; k <= m.ncp && t > float64(k)*m.cpGap; k++ {
			f += c[base+k-1] * (t - float64(k)*m.cpGap)
		}
		f += m.daily[mod(pos, m.day)]
		s, co := s1, c1
		for j := 0; j < regWeekly; j++ {
			f += s*c[2+2*regDaily+2*j] + co*c[3+2*regDaily+2*j]
			s, co = s*c1+co*s1, co*c1-s*s1
		}
		out[i] = f
		s1, c1 = s1*cd+c1*sd, c1*cd-s1*sd
		if i%256 == 255 {
			r := 1 / math.Sqrt(s1*s1+c1*c1)
			s1, c1 = s1*r, c1*r
		}
	}
}

// eval computes the regression value at absolute bucket index pos.
func (m *regress) eval(pos int64) float64 {
	if m.coef == nil {
		return 0
	}
	c := m.coef
	t := math.Min(float64(pos-m.abs0)/float64(m.day), m.lastT)
	f := c[0] + c[1]*t
	base := m.base()
	for k := 1; k <= m.ncp && t > float64(k)*m.cpGap; k++ {
		f += c[base+k-1] * (t - float64(k)*m.cpGap)
	}
	f += m.daily[mod(pos, m.day)]
	if m.weekly {
		var x [2 * regWeekly]float64
		harmonics(x[:], 0, float64(pos), 7*m.day, regWeekly)
		for j, v := range x {
			f += v * c[2+2*regDaily+j]
		}
	}
	return f
}

func (m *regress) step(v float64) {
	m.lv.update(v - m.curve(m.next))
	m.next++
}

func (m *regress) predict(out []float64) {
	for h := range out {
		out[h] = m.curve(m.next + int64(h))
	}
	m.lv.path(out)
}

// cholSolve solves A x = b for a symmetric positive definite A whose lower
// triangle is stored row-major in a (p×p); a is overwritten. It reports
// false when A is not positive definite.
func cholSolve(a, b []float64, p int) ([]float64, bool) {
	for j := 0; j < p; j++ {
		d := a[j*p+j]
		for k := 0; k < j; k++ {
			d -= a[j*p+k] * a[j*p+k]
		}
		if d <= 0 {
			return nil, false
		}
		d = math.Sqrt(d)
		a[j*p+j] = d
		for i := j + 1; i < p; i++ {
			s := a[i*p+j]
			for k := 0; k < j; k++ {
				s -= a[i*p+k] * a[j*p+k]
			}
			a[i*p+j] = s / d
		}
	}
	x := make([]float64, p)
	for i := 0; i < p; i++ {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= a[i*p+k] * x[k]
		}
		x[i] = s / a[i*p+i]
	}
	for i := p - 1; i >= 0; i-- {
		s := x[i]
		for k := i + 1; k < p; k++ {
			s -= a[k*p+i] * x[k]
		}
		x[i] = s / a[i*p+i]
	}
	return x, true
}
