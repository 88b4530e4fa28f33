package policy

import (
	"errors"
	"fmt"
	"time"
)

// TierConfig is the scaling configuration of one tier.
type TierConfig struct {
	// Name is the tier token, e.g. "web".
	Name string
	// LoadMetric names the metric that measures demand, e.g. "rps".
	LoadMetric string
	// Capacity is the load one replica serves at 100 % utilisation; 0 means
	// learn it online from the load and the "cpu" utilisation of the tick.
	Capacity float64
	// Target is the utilisation to provision for, in (0, 1].
	Target float64
	// Quantile is the upper quantile of the demand over the lead window to
	// provision for, in (0, 1), e.g. 0.9.
	Quantile float64
	// LeadTime is how long a new replica takes to become ready.
	LeadTime time.Duration
	// Min and Max bound the replica count.
	Min, Max int
	// MaxStep caps how many replicas one decision may add or remove; 0 means
	// no cap.
	MaxStep int
	// ScaleDownStabilization is how long the wanted count must stay below
	// the current count before the tier scales down.
	ScaleDownStabilization time.Duration
	// CooldownUp is the minimum time between two scale-ups.
	CooldownUp time.Duration
	// CooldownDown is the minimum time after any scaling before a scale-down.
	CooldownDown time.Duration
	// Priority orders tiers under a budget cap: the lowest priority is
	// trimmed first.
	Priority int
	// CostPerReplicaHour is the cost of one replica for one hour.
	CostPerReplicaHour float64
	// Upstream names the tier whose demand drives this one ("" for the front
	// tier); the ratio of this tier's load to the upstream load is learned
	// online.
	Upstream string
}

