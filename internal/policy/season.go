package policy

import (
	"math"
	"time"
)

// seasonDays is how many past days the seasonal memory keeps.
const seasonDays = 2

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
	if !s.init {
		return 0, false
	}
	m := t.Unix() / 60
	hm, lm := max(1, int64(h/time.Minute)), min(30, max(1, int64(level/time.Minute)))
	best := math.Inf(1)
	for d := int64(1); d <= seasonDays; d++ {
		at := m - d*1440
		if at-lm+1 <= s.last-int64(len(s.peaks)) || at+hm > s.last {
			return 0, false
		}
		peak, sum, n := 0.0, 0.0, 0
		for k := at + 1; k <= at+hm; k++ {
			c := s.peaks[s.slot(k)]
			if c == seasonUnseen {
				return 0, false
			}
			peak = math.Max(peak, seasonLoad(c))
		}
		for k := at - lm + 1; k <= at; k++ {
			c := s.peaks[s.slot(k)]
			if c == seasonUnseen {
				return 0, false
			}
			sum += seasonLoad(c)
			n++
		}
		if sum <= 0 {
			return 0, false
		}
		best = math.Min(best, peak/(sum/float64(n)))
	}
	return best, true
}
