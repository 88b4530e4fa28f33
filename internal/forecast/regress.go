package forecast

import "math"

// regress is the Prophet-class additive regression: a piecewise-linear
// trend with a changepoint at every day boundary of the first 80 % of the
// window, daily Fourier terms (order regDaily) and, with more than a week of
// data, weekly Fourier terms (order regWeekly), fitted by ridge-regularised
// least squares with two Huber reweighting passes. To stay cheap it is
// fitted on block means (30 minutes for 5-minute buckets). Its residual is
// followed by a robust level with reversion, which adds the short-term
// correction a pure curve fit lacks.
type regress struct {
	day    int
	abs0   int64
	ncp    int
	weekly bool
	coef   []float64
	lastT  float64 // time (days) of the window end; the trend is flat after
	lv     level
	tuned  bool
	next   int64
	basis  []float64
}

const (
	regDaily  = 6
	regWeekly = 3
	// regCPScale is the prior scale of a changepoint's slope change, in
	// model units per day; smaller means a stiffer trend.
	regCPScale = 0.05
	// regFourierScale is the prior scale of a Fourier coefficient.
	regFourierScale = 1.0
)

func (m *regress) name() string { return "prophet" }

// nfeat returns the number of regression columns.
func (m *regress) nfeat() int {
	p := 2 + m.ncp + 2*regDaily
	if m.weekly {
		p += 2 * regWeekly
	}
	return p
}

// features writes the basis at absolute (fractional) bucket position pos.
func (m *regress) features(pos float64, x []float64) {
	t := (pos - float64(m.abs0)) / float64(m.day)
	t = math.Min(t, m.lastT)
	x[0], x[1] = 1, t
	k := 2
	for c := 1; c <= m.ncp; c++ {
		x[k] = math.Max(0, t-float64(c))
		k++
	}
	pd := 2 * math.Pi * math.Mod(pos, float64(m.day)) / float64(m.day)
	for j := 1; j <= regDaily; j++ {
		s, c := math.Sincos(float64(j) * pd)
		x[k], x[k+1] = s, c
		k += 2
	}
	if m.weekly {
		pw := 2 * math.Pi * math.Mod(pos, float64(7*m.day)) / float64(7*m.day)
		for j := 1; j <= regWeekly; j++ {
			s, c := math.Sincos(float64(j) * pw)
			x[k], x[k+1] = s, c
			k += 2
		}
	}
}

func (m *regress) fit(w *window, tune bool) {
	m.day, m.abs0 = w.day, w.abs0
	n := len(w.z)
	span := float64(n) / float64(w.day)
	m.lastT = span
	m.ncp = max(0, int(math.Floor(0.8*span)))
	m.weekly = span >= 8
	p := m.nfeat()
	m.basis = make([]float64, p)
	// Block means.
	blk := max(1, w.day/48)
	var rows []float64
	var ys []float64
	start := mod(-w.abs0, blk)
	if start > 0 && start < n {
		// Partial first block still counts if half full.
		start -= blk
	}
	for a := start; a < n; a += blk {
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
		x := make([]float64, p)
		m.features(float64(w.abs0)+float64(a)+float64(blk-1)/2, x)
		rows = append(rows, x...)
		ys = append(ys, sum/float64(k))
	}
	nr := len(ys)
	if nr < p {
		m.coef = nil
	} else {
		m.coef = m.solve(rows, ys, p)
	}
	// Residual level on the bucket series.
	u := make([]float64, n)
	for i, v := range w.z {
		u[i] = v - m.curve(float64(w.abs0+int64(i)))
	}
	if tune || !m.tuned {
		m.lv = tuneLevel(u, w.day, w.horizon, min(w.day, n/2))
		m.tuned = true
	} else {
		m.lv = runLevel(m.lv, u, w.day)
	}
	m.next = w.next()
}

// solve returns ridge coefficients with two Huber reweighting passes.
func (m *regress) solve(rows, ys []float64, p int) []float64 {
	nr := len(ys)
	wts := make([]float64, nr)
	for i := range wts {
		wts[i] = 1
	}
	// Noise scale of the block means, for the prior's weight.
	sigma := robustScale(ys)
	if sigma == 0 {
		sigma = 1e-6
	}
	pen := make([]float64, p)
	for j := range pen {
		switch {
		case j < 2:
			pen[j] = 1e-9
		case j < 2+m.ncp:
			pen[j] = sigma * sigma / (regCPScale * regCPScale)
		default:
			pen[j] = sigma * sigma / (regFourierScale * regFourierScale)
		}
	}
	a := make([]float64, p*p)
	b := make([]float64, p)
	var coef []float64
	res := make([]float64, nr)
	for pass := 0; pass < 3; pass++ {
		clear(a)
		clear(b)
		for r := 0; r < nr; r++ {
			x := rows[r*p : (r+1)*p]
			wy := wts[r] * ys[r]
			for i := 0; i < p; i++ {
				wx := wts[r] * x[i]
				row := a[i*p:]
				for j := 0; j <= i; j++ {
					row[j] += wx * x[j]
				}
				b[i] += x[i] * wy
			}
		}
		for i := 0; i < p; i++ {
			a[i*p+i] += pen[i]
		}
		c, ok := cholSolve(a, b, p)
		if !ok {
			return coef
		}
		coef = c
		if pass == 2 {
			break
		}
		for r := 0; r < nr; r++ {
			x := rows[r*p : (r+1)*p]
			var f float64
			for j, v := range x {
				f += v * coef[j]
			}
			res[r] = math.Abs(ys[r] - f)
		}
		s := 1.48 * quantile(append([]float64(nil), res...), 0.5)
		for r := range wts {
			wts[r] = 1
			if k := 2 * s; s > 0 && res[r] > k {
				wts[r] = k / res[r]
			}
		}
	}
	return coef
}

// curve returns the regression value at absolute bucket position pos.
func (m *regress) curve(pos float64) float64 {
	if m.coef == nil {
		return 0
	}
	m.features(pos, m.basis)
	var f float64
	for j, v := range m.basis {
		f += v * m.coef[j]
	}
	return f
}

func (m *regress) step(v float64) {
	m.lv.update(v - m.curve(float64(m.next)))
	m.next++
}

func (m *regress) predict(out []float64) {
	for h := range out {
		out[h] = m.curve(float64(m.next+int64(h))) + m.lv.forecast(h+1)
	}
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
