package detector

import (
	"math"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestTickWithoutLoadMetric feeds a tier nearly seven hours of steady load, then
// half an hour of ticks without rps (the collector's ticks while a scrape
// rule's counter has never been seen from its target) or, for contrast,
// with rps 0. Without rps each tick still gets its anomaly message, scoring
// the metrics it has and opening no incident: a missing load is not a drop.
// An rps of 0 opens a drop incident.
func TestTickWithoutLoadMetric(t *testing.T) {
	for _, c := range []struct {
		name     string
		values   map[string]float64
		wantDrop bool
	}{{"rps missing", map[string]float64{"cpu": 0.5}, false}, {"rps 0", map[string]float64{"rps": 0, "cpu": 0.5}, true}} {
		t.Run(c.name, func(t *testing.T) {
			st := NewTiers(DefaultConfig(), config.DefaultLimits())
			step := func(min int, values map[string]float64) *proto.Anomaly {
				t.Helper()
				msg, _, err := st.Step(proto.NewMetrics("shop", "web", t0.Add(time.Duration(min)*time.Minute), 6, values))
				if err != nil || msg == nil {
					t.Fatalf("minute %d: message %v, error %v", min, msg, err)
				}
				return msg
			}
			const steady = 400 // past the detectors' warm-up of 300 observations
			for m := range steady {
				step(m, map[string]float64{"rps": 300 + 10*math.Sin(float64(m)/3), "cpu": 0.5 + 0.01*math.Cos(float64(m)/5)})
			}
			drop := false
			for m := steady; m < steady+30; m++ {
				msg := step(m, c.values)
				if len(msg.Scores) != len(c.values) {
					t.Fatalf("minute %d: scores %+v, want one per metric the tick has", m, msg.Scores)
				}
				for _, in := range msg.Incidents {
					drop = drop || in.Kind == anomaly.KindDrop
					if in.Kind != anomaly.KindDrop {
						t.Fatalf("minute %d: incident %+v", m, in)
					}
				}
			}
			if drop != c.wantDrop {
				t.Fatalf("a drop incident: %v, want %v", drop, c.wantDrop)
			}
		})
	}
}