// AppConfig is the scaling configuration of one application.
type AppConfig struct {
	// Tiers lists the tiers in evaluation and output order.
	Tiers []TierConfig
	// BudgetPerHour caps the summed replica cost per hour; 0 means no cap.
	BudgetPerHour float64
	// Tick is the interval between two metrics ticks (and decisions).
	Tick time.Duration
	// LevelWindow is how much recent load the current level averages,
	// counted in the load's own samples (the outage hold's run length): on
	// a load counted in buckets and held for each of their ticks the level
	// averages LevelWindow's worth of buckets (five 5-minute buckets for
	// 5 minutes), at most 30 minutes unless LevelWindow itself is longer.
	// The seasonal and hour-phase guards read each remembered day's level
	// over the same span.
	LevelWindow time.Duration
	// CalibrationWindow is how many recent ticks of forecast-versus-actual
	// ratios the quantile is taken from, as a duration.
	CalibrationWindow time.Duration
	// MinCalibration is the number of ratios a level bin needs before its own
	// quantile is used instead of the pooled one.
	MinCalibration int
	// DefaultHeadroom is the ratio used before any calibration exists.
	DefaultHeadroom float64
	// ForecastWeight blends the forecast into the base the quantile is
	// applied to: base = (1−w)·level + w·forecast, where forecast is the
	// highest forecast median over the lead window; 0 takes the larger of
	// the two instead. Without a forecast the base is the level.
	ForecastWeight float64
	// ForecastWeightLead, when positive, is the lead time ForecastWeight is
	// meant for: a tier with a longer lead window weights the forecast
	// more, the level's share (1 − w) shrinking geometrically with the
	// window, w' = 1 − (1 − w)^((tick+lead)/(tick+ForecastWeightLead)).
	ForecastWeightLead time.Duration
	// RampSigmas turns on the ramp guard: when the load rose in each of the
	// last two ticks by more than RampSigmas times its typical one-tick
	// change, the policy never provisions below the current load plus that
	// excess rise carried on over the lead window. 0 turns it off.
	RampSigmas float64
	// RampLead, when positive, caps how far the ramp guard carries a rise
	// on: over the tier's lead window, but no further than RampLead past
	// the tick. How long a ramp goes on is not known; a tier with a long
	// boot that carries two rises on over all of it buys, on a surge of a
	// few minutes, replicas for a load that never comes, and its next
	// decisions still follow a ramp that goes on. 0: the whole window.
	RampLead time.Duration
	// UpstreamSurges propagates the ramp guard to the tiers behind the
	// front: a tier with an Upstream carries on the larger of its own
	// ramp and its upstream's (the rise per tick that tier's guard carried
	// on, itself maybe propagated), scaled by the learned ratio of the two
	// loads, over its own lead window. A surge ramping at the front thus
	// provisions a back tier with a longer boot at the pace it is coming,
	// even before (or without) the back tier's own load showing two rises
	// beyond its noise.
	UpstreamSurges bool
	// JumpSigmas turns on the jump guard: the base the quantile is applied
	// to is at least the current load less JumpSigmas typical one-tick
	// changes, so a jump well beyond the noise gets its calibrated headroom
	// at once instead of waiting for the level to catch up. 0 turns it off.
	JumpSigmas float64
	// JumpBin calibrates the ticks the jump guard lifts apart from the
	// others (regime detection): how far a fresh jump keeps rising is
	// learned from earlier jumps.
	JumpBin bool
	// JumpFallBin splits the jumped ticks (JumpBin) by whether the load
	// fell since the tick before: a burst past its peak is calibrated
	// apart from one still rising, so the replicas wanted while it decays
	// follow how far such decaying loads went on, not the onsets.
	JumpFallBin bool
	// JumpLead, when positive, caps the window over which the jump bin
	// (JumpBin) learns how far a fresh jump goes on rising: the tier's
	// lead window, but no further than JumpLead past the tick. On a tier
	// with a long boot, a decision taken at a jump's first tick serves
	// only once the lead time has passed, and the decisions of the next
	// few ticks, sized on the load that came, land minutes after it; a
	// ratio learned over the whole window mixes the few jumps that went
	// on rising for all of it (a surge's onset) with the many that did
	// not, and buys every later jump (a rise inside a surge) replicas for
	// a multiple of its load. 0: the whole window.
	JumpLead time.Duration
	// RiseBin, when positive, calibrates apart the ticks whose forecast
	// expects the load to rise over the lead window by more than RiseBin
	// of the blended base and by more than five typical one-tick changes
	// (a scheduled surge the forecast knows of, not its noise): how
	// far the realised peak lands from a forecast rise is its own regime,
	// wider than the noise around a flat forecast, since a surge that
	// recurs at a known time need not recur at a known size. Such ticks
	// are learned over the whole lead window and use their level bin's
	// ratios until minJumpCalibration of them are held. 0: off.
	RiseBin float64
	// HPAGuardTarget, when positive, runs the Kubernetes HPA rule at this
	// target utilisation beside the policy on every tier and never wants
	// fewer replicas than it does. 0 turns the guard off.
	HPAGuardTarget float64
	// ShortStabilization, when positive and shorter than a tier's
	// ScaleDownStabilization, lets the tier scale down after this shorter
	// window whenever the full window has not been paying: when holding for
	// it prevented fewer than HoldWorth lead-window misses per unit of
	// relative extra replicas, measured causally over about a day.
	ShortStabilization time.Duration
	// HoldWorth is the exchange rate of that choice (see ShortStabilization).
	HoldWorth float64
	// SeasonalPeaks turns on the seasonal guard: the policy remembers the
	// peak load of every minute of the last two days and never provisions
	// below the current level times the smallest, over those days, of the
	// rise seen over the lead window at this time of day (so a daily
	// content drop or scheduled job is met when it starts, not after).
	SeasonalPeaks bool
	// PhasePeaks turns on the hour-phase guard beside the seasonal one
	// (it reads SeasonalPeaks's memory, so Validate refuses it without
	// SeasonalPeaks): the policy never
	// provisions below the current level times the rise seen at this
	// minute of the hour (give or take two minutes) in at least eight of
	// the last 24 hours, when that rise exceeds five typical one-tick
	// changes, so bursts that recur at similar minutes of the hour are
	// met as they start; random bursts and noise almost never recur so.
	// The guard stands aside while fewer than three in ten of its recent
	// expectations came true.
	PhasePeaks bool
	// WeeklyRises turns on the weekly guard on a tier whose lead window
	// is longer than a 3-minute tier's (a database): the policy
	// remembers, per 5-minute bucket of the last two weeks, the largest
	// rise over the lead window a tick of it saw, and never provisions
	// below the current level times the smaller of the two weeks' rises
	// at this time of the week when each came to a level bin's width (×2)
	// or more, beyond five typical one-tick changes: a weekly match seen
	// in each of the last two weeks is met as it starts; a random launch
	// or spike, seen in one week, is not expected again (2 KB a tier).
	// It stands aside where the seasonal memory (SeasonalPeaks) saw a
	// rise of ×2 at this time of day on any remembered day: a daily sale
	// recurs weekly too, and is the seasonal guard's.
	WeeklyRises bool
	// WeeklySchedule widens the weekly guard (WeeklyRises) to a rise seen
	// a week ago alone when the same time of day saw a rise of a level
	// bin's width on another day of the two weeks remembered too: a
	// schedule (an event at one clock time on several weekdays) is met
	// before its third week, where a random launch, at its own minute of
	// the day, is still not expected again. The other days count only
	// where that many rising at the time of day is unlikely by chance on
	// the tier: fewer than one such coincidence a week expected from the
	// share of its remembered buckets that hold a rise (weekly.rise), so
	// a tier with many random rises needs more days. Every such schedule
	// is tested (did the bucket it expected keep a rise?), and the guard
	// acts on one only where the last schedule tested at that time of day
	// within the memory came: a first coincidence is only tested, and a
	// schedule that missed is dropped. It also reads every rise the
	// guard keeps and expects against the level at the first tick of the
	// 5-minute bucket rather than at the tick, so a bucket's ticks that
	// see a rise begin are read against the level before it.
	WeeklySchedule bool
	// OutageHold, when positive, keeps a tier's replicas while its load
	// repeats the very same value tick after tick (five of the load's
	// samples or more: five ticks, or 25 for a load counted in 5-minute
	// buckets and held for their minutes, whose every value repeats)
	// at under 5 % of their capacity, for at most this long: such a flat
	// line is a metrics feed or the traffic cut off upstream (an outage),
	// not demand, and the traffic comes back at once, faster than
	// replicas boot. 0 turns it off.
	OutageHold time.Duration
	// SkillQuantiles, when not empty, turns on the choice of each tier's
	// operating point by realised skill against the Kubernetes HPA rule:
	// shadow copies of the policy at the tier's Quantile and at each of
	// these, each with the full and the short (ShortStabilization)
	// scale-down window, and shadow HPA rules at several targets run on the
	// tier's own load over simulated clusters of its lead time; the tier
	// runs the candidate whose past under-provisioning and unserved load
	// are smallest relative to HPA's curve at its cost. It replaces the
	// adaptive hold (HoldWorth). Empty turns it off.
	SkillQuantiles []float64
	// ReactiveHeadroom is the least headroom over the current load the
	// policy always provisions (want ≥ load·ReactiveHeadroom/capacity·target);
	// 0 or 1 means none.
	ReactiveHeadroom float64
}

