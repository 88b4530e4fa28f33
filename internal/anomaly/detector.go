package anomaly

import (
	"math"
	"slices"
	"time"
)

// Detector names reported in Score.Detector.
const (
	DetectorResidual    = "residual"
	DetectorChangepoint = "changepoint"
	DetectorShift       = "shift"
	DetectorSpot        = "spot"
	DetectorRecord      = "record"
	DetectorStuck       = "stuck"
	DetectorRatio       = "ratio"
)

// Score is the result of one observation.
type Score struct {
	// Value is the calibrated anomaly score in [0,1].
	Value float64
	// Anomaly says Value reached Config.AlarmLevel.
	Anomaly bool
	// Observed is the observed value.
	Observed float64
	// Expected is what the detectors expected.
	Expected float64
	// Detector names the detector that drove the score.
	Detector string
	// Direction is +1 above expectation, -1 below, 0 none.
	Direction int
	// Deviation is (Observed − Expected) in units of the forecasters'
	// recent error, clamped to ±1000: a raw, uncalibrated measure that
	// stays large while a shift lasts, after the score itself has gone quiet.
	Deviation float64
	// Held says Value was damped by the holdoff that follows an alarm.
	Held bool
}

// maxDeviation bounds Score.Deviation when a flat series leaves no error scale.
const maxDeviation = 1000

const (
	nDetectors = 7
	nTailed    = 6 // the detectors other than dStuck calibrate through a tail
	dResidual  = 0
	dChange    = 1
	dShift     = 2
	dSpot      = 3
	dRecord    = 4
	dStuck     = 5
	dRatio     = 6
)

// tRatio is the ratio changepoint's tail (and surprise) index: the stuck
// detector has no tail, so the detector added after it takes tail 5.
const tRatio = 5

var detectorNames = [nDetectors]string{DetectorResidual, DetectorChangepoint, DetectorShift, DetectorSpot, DetectorRecord, DetectorStuck, DetectorRatio}

// Detector scores one series with the blended forecasters and the
// calibrated surprises described in the package comment. It is not safe for
// concurrent use; keep one per series.
type Detector struct {
	cfg *Config // read only; shared by every detector made from it (NewDetectorShared)
	n   int

	lastSec  int64
	level    float64 // non-seasonal forecaster
	levelErr float64
	daily    seasonal
	weekly   seasonal

	hourSpread [hoursPerDay]float32 // decayed mean |residual| per hour of day, in error scales

	slowMean, slowVar float64
	hi, lo            float64    // slowly forgetting range of past values
	weekHi, weekLo    [2]float32 // highest and lowest value of this week ([0], weekOf) and the one before, rounded outward (Config.WeekRange)
	shift, varMean    float64
	ratioErr          float64    // decayed mean |log(v/expected)|
	ratioShift        float64    // EWMA of log(v/expected)/ratioErr
	nonPositive       bool       // a value or expectation at or below zero was seen: no ratio changepoint
	dayOn             bool       // the series gets the daily changepoint (fine enough)
	runKnown          bool       // the current run is at a resting value
	counts            bool       // values are scored on countScale
	hourly            bool       // residuals are judged by their hour of day's spread (beside the other bools: no padding)
	dayShift          float64    // EWMA of the residual against the daily changepoint's reference, in its error scales
	dayErr            float64    // decayed mean |residual against that reference|
	ndayErr           float64    // how many residuals dayErr has seen
	kinds             [2]dayKind // weekday and weekend references (Config.DayShiftDayKind)

	tails [nTailed]tail

	sinceAlarm int32              // rows since the last alarm (capped)
	alarmAge   int32              // seconds from the last alarm to the row being observed (capped): after a day, Breakthrough's margin is dropped
	lastV      float64            // the previous value
	repeat     int                // how many times in a row it repeated
	repeat1    float64            // decayed share of values that repeat a value that was not a repeat
	repeat2    float64            // decayed share of repeats that are repeated again
	nrep2      float64            // how many repeats repeat2 has seen
	prior2     float64            // the weight repeat2's starting value of one half still has
	restVal    [restSlots]float64 // values the series has repeated at most (its resting values)
	restCount  [restSlots]float32 // repeats seen at each
	alarmRaw   float64            // the last alarm's score before damping
	warmup     int
	rateMul    float64          // multiplies tail probabilities: Config.RateStep over the sampling step
	countK     float64          // the count scale's negative-binomial size; 0: Anscombe's
	start      *startup         // the first observations; nil once they have decided
	recurHour  [maxSlots]uint16 // 1 + hour (unix/3600, wrapping) each daily slot was last scored; 0 unset
	recurVal   [maxSlots]uint8  // that day's largest raw score in the slot, ×255
}

