package policy

import (
	"math"
	"slices"
	"time"
)

// seasonDays is how many past days the seasonal memory keeps.
const seasonDays = 2

// levelCapMinutes is the longest level window, in minutes, the seasonal
// memory reads a remembered day's level over (rise), and so the longest a
// level counted in the load's own samples may span (tier.levelWindow).
const levelCapMinutes = 30

// season remembers the highest load of every minute of the last
// seasonDays days, so that a peak that came at this time of day on each
// of those days (a daily content drop, a scheduled job, a match) can be
// expected again: the seasonal guard (AppConfig.SeasonalPeaks).
type season struct {
	peaks []uint16 // slot m%len holds minute m's peak (seasonCode), 0 when unseen
	last  int64    // the last minute written (Unix minutes)
	init  bool
}

// A minute's peak is kept as a 16-bit code of its logarithm, (ln load +
// seasonOffset)·seasonScale, from 2 up: loads from about 1e-7 to 9e6 in
// steps of 0.05 %, at 2 bytes a minute. Code 1 is no load at all and 0 a
// minute never seen. Codes grow with the load, so the larger of two loads
// has the larger code.
const (
	seasonScale  = 2048.0
	seasonOffset = 16.0
	seasonUnseen = 0
	seasonZero   = 1
)

func seasonCode(load float64) uint16 {
	if !(load > 0) {
		return seasonZero
	}
	c := math.Round((math.Log(load) + seasonOffset) * seasonScale)
	return uint16(max(seasonZero+1, min(math.MaxUint16, c)))
}

func seasonLoad(c uint16) float64 {
	if c <= seasonZero {
		return 0
	}
	return math.Exp(float64(c)/seasonScale - seasonOffset)
}

func newSeason() *season {
	// An hour beyond the days leaves room for the level window before
	// the oldest day's instant.
	return &season{peaks: make([]uint16, seasonDays*1440+60)}
}

func (s *season) slot(m int64) int {
	n := int64(len(s.peaks))
	return int(((m % n) + n) % n)
}

// observe folds the load at t into its minute.
func (s *season) observe(t time.Time, load float64) {
	m := t.Unix() / 60
	if !s.init || m > s.last {
		// Minutes skipped since the last write hold nothing.
		from := s.last + 1
		if !s.init || m-from >= int64(len(s.peaks)) {
			from = m - int64(len(s.peaks)) + 1
		}
		for k := from; k <= m; k++ {
			s.peaks[s.slot(k)] = seasonUnseen
		}
		s.last, s.init = m, true
	}
	if m <= s.last-int64(len(s.peaks)) {
		return
	}
	i := s.slot(m)
	if c := seasonCode(load); c > s.peaks[i] {
		s.peaks[i] = c
	}
}

// ratio returns the smallest, over the past seasonDays days, of the peak
// over the window (t, t+h] that day to the mean load over the level window
// before t that day: how far the load rose at this time of day on every
// remembered day. ok is false unless every day was seen.
func (s *season) ratio(t time.Time, h, level time.Duration) (float64, bool) {
	return s.rise(t, h, level, 1440, seasonDays, seasonDays, 0)
}

// seen is ratio over the days remembered so far, at least one: how far the
// load rose at this time of day on every day seen yet. ok is false until a
// whole day is remembered.
func (s *season) seen(t time.Time, h, level time.Duration) (float64, bool) {
	for n := seasonDays; n >= 1; n-- {
		if r, ok := s.rise(t, h, level, 1440, n, n, 0); ok {
			return r, true
		}
	}
	return 0, false
}

// The hour-phase guard (AppConfig.PhasePeaks) looks back phaseHours hours
// and expects a rise that came at this minute of the hour, give or take
// phaseJitter minutes, in at least phaseSeen of them: bursts that recur at
// similar minutes of the hour (posts scheduled on the hour, a feed
// refreshed every hour), which random bursts almost never do.
const (
	phaseHours  = 24
	phaseSeen   = 8
	phaseJitter = 2
	// phaseSigmas is how many typical one-tick changes of the load
	// (the ramp guard's noise scale) the recurring rise must exceed.
	phaseSigmas = 5
)

// phase returns the rise at this minute of the hour that at least
// phaseSeen of the last phaseHours hours reached: the peak over
// (t−phaseJitter, t+h+phaseJitter] that hour to the mean load over the
// level window before t that hour.
func (s *season) phase(t time.Time, h, level time.Duration) (float64, bool) {
	return s.rise(t, h, level, 60, phaseHours, phaseSeen, phaseJitter)
}

// rise returns, over the last n periods of period minutes, the ratio of
// the peak over (t−jitter, t+h+jitter] to the mean load over the level
// window before t, each taken that many periods ago, that at least k of
// the n periods reached (k = n: the smallest). ok is false unless every
// period was seen.
func (s *season) rise(t time.Time, h, level time.Duration, period int64, n, k int, jitter int64) (float64, bool) {
	if !s.init {
		return 0, false
	}
	m := t.Unix() / 60
	hm, lm := max(1, int64(h/time.Minute)), min(levelCapMinutes, max(1, int64(level/time.Minute)))
	var buf [phaseHours + seasonDays]float64
	rs := buf[:0]
	for d := int64(1); d <= int64(n); d++ {
		at := m - d*period
		if at-max(lm, jitter)+1 <= s.last-int64(len(s.peaks)) || at+hm+jitter > s.last {
			return 0, false
		}
		// Codes grow with the load: take the peak's code, decode it once.
		var pc uint16
		sum, c := 0.0, 0
		for j := at + 1 - jitter; j <= at+hm+jitter; j++ {
			v := s.peaks[s.slot(j)]
			if v == seasonUnseen {
				return 0, false
			}
			pc = max(pc, v)
		}
		peak := seasonLoad(pc)
		for j := at - lm + 1; j <= at; j++ {
			v := s.peaks[s.slot(j)]
			if v == seasonUnseen {
				return 0, false
			}
			sum += seasonLoad(v)
			c++
		}
		if sum <= 0 {
			return 0, false
		}
		rs = append(rs, peak/(sum/float64(c)))
	}
	if len(rs) == 0 || k < 1 || k > len(rs) {
		return 0, false
	}
	slices.Sort(rs)
	return rs[len(rs)-k], true
}

// peak returns the highest minute peak remembered in (from, to], and
// false when none of those minutes was seen.
func (s *season) peak(from, to time.Time) (float64, bool) {
	if !s.init {
		return 0, false
	}
	a, b := from.Unix()/60+1, min(to.Unix()/60, s.last)
	var best uint16 // seasonUnseen: no code is below it
	for m := max(a, s.last-int64(len(s.peaks))+1); m <= b; m++ {
		best = max(best, s.peaks[s.slot(m)])
	}
	return seasonLoad(best), best != seasonUnseen
}
