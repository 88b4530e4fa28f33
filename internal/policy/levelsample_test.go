package policy

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestLevelAveragesTheLoadsOwnSamples: the current level averages
// LevelWindow's worth of the load's own samples. A per-minute load is
// averaged over its last five minutes, as before; a load counted in
// 5-minute buckets and held for each of their minutes over its last five
// buckets, not its last bucket and a minute of the one before; one
// counted in 10-minute buckets over the seasonal memory's longest level
// window (30 minutes); and with a LevelWindow longer than that, over
// LevelWindow itself. The load repeats 1, 2, 3, 4, 5, 6 (counts a
// bucket), so each window's mean is known.
func TestLevelAveragesTheLoadsOwnSamples(t *testing.T) {
	cases := []struct {
		name   string
		bucket int           // minutes a value is held
		window time.Duration // LevelWindow (0: the default, 5 minutes)
		// want is the level at the last tick: the mean of the last
		// buckets the window spans.
		want float64
	}{
		{"per-minute", 1, 0, (2 + 3 + 4 + 5 + 6) / 5.0},
		{"5-minute buckets", 5, 0, (2 + 3 + 4 + 5 + 6) / 5.0},
		{"10-minute buckets", 10, 0, (4 + 5 + 6) / 3.0},
		{"5-minute buckets, a 40-minute window", 5, 40 * time.Minute, (5 + 6 + 1 + 2 + 3 + 4 + 5 + 6) / 8.0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := guardApp()
			c.OutageHold = 0
			if tc.window > 0 {
				c.LevelWindow = tc.window
			}
			const periods = 40
			load := make([]float64, 0, 6*periods*tc.bucket)
			for p := 0; p < periods; p++ {
				for v := 1; v <= 6; v++ {
					for range tc.bucket {
						load = append(load, float64(v))
					}
				}
			}
			ds := loop(mustApp(t, c), load, nil, nil)
			got := ds[len(ds)-1].Inputs["level"]
			if math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("level %.4f at the last tick, want %.4f (the mean of LevelWindow's worth of the load's samples)", got, tc.want)
			}
		})
	}
}

// TestLevelWindowFollowsCompletedRuns: the level's window is read from
// the runs of one value the load has completed (flatLine.sample, the
// shortest of the last flatRuns), never from the run in progress. A load
// measured every minute that turns into a count per 5-minute bucket keeps
// the 5-minute level until flatRuns of its buckets have completed, and
// then averages five buckets; when it turns back, its first completed
// one-minute run brings the 5-minute level back. (The tier's lead window
// is 30 minutes so that its load history holds the 25 minutes from the
// start: with a short lead the history is trimmed to the 5-minute window
// until the longer window is first read.)
func TestLevelWindowFollowsCompletedRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const from, to = 300, 600 // the minutes the load is bucketed in between
	load := make([]float64, 700)
	for i := range load {
		load[i] = 20 + 40*rng.Float64() // every minute's value its own
	}
	bucketed(load[from:to], 5)
	mean := func(first, last int) float64 { // over load[first..last]
		s := 0.0
		for _, v := range load[first : last+1] {
			s += v
		}
		return s / float64(last+1-first)
	}
	settled := from + 5*flatRuns // the tick the flatRuns-th bucket completes at
	c := guardApp()
	c.Tiers[0].LeadTime = 30 * time.Minute
	ds := loop(mustApp(t, c), load, nil, nil)
	for _, tc := range []struct {
		at, minutes int
		why         string
	}{
		{from + 4, 5, "the first bucket is still in progress"},
		{settled - 1, 5, "a one-minute run is still among the last completed ones"},
		{settled, 25, "the last completed runs are all buckets"},
		{to, 25, "the last bucket has just completed"},
		{to + 1, 5, "a one-minute run has completed"},
	} {
		want := mean(tc.at-tc.minutes+1, tc.at)
		if got := ds[tc.at].Inputs["level"]; math.Abs(got-want) > 1e-9 {
			t.Errorf("minute %d: level %.4f, want %.4f, the mean of the last %d minutes (%s)", tc.at, got, want, tc.minutes, tc.why)
		}
	}
}

// TestGuardsReadTheLevelInSamples: the seasonal and hour-phase guards
// read a remembered day's (hour's) level over the same span as the
// current level, LevelWindow's worth of the load's own samples (five
// buckets on a 5-minute count), so that the ratio they apply to the
// current level compares like with like. The load, counted in 5-minute
// buckets, sits at 10 or 11 (alternating, so every bucket is a sample),
// rises to 20 for the bucket before the period's rise and to 60 for the
// rise; two minutes before the rise each guard reports the rise's peak
// over the mean of the 25 minutes before that time one period ago, not
// over the 5 minutes before it (mostly the bucket at 20).
func TestGuardsReadTheLevelInSamples(t *testing.T) {
	cases := []struct {
		name   string
		period int    // minutes between two rises
		rise   int    // minute of the period the rise starts at
		key    string // the Inputs entry the guard reports its ratio in
		phase  bool   // the hour-phase guard on (the seasonal one alone otherwise)
		at     int    // the tick read, two minutes before a rise
	}{
		// The seasonal guard needs both remembered days.
		{"seasonal", 1440, 540, "seasonal_ratio", false, 3*1440 + 538},
		// The hour-phase guard reads a day of hours; the seasonal guard
		// (its memory) cannot fire yet on the second day.
		{"hour-phase", 60, 40, "phase_ratio", true, 30*60 + 38},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			load := make([]float64, tc.at+60)
			for i := range load {
				switch m := i % tc.period; {
				case m >= tc.rise-5 && m < tc.rise:
					load[i] = 20
				case m >= tc.rise && m < tc.rise+5:
					load[i] = 60
				default:
					load[i] = 10 + float64((i/5)%2)
				}
			}
			mean := func(from, to int) float64 { // over load[from..to]
				s := 0.0
				for _, v := range load[from : to+1] {
					s += v
				}
				return s / float64(to+1-from)
			}
			then := tc.at - tc.period
			want, short := 60/mean(then-24, then), 60/mean(then-4, then)
			if math.Abs(want-short) < 0.1*want {
				t.Fatalf("the 25-minute ratio %.3f and the 5-minute one %.3f are alike: the test shows nothing", want, short)
			}
			c := guardApp()
			c.SkillQuantiles, c.SeasonalPeaks, c.PhasePeaks = nil, true, tc.phase
			d := loop(mustApp(t, c), load, nil, nil)[tc.at]
			if got := d.Inputs[tc.key]; math.Abs(got-want) > 2e-3*want {
				t.Fatalf("%s %.4f at minute %d, want %.4f (the peak over the mean of the load's last five buckets; over the last 5 minutes it is %.4f): %v",
					tc.key, got, tc.at, want, short, d.Inputs)
			}
		})
	}
}
