package policy

import (
	"math"
	"slices"
)

// Ratios are stored as 16-bit codes of their logarithm: code = (ln r +
// codeOffset)·codeScale, clamped to 0..65535. That spans ratios from e⁻⁸
// to e⁸ in steps of 0.024 %, far finer than a replica, at 2 bytes a value.
const (
	codeScale  = 4096.0
	codeOffset = 8.0
)

func encodeRatio(r float64) uint16 {
	if !(r > 0) {
		return 0
	}
	c := math.Round((math.Log(r) + codeOffset) * codeScale)
	return uint16(max(0, min(math.MaxUint16, c)))
}

func decodeRatio(c uint16) float64 { return math.Exp(float64(c)/codeScale - codeOffset) }

// calibration keeps the last n peak-to-base ratios, each tagged with its
// level bin, in arrival order and sorted per bin, so that a bin's quantile
// is one lookup. The bins partition the window: a ratio leaves its bin
// when it leaves the window. A pooled quantile, which the policy only
// asks for while a bin is still short of ratios, selects across the bins'
// sorted codes instead of keeping a third, pooled copy of them.
//
// Memory grows with the data (about 5 bytes per ratio held; nothing is
// allocated for the full window up front), so a tier that has seen little
// costs little.
type calibration struct {
	n      int
	codes  []uint16 // ring, oldest at head once full
	bins   []int8   // ring, the bin of each code
	head   int
	perBin map[int8][]uint16
}

func newCalibration(n int) *calibration {
	return &calibration{n: max(1, n), perBin: map[int8][]uint16{}}
}

// add inserts ratio r of bin b, evicting the oldest once n are held.
func (c *calibration) add(r float64, b int) {
	code, bin := encodeRatio(r), int8(b)
	if len(c.codes) == c.n {
		old, oldBin := c.codes[c.head], c.bins[c.head]
		if s := removeSorted(c.perBin[oldBin], old); len(s) == 0 {
			delete(c.perBin, oldBin)
		} else {
			if cap(s) > 2*len(s)+64 {
				// A bin that emptied out as the load moved on gives its
				// capacity back, so the bins together hold about n codes,
				// not n each.
				s = slices.Clone(s)
			}
			c.perBin[oldBin] = s
		}
		c.codes[c.head], c.bins[c.head] = code, bin
		c.head = (c.head + 1) % c.n
	} else {
		c.codes = appendGrow(c.codes, code, c.n)
		c.bins = appendGrow(c.bins, bin, c.n)
	}
	c.perBin[bin] = insertSorted(c.perBin[bin], code, c.n)
}

// appendGrow appends v, growing the capacity by a quarter (never beyond
// limit) instead of doubling, so a long window carries little slack.
func appendGrow[T any](s []T, v T, limit int) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, min(max(8, len(s)/4), max(1, limit-len(s))))
	}
	return append(s, v)
}

func insertSorted(s []uint16, v uint16, limit int) []uint16 {
	i, _ := slices.BinarySearch(s, v)
	s = appendGrow(s, 0, limit)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

func removeSorted(s []uint16, v uint16) []uint16 {
	i, ok := slices.BinarySearch(s, v)
	if !ok {
		return s
	}
	return append(s[:i], s[i+1:]...)
}

// len returns the number of ratios held.
func (c *calibration) len() int { return len(c.codes) }

// binLen returns the number of ratios of bin b held.
func (c *calibration) binLen(b int) int { return len(c.perBin[int8(b)]) }

// quantile returns the q-quantile of every ratio held (NaN when empty),
// interpolated between order statistics as quantileOf does.
func (c *calibration) quantile(q float64) float64 {
	n := c.len()
	if n == 0 {
		return math.NaN()
	}
	p := q * float64(n-1)
	i := int(math.Floor(p))
	if i >= n-1 {
		return decodeRatio(c.kth(n - 1))
	}
	f := p - float64(i)
	return decodeRatio(c.kth(i))*(1-f) + decodeRatio(c.kth(i+1))*f
}

// kth returns the k-th smallest code held (from 0), found by bisecting the
// code space on how many codes of all bins lie at or below a code: 16
// steps of a binary search in each bin.
func (c *calibration) kth(k int) uint16 {
	lo, hi := 0, math.MaxUint16 // the answer lies in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		atOrBelow := 0
		for _, s := range c.perBin {
			i, _ := slices.BinarySearch(s, uint16(mid+1)) // mid < hi, so mid+1 fits
			atOrBelow += i
		}
		if atOrBelow > k {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return uint16(lo)
}

// binQuantile returns the q-quantile of bin b's ratios (NaN when empty).
func (c *calibration) binQuantile(b int, q float64) float64 {
	return quantileOf(c.perBin[int8(b)], q)
}

// quantileOf interpolates linearly between order statistics.
func quantileOf(s []uint16, q float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	p := q * float64(n-1)
	i := int(math.Floor(p))
	if i >= n-1 {
		return decodeRatio(s[n-1])
	}
	f := p - float64(i)
	return decodeRatio(s[i])*(1-f) + decodeRatio(s[i+1])*f
}