// DefaultAppConfig returns a three-tier web/cache/db application with lead
// times of 1, 3 and 10 minutes, p90 provisioning at a 70 % target, a
// 10-minute scale-down stabilisation, one-minute ticks, a three-day
// calibration window, a forecast weight of 0.25 for a 3-minute lead
// (stretched for longer leads, ForecastWeightLead), the ramp and jump
// guards at 3 typical changes (a ramp carried on for at most 3 minutes
// past the tick, RampLead, and to the tiers behind, UpstreamSurges; the
// jump bin learned over at most 3 minutes past the tick, JumpLead), the
// ticks whose forecast expects a rise beyond 30 % of the base over the
// lead window calibrated apart (RiseBin), the seasonal and hour-phase
// guards, a
// 6-hour outage hold,
// and the skill selector choosing each tier's operating point among p90
// and p98 with the full or a 3-minute scale-down window by realised skill
// against shadow HPA rules, as compared over the scaling trace suite.
func DefaultAppConfig() AppConfig {
	tier := func(name, up string, lead time.Duration, prio int, cost float64) TierConfig {
		return TierConfig{
			Name: name, LoadMetric: "rps", Target: 0.7, Quantile: 0.9, LeadTime: lead,
			Min: 1, Max: 200, ScaleDownStabilization: 10 * time.Minute,
			Priority: prio, CostPerReplicaHour: cost, Upstream: up,
		}
	}
	return AppConfig{
		Tiers: []TierConfig{
			tier("web", "", time.Minute, 3, 0.05),
			tier("cache", "web", 3*time.Minute, 2, 0.08),
			tier("db", "cache", 10*time.Minute, 1, 0.40),
		},
		Tick:               time.Minute,
		LevelWindow:        5 * time.Minute,
		CalibrationWindow:  72 * time.Hour,
		MinCalibration:     200,
		DefaultHeadroom:    1.3,
		ForecastWeight:     0.25,
		ForecastWeightLead: 3 * time.Minute,
		RampSigmas:         3,
		RampLead:           3 * time.Minute,
		UpstreamSurges:     true,
		JumpSigmas:         3,
		JumpBin:            true,
		JumpLead:           3 * time.Minute,
		RiseBin:            0.3,
		ShortStabilization: 3 * time.Minute,
		HoldWorth:          0.07,
		SkillQuantiles:     []float64{0.9, 0.98},
		SeasonalPeaks:      true,
		PhasePeaks:         true,
		WeeklyRises:        true,
		WeeklySchedule:     true,
		OutageHold:         6 * time.Hour,
	}
}

