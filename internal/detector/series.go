package detector

import (
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// ScoreSeries streams one series through a fresh stage (the live service's
// Tiers, the value as the tier's one metric, detector settings cfg) and
// returns the score the service publishes for each point: how `anomaly
// nab` scores a benchmark file. Times must not go back by more than they
// repeat: a time at or before the previous one (NAB files repeat or step
// back a timestamp at clock changes) is nudged one second past it, since
// the stage needs increasing times. name labels errors.
func ScoreSeries(cfg anomaly.Config, name string, times []time.Time, values []float64) ([]float64, error) {
	if len(times) != len(values) {
		return nil, fmt.Errorf("%s: %d times for %d values", name, len(times), len(values))
	}
	dc := DefaultConfig()
	dc.Detector = cfg
	lim := config.DefaultLimits()
	lim.IdleAfter = 0 // one series: a gap in it must not make the stage forget it
	st := NewTiers(dc, lim)
	scores := make([]float64, len(values))
	var prev time.Time
	for i, v := range values {
		t := times[i]
		if i > 0 && !t.After(prev) {
			t = prev.Add(time.Second)
		}
		prev = t
		msg, _, err := st.Step(proto.NewMetrics("series", "series", t, 0, map[string]float64{seriesMetric: v}))
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", name, i+1, err)
		}
		if msg == nil || len(msg.Scores) != 1 {
			return nil, fmt.Errorf("%s row %d: the anomaly stage scored nothing", name, i+1)
		}
		scores[i] = msg.Scores[0].Score
	}
	return scores, nil
}

// seriesMetric names a scored series' value as a tick's metric.
const seriesMetric = "value"
