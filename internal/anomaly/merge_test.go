package anomaly

import "testing"

// TestSpotCountsOnlyWithTheResidualInItsTail: spot's term enters the merged
// p only where the residual's p is at or below TailQuantile; elsewhere the
// value is one the forecasters expected and spot is left out. pAll, which
// the recurrence remembers, keeps spot's term either way.
func TestSpotCountsOnlyWithTheResidualInItsTail(t *testing.T) {
	def := DefaultConfig()
	noTail := DefaultConfig()
	noTail.TailQuantile = 0
	ones := func(set map[int]float64) *[nDetectors]float64 {
		var pv [nDetectors]float64
		for i := range pv {
			pv[i] = 1
		}
		for i, p := range set {
			pv[i] = p
		}
		return &pv
	}
	cases := []struct {
		name       string
		cfg        *Config
		pv         *[nDetectors]float64
		best       int
		pmin, pAll float64
	}{
		{"spot alone, residual out of its tail: left out", &def,
			ones(map[int]float64{dSpot: 1e-6, dResidual: 0.2}), dResidual, 1, 7e-6},
		{"residual just above its tail: left out", &def,
			ones(map[int]float64{dSpot: 1e-6, dResidual: 0.0501}), dResidual, 7 * 0.0501, 7e-6},
		{"another statistic takes over", &def,
			ones(map[int]float64{dSpot: 1e-6, dResidual: 0.2, dChange: 1e-4}), dChange, 7e-4, 7e-6},
		{"residual at its tail level: spot counts", &def,
			ones(map[int]float64{dSpot: 1e-6, dResidual: 0.05}), dSpot, 7e-6, 7e-6},
		{"residual deep in its tail: spot counts", &def,
			ones(map[int]float64{dSpot: 1e-6, dResidual: 1e-3}), dSpot, 7e-6, 7e-6},
		{"residual the smaller: unchanged", &def,
			ones(map[int]float64{dSpot: 1e-3, dResidual: 1e-5}), dResidual, 7e-5, 7e-5},
		{"no tail level configured: spot counts", &noTail,
			ones(map[int]float64{dSpot: 1e-6, dResidual: 0.2}), dSpot, 7e-6, 7e-6},
	}
	near := func(a, b float64) bool { return a == b || (a-b)/b < 1e-12 && (b-a)/b < 1e-12 }
	for _, c := range cases {
		best, pmin, pAll := merge(c.cfg, c.pv)
		if best != c.best || !near(pmin, c.pmin) || !near(pAll, c.pAll) {
			t.Errorf("%s: best %s, pmin %g, pAll %g; want %s, %g, %g", c.name,
				detectorNames[best], pmin, pAll, detectorNames[c.best], c.pmin, c.pAll)
		}
	}
}
