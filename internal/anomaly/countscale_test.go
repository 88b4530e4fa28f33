package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// travelTimes is a road sensor's travel time in whole seconds every 5
// minutes for days days: about 300 s, up to four times that in the
// weekday rush hours, with noise of 8 % of the value; from row from on,
// every reading is multiplied by factor (the sensor was recalibrated).
// It starts on Monday at 00:00 (start); travelTimesFrom starts at t0.
func travelTimes(seed uint64, days, from int, factor float64) ([]time.Time, []float64) {
	return travelTimesFrom(start, seed, days, from, factor)
}

func travelTimesFrom(t0 time.Time, seed uint64, days, from int, factor float64) ([]time.Time, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	n := days * 288
	ts := make([]time.Time, n)
	vs := make([]float64, n)
	for i := range n {
		ts[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
		h := float64(i%288) / 12
		jam := 0.0
		if wd := ts[i].Weekday(); wd != time.Saturday && wd != time.Sunday {
			jam = 0.6*math.Exp(-math.Pow((h-8)/1.2, 2)) + 0.6*math.Exp(-math.Pow((h-17.5)/1.5, 2))
		}
		v := 300 * (1 + 3*jam*jam) * math.Exp(0.08*r.NormFloat64())
		if i >= from {
			v *= factor
		}
		vs[i] = math.Round(v)
	}
	return ts, vs
}

// TestTravelTimesJudgedByProportion: integer travel times, whose noise
// grows with the value, on the negative-binomial count scale
// (CountDispersion 40) find more of a recalibration to 0.75 within a
// day, with fewer false alarms before it, than on the square-root
// scale (20 series: 5 against 1 found, 38 against 42 false alarms
// before the daily changepoint; 2 against 0 and 48 against 50 with
// it; 5 against 1 and 43 against 44 since its day kinds). The change
// comes on the series' first Saturday at 08:20: the daily changepoint
// took the missing morning rush hour for a shift (the weekly profile
// is not ready in a first week), and the holdoffs of its alarms hid
// three of the five recalibrations found before; with a reference of
// the row's own kind of day it waits out the first Saturday.
func TestTravelTimesJudgedByProportion(t *testing.T) {
	run := func(cfg Config) (alarms, found int) {
		for seed := uint64(1); seed <= 20; seed++ {
			const onset = 5*288 + 100
			ts, vs := travelTimes(seed, 9, onset, 0.75)
			d := NewDetector(cfg)
			for i := range vs {
				s := d.Observe(ts[i], vs[i])
				if s.Anomaly && i < onset {
					alarms++
				}
				if s.Anomaly && i >= onset && i < onset+288 {
					found++
					break
				}
			}
		}
		return alarms, found
	}
	alarms, found := run(DefaultConfig())
	sqrtCfg := DefaultConfig()
	sqrtCfg.CountDispersion = 0
	a0, f0 := run(sqrtCfg)
	t.Logf("negative-binomial scale: %d false alarms, %d of 20 found; square-root scale: %d, %d", alarms, found, a0, f0)
	if found < 2 || alarms > 50 || found <= f0 || alarms >= a0 {
		t.Errorf("got %d of 20 recalibrations found with %d false alarms (square-root scale %d, %d), want >= 2 with <= 50, more found and fewer false alarms than on the square-root scale", found, alarms, f0, a0)
	}
}

func TestCountScaleRoundTrip(t *testing.T) {
	for _, k := range []float64{0, 40} {
		for _, v := range []float64{0, 1, 7, 40, 300, 1e6} {
			if got := countUnscale(countScale(v, k), k); math.Abs(got-v) > 1e-6*(1+v) {
				t.Errorf("k=%v: countUnscale(countScale(%v)) = %v", k, v, got)
			}
		}
	}
	// Below k the negative-binomial scale is the square root's; far
	// above it, a doubling adds about the same at every level.
	if a, b := countScale(2, 40), countScale(2, 0); math.Abs(a-b) > 0.05 {
		t.Errorf("countScale(2): %v against the square root's %v", a, b)
	}
	d1 := countScale(2e4, 40) - countScale(1e4, 40)
	d2 := countScale(2e5, 40) - countScale(1e5, 40)
	if math.Abs(d1-d2) > 0.01*d1 {
		t.Errorf("a doubling adds %v at 1e4 and %v at 1e5", d1, d2)
	}
}
