package anomaly

import (
	"math"
	"math/rand"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"
)

var start = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

const step = 5 * time.Minute

// seasonalStream is 10 days of 5-minute points: a daily sine around 50 with
// unit Gaussian noise; inject rewrites values from index at onwards.
func seasonalStream(seed int64, inject func(i int, v float64, r *rand.Rand) float64) []float64 {
	r := rand.New(rand.NewSource(seed))
	n := 10 * 288
	out := make([]float64, n)
	for i := range out {
		v := 50 + 10*math.Sin(2*math.Pi*float64(i%288)/288) + r.NormFloat64()
		if inject != nil {
			v = inject(i, v, r)
		}
		out[i] = v
	}
	return out
}

const onset = 7 * 288 // injected anomalies start on day 8

// alarms runs a stream and returns the indices (after the first two days)
// where Score.Anomaly is set.
func alarms(vals []float64) []int {
	d := NewDetector(DefaultConfig())
	var out []int
	for i, v := range vals {
		s := d.Observe(start.Add(time.Duration(i)*step), v)
		if s.Value < 0 || s.Value > 1 || math.IsNaN(s.Value) {
			panic("score out of [0,1]")
		}
		if i >= 2*288 && s.Anomaly {
			out = append(out, i)
		}
	}
	return out
}

func TestDetectorFindsInjectedAnomalies(t *testing.T) {
	cases := []struct {
		name   string
		inject func(i int, v float64, r *rand.Rand) float64
	}{
		{"spike", func(i int, v float64, _ *rand.Rand) float64 {
			if i == onset {
				return v + 15
			}
			return v
		}},
		{"level shift down", func(i int, v float64, _ *rand.Rand) float64 {
			if i >= onset {
				return v - 8
			}
			return v
		}},
		{"variance change", func(i int, v float64, r *rand.Rand) float64 {
			if i >= onset {
				return v + 5*r.NormFloat64()
			}
			return v
		}},
		{"seasonal break (flat day)", func(i int, v float64, r *rand.Rand) float64 {
			if i >= onset && i < onset+288 {
				return 50 + r.NormFloat64()*0.5
			}
			return v
		}},
		{"seasonal break (cycle shifted by 6 hours)", func(i int, v float64, _ *rand.Rand) float64 {
			if i >= onset && i < onset+288 {
				return v - 10*math.Sin(2*math.Pi*float64(i%288)/288) + 10*math.Cos(2*math.Pi*float64(i%288)/288)
			}
			return v
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := alarms(seasonalStream(1, c.inject))
			detected := false
			falseAlarms := 0
			for _, i := range got {
				if i >= onset && i < onset+72 { // within 6 hours of onset
					detected = true
				} else if i < onset {
					falseAlarms++
				}
			}
			if !detected {
				t.Errorf("no alarm within 6 h of the onset; alarms at %v", got)
			}
			if falseAlarms > 2 {
				t.Errorf("%d false alarms before the onset: %v", falseAlarms, got)
			}
		})
	}
}

func TestDetectorQuietOnCleanSeasonalData(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		got := alarms(seasonalStream(seed, nil))
		// 8 scored days, 2304 points: allow a handful of alarms at most.
		if len(got) > 3 {
			t.Errorf("seed %d: %d alarms on clean data: %v", seed, len(got), got)
		}
	}
}

func TestDetectorDeterministic(t *testing.T) {
	vals := seasonalStream(3, func(i int, v float64, _ *rand.Rand) float64 {
		if i > onset {
			return v * 1.5
		}
		return v
	})
	run := func() []Score {
		d := NewDetector(DefaultConfig())
		out := make([]Score, len(vals))
		for i, v := range vals {
			out[i] = d.Observe(start.Add(time.Duration(i)*step), v)
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("observation %d differs: %+v vs %+v", i, a[i], b[i])
		}
	}
}

func TestDetectorRejectsBadInput(t *testing.T) {
	d := NewDetector(DefaultConfig())
	for i := 0; i < 500; i++ {
		d.Observe(start.Add(time.Duration(i)*step), 10+float64(i%7))
	}
	// Compare raw bytes: the state holds NaN markers, which == would never
	// find equal.
	state := func() string { return string(unsafe.Slice((*byte)(unsafe.Pointer(d)), unsafe.Sizeof(*d))) }
	before := state()
	last := start.Add(499 * step)
	cases := []struct {
		name string
		t    time.Time
		v    float64
	}{
		{"NaN", last.Add(step), math.NaN()},
		{"+Inf", last.Add(step), math.Inf(1)},
		{"same time", last, 12},
		{"earlier time", last.Add(-step), 12},
	}
	for _, c := range cases {
		s := d.Observe(c.t, c.v)
		if s.Value != 0 || s.Anomaly {
			t.Errorf("%s: score %+v, want zero", c.name, s)
		}
		if state() != before {
			t.Errorf("%s: state changed", c.name)
		}
	}
}

