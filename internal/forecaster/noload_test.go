package forecaster

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestTickWithoutMetric: a tick without the forecast metric (the
// collector's ticks while a scrape rule's counter has never been seen from
// its target) opens no bucket and makes no forecast, not even at a bucket
// start (the decider, by the same rule, waits for none for such a tick:
// decider.Config.ForecastMetric). The metric's return opens
// the bucket it falls in, with its forecast, as if the ticks between had
// not come: nothing of them was read as 0.
func TestTickWithoutMetric(t *testing.T) {
	st := NewTiers(DefaultConfig(), config.DefaultLimits(), zerolog.Nop())
	step := func(min int, values map[string]float64) *proto.Forecast {
		t.Helper()
		f, late, err := st.Step(proto.NewMetrics("shop", "web", t0.Add(time.Duration(min)*time.Minute), 6, values))
		if err != nil || late {
			t.Fatalf("minute %d: late %v, error %v", min, late, err)
		}
		return f
	}
	step(0, map[string]float64{"rps": 300})
	for m := 1; m < 20; m++ {
		if f := step(m, map[string]float64{"cpu": 0.5}); f != nil {
			t.Fatalf("minute %d without rps: forecast at %s, want none", m, proto.Time(f.TS))
		}
	}
	f := step(20, map[string]float64{"rps": 300})
	if f == nil || !proto.Time(f.TS).Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("rps back at minute 20: forecast %+v, want one for the bucket at minute 20", f)
	}
}
