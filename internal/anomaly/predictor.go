package anomaly

import "math"

// maxSlots bounds a seasonal profile so state stays small whatever the
// sampling step: finer data shares slots. 336 holds a week of half-hours.
const maxSlots = 336

// seasonal is an additive level-plus-profile forecaster over one period,
// indexed by event time (so gaps and irregular steps are fine). Its profile
// is float32 to keep the per-series state small.
type seasonal struct {
	period   int64 // seconds
	slotSec  int64
	nslots   int
	level    float64
	profile  [maxSlots]float32
	err      float64 // decayed mean absolute one-step error
	nerr     float64
	started  bool
	off      bool
	keep     bool  // slots too coarse for the data do not switch the profile off (coarse)
	coarse   bool  // slots coarser than the data: out of the blend, a reference only
	stepSec  int32 // the sampling step the slots were fitted to (beside the flags: no padding)
	firstSec int64
}

func newSeasonal(period int64) seasonal {
	s := seasonal{period: period}
	for i := range s.profile {
		s.profile[i] = float32(math.NaN()) // NaN marks a slot not seen yet
	}
	return s
}

// seen says whether slot i has had a value.
func (s *seasonal) seen(i int) bool { return s.profile[i] == s.profile[i] }

// init fixes the slot width once the sampling step is known.
func (s *seasonal) init(stepSec int64) {
	if stepSec <= 0 {
		stepSec = 1
	}
	n := s.period / stepSec
	if n < 1 {
		n = 1
	}
	if n > maxSlots {
		// Slots coarser than the data blur sharp daily edges; a profile
		// that cannot resolve the step is switched off instead, unless it
		// is the daily one, or is kept as the daily changepoint's
		// reference (coarse: out of the blend).
		if s.period > 86400 {
			if s.keep {
				s.coarse = true
			} else {
				s.off = true
			}
		}
		n = maxSlots
	}
	s.nslots = int(n)
	s.slotSec = (s.period + n - 1) / n
	s.stepSec = int32(min(stepSec, math.MaxInt32))
}

// offset returns how far into its period time sec lies, in seconds.
func (s *seasonal) offset(sec int64) int64 { return periodOffset(sec, s.period) }

// periodOffset returns how far into a period of period seconds (counted
// from the Unix epoch) time sec lies, in seconds, also before 1970.
func periodOffset(sec, period int64) int64 {
	m := sec % period
	if m < 0 {
		m += period
	}
	return m
}

// firstPeriodRate is the learning rate that keeps a slot the mean of its
// readings in its first period, never below alpha: a reading into seconds
// into its slot, at step seconds apart, is the slot's k-th.
func firstPeriodRate(into, step int64, alpha float64) float64 {
	k := into/max(step, 1) + 1
	return math.Max(alpha, 1/float64(k))
}

func (s *seasonal) slot(sec int64) int {
	i := int(s.offset(sec) / s.slotSec)
	if i >= s.nslots {
		i = s.nslots - 1
	}
	return i
}

// ready says whether the profile has seen a whole period.
func (s *seasonal) ready(sec int64) bool {
	return !s.off && s.started && sec-s.firstSec >= s.period
}

// predict returns the forecast for time sec (valid once ready).
func (s *seasonal) predict(sec int64) float64 {
	i := s.slot(sec)
	if s.seen(i) {
		return s.level + float64(s.profile[i])
	}
	if sec-s.firstSec < fillPeriods*s.period {
		// A slot no reading has fallen in yet, while the profile is
		// still filling in (jittered steps skip slots, and a missing
		// reading leaves one empty for a day): its neighbour's value
		// is a better guess than the bare level, which at a rush
		// hour's edge is far from either.
		for _, j := range [2]int{(i + 1) % s.nslots, (i - 1 + s.nslots) % s.nslots} {
			if s.seen(j) {
				return s.level + float64(s.profile[j])
			}
		}
	}
	return s.level
}

// fillPeriods is how many periods after its first value a profile lets
// an unseen slot borrow a neighbour's value (predict). Later, a slot
// still unseen lies in a long gap and is forecast by the level alone.
// Borrowing for 5 periods or more moved one detection of a NAB file with
// days-long gaps and cost NAB 1.4 points; 3 and 4 leave NAB as it was
// (see the unseen slots round in EXPERIMENTS.md).
const fillPeriods = 4