// stuckPrior is how many pseudo-repeats back the prior of one half for
// the chance that a repeat is repeated again (20 and 100 were tried; 100
// scored better on both corpora, cross-validated).
const stuckPrior = 100.0

// restSlots is how many of the values a series repeats at most are
// remembered as its resting values (a silent counter's zero, a
// saturated gauge's ceiling): runs at them are ordinary, runs elsewhere
// are judged against the series' repeat rate.
const restSlots = 4

// stepSamples is how many steps between the first observations are kept
// to infer the sampling interval (their median), so one irregular or
// missing reading at the start does not fix the seasonal slot width.
const stepSamples = 9

// startup holds what only a series' first observations are kept for: the
// values that decide whether it is a count series and the steps between
// them that decide its sampling interval. It is dropped once both are
// decided, so a long-lived series does not carry it.
type startup struct {
	first [countSamples]sample // the first observations, to decide counts
	steps [stepSamples]int32   // the first steps between observations, in seconds
}

// initStep infers the sampling interval from the first steps and sets up
// what depends on it: the seasonal slot widths and the warm-up, which lasts
// Config.Warmup observations or Config.WarmupDays of data, whichever is
// shorter, but at least Config.MinWarmup observations.
func (d *Detector) initStep() {
	st := d.start.steps
	slices.Sort(st[:])
	step := int64(st[stepSamples/2])
	if step != int64(d.start.steps[0]) {
		// The first step was not typical: start the profiles again
		// with slots fitted to the usual one.
		d.daily = newSeasonal(d.daily.period)
		d.weekly = newSeasonal(d.weekly.period)
		d.weekly.keep = d.cfg.DayShiftAlpha > 0
		d.daily.init(step)
		d.weekly.init(step)
	}
	if step > 0 && d.cfg.HourSpreadStep > 0 && step >= int64(d.cfg.HourSpreadStep) {
		d.hourly = true
		for i := range d.hourSpread {
			d.hourSpread[i] = 1
		}
	}
	d.dayOn = d.cfg.DayShiftAlpha > 0 && step > 0 && float64(step) <= d.cfg.DayShiftMaxStep
	if step > 0 && d.cfg.RateStep > 0 {
		d.rateMul = min(1, d.cfg.RateStep/float64(step))
	}
	if step > 0 && d.cfg.WarmupDays > 0 {
		byTime := int(d.cfg.WarmupDays * 86400 / float64(step))
		d.warmup = max(min(d.cfg.Warmup, byTime), d.cfg.MinWarmup)
	}
}

// NewDetector returns a detector with no history, with its own copy of cfg.
func NewDetector(cfg Config) *Detector {
	return NewDetectorShared(&cfg)
}

// NewDetectorShared returns a detector with no history that reads cfg
// where it lies, so the many detectors of a service share one Config
// instead of each holding a copy (320 bytes, a twentieth of a series'
// state). cfg must not change while a detector made from it is in use.
func NewDetectorShared(cfg *Config) *Detector {
	d := &Detector{cfg: cfg, daily: newSeasonal(86400), weekly: newSeasonal(weekSec), sinceAlarm: math.MaxInt32, alarmAge: math.MaxInt32, start: &startup{}, warmup: cfg.Warmup, rateMul: 1, repeat1: 0.5, repeat2: 0.5, nrep2: stuckPrior, prior2: 1}
	d.weekly.keep = cfg.DayShiftAlpha > 0
	if cfg.DayShiftDayKind {
		d.kinds = [2]dayKind{newDayKind(), newDayKind()}
	}
	for i := range d.tails {
		d.tails[i] = newTail(cfg.TailHalfLife)
	}
	return d
}