func TestDetectorExplains(t *testing.T) {
	vals := seasonalStream(2, func(i int, v float64, _ *rand.Rand) float64 {
		if i == onset {
			return v + 40
		}
		return v
	})
	d := NewDetector(DefaultConfig())
	var s Score
	for i, v := range vals[:onset+1] {
		s = d.Observe(start.Add(time.Duration(i)*step), v)
	}
	if !s.Anomaly || s.Direction != 1 || s.Detector == "" || s.Observed != vals[onset] || math.Abs(s.Expected-(vals[onset]-40)) > 5 {
		t.Errorf("spike score %+v: want an anomaly above expectation near %.1f with a detector name", s, vals[onset]-40)
	}
}

// TestDetectorStateSize bounds what a new detector costs the heap, not
// only its size: the allocator rounds an object up to its size class,
// after an 8-byte header on an object with pointers, so a Detector of
// 6,912 bytes takes 8,192 where one of 6,904 takes 6,912 (the per-metric
// budget of the anomaly service, 8 KB, was passed that way once). With
// the startup buffer, freed once the first observations have decided,
// a new detector may take 7 KB.
func TestDetectorStateSize(t *testing.T) {
	if n := unsafe.Sizeof(Detector{}); n > 8192 {
		t.Errorf("Detector state is %d bytes, want <= 8192", n)
	}
	cfg := DefaultConfig()
	var keep *Detector
	r := testing.Benchmark(func(b *testing.B) {
		for range b.N {
			keep = NewDetectorShared(&cfg)
		}
	})
	runtime.KeepAlive(keep)
	if got := r.AllocedBytesPerOp(); got > 7<<10 {
		t.Errorf("a new detector takes %d heap bytes (state %d), want <= %d", got, unsafe.Sizeof(Detector{}), 7<<10)
	}
	t.Logf("a new detector takes %d heap bytes (state %d)", r.AllocedBytesPerOp(), unsafe.Sizeof(Detector{}))
}

func BenchmarkObserve(b *testing.B) {
	vals := seasonalStream(1, nil)
	d := NewDetector(DefaultConfig())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Observe(start.Add(time.Duration(i)*step), vals[i%len(vals)])
	}
	b.ReportMetric(float64(unsafe.Sizeof(Detector{})), "state-bytes")
}

func TestTailThresholdTracksQuantile(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	tl := newTail(500) // short half-life: exercises the renormalisation too
	for i := 0; i < 200000; i++ {
		z := math.Abs(r.NormFloat64()) * math.Exp(r.NormFloat64())
		if i%1000 == 0 {
			z = 1e6 // beyond the last bin
		}
		tl.add(z, tailBin(z), 0.05, 1)
		if i%997 == 0 {
			if want := tl.quantileBin(0.05); tl.u != want {
				t.Fatalf("after %d adds threshold bin %d, recomputed %d", i+1, tl.u, want)
			}
			mass := 0.0
			for b := tl.u; b < tailBins; b++ {
				mass += tl.counts[b]
			}
			if math.Abs(mass-tl.aboveU) > 1e-6*tl.total {
				t.Fatalf("after %d adds mass above threshold %g, tracked %g", i+1, mass, tl.aboveU)
			}
		}
	}
	// Larger surprises are rarer, and a surprise beyond everything seen
	// is rarer still.
	if p1, p2, p3 := tl.pvalue(1, tailBin(1)), tl.pvalue(5, tailBin(5)), tl.pvalue(1e7, tailBin(1e7)); !(p1 > p2 && p2 > p3) {
		t.Errorf("p-values not decreasing: %g, %g, %g", p1, p2, p3)
	}
}

