package anomaly_test

import (
	"fmt"
	"math"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
)

// A week of 5-minute requests per second with a daily cycle, then a spike.
func ExampleDetector() {
	d := anomaly.NewDetector(anomaly.DefaultConfig())
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var s anomaly.Score
	for i := 0; i <= 7*288; i++ {
		v := 100 + 40*math.Sin(2*math.Pi*float64(i%288)/288) + float64((i*37)%11)
		if i == 7*288 {
			v += 150
		}
		s = d.Observe(t0.Add(time.Duration(i)*5*time.Minute), v)
	}
	fmt.Printf("anomaly=%v direction=%+d observed=%.0f expected≈%.0f\n", s.Anomaly, s.Direction, s.Observed, math.Round(s.Expected/10)*10)
	// Output: anomaly=true direction=+1 observed=251 expected≈110
}

// One tick of a tier whose latency jumped without more demand.
func ExampleClassifier() {
	c := anomaly.NewClassifier(anomaly.DefaultClassifierConfig())
	t := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	values := map[string]float64{"rps": 120, "latency_p95_ms": 840}
	scores := map[string]anomaly.Score{
		"rps":            {Value: 0.02, Observed: 120, Expected: 118},
		"latency_p95_ms": {Value: 0.97, Anomaly: true, Observed: 840, Expected: 120, Detector: anomaly.DetectorResidual, Direction: 1},
	}
	for _, inc := range c.Observe(t, values, scores) {
		fmt.Println(inc.ID, inc.Kind, inc.State, inc.Evidence)
	}
	// Output: performance-1772452800000 performance open [latency_p95_ms 840 vs expected 120 (score 0.97, residual)]
}