// expected blends the forecasters that have seen enough history, each
// weighted by the inverse square of its recent error, so the expectation
// moves smoothly when one forecaster starts to beat another. It also
// returns the blend's error scale.
func (d *Detector) expected(sec int64) (float64, float64) {
	eps := 1e-12 + 1e-9*math.Abs(d.slowMean)
	w := 1 / (d.levelErr*d.levelErr + eps)
	sum, num, scale := w, w*d.level, w*d.levelErr
	for _, s := range []*seasonal{&d.daily, &d.weekly} {
		if !s.ready(sec) || s.nerr < 10 || s.coarse {
			continue
		}
		ws := 1 / (s.err*s.err + eps)
		sum += ws
		num += ws * s.predict(sec)
		scale += ws * s.err
	}
	return num / sum, scale / sum
}

// Observe scores v at time t and then learns it. Times must increase; a NaN
// or infinite v, or a time not after the previous one, yields a zero score and
// leaves the state unchanged.
func (d *Detector) Observe(t time.Time, v float64) Score {
	sec := t.Unix()
	if math.IsNaN(v) || math.IsInf(v, 0) || (d.n > 0 && sec <= d.lastSec) {
		return Score{Observed: v, Expected: v}
	}
	if d.n < countSamples {
		d.start.first[d.n] = sample{sec, v}
		if d.n == countSamples-1 && d.cfg.Counts && looksLikeCounts(d.start.first[:]) {
			// Counts: start again on the square-root scale, where
			// Poisson-like noise has about the same spread at every rate.
			first := d.start.first
			*d = *NewDetectorShared(d.cfg)
			d.counts = true
			d.start.first = first
			if d.cfg.CountDispersion > 0 {
				// A count that never starts at zero is a busy one:
				// beyond about CountDispersion its noise grows
				// faster than Poisson noise, so it takes the
				// negative-binomial scale. A count with zeros among
				// its first values (a quiet counter, bytes written
				// now and then) keeps Anscombe's.
				d.countK = d.cfg.CountDispersion
				for _, f := range first {
					if f.v <= 0 {
						d.countK = 0
					}
				}
			}
			for _, f := range first[:countSamples-1] {
				d.observe(f.sec, countScale(f.v, d.countK))
			}
		}
	}
	var s Score
	if !d.counts {
		s = d.observe(sec, v)
	} else {
		s = d.observe(sec, countScale(v, d.countK))
		s.Observed, s.Expected = v, countUnscale(s.Expected, d.countK)
	}
	if d.n >= countSamples && d.n > stepSamples {
		d.start = nil // counts and the sampling interval are decided
	}
	return s
}

// hoursPerDay is the number of hour-of-day spreads (Config.HourSpreadStep).
const hoursPerDay = 24

// hourSpreadMax bounds what one residual, in error scales, teaches its
// hour's spread, so one anomaly cannot make its hour deaf.
const hourSpreadMax = 4

// hourRatioMin bounds how much quieter than the day an hour is taken to be.
const hourRatioMin = 0.25

// countSamples is how many first observations decide whether a series is
// a count: all of them non-negative integers.
const countSamples = 12

type sample struct {
	sec int64
	v   float64
}

func looksLikeCounts(xs []sample) bool {
	for _, x := range xs {
		if x.v < 0 || x.v != math.Trunc(x.v) || x.v > 1e9 {
			return false
		}
	}
	return true
}

// countScale is Anscombe's variance-stabilising transform for Poisson
// counts (k = 0) or, for k > 0, for negative-binomial counts of size k
// (variance μ + μ²/k), 2√k·asinh(√((v+3/8)/k)): the square root's
// 2√(v+3/8) while v is well below k, a logarithm's growth beyond it.
// countUnscale is its inverse.
func countScale(v, k float64) float64 {
	if k > 0 {
		return 2 * math.Sqrt(k) * math.Asinh(math.Sqrt((math.Max(v, 0)+3.0/8)/k))
	}
	return 2 * math.Sqrt(math.Max(v, 0)+3.0/8)
}

func countUnscale(y, k float64) float64 {
	if k > 0 {
		x := math.Sinh(y / (2 * math.Sqrt(k)))
		return math.Max(0, k*x*x-3.0/8)
	}
	return math.Max(0, y*y/4-3.0/8)
}

