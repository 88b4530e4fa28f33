package shop

import (
	"math"
	"testing"
	"time"
)

// quiet switches off everything but seasonality, trend and noise.
func quiet(c *Config) {
	c.Spike.Probability, c.SlowDB.Probability, c.Bursts.Probability = 0, 0, 0
}

func meanDemand(m *Model, from time.Time, days int, keep func(time.Time) bool) float64 {
	sum, n := 0.0, 0
	for at := from; at.Before(from.Add(time.Duration(days) * day)); at = at.Add(5 * time.Minute) {
		if keep(at) {
			sum += m.Demand(at)
			n++
		}
	}
	return sum / float64(n)
}

func TestSeasonality(t *testing.T) {
	m := mustModel(t, quiet)
	weekday := func(at time.Time) bool { return at.Weekday() != time.Saturday && at.Weekday() != time.Sunday }
	hours := func(lo, hi int) func(time.Time) bool {
		return func(at time.Time) bool { return weekday(at) && at.Hour() >= lo && at.Hour() < hi }
	}
	evening := meanDemand(m, monday, 28, hours(16, 22))
	night := meanDemand(m, monday, 28, hours(2, 6))
	if evening < 3*night {
		t.Errorf("weekday 16–22h mean %.0f req/s, want > 3 × 02–06h mean %.0f", evening, night)
	}
	wd := meanDemand(m, monday, 28, weekday)
	we := meanDemand(m, monday, 28, func(at time.Time) bool { return !weekday(at) })
	if ratio := we / wd; ratio < 0.65 || ratio > 0.85 {
		t.Errorf("weekend/weekday mean ratio %.3f, want about %.2f", ratio, m.Config().Demand.WeekendFactor)
	}
}

func TestDemandRangeAndPeakHour(t *testing.T) {
	m := mustModel(t, quiet)
	lo, hi := math.Inf(1), 0.0
	var peakHours []int
	for d := range 14 {
		start := monday.Add(time.Duration(d) * day)
		best, bestAt := 0.0, start
		for at := start; at.Before(start.Add(day)); at = at.Add(time.Minute) {
			v := m.Demand(at)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			if s := m.seasonal(at); s > best {
				best, bestAt = s, at
			}
		}
		peakHours = append(peakHours, bestAt.Hour())
	}
	t.Logf("span %.0f–%.0f peaks %v", lo, hi, peakHours)
	if lo < 80 || lo > 150 || hi < 850 || hi > 1250 {
		t.Errorf("two weeks of demand span %.0f–%.0f req/s, want roughly 100–1100", lo, hi)
	}
	for _, h := range peakHours {
		if h < 17 || h > 21 {
			t.Errorf("seasonal peak at %02d h UTC, want the evening", h)
		}
	}
}

func TestSeasonalIsContinuousAtMidnight(t *testing.T) {
	m := mustModel(t, quiet)
	for d := range 7 {
		mid := monday.Add(time.Duration(d) * day)
		a, b := m.seasonal(mid.Add(-time.Second)), m.seasonal(mid)
		if math.Abs(a-b) > 0.01*b {
			t.Errorf("seasonal jumps at %v: %.2f → %.2f", mid, a, b)
		}
	}
}

func TestTrend(t *testing.T) {
	start := monday
	m := mustModel(t, func(c *Config) { c.Demand.TrendStart = start })
	tests := []struct {
		at   time.Time
		want float64
	}{
		{start, 1},
		{start.Add(7 * day), 1.05},
		{start.Add(14 * day), 1.05 * 1.05},
		{start.Add(-7 * day), 1 / 1.05},
		{start.Add(1000 * 7 * day), math.Pow(1.05, 12)}, // capped at TrendMaxWeeks
	}
	for _, tt := range tests {
		if got := m.DemandParts(tt.at).Trend; math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("trend at %v = %v, want %v", tt.at, got, tt.want)
		}
	}
	if got := mustModel(t, nil).DemandParts(start.Add(50 * day)).Trend; got != 1 {
		t.Errorf("trend without TrendStart = %v, want 1", got)
	}
	if a := TrendAnchor(time.Date(2026, 11, 28, 7, 40, 0, 0, time.UTC), 7*day); !a.Equal(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("TrendAnchor = %v, want the UTC midnight a week before", a)
	}
}

func TestNoiseIsModest(t *testing.T) {
	m := mustModel(t, quiet)
	var sum, sum2 float64
	n := 0
	for at := monday; at.Before(monday.Add(7 * day)); at = at.Add(37 * time.Second) {
		z := math.Log(m.DemandParts(at).Noise)
		sum += z
		sum2 += z * z
		n++
	}
	mean := sum / float64(n)
	sd := math.Sqrt(sum2/float64(n) - mean*mean)
	want := m.Config().Demand.Noise
	if math.Abs(mean) > want/2 || sd < want/2 || sd > 1.5*want {
		t.Errorf("log noise mean %.4f sd %.4f, want about 0 and %.2f", mean, sd, want)
	}
}

func TestBursts(t *testing.T) {
	m := mustModel(t, nil)
	cfg := m.Config().Bursts
	const days = 30
	slots := int64(days * day / cfg.Slot)
	first := floorDiv(monday.UnixNano(), int64(cfg.Slot))
	count := 0
	for k := first; k < first+slots; k++ {
		start, end, mag, ok := m.burstIn(k)
		if !ok {
			continue
		}
		count++
		if mag < cfg.MinMagnitude || mag > cfg.MaxMagnitude {
			t.Errorf("burst magnitude %v outside [%v, %v]", mag, cfg.MinMagnitude, cfg.MaxMagnitude)
		}
		slotStart := time.Unix(0, k*int64(cfg.Slot))
		if start.Before(slotStart) || end.After(slotStart.Add(cfg.Slot)) {
			t.Errorf("burst %v–%v leaves its slot starting %v", start, end, slotStart)
		}
		mid := start.Add(end.Sub(start) / 2)
		if got := m.DemandParts(mid).Burst; math.Abs(got-(1+mag)) > 1e-9 {
			t.Errorf("burst factor mid-burst %v, want %v", got, 1+mag)
		}
		if got := m.DemandParts(end.Add(time.Second)).Burst; got != 1 {
			t.Errorf("burst factor after the burst %v, want 1", got)
		}
	}
	if perDay := float64(count) / days; perDay < 3 || perDay > 7 {
		t.Errorf("%.1f bursts a day, want several", perDay)
	}
}
