package shop

import (
	"math"
	"time"
)

// The weekday profile is a sum of periodic Gaussian bumps over the UTC day: a
// small morning rise, a lunchtime hump and the main evening peak, on a low
// night floor. It is tabulated per minute when the model is built, normalised
// to [0, 1], and read with linear interpolation.
const minutesPerDay = 24 * 60

// dailyBumps are (centre hour, width in hours, height).
var dailyBumps = [...][3]float64{
	{9.5, 2.0, 0.25},
	{12.75, 2.5, 0.55},
	{19.5, 3.2, 1.0},
}

// rawDaily is the unnormalised weekday profile at hour h.
func rawDaily(h float64) float64 {
	v := 0.02
	for _, b := range dailyBumps {
		d := math.Abs(h - b[0])
		if d > 12 {
			d = 24 - d
		}
		v += b[2] * math.Exp(-0.5*d*d/(b[1]*b[1]))
	}
	return v
}

// dailyTable tabulates the normalised profile at every minute of the day,
// with the first value repeated at the end for interpolation.
func dailyTable() []float64 {
	tab := make([]float64, minutesPerDay+1)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range minutesPerDay {
		v := rawDaily(float64(i) / 60)
		tab[i] = v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for i := range minutesPerDay {
		tab[i] = (tab[i] - lo) / (hi - lo)
	}
	tab[minutesPerDay] = tab[0]
	return tab
}

// DemandParts breaks the web demand at one instant into its factors; Demand
// is Seasonal × Trend × DayLevel × Noise × Burst × Spike.
type DemandParts struct {
	// Seasonal is the daily and weekly profile in req/s.
	Seasonal float64
	// Trend is the growth factor since TrendStart.
	Trend float64
	// DayLevel is the slowly varying day-to-day level factor.
	DayLevel float64
	// Noise is the multiplicative noise factor.
	Noise float64
	// Burst is 1 plus the relative extra demand of a burst in progress.
	Burst float64
	// Spike is the demand multiplier of a spike incident in progress.
	Spike float64
}

// Total multiplies the parts into the offered web load in req/s.
func (p DemandParts) Total() float64 {
	return p.Seasonal * p.Trend * p.DayLevel * p.Noise * p.Burst * p.Spike
}

// Demand is the web tier's offered load at t (req/s), before capacity limits.
func (m *Model) Demand(t time.Time) float64 {
	return m.DemandParts(t).Total()
}

// DemandParts returns the factors of the web demand at t.
func (m *Model) DemandParts(t time.Time) DemandParts {
	return DemandParts{
		Seasonal: m.seasonal(t),
		Trend:    m.trend(t),
		DayLevel: math.Exp(m.cfg.Demand.DayToDay * valueNoise(m.cfg.Seed, streamDayLevel, t, 24*time.Hour)),
		Noise:    m.noise(t),
		Burst:    1 + m.burst(t),
		Spike:    m.spikeFactor(t),
	}
}

// seasonal is the daily profile scaled between trough and peak, times the
// weekend factor, which blends over two hours around midnight.
func (m *Model) seasonal(t time.Time) float64 {
	d := m.cfg.Demand
	t = t.UTC()
	day := t.Truncate(24 * time.Hour)
	mins := float64(t.Sub(day)) / float64(time.Minute)
	i := int(mins)
	f := mins - float64(i)
	shape := m.daily[i]*(1-f) + m.daily[i+1]*f

	week := m.weekFactor(day.Weekday())
	h := mins / 60
	switch {
	case h < 1:
		s := smoothstep((h + 1) / 2)
		week = m.weekFactor(day.Add(-time.Hour).Weekday())*(1-s) + week*s
	case h > 23:
		s := smoothstep((h - 23) / 2)
		week = week*(1-s) + m.weekFactor(day.Add(25*time.Hour).Weekday())*s
	}
	return (d.Trough + (d.Peak-d.Trough)*shape) * week
}

func (m *Model) weekFactor(w time.Weekday) float64 {
	if w == time.Saturday || w == time.Sunday {
		return m.cfg.Demand.WeekendFactor
	}
	return 1
}

// trend is (1 + growth) raised to the weeks since TrendStart, clamped to
// ±TrendMaxWeeks; 1 when TrendStart is zero.
func (m *Model) trend(t time.Time) float64 {
	d := m.cfg.Demand
	if d.TrendStart.IsZero() || d.WeeklyGrowth == 0 {
		return 1
	}
	w := float64(t.Sub(d.TrendStart)) / float64(7*24*time.Hour)
	w = math.Max(-d.TrendMaxWeeks, math.Min(d.TrendMaxWeeks, w))
	return math.Pow(1+d.WeeklyGrowth, w)
}

// Noise weights of the slow (5 min), medium (1 min) and per-second parts;
// their squares sum to 1 so the log-scale deviation is Demand.Noise.
const (
	noiseSlow = 0.6
	noiseMid  = 0.5
	noiseFast = 0.6245
)

func (m *Model) noise(t time.Time) float64 {
	seed := m.cfg.Seed
	z := noiseSlow*valueNoise(seed, streamDemandSlow, t, 5*time.Minute) +
		noiseMid*valueNoise(seed, streamDemandMid, t, time.Minute) +
		noiseFast*whiteNoise(seed, streamDemandFast, t)
	return math.Exp(m.cfg.Demand.Noise * z)
}

// burst returns the relative extra demand of the burst in t's slot, if any.
// A burst lies wholly inside its slot, so only one slot is looked at.
func (m *Model) burst(t time.Time) float64 {
	b := m.cfg.Bursts
	if b.Probability == 0 || b.MaxMagnitude == 0 {
		return 0
	}
	k := floorDiv(t.UnixNano(), int64(b.Slot))
	start, end, mag, ok := m.burstIn(k)
	if !ok {
		return 0
	}
	return mag * envelope(t, start, end, (end.Sub(start))/3)
}

// burstIn returns the burst scheduled in slot k, if the slot has one.
func (m *Model) burstIn(k int64) (start, end time.Time, mag float64, ok bool) {
	b, seed := m.cfg.Bursts, m.cfg.Seed
	if uniformN(seed, streamBurst, k, 0) >= b.Probability {
		return time.Time{}, time.Time{}, 0, false
	}
	dur := time.Duration(lerpRange(uniformN(seed, streamBurst, k, 1), float64(b.MinDuration), float64(b.MaxDuration)))
	slack := b.Slot - dur
	offset := time.Duration(uniformN(seed, streamBurst, k, 2) * float64(slack))
	start = time.Unix(0, k*int64(b.Slot)).UTC().Add(offset)
	mag = lerpRange(uniformN(seed, streamBurst, k, 3), b.MinMagnitude, b.MaxMagnitude)
	return start, start.Add(dur), mag, true
}