func (d *Detector) observe(sec int64, v float64) Score {
	if math.IsNaN(v) || math.IsInf(v, 0) || (d.n > 0 && sec <= d.lastSec) {
		return Score{Observed: v, Expected: v}
	}
	if d.n == 1 {
		d.daily.init(sec - d.lastSec)
		d.weekly.init(sec - d.lastSec)
	}
	if d.n > 0 {
		d.alarmAge = int32(min(int64(d.alarmAge)+sec-d.lastSec, math.MaxInt32))
	}
	if d.n >= 1 && d.n <= stepSamples {
		d.start.steps[d.n-1] = int32(min(sec-d.lastSec, math.MaxInt32))
		if d.n == stepSamples {
			d.initStep()
		}
	}
	cfg := d.cfg
	if d.n == 0 {
		d.level, d.slowMean, d.hi, d.lo = v, v, v, v
	}

	pred, scale := d.expected(sec)
	floor := 1e-9 + 1e-6*math.Abs(d.slowMean)
	scale = math.Max(scale, floor)
	r := v - pred
	u := r / scale
	var hour int
	if d.hourly {
		// Divide by this hour of day's spread relative to the whole
		// day's, so noisy nights and quiet afternoons are each judged
		// by their own noise.
		hour = int(((sec % 86400) + 86400) % 86400 / 3600)
		var sum float64
		for _, x := range d.hourSpread {
			sum += float64(x)
		}
		u /= math.Max(hourRatioMin, float64(d.hourSpread[hour])*hoursPerDay/sum)
	}

	var z [nTailed]float64
	z[dResidual] = math.Abs(u)
	shift := d.shift + cfg.ShiftAlpha*(u-d.shift)
	z[dChange] = math.Abs(shift) / math.Sqrt(cfg.ShiftAlpha/(2-cfg.ShiftAlpha))
	varMean := d.varMean + cfg.VarAlpha*(math.Abs(u)-d.varMean)
	z[dShift] = varMean
	sd := math.Sqrt(d.slowVar)
	z[dSpot] = math.Abs(v-d.slowMean) / math.Max(sd, floor)
	z[dRecord] = d.record(sec, v, floor)
	ratioShift, lr := d.ratioShift, 0.0
	nonPositive := d.nonPositive || v <= 0 || pred <= 0
	if d.hourly && !nonPositive {
		// Ratio changepoint, on a series judged by hour spreads (hourly
		// or coarser) that has only been positive: the changepoint
		// again, on log(v/expected) in units of its own decayed mean
		// size, so a change by a factor (a price level that doubles, a
		// recalibrated sensor) weighs as much in quiet hours as in busy
		// ones, where the additive changepoint sees it only where the
		// level is high. (On every positive series it also found the
		// synthetic families' changes, but cost NAB 0.5 on every column:
		// five more false alarms on 5-minute files; see the package
		// comment.)
		lr = math.Log(v / pred)
		if d.ratioErr > 0 {
			ratioShift += cfg.ShiftAlpha * (lr/d.ratioErr - ratioShift)
			z[tRatio] = math.Abs(ratioShift) / math.Sqrt(cfg.ShiftAlpha/(2-cfg.ShiftAlpha))
		}
	}
	dayShift, dayRes, dayLearn, dayScored, dayCounts := d.dayShift, 0.0, false, false, false
	kindYoung := false
	if d.dayOn && !d.hourly && !nonPositive && d.daily.ready(sec) {
		// Daily changepoint (series sampled every DayShiftMaxStep or
		// finer that have only been positive; hourly or coarser ones
		// have the ratio changepoint in this slot): the changepoint
		// again, on the residual against the seasonal profile alone.
		// The blend, led at night by the level forecaster, absorbs a
		// recalibrated sensor's new level within hours; the profiles'
		// level moves at LevelAlpha, so the change stays here. The
		// reference is the daily profile averaged over DayShiftSpan
		// either side (a slot holds about one earlier reading), and
		// the weekly profile once it is ready (a weekend, a holiday).
		// It counts only while that profile forecasts better than the
		// level forecaster: on a series with no daily shape it says
		// nothing the changepoint does not.
		dayLearn = true
		ref, refErr := d.daily.smoothed(sec, d.daySpanSlots()), d.daily.err
		if d.weeklyReference(sec) {
			ref, refErr = d.weekly.predict(sec), d.weekly.err
		} else if cfg.DayShiftDayKind {
			// A reference of the row's own kind of day; none yet
			// if that kind has not been seen for a whole day.
			k := &d.kinds[b2i(weekend(sec))]
			var ok bool
			if ref, ok = k.predict(sec, d.daily.level); !ok || !k.ready() {
				dayLearn = false
			}
			// Its residuals are a new statistic: counted only
			// after a warm-up of its own, as the statistic's first.
			refErr, kindYoung = k.err, k.nerr < float64(d.warmup)
		}
		dayRes = v - ref
		if dayLearn && d.dayErr > floor && d.ndayErr >= 10 {
			a := cfg.DayShiftAlpha
			x := math.Max(-cfg.DayShiftClip, math.Min(cfg.DayShiftClip, dayRes/d.dayErr))
			dayShift += a * (x - dayShift)
			z[tRatio] = math.Abs(dayShift) / math.Sqrt(a/(2-a))
			dayScored, dayCounts = true, refErr < d.levelErr && d.ndayErr >= float64(d.warmup) && !kindYoung
		}
	}
	run := d.repeat
	if d.n > 0 && v == d.lastV {
		run++
	} else {
		run = 0
	}
	if run == 1 {
		d.runKnown = d.resting(v)
	}
	pStuck := 1.0
	if cfg.StuckScale > 0 && run > 0 && d.n >= d.warmup && d.n-run > d.warmup {
		// A value repeated exactly, run times in a row: a stuck sensor
		// or a silent counter (a run that began before the warm-up
		// ended, as on a series that has never moved, is not scored). With q1 the series' usual chance that a
		// value repeats the one before and q2 the chance that a repeat
		// is repeated again, such a run has chance q1·q2^(run−1), here
		// made StuckScale times more conservative (runs cluster). It is
		// a probability already, so it skips the tails. q2 starts at one
		// half backed by stuckPrior pseudo-repeats and keeps learning
		// during a run, so a series must show many repeats before long
		// runs become ordinary. (Freezing q2 at a run's start found every
		// stuck sensor of the synthetic corpus but cost NAB 2–3 points:
		// its real series have long runs that are not anomalies.)
		// A run at a value the series has not rested at before (not
		// one of restVal) is judged with q2's prior mean at q1: until
		// the series shows that its repeats cluster, a repeat of a fresh
		// value is repeated again no more often than any value repeats
		// its predecessor, so a sensor whose readings never repeat is
		// flagged within a few frozen readings rather than twenty. A
		// run at a resting value (NAB's rogue_agent_key files rest at
		// zero for hours between keystrokes) keeps the prior of one
		// half. repeat2 holds that prior with weight prior2, so its mean
		// is moved to q1 by adding prior2·(q1 − ½).
		q2 := d.repeat2
		if !d.runKnown {
			q2 += d.prior2 * (d.repeat1 - 0.5)
		}
		pStuck = math.Min(1, math.Exp(float64(run-1)*math.Log(q2)+math.Log(d.repeat1))*cfg.StuckScale)
	}
	learnW := 1.0 // how much the tails learn from this row
	var bins [nTailed]int
	for i := range z {
		bins[i] = tailBin(z[i])
	}
	s := Score{Observed: v, Expected: pred, Deviation: math.Max(-maxDeviation, math.Min(maxDeviation, u))}
	if d.n >= d.warmup {
		var pv [nDetectors]float64
		for i := range pv {
			switch {
			case i < dStuck:
				pv[i] = d.tails[i].pvalue(z[i], bins[i])
			case i == dStuck:
				pv[i] = pStuck
			case d.hourly || dayCounts: // dRatio
				pv[i] = d.tails[tRatio].pvalue(z[tRatio], bins[tRatio])
			default:
				pv[i] = 1
			}
		}
		best, pmin, pAll := merge(cfg, &pv)
		surprise := d.surprise(pmin)
		s.Value = unitScore(surprise)
		s.Detector = detectorNames[best]
		if r > 0 {
			s.Direction = 1
		} else if r < 0 {
			s.Direction = -1
		}
		remember := s.Value
		if pAll != pmin { // spot's term was left out
			remember = d.scoreOf(pAll)
		}
		recurs := d.recurrence(sec, &s, surprise, remember)
		raw := s.Value
		// The holdoff: Holdoff rows after an alarm, through which only
		// a score that beats the alarm by Breakthrough escapes. The
		// margin is for the alarm's own event, whose later rows keep
		// scoring high; once a day of event time (the daily period)
		// has passed, that event has had its day and a row at least
		// as surprising as the alarm is a second event. On 5-minute
		// data the 100 rows end first (eight hours); on hourly data
		// they are four days, in which a second event of the same
		// week was held (the twenty-second of the anom rounds).
		holdoff := int(d.sinceAlarm) < cfg.Holdoff
		margin := cfg.Breakthrough
		if int64(d.alarmAge) >= d.daily.period {
			margin = 0
		}
		if holdoff && (cfg.Breakthrough <= 0 || raw < d.alarmRaw+margin) {
			s.Value *= cfg.HoldoffDamp
			s.Held = true
		}
		s.Anomaly = s.Value >= cfg.AlarmLevel
		if s.Anomaly {
			d.alarmRaw = raw
		}
		if d.hourly && cfg.HeldLearn > 0 && !recurs && raw >= cfg.AlarmLevel && holdoff {
			// A row of an alarm's episode, as surprising as an alarm
			// and not recurring from yesterday: on an hourly series a
			// day's event is 24 rows, and counted in full they would
			// tell the tails that the next event of its size is
			// ordinary.
			learnW = cfg.HeldLearn
		}
	}
	if s.Anomaly {
		d.sinceAlarm, d.alarmAge = 0, 0
	} else if d.sinceAlarm < math.MaxInt32 {
		d.sinceAlarm++
	}

	// Learn.
	if d.n >= d.warmup {
		for i := range z {
			if i == tRatio && !d.hourly && !dayScored {
				// Not a zero but no value: a tail that had
				// learned the rows before the daily changepoint
				// began would take its first values for extremes.
				continue
			}
			d.tails[i].add(z[i], bins[i], cfg.TailQuantile, learnW)
		}
	}
	d.shift, d.varMean = shift, varMean
	d.nonPositive = nonPositive
	if d.hourly && !nonPositive {
		d.ratioShift = ratioShift
		if e := math.Abs(lr); d.ratioErr == 0 {
			d.ratioErr = e
		} else {
			d.ratioErr += math.Max(1/float64(d.n), cfg.ErrAlpha) * (e - d.ratioErr)
		}
	}
	if dayLearn {
		d.dayShift = dayShift
		d.ndayErr++
		d.dayErr += math.Max(1/d.ndayErr, cfg.ErrAlpha) * (math.Abs(dayRes) - d.dayErr)
	}
	if d.hourly {
		// Learn this hour's spread from the residual in the blend's
		// error scales (before the hour's own correction), at the
		// seasonal slots' rate: every hour starts at 1, the day's mean,
		// and moves a tenth of the way a day.
		e := math.Min(math.Abs(r/scale), hourSpreadMax)
		h := float64(d.hourSpread[hour])
		d.hourSpread[hour] = float32(h + cfg.SeasonAlpha*(e-h))
	}
	e := math.Abs(v - d.level)
	if d.n <= 1 {
		d.levelErr = e
	} else {
		d.levelErr += math.Max(1/float64(d.n), cfg.ErrAlpha) * (e - d.levelErr)
	}
	d.level += cfg.FastAlpha * (v - d.level)
	if cfg.DayShiftDayKind && d.dayOn && !d.hourly && d.n >= 1 && !d.weeklyReference(sec) {
		we := weekend(sec)
		var dt int64
		if weekend(d.lastSec) == we {
			dt = sec - d.lastSec
		}
		d.kinds[b2i(we)].update(sec, dt, int64(d.daily.stepSec), v, d.daily.level, cfg.SeasonAlpha, cfg.ErrAlpha, cfg.SeasonClip)
	}
	if d.n >= 1 {
		d.daily.update(sec, v, cfg.LevelAlpha, cfg.SeasonAlpha, cfg.ErrAlpha, cfg.SeasonClip)
		d.weekly.update(sec, v, cfg.LevelAlpha, cfg.SeasonAlpha, cfg.ErrAlpha, cfg.SeasonClip)
	}
	dv := v - d.slowMean
	d.slowMean += cfg.SlowAlpha * dv
	d.hi = math.Max(v, d.hi-cfg.RangeAlpha*(d.hi-d.slowMean))
	d.lo = math.Min(v, d.lo-cfg.RangeAlpha*(d.lo-d.slowMean))
	d.slowVar = (1 - cfg.SlowAlpha) * (d.slowVar + cfg.SlowAlpha*dv*dv)
	d.rollWeek(sec, v)
	d.lastSec = sec
	if d.n > 0 {
		rep := 0.0
		if run > 0 {
			rep = 1
		}
		a := math.Max(1/float64(d.n+2), cfg.SlowAlpha)
		if run > 0 {
			d.rest(v)
		}
		if d.repeat > 0 {
			d.nrep2++
			a2 := math.Max(1/(d.nrep2+2), cfg.SlowAlpha)
			d.repeat2 += a2 * (rep - d.repeat2)
			d.prior2 *= 1 - a2
		} else {
			d.repeat1 += a * (rep - d.repeat1)
		}
	}
	d.lastV, d.repeat = v, run
	d.n++
	return s
}

