package shop

import (
	"math"
	"sort"
	"time"
)

// Incident kinds.
const (
	// KindSpike is a traffic spike: web demand multiplied by Magnitude.
	KindSpike = "spike"
	// KindSlowDB is a slow database: db latency multiplied by Magnitude,
	// more db errors and less db capacity, with demand unchanged.
	KindSlowDB = "slow-db"
)

// Incident is one scheduled incident. Incidents are drawn per UTC day from
// the seed, so the schedule is fixed for a configuration whatever the query.
type Incident struct {
	// Kind is KindSpike or KindSlowDB.
	Kind string
	// Start and End bound the incident, ramps included.
	Start, End time.Time
	// Magnitude is the demand multiplier (spike) or db latency multiplier
	// (slow-db) at full strength.
	Magnitude float64
	// Ramp is how long the incident takes to reach full strength, and to
	// fade at the end.
	Ramp time.Duration
}

// strength is how far into full strength the incident is at t, in [0, 1].
func (i Incident) strength(t time.Time) float64 {
	return envelope(t, i.Start, i.End, i.Ramp)
}

const day = 24 * time.Hour

// dayIndex numbers UTC days since the Unix epoch.
func dayIndex(t time.Time) int64 { return floorDiv(t.UnixNano(), int64(day)) }

func dayStart(d int64) time.Time { return time.Unix(0, d*int64(day)).UTC() }

// spikeOn returns the spike scheduled on UTC day d, if any.
func (m *Model) spikeOn(d int64) (Incident, bool) {
	s, seed := m.cfg.Spike, m.cfg.Seed
	if uniformN(seed, streamSpike, d, 0) >= s.Probability {
		return Incident{}, false
	}
	hours := float64(s.LatestHour-s.EarliestHour+1) * uniformN(seed, streamSpike, d, 1)
	start := dayStart(d).Add(time.Duration((float64(s.EarliestHour) + hours) * float64(time.Hour))).Truncate(time.Second)
	dur := time.Duration(lerpRange(uniformN(seed, streamSpike, d, 2), float64(s.MinDuration), float64(s.MaxDuration))).Truncate(time.Second)
	ramp := time.Duration(lerpRange(uniformN(seed, streamSpike, d, 3), float64(s.MinRamp), float64(s.MaxRamp))).Truncate(time.Second)
	mag := lerpRange(uniformN(seed, streamSpike, d, 4), s.MinMagnitude, s.MaxMagnitude)
	return Incident{Kind: KindSpike, Start: start, End: start.Add(dur), Magnitude: mag, Ramp: ramp}, true
}

// slowDBOn returns the slow-database incident scheduled on UTC day d, if any.
func (m *Model) slowDBOn(d int64) (Incident, bool) {
	s, seed := m.cfg.SlowDB, m.cfg.Seed
	if uniformN(seed, streamSlowDB, d, 0) >= s.Probability {
		return Incident{}, false
	}
	start := dayStart(d).Add(time.Duration(uniformN(seed, streamSlowDB, d, 1) * float64(day))).Truncate(time.Second)
	dur := time.Duration(lerpRange(uniformN(seed, streamSlowDB, d, 2), float64(s.MinDuration), float64(s.MaxDuration))).Truncate(time.Second)
	mag := lerpRange(uniformN(seed, streamSlowDB, d, 3), s.MinMagnitude, s.MaxMagnitude)
	return Incident{Kind: KindSlowDB, Start: start, End: start.Add(dur), Magnitude: mag, Ramp: s.Ramp}, true
}

// Incidents lists the scheduled incidents overlapping [from, to), ordered by
// start time, for tests and the dashboard.
func (m *Model) Incidents(from, to time.Time) []Incident {
	if !from.Before(to) {
		return nil
	}
	var out []Incident
	// An incident lasts at most 12 hours, so one starting the day before
	// from is the earliest that can overlap.
	for d := dayIndex(from) - 1; d <= dayIndex(to); d++ {
		for _, on := range [...]func(int64) (Incident, bool){m.spikeOn, m.slowDBOn} {
			if inc, ok := on(d); ok && inc.Start.Before(to) && inc.End.After(from) {
				out = append(out, inc)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// spikeFactor is the demand multiplier from spikes in progress at t.
func (m *Model) spikeFactor(t time.Time) float64 {
	f := 1.0
	if m.cfg.Spike.Probability == 0 {
		return f
	}
	d := dayIndex(t)
	for _, dd := range [...]int64{d - 1, d} {
		if inc, ok := m.spikeOn(dd); ok {
			f *= 1 + (inc.Magnitude-1)*inc.strength(t)
		}
	}
	return f
}

// dbEffect is how a slow-database incident alters the db tier at one instant.
type dbEffect struct {
	latency  float64 // service-time multiplier, >= 1
	capacity float64 // capacity multiplier, in (0, 1]
	errors   float64 // extra error rate, in [0, 1]
}

// slowDB returns the slow-database effect at t (neutral when none).
func (m *Model) slowDB(t time.Time) dbEffect {
	e := dbEffect{latency: 1, capacity: 1}
	s := m.cfg.SlowDB
	if s.Probability == 0 {
		return e
	}
	d := dayIndex(t)
	for _, dd := range [...]int64{d - 1, d} {
		inc, ok := m.slowDBOn(dd)
		if !ok {
			continue
		}
		k := inc.strength(t)
		if k == 0 {
			continue
		}
		e.latency *= 1 + (inc.Magnitude-1)*k
		e.capacity *= 1 - (1-s.CapacityFactor)*k
		e.errors = math.Min(1, e.errors+s.ErrorPerMagnitude*inc.Magnitude*k)
	}
	return e
}
