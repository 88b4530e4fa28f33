package anomaly

import "math"

// Tail bins cover log(z) for z in [tailMin, tailMin·e^(tailBins·tailWidth)).
const (
	tailBins  = 40
	tailMin   = 0.05
	tailWidth = 0.2 // in natural-log units: 40 bins span 0.05 .. ~150
)

// tail estimates how rare a non-negative surprise value z is, from the
// stream of earlier values only. The body is a decayed histogram over
// log z; beyond the histogram's upper quantile the tail is an exponential
// fitted to the excesses (the peaks-over-threshold idea of SPOT/DSPOT with a
// zero GPD shape), so values larger than any seen still get finite, ever
// smaller tail probabilities. Its mean excess is estimated, so the tail is
// the exponential's posterior predictive (a Lomax tail), which is heavier
// while few excesses have been seen. Memory is fixed; each call is O(tailBins).
type tail struct {
	counts [tailBins]float64
	total  float64
	inc    float64 // weight of the next observation; grows instead of decaying counts
	grow   float64 // 1/decay
	excess float64 // decayed mean excess over the tail threshold
	nexc   float64
	u      int     // tail threshold bin: the lowest with mass[u:] <= q·total
	aboveU float64 // mass[u:]
}

// excessAlpha is the slowest rate at which the mean excess learns; the
// first 1/excessAlpha excesses are averaged with equal weight.
const excessAlpha = 0.02

// excessN is how many excesses the mean excess is worth at most: an
// exponentially weighted mean at rate a has the variance of (2−a)/a
// equally weighted ones.
const excessN = (2 - excessAlpha) / excessAlpha

func newTail(halfLife float64) tail {
	return tail{inc: 1, grow: math.Exp(math.Ln2 / halfLife)}
}

// tailBin returns the bin holding z: the last bin whose lower edge is <= z,
// found by bisection (cheaper than a logarithm on the hot path).
func tailBin(z float64) int {
	if !(z > tailMin) { // also catches NaN
		return 0
	}
	lo, hi := 0, tailBins-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if binEdges[mid] <= z {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// binEdges holds each bin's lower edge; it is computed once and only read.
var binEdges = func() (e [tailBins + 1]float64) {
	for b := range e {
		e[b] = tailMin * math.Exp(float64(b)*tailWidth)
	}
	return e
}()

func binLow(b int) float64 { return binEdges[b] }

// pvalue returns the estimated probability of a value at least as large as
// z, which lies in bin b (tailBin(z), computed once by the caller). In the
// body one pseudo-observation keeps it at least 1/(n+1); beyond the tail
// threshold the exponential fit may go lower (down to 1e-12).
func (t *tail) pvalue(z float64, b int) float64 {
	if t.total <= 0 {
		return 1
	}
	floor := t.inc / (t.total + t.inc)
	u := t.u
	// Mass above b, from the tracked mass above u: only the few bins
	// between b and u are summed.
	above := t.aboveU
	if b >= u {
		for i := u; i <= b; i++ {
			above -= t.counts[i]
		}
		if above < 0 {
			above = 0
		}
	} else {
		for i := b + 1; i < u; i++ {
			above += t.counts[i]
		}
	}
	// Part of z's own bin lies above z: take half.
	above += 0.5 * t.counts[b]
	emp := (above + t.inc) / (t.total + t.inc)
	if u < tailBins && t.nexc > 0 && b >= u {
		// Exponential tail above the threshold bin, but never rarer than
		// what the histogram itself has counted: recurring extremes stay
		// as common as they are.
		pu := (t.aboveU + t.inc) / (t.total + t.inc)
		m := t.excess
		if m <= 0 {
			m = binLow(u) * tailWidth
		}
		// The exponential's posterior predictive for n excesses of
		// mean m, (1 + x/(n·m))^−n, rather than the plug-in exp(−x/m):
		// m from a few excesses is uncertain, and the plug-in made a
		// stream's first extremes far too rare. It tends to exp(−x/m)
		// as n grows (x of 4 mean excesses: e^−3.92 at n = 99).
		n := math.Min(t.nexc, excessN)
		ext := pu * math.Exp(-n*math.Log1p((z-binLow(u))/(n*m)))
		if ext < 1e-12 {
			ext = 1e-12
		}
		if c := emp - floor; c > 0.5*floor && c > ext {
			return c
		}
		return ext
	}
	return emp
}

// add learns z, which lies in bin b, with q the tail quantile and w the
// observation's weight (1 for most; less for a row of an alarm episode).
// The threshold bin u moves by at most a few bins per observation, so it
// is kept up to date incrementally.
func (t *tail) add(z float64, b int, q, w float64) {
	u := t.u
	if u < tailBins && z >= binLow(u) {
		e := z - binLow(u)
		t.nexc += w
		a := w * math.Max(1/math.Max(t.nexc, 1), excessAlpha)
		t.excess += a * (e - t.excess)
	}
	inc := w * t.inc
	t.counts[b] += inc
	t.total += inc
	if b >= t.u {
		t.aboveU += inc
	}
	limit := q * t.total
	for t.u < tailBins && t.aboveU > limit {
		t.aboveU -= t.counts[t.u]
		t.u++
	}
	for t.u > 0 && t.aboveU+t.counts[t.u-1] <= limit {
		t.u--
		t.aboveU += t.counts[t.u]
	}
	t.inc *= t.grow
	if t.inc > 1e100 {
		for i := range t.counts {
			t.counts[i] /= t.inc
		}
		t.total /= t.inc
		t.aboveU /= t.inc
		t.inc = 1
	}
}