// b2i is 1 for true and 0 for false: an index into Detector.kinds.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// weeklyReference says whether the weekly profile is the daily
// changepoint's reference at time sec (ready, with an error scale); until
// it is, the daily profile or, with Config.DayShiftDayKind, the day-kind
// profiles are, and the latter learn.
func (d *Detector) weeklyReference(sec int64) bool {
	return d.weekly.ready(sec) && d.weekly.nerr >= 10
}

// daySpanSlots is how many daily slots either side the daily
// changepoint's reference averages: those within Config.DayShiftSpan.
func (d *Detector) daySpanSlots() int {
	if d.cfg.DayShiftSpan <= 0 || d.daily.slotSec <= 0 {
		return 0
	}
	return int(d.cfg.DayShiftSpan / float64(d.daily.slotSec))
}

// resting reports whether v is one of the values the series has
// repeated at before.
func (d *Detector) resting(v float64) bool {
	for i, c := range d.restCount {
		if c > 0 && d.restVal[i] == v {
			return true
		}
	}
	return false
}

// rest counts a repeat at v: v's slot gains one, or, if v has none, it
// takes the slot with the fewest repeats, starting at one (the values a
// series repeats at most keep their slots).
func (d *Detector) rest(v float64) {
	m := 0
	for i, c := range d.restCount {
		if c > 0 && d.restVal[i] == v {
			d.restCount[i]++
			return
		}
		if c < d.restCount[m] {
			m = i
		}
	}
	d.restVal[m], d.restCount[m] = v, 1
}

