package scrape

import "math"

// Quantile estimates the q-quantile of the observations counted in
// cumulative buckets (ascending, +Inf last) the way PromQL's
// histogram_quantile does: find the bucket holding rank q·total and
// interpolate linearly inside it, the first bucket starting at 0 (or at its
// bound when that is negative). A rank falling in the +Inf bucket answers
// the highest finite bound. ok is false without observations or buckets.
func Quantile(q float64, b []Bucket) (v float64, ok bool) {
	n := len(b)
	if n == 0 || math.IsNaN(q) {
		return 0, false
	}
	total := b[n-1].Count
	if !(total > 0) {
		return 0, false
	}
	switch {
	case q <= 0:
		q = 0
	case q >= 1:
		q = 1
	}
	rank := q * total
	i := 0
	for i < n-1 && b[i].Count < rank {
		i++
	}
	if math.IsInf(b[i].UpperBound, 1) {
		if n < 2 {
			return 0, false
		}
		return b[n-2].UpperBound, true
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = b[i-1].UpperBound, b[i-1].Count
	} else if b[0].UpperBound < 0 {
		lower = b[0].UpperBound
	}
	in := b[i].Count - below
	if in <= 0 {
		return b[i].UpperBound, true
	}
	return lower + (b[i].UpperBound-lower)*(rank-below)/in, true
}
