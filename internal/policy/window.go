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
// level bin, in arrival order and sorted (all of them and per bin), so
// that any quantile, pooled or of one bin, is one lookup. The bins
// partition the window: a ratio leaves its bin when it leaves the window.
//
// Memory grows with the data (about 7 bytes per ratio held; nothing is
// allocated for the full window up front), so a tier that has seen little
// costs little.
type calibration struct {
	n      int
	codes  []uint16 // ring, oldest at head once full
	bins   []int8   // ring, the bin of each code
	head   int
	sorted []uint16
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
		c.sorted = removeSorted(c.sorted, old)
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
	c.sorted = insertSorted(c.sorted, code, c.n)
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
func (c *calibration) len() int { return len(c.sorted) }

// binLen returns the number of ratios of bin b held.
func (c *calibration) binLen(b int) int { return len(c.perBin[int8(b)]) }

// quantile returns the q-quantile of every ratio held (NaN when empty).
func (c *calibration) quantile(q float64) float64 { return quantileOf(c.sorted, q) }

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