// record is the record detector's surprise for v at event time sec: how
// far v passes the forgetting range [lo, hi], in units of its width (0
// while the width is at most floor). With Config.WeekRange a value
// counts only if it also passes every value of the current and the
// previous week (weekOf). The forgetting range falls back toward the
// mean, so it lets a series re-record levels it reached a few days
// before (a weekly peak, a quiet night's floor); those are part of its
// weekly cycle. A level last reached before the previous week
// (7 to 14 days back, by the weekday) is a record again, and the size
// is still measured from the forgetting range, which gives a new high
// the size NAB's records need.
func (d *Detector) record(sec int64, v, floor float64) float64 {
	rng := d.hi - d.lo
	if !(rng > floor) {
		return 0
	}
	above, below := v-d.hi, d.lo-v
	if above <= 0 && below <= 0 {
		return 0 // inside the forgetting range: no record, whatever the week held
	}
	if d.cfg.WeekRange {
		hi, lo := d.recentRange(sec)
		if v <= hi {
			above = 0
		}
		if v >= lo {
			below = 0
		}
	}
	return math.Max(math.Max(above, below), 0) / rng
}

// weekSec is the weekly profile's period.
const weekSec = 7 * 86400

// weekOf is the week holding sec, counted as the weekly profile counts its
// period: from the Unix epoch, so each week starts on a Thursday at 00:00
// UTC, not on a calendar week's Monday.
func weekOf(sec int64) int64 { return (sec - periodOffset(sec, weekSec)) / weekSec }

