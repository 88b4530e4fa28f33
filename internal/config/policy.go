package config

import (
	"slices"
	"time"

	"github.com/headroomhq/headroom/internal/policy"
)

// defaultTier is the policy of a tier the base policy does not know: the
// default front tier's settings, without an upstream.
func defaultTier(name string) policy.TierConfig {
	t := policy.DefaultAppConfig().Tiers[0]
	t.Name, t.Upstream, t.Priority, t.CostPerReplicaHour = name, "", 1, 0
	return t
}

// Policy returns app's scaling policy: base with the file's app settings
// laid over it, and, when the file lists the app's tiers, those tiers in
// file order, each starting from base's tier of the same name (or the
// default front-tier settings) with the file's fields over it. ok is false
// for an app the file does not have.
func (f *File) Policy(app string, base policy.AppConfig) (cfg policy.AppConfig, ok bool) {
	a, ok := f.App(app)
	if !ok {
		return base, false
	}
	return a.policyOver(base), true
}

// Policies returns the policy of every app in the file, over base.
func (f *File) Policies(base policy.AppConfig) map[string]policy.AppConfig {
	out := make(map[string]policy.AppConfig, len(f.Apps))
	for _, a := range f.Apps {
		out[a.Name] = a.policyOver(base)
	}
	return out
}

func (a *App) policyOver(base policy.AppConfig) policy.AppConfig {
	c := base
	p := a.policy
	if a.Source == SourceScrape && a.Scrape.Interval > 0 {
		c.Tick = a.Scrape.Interval // a scraped app's ticks come once an interval
	}
	setD(&c.Tick, p.Tick)
	setF(&c.BudgetPerHour, p.BudgetPerHour)
	setD(&c.LevelWindow, p.LevelWindow)
	setD(&c.CalibrationWindow, p.CalibrationWindow)
	setI(&c.MinCalibration, p.MinCalibration)
	setF(&c.DefaultHeadroom, p.DefaultHeadroom)
	setF(&c.ForecastWeight, p.ForecastWeight)
	setD(&c.ForecastWeightLead, p.ForecastWeightLead)
	setD(&c.OutageHold, p.OutageHold)
	setD(&c.RampLead, p.RampLead)
	setD(&c.JumpLead, p.JumpLead)
	setB(&c.UpstreamSurges, p.UpstreamSurges)
	setF(&c.RampSigmas, p.RampSigmas)
	setF(&c.JumpSigmas, p.JumpSigmas)
	setB(&c.JumpBin, p.JumpBin)
	setB(&c.JumpFallBin, p.JumpFallBin)
	setF(&c.RiseBin, p.RiseBin)
	setF(&c.HPAGuardTarget, p.HPAGuardTarget)
	setD(&c.ShortStabilization, p.ShortStabilization)
	setF(&c.HoldWorth, p.HoldWorth)
	setB(&c.SeasonalPeaks, p.SeasonalPeaks)
	if !c.SeasonalPeaks && p.PhasePeaks == nil {
		// The hour-phase guard reads the seasonal guard's memory: turning
		// the seasonal guard off turns it off too, unless asked for.
		c.PhasePeaks = false
	}
	setB(&c.PhasePeaks, p.PhasePeaks)
	if p.SkillQuantiles != nil {
		c.SkillQuantiles = slices.Clone(*p.SkillQuantiles)
	}
	setF(&c.ReactiveHeadroom, p.ReactiveHeadroom)
	if len(a.Tiers) == 0 {
		c.Tiers = append([]policy.TierConfig(nil), base.Tiers...)
		return c
	}
	c.Tiers = make([]policy.TierConfig, 0, len(a.Tiers))
	for _, t := range a.Tiers {
		tc := defaultTier(t.Name)
		for _, bt := range base.Tiers {
			if bt.Name == t.Name {
				tc = bt
			}
		}
		t.policy.over(&tc)
		c.Tiers = append(c.Tiers, tc)
	}
	return c
}

func (p rawTierPolicy) over(tc *policy.TierConfig) {
	if p.LoadMetric != nil {
		tc.LoadMetric = *p.LoadMetric
	}
	if p.Upstream != nil {
		tc.Upstream = *p.Upstream
	}
	setF(&tc.Capacity, p.Capacity)
	setF(&tc.Target, p.Target)
	setF(&tc.Quantile, p.Quantile)
	setD(&tc.LeadTime, p.LeadTime)
	setI(&tc.Min, p.Min)
	setI(&tc.Max, p.Max)
	setI(&tc.MaxStep, p.MaxStep)
	setD(&tc.ScaleDownStabilization, p.ScaleDownStabilization)
	setD(&tc.CooldownUp, p.CooldownUp)
	setD(&tc.CooldownDown, p.CooldownDown)
	setI(&tc.Priority, p.Priority)
	setF(&tc.CostPerReplicaHour, p.CostPerReplicaHour)
}

func setF(dst *float64, v *float64) {
	if v != nil {
		*dst = *v
	}
}

func setI(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setB(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func setD(dst *time.Duration, v *time.Duration) {
	if v != nil {
		*dst = *v
	}
}
