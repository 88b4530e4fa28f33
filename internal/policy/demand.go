package policy

import (
	"math"
	"time"
)

// sample is one observed load at a tick.
type sample struct {
	t    time.Time
	load float64
}

// prediction is a base recorded at a tick, waiting for its lead window to
// pass so the ratio of the realised peak to it can be learned.
type prediction struct {
	t    time.Time
	base float64
	bin  int
	win  time.Duration
	// cut, when set, ends the window at the tick before it (cutAt).
	cut time.Time
}

// minBin and maxBin bound the level bins (log2 of base per replica).
const (
	minBin = -4
	maxBin = 10
	// jumpBin holds the ratios of ticks taken just after a jump (the load
	// well above the level): how far a fresh jump goes on rising is its
	// own regime, learned apart from the level bins.
	jumpBin = maxBin + 1
	// jumpFallBin holds the ratios of jumped ticks whose load fell since
	// the tick before (AppConfig.JumpFallBin): a burst past its peak,
	// decaying, goes on far less than one still rising.
	jumpFallBin = maxBin + 2
	// plateauBin holds the ratios of ticks the jump guard's test caught
	// on a plateau (jumpGuard): a load well above the base but not above
	// its own recent level. Like the jump bins it is learned over
	// JumpLead and needs only minJumpCalibration ratios.
	plateauBin = maxBin + 3
	// riseBin holds the ratios of ticks whose forecast expects a rise
	// over the lead window beyond AppConfig.RiseBin of the base (a
	// forecast surge). It is learned over the whole lead window.
	riseBin = maxBin + 4
	// riseSigmas is how many typical one-tick changes of the load a
	// forecast rise must exceed to be calibrated in the rise bin: on a
	// load whose noise is of the order of its level, the forecast's
	// every wiggle is a large share of the base.
	riseSigmas = 5
	// minJumpCalibration is the least number of ratios the jump bin needs;
	// jumps are rare, and until then the pooled ratios serve.
	minJumpCalibration = 30
)

// demand learns, per tier, how the peak load over the lead window relates to
// the base the policy predicted from, and keeps the recent load history.
type demand struct {
	horizon time.Duration // tick + lead time: the window a decision covers
	keep    time.Duration // how much history to keep
	hist    []sample
	pending []prediction
	cal     *calibration
	// absDiff is the exponentially weighted mean absolute one-tick change
	// of the load, the noise scale the ramp guard compares rises with.
	absDiff float64
	diffs   int
}

func newDemand(horizon, keep time.Duration, size int) *demand {
	return &demand{horizon: horizon, keep: keep, cal: newCalibration(size)}
}

// observe appends the load at t and resolves every prediction whose window
// (p.t, p.t+horizon] has fully passed.
func (d *demand) observe(t time.Time, load float64, floor float64) {
	if n := len(d.hist); n > 0 {
		diff := math.Abs(load - d.hist[n-1].load)
		if d.diffs == 0 {
			d.absDiff = diff
		} else {
			d.absDiff += diffAlpha * (diff - d.absDiff)
		}
		d.diffs++
	}
	d.hist = append(d.hist, sample{t, load})
	cut := 0
	for cut < len(d.hist) && t.Sub(d.hist[cut].t) > d.keep {
		cut++
	}
	if cut > 0 && cut > len(d.hist)/2 {
		d.hist = append(d.hist[:0], d.hist[cut:]...)
	}
	keepP := d.pending[:0]
	for _, p := range d.pending {
		end := p.t.Add(p.win)
		if t.Before(end) {
			keepP = append(keepP, p)
			continue
		}
		if !p.cut.IsZero() && p.cut.Before(end) {
			end = p.cut.Add(-1)
		}
		peak, ok := d.peak(p.t, end)
		if !ok || peak <= 0 {
			// No load at all is an outage (or an idle tier), not a sample
			// of how load fluctuates around its base: learning from it
			// would thin the tail for days.
			continue
		}
		r := peak / math.Max(p.base, floor)
		d.cal.add(r, p.bin)
	}
	d.pending = keepP
}

// diffAlpha is the weight of a new tick in the mean absolute change.
const diffAlpha = 0.01

// rampRise returns the rise per tick the load keeps up, beyond sigmas times
// its typical one-tick change: the smaller of the last two one-tick rises
// minus that noise allowance, or 0 when either is not above it. Two rises in
// a row tell a ramp from a step (a step rises once, then stays).
func (d *demand) rampRise(sigmas float64) float64 {
	n := len(d.hist)
	if sigmas <= 0 || n < 3 || d.diffs < 30 {
		return 0
	}
	r := math.Min(d.hist[n-1].load-d.hist[n-2].load, d.hist[n-2].load-d.hist[n-3].load) - sigmas*d.absDiff
	return math.Max(0, r)
}

