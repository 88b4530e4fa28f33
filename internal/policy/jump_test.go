package policy

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestPlateauIsNoJump: surges the forecast knows nothing of (it stays at
// the usual level) ramp over four minutes to 2.5 times the load and hold
// for half an hour. The forecast drags the blended base below the load
// throughout the surge, so the jump guard's test (the load beyond three
// typical changes above the base) holds on the plateau too. Only the
// onset, above its own recent level, is a fresh jump: the plateau's ticks
// are sized from their recent level in their level bin, not given the
// headroom of a surge's onset for the surge's whole length.
func TestPlateauIsNoJump(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n := 3 * 1440
	load := normalLoad(rng, n, 100, 2)
	var surges []int
	for s := 200; s+60 < n; s += 180 {
		surges = append(surges, s)
		for k := 0; k < 34; k++ {
			load[s+k] += 150 * math.Min(1, float64(k+1)/4)
		}
	}
	c := guardApp()
	c.SkillQuantiles = nil
	c.Tiers[0].Quantile = 0.95
	fc := func(i int) *Forecast { return flatForecast(at(i), func(time.Time) float64 { return 100 }) }
	ds := loop(mustApp(t, c), load, fc, nil)
	onsets := 0
	for _, s := range surges[len(surges)/2:] {
		if ds[s+1].Inputs["jump"] == 1 {
			onsets++
		}
		for i := s + 10; i < s+30; i++ {
			d := ds[i]
			if d.Inputs["jump"] == 1 {
				t.Fatalf("minute %d, %d into a surge's plateau: taken for a jump: %v", i, i-s, d.Inputs)
			}
			// The plateau (about 250, capacity 10) with a level bin's
			// headroom for noise of a few per cent.
			if d.To > 29 {
				t.Fatalf("minute %d, %d into a surge's plateau of %.0f: wants %d: %v", i, i-s, load[i], d.To, d.Inputs)
			}
			if d.To < 26 {
				t.Fatalf("minute %d: %d replicas for a plateau of %.0f", i, d.To, load[i])
			}
		}
	}
	if onsets < len(surges)/4 {
		t.Fatalf("only %d of %d surges' onsets seen as jumps", onsets, len(surges)-len(surges)/2)
	}
}
