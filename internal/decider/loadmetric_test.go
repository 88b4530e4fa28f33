package decider

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestForecastOfAnotherMetricIsNotTheLoads: the forecaster forecasts rps;
// a tier whose load_metric is another (qps here) must not have that
// forecast read as a forecast of its load. Every tick carries both
// metrics and every bucket gets an rps forecast of 1000: the rps tier's
// decisions show it (forecast_max), the qps tier's never do.
func TestForecastOfAnotherMetricIsNotTheLoads(t *testing.T) {
	for _, tc := range []struct {
		load         string
		wantForecast bool
	}{{"rps", true}, {"qps", false}} {
		t.Run(tc.load, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Policy.Tick = time.Minute
			for i := range cfg.Policy.Tiers {
				cfg.Policy.Tiers[i].LoadMetric = tc.load
			}
			st := NewApps(cfg, config.DefaultLimits(), zerolog.Nop())
			var with, decided int
			for i := range 30 {
				at := t0.Add(time.Duration(i) * time.Minute)
				ts := proto.Millis(at)
				ins := []proto.Keyed{&proto.Metrics{App: "shop", Tier: "web", TS: ts, Replicas: 4, Values: proto.Floats{"rps": 300, "qps": 300, "cpu": 0.5}}}
				if at.Equal(at.Truncate(cfg.ForecastStep)) {
					step := cfg.ForecastStep
					fc := &proto.Forecast{App: "shop", Tier: "web", TS: ts, Metric: "rps", StepMS: step.Milliseconds()}
					for k := range 12 {
						fc.Points = append(fc.Points, proto.ForecastPoint{TS: proto.Millis(at.Add(time.Duration(k) * step)), Yhat: 1000, Lo80: 900, Hi80: 1100, Lo95: 800, Hi95: 1200})
					}
					ins = append(ins, fc)
				}
				ins = append(ins, &proto.Anomaly{App: "shop", Tier: "web", TS: ts})
				for _, in := range ins {
					ds, err := st.Handle(in)
					if err != nil {
						t.Fatal(err)
					}
					for _, d := range ds {
						decided++
						if _, ok := d.Inputs["forecast_max"]; ok {
							with++
						}
					}
				}
			}
			if decided == 0 {
				t.Fatal("no decisions")
			}
			if got := with > 0; got != tc.wantForecast {
				t.Fatalf("load metric %s: %d of %d decisions carry forecast_max, want forecast used %v", tc.load, with, decided, tc.wantForecast)
			}
		})
	}
}