// MaxTick is the longest tick: an autoscaler deciding less often than
// hourly is not one, and a decision's age limit at the executor allows a
// tick of at most this much.
const MaxTick = time.Hour

// ActAge is the oldest a decision may be for a real driver to act on it,
// by default: its tier's lead time, at least a minute, plus its app's tick
// (at most MaxTick), which a decision's age holds from the start (it
// carries its interval's time, and is made once a tick of the next
// interval comes). The executor refuses older ones unless -executor.max-age
// says otherwise; the decider's input timeout lets go only ticks this
// fresh. One rule, so the two cannot drift apart.
func ActAge(lead, tick time.Duration) time.Duration {
	return max(lead, time.Minute) + min(tick, MaxTick)
}

// MaxFutureSkew is how far past its clock a decision's event time may lie
// for the executor to act on it, by default (-executor.max-future-skew):
// a later one is refused as forged. The decider's input timeout lets go of
// no tick further ahead of its own clock.
const MaxFutureSkew = 2 * time.Minute

// Validate reports every setting that cannot work.
func (c AppConfig) Validate() error {
	var errs []error
	if len(c.Tiers) == 0 {
		errs = append(errs, errors.New("no tiers"))
	}
	if c.BudgetPerHour < 0 {
		errs = append(errs, fmt.Errorf("budget %v is negative", c.BudgetPerHour))
	}
	if c.Tick <= 0 || c.Tick > MaxTick {
		errs = append(errs, fmt.Errorf("tick %s must be positive and at most %s", c.Tick, MaxTick))
	}
	if c.LevelWindow < c.Tick {
		errs = append(errs, fmt.Errorf("level window %s is shorter than a tick", c.LevelWindow))
	}
	if c.CalibrationWindow < c.Tick {
		errs = append(errs, fmt.Errorf("calibration window %s is shorter than a tick", c.CalibrationWindow))
	}
	if c.MinCalibration < 1 {
		errs = append(errs, fmt.Errorf("min calibration %d must be at least 1", c.MinCalibration))
	}
	if c.ForecastWeight < 0 || c.ForecastWeight > 1 {
		errs = append(errs, fmt.Errorf("forecast weight %v is not in [0, 1]", c.ForecastWeight))
	}
	if c.PhasePeaks && !c.SeasonalPeaks {
		errs = append(errs, errors.New("the hour-phase guard (PhasePeaks) reads the seasonal guard's memory and needs SeasonalPeaks"))
	}
	if c.RampLead < 0 || c.JumpLead < 0 {
		errs = append(errs, fmt.Errorf("ramp lead %s and jump lead %s must not be negative", c.RampLead, c.JumpLead))
	}
	if c.RiseBin < 0 {
		errs = append(errs, fmt.Errorf("rise bin %v is negative", c.RiseBin))
	}
	if c.OutageHold < 0 {
		errs = append(errs, fmt.Errorf("outage hold %s is negative", c.OutageHold))
	}
	if c.HPAGuardTarget < 0 || c.HPAGuardTarget > 1 {
		errs = append(errs, fmt.Errorf("HPA guard target %v is not in [0, 1]", c.HPAGuardTarget))
	}
	for _, q := range c.SkillQuantiles {
		if !(q > 0 && q < 1) {
			errs = append(errs, fmt.Errorf("skill quantile %v is not in (0, 1)", q))
		}
	}
	if c.DefaultHeadroom < 1 {
		errs = append(errs, fmt.Errorf("default headroom %v is below 1", c.DefaultHeadroom))
	}
	names := map[string]bool{}
	for i, t := range c.Tiers {
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("tier %d (%q): %w", i, t.Name, err))
		}
		if names[t.Name] {
			errs = append(errs, fmt.Errorf("tier %q appears twice", t.Name))
		}
		names[t.Name] = true
	}
	for _, t := range c.Tiers {
		if t.Upstream != "" && !names[t.Upstream] {
			errs = append(errs, fmt.Errorf("tier %q: upstream %q is not a configured tier", t.Name, t.Upstream))
		}
	}
	if cyc := upstreamCycle(c.Tiers); cyc != "" {
		errs = append(errs, fmt.Errorf("upstream chain loops through tier %q", cyc))
	}
	return errors.Join(errs...)
}

