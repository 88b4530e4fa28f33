package forecaster

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/proto"
)

// gappyMinutes is a day and a half of one-minute load starting mid-bucket
// (a partial first bucket), with a 17-minute gap, a bucket missing three of
// its minutes, and an end mid-bucket.
func gappyMinutes() ([]time.Time, []float64) {
	start := time.Date(2026, 3, 2, 0, 3, 0, 0, time.UTC)
	var ts []time.Time
	var vs []float64
	for i := range 36 * 60 {
		if (i >= 400 && i < 417) || i == 601 || i == 602 || i == 604 {
			continue
		}
		ts = append(ts, start.Add(time.Duration(i)*time.Minute))
		vs = append(vs, 200+80*math.Sin(2*math.Pi*float64(i)/1440)+float64(i%11))
	}
	return ts, vs
}

// TestLiveAndOfflineBucketAlike runs the same minutes through the live
// forecaster's state (Tiers.Step) and the backtest's resampling
// (forecast.Resample fed to a forecast.Series), and requires the same
// forecast at every bucket origin: both bucket by one rule. (The scaling
// evaluation records its forecasts with Tiers.Step itself,
// scaleeval.RecordTape.)
func TestLiveAndOfflineBucketAlike(t *testing.T) {
	ts, vs := gappyMinutes()
	cfg := DefaultConfig()
	cfg.Model.Models = []string{"naive", "snaive", "ets"} // quicker fits; the rule is what is compared
	const tier = "web"
	model := cfg.Model
	model.RefitOffset = refitOffset(tier, model.RefitEvery)

	// Live.
	live := map[time.Time][]float64{}
	st := NewTiers(cfg, config.DefaultLimits(), zerolog.Nop())
	for i, at := range ts {
		f, _, err := st.Step(proto.NewMetrics("shop", tier, at, 3, map[string]float64{cfg.Metric: vs[i]}))
		if err != nil {
			t.Fatal(err)
		}
		if f != nil && len(f.Points) > 0 {
			live[f.EventTime()] = yhats(f.Points)
		}
	}

	// Backtest: resample, then a forecast at the start of every bucket
	// that follows an observed one.
	b, err := forecast.Resample(ts, vs, model.Step)
	if err != nil {
		t.Fatal(err)
	}
	if first := ts[0].Truncate(model.Step).Add(model.Step); !b.Start.Equal(first) {
		t.Fatalf("resample starts at %s, want %s (partial first bucket dropped)", b.Start, first)
	}
	backtest := map[time.Time][]float64{}
	s := forecast.NewSeries(model)
	var last time.Time
	for i, v := range b.Values {
		if math.IsNaN(v) {
			continue
		}
		at := b.Time(i)
		if !last.IsZero() {
			skip := int(at.Sub(last)/model.Step) - 1
			pts, _, err := s.Forecast(cfg.Horizon + skip)
			if err != nil {
				t.Fatal(err)
			}
			backtest[at] = yhatsOf(pts[skip:])
		}
		if err := s.Observe(at, v); err != nil {
			t.Fatal(err)
		}
		last = at
	}
	if pts, _, err := s.Forecast(cfg.Horizon); err == nil {
		backtest[b.End()] = yhatsOf(pts) // from the last whole bucket
	}

	// The minutes end mid-bucket: both drop that partial last bucket
	// and forecast from the one before it.
	if len(live) < 400 {
		t.Fatalf("only %d live forecasts", len(live))
	}
	if !reflect.DeepEqual(live, backtest) {
		t.Errorf("live and backtest differ: %d vs %d origins", len(live), len(backtest))
		for at, y := range live {
			if !reflect.DeepEqual(y, backtest[at]) {
				t.Fatalf("origin %s: live %v, backtest %v", at.Format(time.RFC3339), y[:2], backtest[at])
			}
		}
	}
	t.Logf("%d origins forecast identically live and in the backtest", len(live))
}

func yhats(ps []proto.ForecastPoint) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.Yhat
	}
	return out
}

func yhatsOf(ps []forecast.Point) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.Yhat
	}
	return out
}
