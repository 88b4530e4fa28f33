package policy

import (
	"math"
	"sort"
)

// window keeps the last n values in arrival order and in sorted order, so
// that any quantile of them is one lookup.
type window struct {
	ring   []float64
	next   int
	full   bool
	sorted []float64
}

func newWindow(n int) *window {
	return &window{ring: make([]float64, n), sorted: make([]float64, 0, n)}
}

// add inserts v, evicting the oldest value once the window is full.
func (w *window) add(v float64) {
	if w.full {
		old := w.ring[w.next]
		i := sort.SearchFloat64s(w.sorted, old)
		copy(w.sorted[i:], w.sorted[i+1:])
		w.sorted = w.sorted[:len(w.sorted)-1]
	}
	w.ring[w.next] = v
	w.next++
	if w.next == len(w.ring) {
		w.next, w.full = 0, true
	}
	i := sort.SearchFloat64s(w.sorted, v)
	w.sorted = append(w.sorted, 0)
	copy(w.sorted[i+1:], w.sorted[i:])
	w.sorted[i] = v
}

// len returns the number of values held.
func (w *window) len() int { return len(w.sorted) }

// quantile returns the q-quantile by linear interpolation between order
// statistics, or NaN when empty.
func (w *window) quantile(q float64) float64 {
	n := len(w.sorted)
	if n == 0 {
		return math.NaN()
	}
	p := q * float64(n-1)
	i := int(math.Floor(p))
	if i >= n-1 {
		return w.sorted[n-1]
	}
	f := p - float64(i)
	return w.sorted[i]*(1-f) + w.sorted[i+1]*f
}
