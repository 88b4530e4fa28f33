package policy

import (
	"math"
	"testing"
	"time"
)

// TestForecastWeightGrowsWithLead checks AppConfig.ForecastWeightLead: a
// tier whose lead window is longer than the reference weights the forecast
// more (the level's share shrinking geometrically), and a tier at or below
// it, or an app without the setting, keeps the configured weight.
func TestForecastWeightGrowsWithLead(t *testing.T) {
	app := DefaultAppConfig()
	app.ForecastWeight, app.ForecastWeightLead = 0.25, 3*time.Minute
	weight := func(lead time.Duration, a AppConfig) float64 {
		cfg := a.Tiers[0]
		cfg.LeadTime = lead
		return newTier(cfg, &a).leadWeight(a.ForecastWeight)
	}
	if got := weight(10*time.Minute, app); math.Abs(got-(1-math.Pow(0.75, 11.0/4))) > 1e-12 {
		t.Fatalf("10-minute lead: weight %v, want 1 − 0.75^(11/4)", got)
	}
	for _, lead := range []time.Duration{0, time.Minute, 3 * time.Minute} {
		if got := weight(lead, app); got != 0.25 {
			t.Fatalf("%s lead: weight %v, want the configured 0.25", lead, got)
		}
	}
	off := app
	off.ForecastWeightLead = 0
	if got := weight(10*time.Minute, off); got != 0.25 {
		t.Fatalf("without ForecastWeightLead: weight %v, want 0.25", got)
	}
}