// recentRange is the highest and lowest value of the current calendar
// week and the one before, as seen from event time sec (before the
// value at sec is learned): a week without data holds none.
func (d *Detector) recentRange(sec int64) (hi, lo float64) {
	hi, lo = math.Inf(-1), math.Inf(1)
	if d.n == 0 {
		return hi, lo
	}
	switch weekOf(sec) - weekOf(d.lastSec) {
	case 0:
		hi = float64(max(d.weekHi[0], d.weekHi[1]))
		lo = float64(min(d.weekLo[0], d.weekLo[1]))
	case 1:
		hi, lo = float64(d.weekHi[0]), float64(d.weekLo[0])
	}
	return hi, lo
}

// rollWeek learns v, at event time sec, into the weekly extremes.
func (d *Detector) rollWeek(sec int64, v float64) {
	gap := int64(2)
	if d.n > 0 {
		gap = weekOf(sec) - weekOf(d.lastSec)
	}
	inf, negInf := float32(math.Inf(1)), float32(math.Inf(-1))
	switch {
	case gap == 1:
		d.weekHi = [2]float32{negInf, d.weekHi[0]}
		d.weekLo = [2]float32{inf, d.weekLo[0]}
	case gap > 1:
		d.weekHi = [2]float32{negInf, negInf}
		d.weekLo = [2]float32{inf, inf}
	}
	d.weekHi[0] = max(d.weekHi[0], up32(v))
	d.weekLo[0] = min(d.weekLo[0], down32(v))
}

