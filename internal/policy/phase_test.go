package policy

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// hourlyBursts is a noisy flat load of base with, at the top of every
// hour whose index keep allows (start jittered by up to ±2 minutes), a
// burst to three times the base that decays over ten minutes.
func hourlyBursts(seed uint64, hours int, base float64, keep func(h int) bool) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed))
	load := normalLoad(rng, hours*60, base, 0.02*base)
	for h := 1; h < hours; h++ {
		if !keep(h) {
			continue
		}
		s := h*60 + rng.IntN(5) - 2
		for k := 0; k < 60 && s+k < len(load); k++ {
			load[s+k] += 2 * base * math.Exp(-float64(k)/10)
		}
	}
	return load
}

// TestPhaseGuardMeetsHourlyBurst: bursts near the top of most hours. Once
// a day of hours has been seen, the hour-phase guard provisions for the
// burst before the hour starts (the decision three minutes before the
// hour covers the burst's size), and says why; without it the policy only
// reacts.
func TestPhaseGuardMeetsHourlyBurst(t *testing.T) {
	load := hourlyBursts(3, 44, 100, func(h int) bool { return h%5 != 0 })
	run := func(on bool) []Decision {
		c := guardApp()
		c.SkillQuantiles, c.SeasonalPeaks, c.PhasePeaks = nil, true, on
		return loop(mustApp(t, c), load, nil, nil)
	}
	with, without := run(true), run(false)
	const need = 25 // about 250 at the burst's first minute, capacity 10
	hits := 0
	for h := 26; h < 44; h++ {
		i := h*60 - 3
		if with[i].To >= need-3 {
			hits++
		}
		if without[i].To >= need-3 {
			t.Fatalf("hour %d: without the guard wants %d before the burst (%v)", h, without[i].To, without[i].Inputs)
		}
	}
	if hits < 15 {
		t.Fatalf("the guard provisioned for the coming burst before only %d of 18 hours", hits)
	}
	found := false
	for _, d := range with[26*60-10 : 26*60] {
		if d.Action == ActionUp && d.Inputs["phase_ratio"] > 2 {
			found = true
			if !strings.Contains(d.Reason, "minute of the hour") {
				t.Fatalf("the hour-phase scale-up's reason %q does not name the recurring rise", d.Reason)
			}
		}
	}
	if !found {
		t.Fatal("no scale-up by the hour-phase guard before hour 26")
	}
}

// TestPhaseGuardIgnoresNoiseAndRareBursts: on noisy traffic whose bursts
// come at random minutes, the hour-phase guard never lifts the floor.
func TestPhaseGuardIgnoresNoiseAndRareBursts(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	n := 2 * 1440
	load := make([]float64, n)
	for i := range load {
		// Poisson-like noise at a few requests a second.
		load[i] = math.Max(0, 3+math.Sqrt(3.0/60)*rng.NormFloat64())
	}
	for b := 0; b < 12; b++ {
		s := rng.IntN(n - 60)
		for k := 0; k < 40; k++ {
			load[s+k] += 6 * math.Exp(-float64(k)/10)
		}
	}
	c := guardApp()
	c.SkillQuantiles, c.SeasonalPeaks, c.PhasePeaks = nil, true, true
	for i, d := range loop(mustApp(t, c), load, nil, nil) {
		if d.Inputs["phase_ratio"] > 0 {
			t.Fatalf("minute %d: the hour-phase guard fired on noise and random bursts: %v", i, d.Inputs)
		}
	}
}

// TestJumpFallBinTrimsTheDecay: bursts that jump and decay. With the
// decaying ticks calibrated apart from the rising ones, the headroom the
// policy applies on a jumped tick past the burst's peak is lower than with
// one jump bin, and no lower at its onset.
func TestJumpFallBinTrimsTheDecay(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	n := 3 * 1440
	load := normalLoad(rng, n, 100, 2)
	type burst struct{ start, rise int }
	var bs []burst
	for s := 120; s+90 < n; s += 97 + rng.IntN(60) {
		rise := 1 + rng.IntN(3)
		bs = append(bs, burst{s, rise})
		for k := 0; k < 90; k++ {
			f := float64(k+1) / float64(rise)
			if k >= rise {
				f = math.Exp(-float64(k-rise) / 15)
			}
			load[s+k] += 200 * f
		}
	}
	run := func(on bool) []Decision {
		c := guardApp()
		c.SkillQuantiles, c.JumpFallBin = nil, on
		return loop(mustApp(t, c), load, nil, nil)
	}
	with, without := run(true), run(false)
	falls := 0
	for _, b := range bs[len(bs)/2:] {
		if with[b.start].Inputs["ratio_q"] < without[b.start].Inputs["ratio_q"] {
			t.Fatalf("onset at %d: headroom %v with the split, %v without", b.start, with[b.start].Inputs, without[b.start].Inputs)
		}
		i := b.start + b.rise + 1 // two ticks past the peak
		if with[i].Inputs["jump"] != 1 {
			continue
		}
		falls++
		if with[i].Inputs["ratio_q"] >= without[i].Inputs["ratio_q"] {
			t.Fatalf("decay at %d: headroom %v with the split, %v without", i, with[i].Inputs["ratio_q"], without[i].Inputs["ratio_q"])
		}
	}
	if falls < 5 {
		t.Fatalf("only %d decaying bursts still seen as jumps", falls)
	}
}

// TestPhaseGuardStandsAsideWhenItsRisesStopComing: bursts at the top of
// every hour for 26 hours, then at the half hour. The hours remembered
// still show the rise at the top of the hour, but it no longer comes: after
// an hour of failed expectations the guard stands aside.
func TestPhaseGuardStandsAsideWhenItsRisesStopComing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	load := normalLoad(rng, 32*60, 100, 2)
	for h := 1; h < 32; h++ {
		s := h * 60
		if h > 26 {
			s += 30
		}
		for k := 0; k < 30 && s+k < len(load); k++ {
			load[s+k] += 200 * math.Exp(-float64(k)/10)
		}
	}
	c := guardApp()
	c.SkillQuantiles, c.SeasonalPeaks, c.PhasePeaks = nil, true, true
	ds := loop(mustApp(t, c), load, nil, nil)
	if ds[26*60-3].Inputs["phase_ratio"] < 2 {
		t.Fatalf("the guard did not expect the hour-26 burst: %v", ds[26*60-3].Inputs)
	}
	for _, h := range []int{29, 30} {
		if d := ds[h*60-3]; d.Inputs["phase_ratio"] > 0 {
			t.Fatalf("hour %d: the guard still acts on a rise that stopped coming: %v", h, d.Inputs)
		}
	}
}
