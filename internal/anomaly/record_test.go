package anomaly

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// weekStart is the start of a week as weekOf counts them (from the Unix
// epoch, which began on a Thursday).
var weekStart = time.Unix(2900*weekSec, 0).UTC()

// TestRecentRangeByCalendarWeek: the weekly range holds the values of
// the current week and the one before, as seen from the time
// asked about, and forgets a week without data.
func TestRecentRangeByCalendarWeek(t *testing.T) {
	day := 24 * time.Hour
	d := NewDetector(DefaultConfig())
	if hi, lo := d.recentRange(weekStart.Unix()); !math.IsInf(hi, -1) || !math.IsInf(lo, 1) {
		t.Fatalf("a new detector's weekly range is [%g, %g], want empty", lo, hi)
	}
	d.Observe(weekStart, 5)
	d.Observe(weekStart.Add(day), 7.25)
	d.Observe(weekStart.Add(8*day), 6.5)
	for _, c := range []struct {
		name   string
		at     time.Duration
		hi, lo float64
	}{
		{"same week as the last value", 9 * day, 7.25, 5},
		{"next week: the last value's and the one before", 15 * day, 6.5, 6.5},
		{"two weeks on: a week without data", 22 * day, math.Inf(-1), math.Inf(1)},
	} {
		hi, lo := d.recentRange(weekStart.Add(c.at).Unix())
		if hi != c.hi || lo != c.lo {
			t.Errorf("%s: weekly range [%g, %g], want [%g, %g]", c.name, lo, hi, c.lo, c.hi)
		}
	}
}

// TestWeekRangeRecord: once the forgetting range has fallen back from an
// excursion (RangeAlpha raised so that it does within days), a return to
// the excursion's level is a record without Config.WeekRange, is not one
// while the excursion lies in the current or the previous week, and is
// one again two weeks on; highs and lows alike.
func TestWeekRangeRecord(t *testing.T) {
	const excursionHour = 30 // day 1 of the first week
	for _, c := range []struct {
		name       string
		excursion  float64 // the value at excursionHour, and the value asked about
		askDay     int
		weekRange  bool
		wantRecord bool
	}{
		{"high, 3 days on, no week range", 40, 3, false, true},
		{"high, 3 days on", 40, 3, true, false},
		{"high, next week", 40, 9, true, false},
		{"high, two weeks on", 40, 15, true, true},
		{"low, 3 days on, no week range", -20, 3, false, true},
		{"low, 3 days on", -20, 3, true, false},
		{"low, next week", -20, 9, true, false},
		{"low, two weeks on", -20, 15, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.RangeAlpha = 0.01
			cfg.WeekRange = c.weekRange
			d := NewDetector(cfg)
			r := rand.New(rand.NewPCG(3, 4))
			askHour := 24 * c.askDay
			for h := range askHour {
				v := 10 + 2*math.Sin(2*math.Pi*float64(h)/24) + 0.3*r.NormFloat64()
				if h == excursionHour {
					v = c.excursion
				}
				d.Observe(weekStart.Add(time.Duration(h)*time.Hour), v)
			}
			if c.excursion <= d.hi && c.excursion >= d.lo {
				t.Fatalf("the forgetting range [%g, %g] still holds the excursion %g: the test asks nothing", d.lo, d.hi, c.excursion)
			}
			z := d.record(weekStart.Add(time.Duration(askHour)*time.Hour).Unix(), c.excursion, 1e-9)
			if got := z > 0; got != c.wantRecord {
				t.Errorf("record surprise %g for a return to %g on day %d, want a record: %v", z, c.excursion, c.askDay, c.wantRecord)
			}
		})
	}
}
