package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/sim"
)

// shadowPinLoad is two days of a daily-cycled, noisy load without a load
// incident (see TestSkillCandidateShadowsMatchPinnedRuns), with flat, a
// flat run at next to nothing for minutes 1700–1799 of the second day's
// fall (a feed cut off: the outage hold's case).
func shadowPinLoad(flat bool) []float64 {
	rng := rand.New(rand.NewPCG(53, 7))
	load := make([]float64, 2*1440)
	for i := range load {
		day := 1 + 0.6*math.Sin(2*math.Pi*float64(i)/1440)
		load[i] = 80 * day * math.Exp(0.12*rng.NormFloat64())
	}
	for i := 1700; flat && i < 1800; i++ {
		load[i] = 0.5
	}
	return load
}

// shadowPinConfig is the one-tier app the simulation runs (scaleeval.Options.Policy:
// target 1, p95 with a 15-minute window, the policy's defaults otherwise)
// at the given lead time, capacity 10 per replica.
func shadowPinConfig(lead time.Duration) AppConfig {
	c := DefaultAppConfig()
	w := c.Tiers[0]
	w.Capacity, w.Target, w.Quantile, w.LeadTime = 10, 1, 0.95, lead
	w.ScaleDownStabilization = 15 * time.Minute
	w.Min, w.Max = 1, 200
	c.Tiers = []TierConfig{w}
	return c
}

// driveCluster runs app a's one tier on load through a simulated cluster
// of boot delay lead, calling each with the replicas ready and paid for at
// every tick before the tier decides it.
func driveCluster(a *App, lead time.Duration, load []float64, each func(i, ready, paid int)) {
	cl := sim.NewCluster(sim.Config{BootDelay: lead}, at(0), 8)
	for i, l := range load {
		ready, booting := cl.Advance(at(i))
		each(i, ready, ready+booting)
		d := a.Decide(at(i), map[string]TierInput{"web": {Load: l, Ready: ready, Booting: booting}})[0]
		cl.SetDesired(at(i+1), d.To)
	}
}

// runPinned runs the tier with no selector at quantile q and scale-down
// window win through a simulated cluster of its lead time, and returns the
// replicas serving and paid for at every tick.
func runPinned(t *testing.T, lead time.Duration, q float64, win time.Duration, load []float64) (serving, paid []int) {
	c := shadowPinConfig(lead)
	c.SkillQuantiles, c.ShortStabilization = nil, 0
	c.Tiers[0].Quantile, c.Tiers[0].ScaleDownStabilization = q, win
	serving, paid = make([]int, len(load)), make([]int, len(load))
	driveCluster(mustApp(t, c), lead, load, func(i, ready, total int) { serving[i], paid[i] = ready, total })
	return serving, paid
}

// TestSkillCandidateShadowsMatchPinnedRuns runs the tier's real decision
// path with the skill selector on, and once more pinned to each of its
// candidates (no selector, the candidate's quantile and scale-down window),
// each pinned run driving a simulated cluster. Every candidate's shadow
// must serve and pay for what the pinned run's cluster does, tick for
// tick, on a 3-minute and a 10-minute tier, on a load without load
// incidents, with and without a flat run at next to nothing: the selector
// rates each candidate by its shadow, so a shadow that is not the policy
// it stands for rates another policy than the one the tier would run
// (TestSkillShadowClusterMatchesSimulator pins the HPA shadows the same
// way). Under the outage hold each shadow keeps its own count, as its
// pinned run does; it held the live tier's count before, and paid 17
// replicas where its pinned run paid 10 (internal/scaleeval/EXPERIMENTS.md,
// the fifty-fourth round).
//
// A load incident's urgent count is left out, since the shadows do not
// follow it (the recent peak at the ratio, which a shadow's want lacks;
// following it tipped a database's selector into a losing switch, the
// fifty-third round). So is the outage hold's bridge (bridgeFlat), which
// stretches the live window only; this load does not tell a shadow
// without it from one with it.
func TestSkillCandidateShadowsMatchPinnedRuns(t *testing.T) {
	for _, flat := range []bool{false, true} {
		load := shadowPinLoad(flat)
		for _, lead := range []time.Duration{3 * time.Minute, 10 * time.Minute} {
			t.Run(fmt.Sprintf("lead %s flat run %v", lead, flat), func(t *testing.T) {
				a := mustApp(t, shadowPinConfig(lead))
				sk := a.tiers[0].sk
				if sk == nil {
					t.Fatal("the simulation's configuration runs no skill selector")
				}
				type run struct{ serving, paid []int }
				pinned := make([]run, len(sk.cands))
				for k, c := range sk.cands {
					s, p := runPinned(t, lead, c.q, c.win, load)
					pinned[k] = run{s, p}
				}
				driveCluster(a, lead, load, func(i, ready, total int) {
					if i <= sk.serve {
						return
					}
					for k, c := range sk.cands {
						s, p := sk.serving(c.past, ready, total)
						if s != pinned[k].serving[i] || p != pinned[k].paid[i] {
							t.Fatalf("minute %d: shadow p%v/%s serves %d and pays %d, the run pinned to it %d and %d",
								i, 100*c.q, c.win, s, p, pinned[k].serving[i], pinned[k].paid[i])
						}
					}
				})
			})
		}
	}
}