// TestTailExtrapolationWeighsItsEvidence: beyond the threshold the tail is
// the exponential's posterior predictive, (1 + x/(n·m))^−n for n
// excesses of mean m (a Lomax tail), not the plug-in exp(−x/m): a mean
// excess estimated from ten excesses is uncertain, and an extreme eight
// mean excesses out is then about eight times less rare than the plug-in
// says. With many excesses the two agree (n is capped at the ~99 excesses
// the mean's weighting is worth).
func TestTailExtrapolationWeighsItsEvidence(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	tl := newTail(20000)
	// ratio returns the p-value of a surprise x mean excesses beyond the
	// threshold over the plug-in exponential's.
	ratio := func(x float64) float64 {
		m, u := tl.excess, tl.u
		z := binLow(u) + x*m
		pu := (tl.aboveU + tl.inc) / (tl.total + tl.inc)
		return tl.pvalue(z, tailBin(z)) / (pu * math.Exp(-x))
	}
	for tl.nexc < 10 {
		z := math.Abs(r.NormFloat64())
		tl.add(z, tailBin(z), 0.05, 1)
	}
	if got, want := ratio(8), math.Exp(8-10*math.Log1p(0.8)); math.Abs(got/want-1) > 1e-6 || got < 5 {
		t.Errorf("after %.0f excesses, p-value 8 mean excesses out is %.3g times the plug-in's, want %.3g", tl.nexc, got, want)
	}
	for range 50000 {
		z := math.Abs(r.NormFloat64())
		tl.add(z, tailBin(z), 0.05, 1)
	}
	if got := ratio(8); got < 1 || got > 1.5 {
		t.Errorf("after %.0f excesses, p-value 8 mean excesses out is %.3g times the plug-in's, want 1 to 1.5", tl.nexc, got)
	}
}

// TestFewerEarlyFalseAlarms: on clean seasonal data the first scored day
// judges its extremes by tails that have seen a few hundred rows; with the
// plug-in exponential tail 100 such series raised 41 alarms in their first
// three days, with the posterior predictive 13, and 23 with the daily
// changepoint (41 before it waited for its own warm-up).
func TestFewerEarlyFalseAlarms(t *testing.T) {
	alarms := 0
	for seed := range int64(100) {
		r := rand.New(rand.NewSource(seed))
		d := NewDetector(DefaultConfig())
		for i := range 3 * 288 {
			v := 50 + 10*math.Sin(2*math.Pi*float64(i)/288) + r.NormFloat64()
			if d.Observe(start.Add(time.Duration(i)*step), v).Anomaly {
				alarms++
			}
		}
	}
	if alarms > 25 {
		t.Errorf("%d alarms in the first three days of 100 clean series, want at most 25", alarms)
	}
}

// quantileBin recomputes, from scratch, the lowest bin whose upper mass
// fraction is <= q, which add keeps in t.u incrementally.
func (t *tail) quantileBin(q float64) int {
	acc := 0.0
	for b := tailBins - 1; b >= 0; b-- {
		acc += t.counts[b]
		if acc > q*t.total {
			return b + 1
		}
	}
	return 0
}

// TestHourSpreadJudgesHoursByTheirNoise: an hourly series whose nights are
// four times as noisy as its days. A day-time spike of six day-time noise
// units must alarm, and score higher than when every hour is judged by the
// whole day's noise. The price: the nights' own extremes are no longer
// hidden by the mixture of noisy and quiet hours (5 false alarms in 60
// days against 3 here), so the test only bounds them at one per 10 days.
// (The holdoff is off in both runs, so an earlier alarm damps nothing.)
func TestHourSpreadJudgesHoursByTheirNoise(t *testing.T) {
	const days, spikeDay, spikeHour = 60, 50, 14
	run := func(cfg Config) (spike float64, falseAlarms int) {
		r := rand.New(rand.NewSource(7))
		d := NewDetector(cfg)
		for i := 0; i < days*24; i++ {
			h := i % 24
			sd := 1.0
			if h < 6 || h >= 22 {
				sd = 4
			}
			v := 100 + sd*r.NormFloat64()
			if i == spikeDay*24+spikeHour {
				v += 6
			}
			s := d.Observe(start.Add(time.Duration(i)*time.Hour), v)
			if i == spikeDay*24+spikeHour {
				spike = s.Value
			} else if s.Anomaly {
				falseAlarms++
			}
		}
		return spike, falseAlarms
	}
	cfg := DefaultConfig()
	if cfg.HourSpreadStep <= 0 || cfg.HourSpreadStep > 3600 {
		t.Fatalf("default HourSpreadStep %v does not cover hourly data", cfg.HourSpreadStep)
	}
	cfg.Holdoff = 0 // an earlier alarm must not damp the spike
	// Scores per unit of time (RateStep) raise every hourly score alike;
	// this test judges the hour spreads alone, at per-observation odds.
	cfg.RateStep = 0
	with, falseWith := run(cfg)
	cfg.HourSpreadStep = 0
	without, falseWithout := run(cfg)
	t.Logf("spike score %.3f (without hour spreads %.3f), false alarms %d (%d)", with, without, falseWith, falseWithout)
	if with < DefaultConfig().AlarmLevel || with <= without {
		t.Errorf("day-time spike scored %.3f with hour spreads, %.3f without: want an alarm, and higher with", with, without)
	}
	if falseWith > days/10 {
		t.Errorf("%d false alarms in %d days with hour spreads, want at most one per 10 days", falseWith, days)
	}
}

