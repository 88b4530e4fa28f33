package policy

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestLowestBinLearnsPeaksNotRatios: a load of a few counts a minute, far
// below one replica (capacity 10), is idle for long stretches (a mean of
// next to nothing) and elsewhere at a mean of 0.5, and it peaks at a
// count of 6 now and then in both. Such peaks over an idle base are
// ratios of hundreds; applied to the base of 0.5 they would want
// replicas for many times the peak. Below the lowest level bin the
// policy learns the peaks themselves, and one replica serves them but
// for the jump guard's reaction to a peak.
func TestLowestBinLearnsPeaksNotRatios(t *testing.T) {
	c := guardApp()
	c.Tiers[0].ScaleDownStabilization = 3 * time.Minute
	c.OutageHold = 0
	rng := rand.New(rand.NewPCG(7, 7))
	load := make([]float64, 2400)
	for i := range load {
		if (i/60)%2 == 1 && rng.Float64() < 0.5 {
			load[i] = 1
		}
		if rng.Float64() < 0.1 {
			load[i] = 6
		}
	}
	ds := loop(mustApp(t, c), load, nil, nil)
	over, said := 0, false
	for i := 1200; i < len(ds); i++ {
		if ds[i].To > 1 {
			over++
		}
		said = said || strings.Contains(ds[i].Reason, "lowest bin's 0.625")
	}
	if !said {
		t.Errorf("no reason says the base was taken as the lowest bin's edge: %q", ds[len(ds)-1].Reason)
	}
	// Each peak still meets the jump guard for a while (a tenth of the
	// minutes peak); before, the ratios held 2 to 8 replicas for most of
	// the time.
	if over > 600 {
		t.Fatalf("%d of 1200 minutes above one replica for a load that never exceeds 0.6 of one: %s", over, ds[len(ds)-1].Reason)
	}
}

// TestSkillShadowsSizeFromTheLowestBin: the skill selector's shadows at
// other quantiles apply their ratios to the same base as the live count.
// On a load that is idle but for one-minute peaks of a replica and a
// half, a shadow at p98 that applied its ratio (learned against the
// lowest level bin's edge) to the idle base itself wanted fewer replicas
// than the p90 one that runs, and the selector compared operating points
// the tier would never run.
func TestSkillShadowsSizeFromTheLowestBin(t *testing.T) {
	c := guardApp()
	c.OutageHold = 0
	a := mustApp(t, c)
	sk := a.tiers[0].sk
	rng := rand.New(rand.NewPCG(7, 7))
	n := 1
	for i := range 2400 {
		load := 0.0
		if rng.Float64() < 0.1 {
			load = 15 // a replica and a half (capacity 10), for a minute
		}
		n = a.Decide(at(i), map[string]TierInput{"web": {Load: load, Ready: n}})[0].To
		if i < 1440 {
			continue
		}
		for _, lo := range sk.cands {
			for _, hi := range sk.cands {
				if hi.win == lo.win && hi.q > lo.q && len(lo.past) > 0 && hi.past[len(hi.past)-1] < lo.past[len(lo.past)-1] {
					t.Fatalf("minute %d: the p%v shadow wants %d, fewer than the p%v shadow's %d", i, 100*hi.q, hi.past[len(hi.past)-1], 100*lo.q, lo.past[len(lo.past)-1])
				}
			}
		}
	}
}