// up32 is the least float32 at or above v, and down32 the greatest at or
// below it: extremes kept in float32 and rounded outward still hold every
// value they have seen.
func up32(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

func down32(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

// scoreOf maps a merged tail probability p to a score in [0, 1]: its
// −log10, after the sampling step's rate correction, over Config.Decades.
func (d *Detector) scoreOf(p float64) float64 {
	return unitScore(d.surprise(p))
}

// unitScore clamps a surprise to the score's range [0, 1].
func unitScore(surprise float64) float64 {
	return math.Max(0, math.Min(1, surprise))
}

// surprise is scoreOf's value before its clamp to [0, 1]: a merged tail
// probability far beyond Config.Decades scores more than 1 here (and +Inf
// for p = 0), which the recurrence compares with yesterday's score.
func (d *Detector) surprise(p float64) float64 {
	return -math.Log10(p*d.rateMul) / d.cfg.Decades
}

// merge is the weighted Bonferroni minimum of the statistics' tail
// probabilities pv: the smallest w·p, with the statistic that gave it,
// and pAll, the same minimum with every term in.
//
// Spot is a second test of the residual's surprise on slow data: a value
// outside the series' long-run range is, at nearly every such row, also a
// forecast error. Spot counts as evidence only where the residual
// corroborates it at its own tail level (the residual's p at or below
// TailQuantile); elsewhere the value is one the forecasters expected, as
// a daily peak is, and spot's term is left out of pmin. Dropping a term
// keeps the merged p a valid bound: P(p_spot ≤ α and p_res ≤ q) ≤ α
// whatever the dependence, so the minimum only becomes more conservative.
// The recurrence remembers the score of pAll, with spot's term in:
// yesterday's peaks, which spot scores and the gate drops, are what damps
// today's (the fifty-first and fifty-third anom rounds, sections 68 and
// 70 of EXPERIMENTS.md; gated there too, the recurrence lost that memory
// and phased LOCO fell by 0.17).
func merge(cfg *Config, pv *[nDetectors]float64) (best int, pmin, pAll float64) {
	pmin, pAll = 1, 1
	for i, p := range pv {
		w := cfg.Weights[i]
		if w <= 0 {
			w = nDetectors
		}
		if w*p < pAll {
			pAll = w * p
		}
		if i == dSpot && cfg.TailQuantile > 0 && pv[dResidual] > cfg.TailQuantile {
			continue // spot not corroborated by the residual's tail
		}
		if w*p < pmin {
			best, pmin = i, w*p
		}
	}
	return best, pmin, pAll
}