// TestRateStepMakesOddsPerTime: the same hourly series scores the same
// tail probabilities per observation; with RateStep they are counted per
// RateStep of time, so each score is higher by log10(step/RateStep) over
// Decades, and an hourly series passes a threshold about as often a day
// as a RateStep series would. Finer series are left alone.
func TestRateStepMakesOddsPerTime(t *testing.T) {
	run := func(cfg Config, step time.Duration) []float64 {
		r := rand.New(rand.NewSource(3))
		d := NewDetector(cfg)
		var out []float64
		for i := 0; i < 2000; i++ {
			out = append(out, d.Observe(start.Add(time.Duration(i)*step), 50+r.NormFloat64()).Value)
		}
		return out
	}
	cfg := DefaultConfig()
	if cfg.RateStep <= 0 || cfg.RateStep >= 3600 {
		t.Fatalf("default RateStep %v does not apply to hourly data", cfg.RateStep)
	}
	cfg.Holdoff, cfg.RecurWidth = 0, -1 // compare raw calibrated scores
	off := cfg
	off.RateStep = 0
	lift := math.Log10(3600/cfg.RateStep) / cfg.Decades
	perTime, perObs := run(cfg, time.Hour), run(off, time.Hour)
	lifted := 0
	for i := range perTime {
		want := perObs[i]
		if want > 0 {
			want = math.Min(1, want+lift)
		}
		if math.Abs(perTime[i]-want) > 1e-9 && !(perObs[i] == 0 && perTime[i] < lift+1e-9) {
			t.Fatalf("hourly row %d: %.6f per time, %.6f per observation: want a lift of %.4f", i, perTime[i], perObs[i], lift)
		}
		if perTime[i] > perObs[i] {
			lifted++
		}
	}
	if lifted == 0 {
		t.Error("no hourly score was lifted")
	}
	fine, fineOff := run(cfg, 5*time.Minute), run(off, 5*time.Minute)
	if !slices.Equal(fine, fineOff) {
		t.Error("RateStep changed the scores of a 5-minute series")
	}
}

// TestSeasonalUnseenSlotBorrowsNeighbour checks that a daily slot no
// reading has fallen in forecasts its neighbour's value while the profile
// fills in, and the bare level once the profile is older than fillPeriods
// days (a slot still unseen then lies in a long gap).
func TestSeasonalUnseenSlotBorrowsNeighbour(t *testing.T) {
	s := newSeasonal(86400)
	s.init(300)
	const edge = 7 * 3600 // a rush hour's edge: 07:00 is 20 above the night
	for day := int64(0); day < 2; day++ {
		for sec := int64(0); sec < 86400; sec += 300 {
			if sec == edge+300 { // 07:05 is never read
				continue
			}
			v := 0.0
			if sec >= edge {
				v = 20
			}
			s.update(day*86400+sec, v, 0.01, 0.1, 0.01, 0)
		}
	}
	at := int64(2*86400 + edge + 300)
	if !s.seen(s.slot(at-300)) || s.seen(s.slot(at)) {
		t.Fatal("setup: 07:00 should be seen and 07:05 not")
	}
	if got := s.predict(at); math.Abs(got-20) > 0.5 {
		t.Errorf("unseen slot at 07:05 on day 2 forecasts %.3f, want its neighbours' 20 (level %.3f)", got, s.level)
	}
	late := at + fillPeriods*86400
	if got := s.predict(late); got != s.level {
		t.Errorf("unseen slot after %d days forecasts %.3f, want the level %.3f", fillPeriods, got, s.level)
	}
}