// update learns v at time sec after it was scored.
func (s *seasonal) update(sec int64, v, alphaLevel, alphaSeason, alphaErr, clip float64) {
	if s.off {
		return
	}
	if !s.started {
		s.started, s.firstSec, s.level = true, sec, v
	}
	i := s.slot(sec)
	if s.ready(sec) {
		e := math.Abs(v - s.predict(sec))
		s.nerr++
		a := math.Max(1/s.nerr, alphaErr)
		s.err += a * (e - s.err)
	}
	if !s.seen(i) {
		s.profile[i] = float32(v - s.level)
	} else {
		r := v - s.level - float64(s.profile[i])
		if clip > 0 && s.ready(sec) && s.nerr >= 10 {
			// A slot learns at most clip errors from one value, so a
			// one-off anomaly does not come back tomorrow as an
			// expectation (Huber-style robust update).
			lim := clip * s.err
			r = math.Max(-lim, math.Min(lim, r))
		}
		a := alphaSeason
		if s.coarse && sec-s.firstSec < s.period {
			// A coarse slot holds several readings a period; in
			// the first it is their mean, not its first reading
			// (which, at a daily edge, is far from the slot's
			// later readings).
			a = firstPeriodRate(s.offset(sec)-int64(i)*s.slotSec, int64(s.stepSec), a)
		}
		s.profile[i] += float32(a * r)
	}
	s.level += alphaLevel * (v - s.level - float64(s.profile[i]))
}

// smoothed returns the forecast for time sec from the mean of the seen
// slots within k slots either side of sec's (predict if none is seen).
func (s *seasonal) smoothed(sec int64, k int) float64 {
	if k <= 0 {
		return s.predict(sec)
	}
	i := s.slot(sec)
	var sum float64
	n := 0
	for j := i - k; j <= i+k; j++ {
		if m := (j%s.nslots + s.nslots) % s.nslots; s.seen(m) {
			sum += float64(s.profile[m])
			n++
		}
	}
	if n == 0 {
		return s.predict(sec)
	}
	return s.level + sum/float64(n)
}

// kindSlots is how many slots a day-kind profile has: a day at the
// weekly profile's slot width (maxSlots a week).
const kindSlots = maxSlots / 7

// dayKind is a coarse profile of one kind of day (weekdays, or Saturday
// and Sunday in UTC) over the daily profile's level: the daily
// changepoint's reference on days of its kind until the weekly profile
// is ready. Each slot is the mean of its readings in the kind's first
// day, then learns at the seasonal rate.
type dayKind struct {
	profile [kindSlots]float32 // NaN: not seen yet
	age     int64              // seconds of this kind seen (steps between rows both of it)
	err     float64            // decayed mean |v − reference| once ready
	nerr    float64
}

func newDayKind() dayKind {
	var k dayKind
	for i := range k.profile {
		k.profile[i] = float32(math.NaN())
	}
	return k
}

// weekend says whether time sec falls on a Saturday or Sunday (UTC).
func weekend(sec int64) bool {
	// 1970-01-01 was a Thursday: days 2 and 3 of each week from it are
	// Saturday and Sunday.
	d := periodOffset((sec-periodOffset(sec, 86400))/86400, 7)
	return d == 2 || d == 3
}

// ready says whether the profile has seen a whole day of its kind.
func (k *dayKind) ready() bool { return k.age >= 86400 }

// kindSlotSec is a day-kind profile's slot width in seconds.
const kindSlotSec = 86400 / kindSlots

func kindSlot(sec int64) int { return int(periodOffset(sec, 86400) / kindSlotSec) }

// predict returns the reference at time sec over level, and false if
// neither sec's slot nor a neighbour has been seen.
func (k *dayKind) predict(sec int64, level float64) (float64, bool) {
	i := kindSlot(sec)
	for _, j := range [3]int{i, (i + 1) % kindSlots, (i - 1 + kindSlots) % kindSlots} {
		if p := k.profile[j]; p == p {
			return level + float64(p), true
		}
	}
	return 0, false
}

// update learns v at time sec, dt seconds after the previous row of
// this kind (0 if the previous row was of the other kind), against
// level, with step the sampling step; the residual is clipped at clip
// errors once the profile is ready.
func (k *dayKind) update(sec, dt, step int64, v, level, alphaSeason, alphaErr, clip float64) {
	i := kindSlot(sec)
	if k.ready() {
		if ref, ok := k.predict(sec, level); ok {
			k.nerr++
			k.err += math.Max(1/k.nerr, alphaErr) * (math.Abs(v-ref) - k.err)
		}
	}
	r := v - level
	if p := k.profile[i]; p != p {
		k.profile[i] = float32(r)
	} else {
		r -= float64(p)
		a := alphaSeason
		if !k.ready() {
			// The first day: the slot is the mean of its readings.
			a = firstPeriodRate(periodOffset(sec, 86400)-int64(i)*kindSlotSec, step, a)
		} else if clip > 0 && k.nerr >= 10 {
			lim := clip * k.err
			r = math.Max(-lim, math.Min(lim, r))
		}
		k.profile[i] += float32(a * r)
	}
	k.age += dt
}
