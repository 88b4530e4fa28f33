package hpa

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// PolicyKind says whether a rate-limit policy counts pods or a percentage.
type PolicyKind int

const (
	// Pods limits a change to a number of pods per period.
	Pods PolicyKind = iota
	// Percent limits a change to a percentage of the replicas at the period
	// start.
	Percent
)

// Policy is one HPAScalingPolicy: at most Value pods (or percent) of change
// per Period.
type Policy struct {
	// Kind says whether Value counts pods or percent.
	Kind PolicyKind
	// Value is the allowed change per period.
	Value int
	// Period is the window the change is counted over.
	Period time.Duration
}

// Config holds the HPA spec fields the rule uses.
type Config struct {
	// Target is the target utilisation in (0, 1], e.g. 0.7.
	Target float64
	// Tolerance is the dead band around a usage ratio of 1 (0.1 upstream).
	Tolerance float64
	// Min and Max bound the replica count.
	Min, Max int
	// UpStabilization and DownStabilization are the stabilisation windows.
	UpStabilization, DownStabilization time.Duration
	// UpPolicies and DownPolicies are the rate limits; the most permissive
	// policy in each direction is used (selectPolicy Max, the default).
	UpPolicies, DownPolicies []Policy
}

// DefaultConfig returns the upstream defaults for a target utilisation:
// 10 % tolerance, 0 s up / 300 s down stabilisation, scale up by
// max(4 pods, 100 %) per 15 s and down by 100 % per 15 s, replicas 1..200.
func DefaultConfig(target float64) Config {
	return Config{
		Target:            target,
		Tolerance:         0.1,
		Min:               1,
		Max:               200,
		DownStabilization: 5 * time.Minute,
		UpPolicies:        []Policy{{Pods, 4, 15 * time.Second}, {Percent, 100, 15 * time.Second}},
		DownPolicies:      []Policy{{Percent, 100, 15 * time.Second}},
	}
}

// Validate reports a configuration the rule cannot run with.
func (c Config) Validate() error {
	var errs []error
	if !(c.Target > 0 && c.Target <= 1) {
		errs = append(errs, fmt.Errorf("target %v is not in (0, 1]", c.Target))
	}
	if c.Tolerance < 0 {
		errs = append(errs, fmt.Errorf("tolerance %v is negative", c.Tolerance))
	}
	if c.Min < 0 || c.Max < c.Min {
		errs = append(errs, fmt.Errorf("replica bounds %d..%d are invalid", c.Min, c.Max))
	}
	if len(c.UpPolicies) == 0 || len(c.DownPolicies) == 0 {
		errs = append(errs, errors.New("scale-up and scale-down policies must not be empty"))
	}
	return errors.Join(errs...)
}

type recommendation struct {
	at       time.Time
	replicas int
}

type scaleEvent struct {
	at    time.Time
	delta int // positive: added, negative: removed
}

// Autoscaler holds one HPA's history: past recommendations and scale events.
// It is not safe for concurrent use.
type Autoscaler struct {
	cfg    Config
	recs   []recommendation
	events []scaleEvent
}

// New returns an Autoscaler for cfg.
func New(cfg Config) (*Autoscaler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hpa config: %w", err)
	}
	return &Autoscaler{cfg: cfg}, nil
}

// Raw returns the unstabilised replica recommendation: current when the
// usage ratio utilisation/target is within the tolerance of 1 or when no
// replica is ready, otherwise ceil(ready × utilisation / target).
// Utilisation is the mean over ready replicas (load per ready replica divided
// by a replica's capacity).
func (c Config) Raw(current, ready int, utilisation float64) int {
	if ready <= 0 || math.IsNaN(utilisation) || utilisation < 0 {
		return current
	}
	ratio := utilisation / c.Target
	if math.Abs(ratio-1) <= c.Tolerance {
		return current
	}
	return int(math.Ceil(ratio * float64(ready)))
}

// Decide runs one controller sync at event time t. current is the replica
// count of the scale target (ready plus booting), ready the replicas that
// serve and report a metric. It returns the new desired replica count and
// records it as a scale event when it differs from current.
func (a *Autoscaler) Decide(t time.Time, current, ready int, utilisation float64) int {
	raw := a.cfg.Raw(current, ready, utilisation)
	stable := a.stabilise(t, current, raw)
	out := a.limit(t, current, stable)
	if out != current {
		a.events = append(a.events, scaleEvent{at: t, delta: out - current})
	}
	return out
}

// stabilise stores raw and returns current moved toward it no further than
// the lowest recommendation of the up window and the highest of the down
// window allow.
func (a *Autoscaler) stabilise(t time.Time, current, raw int) int {
	longest := max(a.cfg.UpStabilization, a.cfg.DownStabilization)
	keep := a.recs[:0]
	for _, r := range a.recs {
		if t.Sub(r.at) <= longest {
			keep = append(keep, r)
		}
	}
	a.recs = append(keep, recommendation{at: t, replicas: raw})
	upMin, downMax := raw, raw
	for _, r := range a.recs {
		if t.Sub(r.at) < a.cfg.UpStabilization {
			upMin = min(upMin, r.replicas)
		}
		if t.Sub(r.at) < a.cfg.DownStabilization {
			downMax = max(downMax, r.replicas)
		}
	}
	out := current
	if out < upMin {
		out = upMin
	}
	if out > downMax {
		out = downMax
	}
	return out
}

// limit applies the rate-limit policies and the replica bounds.
func (a *Autoscaler) limit(t time.Time, current, desired int) int {
	var longest time.Duration
	for _, ps := range [][]Policy{a.cfg.UpPolicies, a.cfg.DownPolicies} {
		for _, p := range ps {
			longest = max(longest, p.Period)
		}
	}
	keep := a.events[:0]
	for _, e := range a.events {
		if t.Sub(e.at) < longest {
			keep = append(keep, e)
		}
	}
	a.events = keep
	switch {
	case desired > current:
		up := math.MinInt
		for _, p := range a.cfg.UpPolicies {
			start := current - a.changed(t, p.Period, +1)
			var v int
			if p.Kind == Pods {
				v = start + p.Value
			} else {
				v = int(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
			}
			up = max(up, v)
		}
		desired = min(desired, max(up, current))
	case desired < current:
		down := math.MaxInt
		for _, p := range a.cfg.DownPolicies {
			start := current + a.changed(t, p.Period, -1)
			var v int
			if p.Kind == Pods {
				v = start - p.Value
			} else {
				v = int(math.Floor(float64(start) * (1 - float64(p.Value)/100)))
			}
			down = min(down, v)
		}
		desired = max(desired, min(down, current))
	}
	return max(a.cfg.Min, min(a.cfg.Max, desired))
}

// changed sums the replicas added (sign +1) or removed (sign -1) by scale
// events within period before t, as a positive count.
func (a *Autoscaler) changed(t time.Time, period time.Duration, sign int) int {
	n := 0
	for _, e := range a.events {
		if t.Sub(e.at) < period && e.delta*sign > 0 {
			n += e.delta * sign
		}
	}
	return n
}
