package policy

import (
	"math"
	"testing"
	"time"
)

// TestWeeklyCode: rises under a level bin's width (×2) code 0; above, the
// code rounds down in quarter steps of a bin's width and saturates, so a
// rise is never expected larger than it came; each bucket keeps its own
// nibble; a gap longer than the memory forgets it.
func TestWeeklyCode(t *testing.T) {
	for _, r := range []float64{0, 1, 1.99, math.NaN()} {
		if c := weekCode(r); c != 0 {
			t.Fatalf("rise %v coded %d, want 0", r, c)
		}
	}
	prev := byte(0)
	for r := 2.0; r < 40; r *= 1.01 {
		c := weekCode(r)
		if c < prev || c < 1 || c > weekCodes || weekRise(c) > r*(1+1e-9) {
			t.Fatalf("rise %v coded %d (decoded %v) after %d", r, c, weekRise(c), prev)
		}
		if c < weekCodes && weekRise(c)*math.Pow(2, 0.25) <= r {
			t.Fatalf("rise %v coded %d: more than a step below", r, c)
		}
		prev = c
	}
	h := 11 * time.Minute
	w := newWeekly(h)
	for b := int64(0); b < 8; b++ {
		w.set(b, byte(b*2%16))
	}
	for b := int64(0); b < 8; b++ {
		if w.get(b) != byte(b*2%16) {
			t.Fatalf("bucket %d holds %d", b, w.get(b))
		}
	}
	peak := func(v float64) func(from, to time.Time) (float64, bool) {
		return func(from, to time.Time) (float64, bool) { return v, true }
	}
	w = newWeekly(h)
	for i := 0; i < 2*7*1440; i++ {
		w.observe(at(i), 100, h, peak(300))
	}
	if r, ok := w.rise(at(2 * 7 * 1440)); !ok || r < 2.5 || r > 3 {
		t.Fatalf("two weeks of a rise to ×3: %v %v", r, ok)
	}
	w.observe(at(5*7*1440), 100, h, peak(300)) // three weeks unseen
	if _, ok := w.rise(at(5*7*1440 + 20)); ok {
		t.Fatal("a rise expected from weeks unseen")
	}
}