// falling reports whether the last load is below the one before it.
func (d *demand) falling() bool {
	n := len(d.hist)
	return n >= 2 && d.hist[n-1].load < d.hist[n-2].load
}

// peak returns the highest load seen in (from, to].
func (d *demand) peak(from, to time.Time) (float64, bool) {
	best, ok := 0.0, false
	for i := len(d.hist) - 1; i >= 0; i-- {
		s := d.hist[i]
		if !s.t.After(from) {
			break
		}
		if s.t.After(to) {
			continue
		}
		if !ok || s.load > best {
			best, ok = s.load, true
		}
	}
	return best, ok
}

// level returns the mean load over (t-span, t].
func (d *demand) level(t time.Time, span time.Duration) float64 {
	sum, n := 0.0, 0
	for i := len(d.hist) - 1; i >= 0 && t.Sub(d.hist[i].t) < span; i-- {
		sum += d.hist[i].load
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// record remembers the base used at t in bin so its ratio to the peak
// over the next win (at most the horizon) is learned later.
func (d *demand) record(t time.Time, base float64, bin int, win time.Duration) {
	d.pending = append(d.pending, prediction{t: t, base: base, bin: bin, win: win})
}

// cutAt ends, at the tick before t, the window of every pending level-bin
// prediction whose window reaches t and whose base lies a level bin's
// width or more below jumped, in a lower bin (capacity sizes the bins).
// A level bin learns how the load wanders at its level; a jump from it to
// another level is the jump bins' regime, and learned in the level bin it
// would stand a jump's worth of replicas at the level between jumps. A
// step within a bin's width is that wander, and is learned as before (on
// a smooth load the jump guard fires on small steps that cross a bin's
// edge).
func (d *demand) cutAt(t time.Time, jumped, capacity float64) {
	above := levelBin(jumped, capacity)
	for i := range d.pending {
		p := &d.pending[i]
		if p.bin < jumpBin && p.bin < above && 2*p.base <= jumped && p.cut.IsZero() && !p.t.Add(p.win).Before(t) {
			p.cut = t
		}
	}
}

// ratio returns the q-quantile of the learned peak-to-base ratios for a
// level bin, falling back to the pooled ratios and then to def.
func (d *demand) ratio(bin int, q float64, minN int, def float64) (float64, string) {
	need, src := minN, "level"
	if bin >= jumpBin {
		need, src = min(minN, minJumpCalibration), "jump"
		switch bin {
		case plateauBin:
			src = "plateau"
		case riseBin:
			src = "rise"
		}
	}
	if d.cal.binLen(bin) >= need {
		return math.Max(d.cal.binQuantile(bin, q), 0), src
	}
	if d.cal.len() >= minN {
		return math.Max(d.cal.quantile(q), 0), "pooled"
	}
	return def, "default"
}

// binRatio is ratio for a tick calibrated in bin, but a tick in the
// rise bin uses its level bin (fallback) until the rise bin holds
// minJumpCalibration ratios.
func (d *demand) binRatio(bin, fallback int, q float64, minN int, def float64) (float64, string) {
	if bin == riseBin && d.cal.binLen(riseBin) < min(minN, minJumpCalibration) {
		bin = fallback
	}
	return d.ratio(bin, q, minN, def)
}

// levelBin maps a base load to a bin of log2(base / capacity).
func levelBin(base, capacity float64) int {
	if capacity <= 0 || base <= 0 {
		return minBin
	}
	b := int(math.Floor(math.Log2(base / capacity)))
	return max(minBin, min(maxBin, b))
}

// forecastMax returns the highest forecast median among the buckets that
// overlap the minutes [from, to], and whether any bucket did.
func forecastMax(f *Forecast, from, to time.Time) (float64, bool) {
	if f == nil || f.Step <= 0 {
		return 0, false
	}
	best, ok := 0.0, false
	for _, p := range f.Points {
		if p.Time.After(to) || !p.Time.Add(f.Step).After(from) {
			continue
		}
		if math.IsNaN(p.Yhat) || math.IsInf(p.Yhat, 0) {
			continue
		}
		if !ok || p.Yhat > best {
			best, ok = p.Yhat, true
		}
	}
	return best, ok
}