func (t TierConfig) validate() error {
	var errs []error
	if t.Name == "" {
		errs = append(errs, errors.New("empty name"))
	}
	if t.Capacity < 0 {
		errs = append(errs, fmt.Errorf("capacity %v is negative", t.Capacity))
	}
	if !(t.Target > 0 && t.Target <= 1) {
		errs = append(errs, fmt.Errorf("target %v is not in (0, 1]", t.Target))
	}
	if !(t.Quantile > 0 && t.Quantile < 1) {
		errs = append(errs, fmt.Errorf("quantile %v is not in (0, 1)", t.Quantile))
	}
	if t.LeadTime < 0 {
		errs = append(errs, fmt.Errorf("lead time %s is negative", t.LeadTime))
	}
	if t.Min < 0 || t.Max < t.Min || t.Max < 1 {
		errs = append(errs, fmt.Errorf("replica bounds %d..%d are invalid", t.Min, t.Max))
	}
	if t.MaxStep < 0 {
		errs = append(errs, fmt.Errorf("max step %d is negative", t.MaxStep))
	}
	if t.ScaleDownStabilization < 0 || t.CooldownUp < 0 || t.CooldownDown < 0 {
		errs = append(errs, errors.New("stabilisation and cool-downs must not be negative"))
	}
	if t.CostPerReplicaHour < 0 {
		errs = append(errs, fmt.Errorf("cost %v is negative", t.CostPerReplicaHour))
	}
	if t.Upstream == t.Name && t.Name != "" {
		errs = append(errs, errors.New("a tier cannot be its own upstream"))
	}
	return errors.Join(errs...)
}

// upstreamCycle returns a tier on an upstream loop, or "".
func upstreamCycle(tiers []TierConfig) string {
	up := map[string]string{}
	for _, t := range tiers {
		up[t.Name] = t.Upstream
	}
	for _, t := range tiers {
		seen := map[string]bool{}
		for n := t.Name; n != ""; n = up[n] {
			if seen[n] {
				return n
			}
			seen[n] = true
		}
	}
	return ""
}
