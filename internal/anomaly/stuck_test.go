package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestStuckSensorFlaggedEarly: a sensor whose readings have never
// repeated, frozen at an ordinary value, is flagged within a few repeats,
// since a run at a value the series has never rested at starts q2 from
// the series' own repeat rate (with q2's prior at one half for every run
// it took 20 repeats).
func TestStuckSensorFlaggedEarly(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	d := NewDetector(DefaultConfig())
	i := 0
	for ; i < 3000; i++ {
		d.Observe(synthStart.Add(time.Duration(i)*5*time.Minute), math.Round((0.05+0.01*r.NormFloat64())*1e4)/1e4)
	}
	for k := 1; k <= 60; k++ {
		s := d.Observe(synthStart.Add(time.Duration(i+k)*5*time.Minute), 0.05)
		if s.Anomaly {
			t.Logf("flagged after %d repeats at score %.2f by %s", k-1, s.Value, s.Detector)
			if k-1 > 6 {
				t.Errorf("stuck sensor flagged after %d repeats, want at most 6", k-1)
			}
			return
		}
	}
	t.Error("stuck sensor not flagged within 60 readings")
}

// TestRestingRunsNotStuck: a continuous series that rests at zero for
// 20–40 readings once a day (NAB's rogue_agent_key files between
// keystrokes) raises no stuck alarm on its zero runs: a run at a value
// the series has rested at before keeps q2's prior at one half. With
// the prior at the series' repeat rate for every run (commit c74074c,
// reverted) these five series raised 36 stuck alarms.
func TestRestingRunsNotStuck(t *testing.T) {
	stuck := 0
	for seed := uint64(1); seed <= 5; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		d := NewDetector(DefaultConfig())
		i := 0
		for day := 0; day < 14; day++ {
			// a working spell of continuous readings, then a rest at zero
			for range 60 + r.IntN(120) {
				d.Observe(synthStart.Add(time.Duration(i)*5*time.Minute), math.Round((0.05+0.01*r.NormFloat64())*1e4)/1e4)
				i++
			}
			for range 20 + r.IntN(20) {
				if s := d.Observe(synthStart.Add(time.Duration(i)*5*time.Minute), 0); s.Anomaly && s.Detector == DetectorStuck {
					stuck++
				}
				i++
			}
		}
	}
	if stuck > 0 {
		t.Errorf("%d stuck alarms on rests at zero, want none", stuck)
	}
}
