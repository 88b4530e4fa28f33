package shop

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"
)

var appToken = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Validate reports every problem with the configuration, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !appToken.MatchString(c.App) {
		bad("app %q must match [a-z0-9_-]+", c.App)
	}
	d := c.Demand
	if !pos(d.Trough) || !(d.Peak >= d.Trough) || !finite(d.Peak) {
		bad("demand: need 0 < trough <= peak, got %v and %v", d.Trough, d.Peak)
	}
	if !(d.WeekendFactor > 0) || !finite(d.WeekendFactor) {
		bad("demand: weekend factor %v must be > 0", d.WeekendFactor)
	}
	if !(d.WeeklyGrowth > -1) || !finite(d.WeeklyGrowth) || !nonNeg(d.TrendMaxWeeks) {
		bad("demand: weekly growth %v must be > -1 and trend max weeks %v >= 0", d.WeeklyGrowth, d.TrendMaxWeeks)
	}
	if !inRange(d.DayToDay, 0, 1) || !inRange(d.Noise, 0, 1) {
		bad("demand: day-to-day %v and noise %v must be in [0, 1]", d.DayToDay, d.Noise)
	}
	b := c.Bursts
	if b.Slot <= 0 || !inRange(b.Probability, 0, 1) || b.MinDuration <= 0 || b.MaxDuration < b.MinDuration || b.MaxDuration > b.Slot {
		bad("bursts: need slot > 0, probability in [0, 1], 0 < min <= max duration <= slot")
	}
	if !nonNeg(b.MinMagnitude) || !(b.MaxMagnitude >= b.MinMagnitude) || !finite(b.MaxMagnitude) {
		bad("bursts: need 0 <= min <= max magnitude, got %v and %v", b.MinMagnitude, b.MaxMagnitude)
	}
	s := c.Spike
	if !inRange(s.Probability, 0, 1) || s.EarliestHour < 0 || s.LatestHour > 23 || s.LatestHour < s.EarliestHour {
		bad("spike: need probability in [0, 1] and 0 <= earliest <= latest hour <= 23")
	}
	if s.MinDuration <= 0 || s.MaxDuration < s.MinDuration || s.MaxDuration > 12*time.Hour {
		bad("spike: need 0 < min <= max duration <= 12h")
	}
	if s.MinRamp < 0 || s.MaxRamp < s.MinRamp || 2*s.MaxRamp > s.MinDuration {
		bad("spike: need 0 <= min <= max ramp and two ramps within the shortest spike")
	}
	if !(s.MinMagnitude >= 1) || !(s.MaxMagnitude >= s.MinMagnitude) || !finite(s.MaxMagnitude) {
		bad("spike: need 1 <= min <= max magnitude, got %v and %v", s.MinMagnitude, s.MaxMagnitude)
	}
	db := c.SlowDB
	if !inRange(db.Probability, 0, 1) || db.MinDuration <= 0 || db.MaxDuration < db.MinDuration || db.MaxDuration > 12*time.Hour {
		bad("slow-db: need probability in [0, 1] and 0 < min <= max duration <= 12h")
	}
	if !(db.MinMagnitude >= 1) || !(db.MaxMagnitude >= db.MinMagnitude) || !finite(db.MaxMagnitude) {
		bad("slow-db: need 1 <= min <= max magnitude, got %v and %v", db.MinMagnitude, db.MaxMagnitude)
	}
	if !(db.CapacityFactor > 0) || db.CapacityFactor > 1 || !inRange(db.ErrorPerMagnitude, 0, 1) || db.Ramp < 0 || 2*db.Ramp > db.MinDuration {
		bad("slow-db: need capacity factor in (0, 1], error per magnitude in [0, 1], two ramps within the shortest incident")
	}
	for _, name := range c.TierNames() {
		t, _ := c.tier(name)
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("tier %s: %w", name, err))
		}
	}
	if !nonNeg(c.CacheCallsPerRequest) || !nonNeg(c.DBQueriesPerRequest) {
		bad("calls per request must be finite and >= 0")
	}
	if !inRange(c.HitRatio, 0, 1) || !inRange(c.HitRatioNoise, 0, 1) || !inRange(c.SaturationMissRise, 0, 1) {
		bad("hit ratio, its noise and saturation miss rise must be in [0, 1]")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shop config: %w", err)
	}
	return nil
}

func (t TierConfig) validate() error {
	switch {
	case !pos(t.Capacity):
		return fmt.Errorf("capacity %v must be > 0", t.Capacity)
	case t.Workers < 1 || t.Workers > 1024:
		return fmt.Errorf("workers %d must be in 1..1024", t.Workers)
	case !pos(t.LatencyMs) || !nonNeg(t.LatencySpread) || t.LatencySpread > 3:
		return fmt.Errorf("latency %v ms must be > 0 and spread %v in [0, 3]", t.LatencyMs, t.LatencySpread)
	case !(t.TimeoutMs > t.LatencyMs) || !finite(t.TimeoutMs):
		return fmt.Errorf("timeout %v ms must exceed latency %v ms", t.TimeoutMs, t.LatencyMs)
	case !inRange(t.BaseCPU, 0, 1) || !inRange(t.BaseMem, 0, 1) || !inRange(t.MemPerLoad, 0, 1) || !inRange(t.BaseErrorRate, 0, 1):
		return errors.New("base cpu, base mem, mem per load and base error rate must be in [0, 1]")
	}
	return nil
}

func finite(x float64) bool          { return !math.IsNaN(x) && !math.IsInf(x, 0) }
func pos(x float64) bool             { return x > 0 && finite(x) }
func nonNeg(x float64) bool          { return x >= 0 && finite(x) }
func inRange(x, lo, hi float64) bool { return x >= lo && x <= hi }
