package forecast

import (
	"math"
	"slices"
)

// transform maps values to the scale the models work on and back. A
// non-negative series with few zeros is modelled as log(y + c): daily peaks
// and quiet nights then share one relative noise scale, seasonality becomes
// additive and back-transformed medians stay medians. Other series are
// modelled as is.
type transform struct {
	log bool
	c   float64
}

// newTransform picks the transform for the observed values of y.
func newTransform(y []float64) transform {
	pos := make([]float64, 0, len(y))
	for _, v := range y {
		if math.IsNaN(v) {
			continue
		}
		if v < 0 {
			return transform{}
		}
		if v > 0 {
			pos = append(pos, v)
		}
	}
	if len(pos) == 0 {
		return transform{}
	}
	if obs := countObserved(y); float64(obs-len(pos)) > maxZeroShare*float64(obs) {
		// On/off series (bursts between zeros): a log would turn every
		// switch into a huge jump; model them as they are.
		return transform{}
	}
	// The offset keeps zeros finite and damps the log's stretch near zero:
	// a fraction of the typical positive level.
	c := offsetFrac * quantile(pos, 0.5)
	if c <= 0 || math.IsNaN(c) {
		return transform{}
	}
	return transform{log: true, c: c}
}

// offsetFrac is the log offset as a fraction of the median positive value.
const offsetFrac = 0.05

// maxZeroShare is the largest share of zeros for which a series is
// log-transformed.
const maxZeroShare = 0.1

// countObserved returns the number of non-NaN values in y.
func countObserved(y []float64) int {
	n := 0
	for _, v := range y {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}

func (t transform) fwd(y float64) float64 {
	if t.log {
		return math.Log(y + t.c)
	}
	return y
}

func (t transform) inv(z float64) float64 {
	if t.log {
		return math.Exp(z) - t.c
	}
	return z
}

// maskOutages returns a copy of y in which every run of at least minRun exact
// zeros that ends before the last bucket is replaced by NaN, provided zeros
// are otherwise rare (under 5 % of the other observed buckets). Such runs are
// collection outages, not demand; a run still going on at the end is kept,
// since it may be a real drop the next buckets will confirm.
func maskOutages(y []float64, minRun int) []float64 {
	out := slices.Clone(y)
	type run struct{ a, b int }
	var runs []run
	zeros, obs := 0, 0
	for i := 0; i < len(y); {
		if y[i] != 0 {
			if !math.IsNaN(y[i]) {
				obs++
			}
			i++
			continue
		}
		j := i
		for j < len(y) && y[j] == 0 {
			j++
		}
		switch {
		case j-i >= minRun && j < len(y):
			runs = append(runs, run{i, j})
		case j-i >= minRun:
			// A long run still going on: neither masked nor evidence.
		default:
			zeros += j - i
			obs += j - i
		}
		i = j
	}
	if len(runs) == 0 || obs == 0 || float64(zeros) >= 0.05*float64(obs) {
		return out
	}
	for _, r := range runs {
		for i := r.a; i < r.b; i++ {
			out[i] = math.NaN()
		}
	}
	return out
}

// median returns the median of x without sorting all of it; it reorders x
// and returns NaN for an empty slice.
func median(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	hi := selectK(x, n/2)
	if n%2 == 1 {
		return hi
	}
	lo := x[0]
	for _, v := range x[:n/2] {
		lo = math.Max(lo, v)
	}
	return (lo + hi) / 2
}

// selectK reorders x so that x[k] is the k-th smallest value, with smaller
// or equal values before it, and returns x[k] (Hoare's quickselect with a
// median-of-three pivot; deterministic).
func selectK(x []float64, k int) float64 {
	if len(x) <= 24 {
		// Small slices (per-slot values over a few days): insertion sort.
		for i := 1; i < len(x); i++ {
			v := x[i]
			j := i - 1
			for ; j >= 0 && x[j] > v; j-- {
				x[j+1] = x[j]
			}
			x[j+1] = v
		}
		return x[k]
	}
	lo, hi := 0, len(x)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		a, b, c := x[lo], x[mid], x[hi]
		p := math.Max(math.Min(a, b), math.Min(math.Max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for x[i] < p {
				i++
			}
			for x[j] > p {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return x[k]
		}
	}
	return x[k]
}

// quantile returns the q-quantile of x (linear interpolation between order
// statistics); it reorders x. It returns NaN for an empty slice.
func quantile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	p := q * float64(len(x)-1)
	i := int(p)
	if i >= len(x)-1 {
		return selectK(x, len(x)-1)
	}
	a := selectK(x, i)
	b := x[i+1]
	for _, v := range x[i+2:] {
		if v < b {
			b = v
		}
	}
	f := p - float64(i)
	return a*(1-f) + b*f
}

// mod returns a modulo m in [0, m).
func mod(a int64, m int) int {
	r := int(a % int64(m))
	if r < 0 {
		r += m
	}
	return r
}
