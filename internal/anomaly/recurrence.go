package anomaly

import "math"

// recurrence damps a score when about the same time yesterday scored as
// high: a job that spikes every night at 03:00, give or take a few slots,
// is part of the series, not news. It then remembers today's score
// remember, and reports whether it damped this one. remember is the raw
// score with every statistic's term in, spot's included where the alarm's
// score leaves it out (the residual not in its tail): a daily peak that
// the forecasters expect still marks its time of day as one that peaks.
//
// surprise is today's score before its clamp at 1, −log10 of the merged
// tail probability over Config.Decades: yesterday is compared with how
// surprising today really is. With the clamped score, a spike ten
// decades out scored 1 and recurred whenever yesterday's row scored
// RecurRatio, an ordinary hour on hourly data (the fifty-sixth of the
// anom rounds, section 73 of EXPERIMENTS.md).
func (d *Detector) recurrence(sec int64, s *Score, surprise, remember float64) bool {
	cfg := d.cfg
	n := d.daily.nslots
	if cfg.RecurWidth < 0 || n == 0 {
		return false
	}
	now := uint16(sec/3600) + 1
	if now == 0 {
		now = 1
	}
	i := d.daily.slot(sec)
	seen := 0.0
	for k := -cfg.RecurWidth; k <= cfg.RecurWidth; k++ {
		j := ((i+k)%n + n) % n
		if d.recurHour[j] == 0 {
			continue
		}
		if age := now - d.recurHour[j]; age >= 12 && age <= 36 {
			seen = math.Max(seen, float64(d.recurVal[j])/255)
		}
	}
	recurs := seen > 0 && seen >= surprise*cfg.RecurRatio
	if recurs {
		s.Value *= cfg.RecurDamp
	}
	q := uint8(math.Round(remember * 255))
	if d.recurHour[i] != 0 && now-d.recurHour[i] < 12 {
		if q > d.recurVal[i] {
			d.recurVal[i] = q
		}
		return recurs
	}
	d.recurHour[i], d.recurVal[i] = now, q
	return recurs
}