// TestHeldEpisodeDoesNotHideTheNext: an hourly price with a daily cycle
// has a day at twice the price, and eleven days later another. Counted in
// full, the first day's 24 rows told the tails that the second was
// ordinary; learned at HeldLearn, the second must alarm, and score higher
// than with every row learned in full (0.43 against 0.39 here; on the
// synthetic hourly family the gap is larger, see the held episodes round
// in EXPERIMENTS.md). A spike at 03:00 every night must still become
// ordinary (its rows recur from yesterday and are learned in full): after
// the first night scored (the warm-up lasts four days), no night's spike
// may alarm.
func TestHeldEpisodeDoesNotHideTheNext(t *testing.T) {
	price := func(i int, r *rand.Rand) float64 {
		h := float64(i % 24)
		return 10 + 2*math.Sin(2*math.Pi*(h-9)/24) + 0.3*r.NormFloat64()
	}
	const days, first, second = 30, 12, 23
	run := func(cfg Config) float64 {
		r := rand.New(rand.NewSource(5))
		d := NewDetector(cfg)
		var later float64
		for i := 0; i < days*24; i++ {
			v := price(i, r)
			if day := i / 24; day == first || day == second {
				v *= 2
			}
			s := d.Observe(start.Add(time.Duration(i)*time.Hour), v)
			if i/24 == second {
				later = math.Max(later, s.Value)
			}
		}
		return later
	}
	cfg := DefaultConfig()
	if cfg.HeldLearn <= 0 || cfg.HeldLearn >= 1 {
		t.Fatalf("default HeldLearn %v is off", cfg.HeldLearn)
	}
	with := run(cfg)
	cfg.HeldLearn = 0
	without := run(cfg)
	t.Logf("second day at twice the price scores %.3f (every row learned in full: %.3f)", with, without)
	if with < DefaultConfig().AlarmLevel || with <= without {
		t.Errorf("second day at twice the price scored %.3f, %.3f with every row learned in full: want an alarm, and higher", with, without)
	}

	r := rand.New(rand.NewSource(6))
	d := NewDetector(DefaultConfig())
	late := 0
	for i := 0; i < 40*24; i++ {
		v := price(i, r)
		if i%24 == 3 {
			v *= 2 // the nightly job
		}
		s := d.Observe(start.Add(time.Duration(i)*time.Hour), v)
		if i/24 > 5 && i%24 == 3 && s.Anomaly {
			late++
		}
	}
	if late > 0 {
		t.Errorf("a spike at 03:00 every night alarmed %d times after night 5", late)
	}
}

// An hourly price with a one-hour spike that alarms, then a larger spike
// within the holdoff's 100 rows (four days at an hour a row). Within the
// first spike's day the second is held, as the first event's own rows are
// (it does not beat the alarm by Breakthrough); a day or more later it is
// a second event and alarms, as surprising as the first or more, which
// the holdoff by rows alone hid (see the twenty-second of the anom
// rounds in EXPERIMENTS.md).
func TestSecondEventAfterTheAlarmsDay(t *testing.T) {
	price := func(i int, r *rand.Rand) float64 {
		h := float64(i % 24)
		return 10 + 2*math.Sin(2*math.Pi*(h-9)/24) + 0.3*r.NormFloat64()
	}
	const first = 12*24 + 14 // day 12, 14:00
	cases := []struct {
		name    string
		gap     int // hours from the first spike to the second
		wantHit bool
	}{
		{"same day", 12, false},
		{"a day and a half later", 36, true},
		{"two days later", 50, true},
	}
	cfg := DefaultConfig()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.gap >= cfg.Holdoff {
				t.Fatalf("gap %d rows is not inside the holdoff of %d rows", c.gap, cfg.Holdoff)
			}
			r := rand.New(rand.NewSource(5))
			d := NewDetector(cfg)
			var s1, s2 Score
			for i := 0; i <= first+c.gap; i++ {
				v := price(i, r)
				switch i {
				case first:
					v *= 1.5
				case first + c.gap:
					v *= 2
				}
				s := d.Observe(start.Add(time.Duration(i)*time.Hour), v)
				switch i {
				case first:
					s1 = s
				case first + c.gap:
					s2 = s
				}
			}
			if !s1.Anomaly || s1.Held {
				t.Fatalf("first spike scored %.3f (held %v): want an alarm", s1.Value, s1.Held)
			}
			if s2.Anomaly != c.wantHit || s2.Held == c.wantHit {
				t.Errorf("second spike %d h after an alarm at %.3f scored %.3f (held %v, anomaly %v): want anomaly %v", c.gap, s1.Value, s2.Value, s2.Held, s2.Anomaly, c.wantHit)
			}
		})
	}
}
