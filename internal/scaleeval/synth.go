package scaleeval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Trace is one named demand trace of the suite: req/s per minute, rows on
// consecutive minutes.
type Trace struct {
	// Name identifies the trace, e.g. "surges-s1" or "nasa_1m".
	Name string
	// Family groups traces of one kind (a synthetic family, or the file
	// name for a recorded trace); cross-validation leaves a whole family out.
	Family string
	// Seed is the seed a synthetic trace was drawn with (0 for a recorded
	// one).
	Seed uint64
	// Times stamps the rows.
	Times []time.Time
	// Demand is the load of each minute.
	Demand []float64
	// Goal is the ratio to HPA at equal cost the trace must reach on both
	// figures (0 means 1: never worse than HPA).
	Goal float64
}

// SyntheticFamilies lists the built-in seeded trace families:
//
//   - smooth-growth: thousands of req/s, daily and weekly shape, +50 % over
//     four weeks, Poisson noise negligible;
//   - surges: smooth heavy traffic plus scheduled surges (weekly matches at a
//     fixed hour and random launches) that ramp within 2–10 minutes to 2.5–5×
//     the base and last 30–120 minutes;
//   - jumps: smooth traffic whose level steps by ×1.8 or ÷1.8 at random
//     instants, which no forecast can foresee;
//   - batch: a low background with on/off batch jobs (random and a nightly
//     cron) that switch thousands of req/s on and off within a minute;
//   - diurnal-low and diurnal-high: daily and weekly seasonality at a few
//     req/s (Poisson dominated) and at thousands of req/s;
//   - drift: a slow random walk of the level with a mild daily pattern;
//   - bursty: social-media-like traffic with a daily pattern, heavy-tailed
//     bursts at random times and two daily content drops;
//   - bursty-hourly: the same daily pattern with fewer random bursts, and
//     bursts that recur near the top of the hour (start jittered by ±2
//     minutes) in six of ten daytime hours, as posts scheduled on the hour
//     would give: bursts with a recurring phase but not a fixed day-to-day
//     time;
//   - social-5m: mention counts as social-media volume series are published
//     (NAB's Twitter-volume files): counted in 5-minute buckets and held for
//     the bucket's five minutes, a weekday daytime pattern at tens of counts
//     a bucket (Poisson and over-dispersed), posts scheduled at the top or
//     the half of daytime hours, and news bursts whose heavy-tailed
//     magnitudes reach 20–40× the daytime level, so that the trace's
//     maximum, which sets the capacity (max/20), leaves the usual load
//     below one replica.
func SyntheticFamilies() []string {
	return []string{"smooth-growth", "surges", "jumps", "batch", "diurnal-low", "diurnal-high", "drift", "bursty", "bursty-hourly", "social-5m"}
}

// OptionalFamilies lists the seeded families Synthetic generates that the
// suite leaves out unless named (`decider simulate --families`):
//
//   - daily-sales: the surges family's heavy front (800–1600 req/s at its
//     peak, daily and weekly shape, growth) with one flash sale every day
//     at the same minute of the day (a seed's hour from 10:00 to 21:00,
//     on the hour), ramping over 3–8 minutes to 2–5× the base, a
//     magnitude drawn afresh each day, holding 30–90 minutes and
//     declining over 5–20: surges a day's memory can forecast, the kind a
//     daily promotion or a scheduled import gives (the surges family's
//     weekly matches need a week's).
func OptionalFamilies() []string { return []string{"daily-sales"} }

// synthStart is the first minute of every synthetic trace (a Monday).
var synthStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// SynthOptions are the synthetic traces' settings beyond family and seed.
// The zero value gives the traces as they have always been generated.
type SynthOptions struct {
	// Phase starts each trace at its own point of the week: 0–6 whole
	// days and a whole minute of the day after synthStart (Monday 00:00
	// UTC), drawn from a random stream of the family's and seed's own, so
	// that the trace's stream is not touched. The demand moves with the
	// clock: the generator draws the trace from synthStart as before,
	// offset minutes longer, and the trace drops the first offset minutes,
	// so the daily and weekly shapes, the weekly matches and the daily
	// sales keep their weekdays and times of day, and a growth trend still
	// runs over the kept days. The values differ from the unphased trace's
	// from the first minute (the stream is spent over more minutes). Real
	// traces start on any weekday and at any time; without the phase every
	// synthetic trace meets its first weekend after five days, and the
	// first day's scoring warm-up always covers a Monday's night.
	Phase bool
}

// Synthetic generates the named family's trace for seed with the zero
// SynthOptions (every trace starts on Monday 2026-01-05 00:00 UTC). The
// same family and seed always give the same trace.
func Synthetic(family string, seed uint64) (Trace, error) {
	return SyntheticWith(family, seed, SynthOptions{})
}

// SyntheticWith generates the named family's trace for seed with the
// options o. The same family, seed and options always give the same trace.
func SyntheticWith(family string, seed uint64, o SynthOptions) (Trace, error) {
	g := newGen(family, seed, o)
	var d []float64
	switch family {
	case "smooth-growth":
		d = g.smoothGrowth(28)
	case "surges":
		d = g.surges(surgesDays)
	case "jumps":
		d = g.jumps(14)
	case "batch":
		d = g.batch(14)
	case "diurnal-low":
		d = g.diurnal(21, 3, 0.05)
	case "diurnal-high":
		d = g.diurnal(21, 4000, 0.01)
	case "drift":
		d = g.drift(21)
	case "bursty":
		d = g.bursty(21)
	case "bursty-hourly":
		d = g.burstyHourly(21)
	case "social-5m":
		d = g.social5m(21)
	case "daily-sales":
		d = g.dailySales(salesDays)
	default:
		return Trace{}, fmt.Errorf("unknown synthetic family %q (known: %v and %v)", family, SyntheticFamilies(), OptionalFamilies())
	}
	d = d[g.skip : g.skip+g.kept]
	ts := make([]time.Time, len(d))
	for i := range ts {
		ts[i] = synthStart.Add(time.Duration(g.skip+i) * time.Minute)
	}
	return Trace{Name: fmt.Sprintf("%s-s%d", family, seed), Family: family, Seed: seed, Times: ts, Demand: d}, nil
}

// SyntheticSuite returns every family at every seed.
func SyntheticSuite(seeds []uint64) []Trace {
	var out []Trace
	for _, f := range SyntheticFamilies() {
		for _, s := range seeds {
			tr, err := Synthetic(f, s)
			if err != nil {
				panic(err) // the families are fixed; an error is a bug
			}
			out = append(out, tr)
		}
	}
	return out
}

type gen struct {
	rng *rand.Rand
	// surgeLog lists the surges the surges family drew, in the minutes
	// the generator drew (from synthStart, skip included).
	surgeLog []SurgeWindow
	// skip is the number of minutes drawn before the trace's first
	// (SynthOptions.Phase), kept the number of the trace's minutes;
	// minutes(days) sets kept. A growth trend runs over the kept minutes,
	// from minute skip (growth·(i−skip)/kept), whatever the skip.
	skip, kept int
}

// familyHash is the FNV-1a hash of a family's name, the stream of its
// generator.
func familyHash(family string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(family); i++ {
		h = (h ^ uint64(family[i])) * 1099511628211
	}
	return h
}

// newGen seeds the generator of family's trace for seed, with its skip
// set under o.Phase.
func newGen(family string, seed uint64, o SynthOptions) *gen {
	g := &gen{rng: rand.New(rand.NewPCG(seed, familyHash(family)))}
	if o.Phase {
		g.skip = synthPhase(family, seed)
	}
	return g
}

// phaseSalt sets the phase's random stream apart from the trace's own.
const phaseSalt = 0x9e3779b97f4a7c15

// synthPhase returns the minutes from synthStart to the first minute of
// family's trace for seed under SynthOptions.Phase: 0–6 whole days and a
// whole minute of the day, from a stream of the phase's own.
func synthPhase(family string, seed uint64) int {
	r := rand.New(rand.NewPCG(seed, familyHash(family)^phaseSalt))
	day := r.IntN(7)
	return day*dayMin + r.IntN(dayMin)
}

// minutes returns how many minutes a generator of a days-long trace
// draws: the trace's days and the skipped minutes before them.
func (g *gen) minutes(days int) int {
	g.kept = days * dayMin
	return g.kept + g.skip
}

// spanDays is the number of calendar days, whole or begun, that n drawn
// minutes cover: the days a generator's daily schedule must fill.
func spanDays(n int) int { return (n + dayMin - 1) / dayMin }

// surgesDays is the length of the surges family's traces, which
// SurgeSchedule must draw the same way.
const surgesDays = 21

// SurgeWindow is one surge of the surges family's trace: the minutes
// [Start, End) of its ramp, hold and decline, and whether it is a weekly
// match (scheduled at a fixed hour) or a random launch.
type SurgeWindow struct {
	Start, End int
	Weekly     bool
}

// SurgeSchedule returns the surges of the surges family's trace for seed
// (the generator's own; Synthetic("surges", seed) draws the same ones).
func SurgeSchedule(seed uint64) []SurgeWindow {
	return surgeLogOf("surges", seed, SynthOptions{})
}

// surgeLogOf returns the surges or sales family's scheduled surges for
// seed and options, in the trace's minutes (from its first, so a surge
// begun before a phased trace starts has a negative Start); those wholly
// before or after the trace are left out.
func surgeLogOf(family string, seed uint64, o SynthOptions) []SurgeWindow {
	g := newGen(family, seed, o)
	switch family {
	case "surges":
		g.surges(surgesDays)
	case "daily-sales":
		g.dailySales(salesDays)
	default:
		panic("surgeLogOf: no schedule for " + family)
	}
	var out []SurgeWindow
	for _, w := range g.surgeLog {
		w.Start -= g.skip
		w.End -= g.skip
		if w.End > 0 && w.Start < g.kept {
			out = append(out, w)
		}
	}
	return out
}

const dayMin = 1440

// salesDays is the length of the daily-sales family's traces.
const salesDays = 21

// SaleSchedule returns the flash sales of the daily-sales family's trace
// for seed (Synthetic("daily-sales", seed) draws the same ones), all
// marked Weekly: false (they recur daily).
func SaleSchedule(seed uint64) []SurgeWindow {
	return surgeLogOf("daily-sales", seed, SynthOptions{})
}

// daily is a smooth daily shape in [0, 1]: a night trough around 04:00, a
// morning shoulder and an evening peak around 20:00, phase-shifted by ph
// hours.
func daily(minute int, ph float64) float64 {
	h := math.Mod(float64(minute)/60+ph+24, 24)
	x := 2 * math.Pi * (h - 4) / 24
	v := 0.5 - 0.5*math.Cos(x) + 0.15*math.Sin(2*x)
	return math.Max(0, math.Min(1, v/1.1))
}

// weekly is 1 on weekdays and w on weekends (day 0 is a Monday).
func weekly(minute int, w float64) float64 {
	if d := (minute / dayMin) % 7; d >= 5 {
		return w
	}
	return 1
}

// poisson draws a per-minute count at rate (req/s) and returns it as req/s.
func (g *gen) poisson(rate float64) float64 {
	return g.draw(rate*60) / 60
}

// draw draws a Poisson count of mean lam: Knuth's method up to a mean of
// 500 (exp(-500) is still a normal float64), a normal approximation,
// not rounded, above.
func (g *gen) draw(lam float64) float64 {
	if lam <= 0 {
		return 0
	}
	if lam > 500 {
		return math.Max(0, lam+math.Sqrt(lam)*g.rng.NormFloat64())
	}
	limit, p, k := math.Exp(-lam), g.rng.Float64(), 0
	for p > limit {
		p *= g.rng.Float64()
		k++
	}
	return float64(k)
}

// ar is a slowly varying log-normal noise factor: an AR(1) in log space with
// per-minute persistence rho and stationary deviation sigma.
type ar struct{ x, rho, sigma float64 }

func (a *ar) next(g *gen) float64 {
	a.x = a.rho*a.x + math.Sqrt(1-a.rho*a.rho)*a.sigma*g.rng.NormFloat64()
	return math.Exp(a.x)
}

func (g *gen) smoothGrowth(days int) []float64 {
	n := g.minutes(days)
	out := make([]float64, n)
	base := 1500 + 1000*g.rng.Float64()
	ph := g.rng.Float64()*4 - 2
	growth := math.Log(1.3 + 0.4*g.rng.Float64())
	slow := ar{rho: 0.995, sigma: 0.02}
	for i := range out {
		trend := math.Exp(growth * float64(i-g.skip) / float64(g.kept))
		lvl := base * (0.35 + 0.65*daily(i, ph)) * weekly(i, 0.8) * trend * slow.next(g)
		out[i] = g.poisson(lvl)
	}
	return out
}

// surge is one scheduled surge.
type surge struct {
	start, ramp, hold, down int
	mag                     float64
}

func (s surge) factor(i int) float64 {
	switch {
	case i < s.start || i >= s.start+s.ramp+s.hold+s.down:
		return 1
	case i < s.start+s.ramp:
		return 1 + (s.mag-1)*float64(i-s.start+1)/float64(s.ramp)
	case i < s.start+s.ramp+s.hold:
		return s.mag
	default:
		return 1 + (s.mag-1)*(1-float64(i-s.start-s.ramp-s.hold+1)/float64(s.down))
	}
}

func (g *gen) surges(days int) []float64 {
	n := g.minutes(days)
	var ss []surge
	mk := func(start int, weekly bool) surge {
		s := surge{
			start: start, ramp: 2 + g.rng.IntN(9), hold: 30 + g.rng.IntN(91), down: 5 + g.rng.IntN(26),
			mag: 2.5 + 2.5*g.rng.Float64(),
		}
		g.surgeLog = append(g.surgeLog, SurgeWindow{Start: s.start, End: s.start + s.ramp + s.hold + s.down, Weekly: weekly})
		return s
	}
	// Weekly matches: Wednesday and Saturday at a fixed evening hour.
	hour := 18 + g.rng.IntN(3)
	for d := 0; d < spanDays(n); d++ {
		if wd := d % 7; wd == 2 || wd == 5 {
			ss = append(ss, mk(d*dayMin+hour*60, true))
		}
	}
	// Launches and flash sales: about one every three days, at random.
	for d := 0; d < spanDays(n); d++ {
		if g.rng.Float64() < 0.35 {
			ss = append(ss, mk(d*dayMin+(9+g.rng.IntN(12))*60+g.rng.IntN(60), false))
		}
	}
	out := make([]float64, n)
	base := 800 + 800*g.rng.Float64()
	growth := math.Log(1.1 + 0.2*g.rng.Float64())
	slow := ar{rho: 0.995, sigma: 0.02}
	for i := range out {
		f := 1.0
		for _, s := range ss {
			f = math.Max(f, s.factor(i))
		}
		lvl := base * (0.4 + 0.6*daily(i, 0)) * weekly(i, 0.85) * math.Exp(growth*float64(i-g.skip)/float64(g.kept)) * slow.next(g) * f
		out[i] = g.poisson(lvl)
	}
	return out
}

// dailySales is the daily-sales family (OptionalFamilies): the surges
// family's front with a flash sale at the same minute of every day.
func (g *gen) dailySales(days int) []float64 {
	n := g.minutes(days)
	at := (10 + g.rng.IntN(12)) * 60
	ss := make([]surge, 0, days)
	for d := 0; d < spanDays(n); d++ {
		s := surge{
			start: d*dayMin + at, ramp: 3 + g.rng.IntN(6), hold: 30 + g.rng.IntN(61), down: 5 + g.rng.IntN(16),
			mag: 2 + 3*g.rng.Float64(),
		}
		g.surgeLog = append(g.surgeLog, SurgeWindow{Start: s.start, End: s.start + s.ramp + s.hold + s.down})
		ss = append(ss, s)
	}
	out := make([]float64, n)
	base := 800 + 800*g.rng.Float64()
	growth := math.Log(1.1 + 0.2*g.rng.Float64())
	slow := ar{rho: 0.995, sigma: 0.02}
	for i := range out {
		lvl := base * (0.4 + 0.6*daily(i, 0)) * weekly(i, 0.85) * math.Exp(growth*float64(i-g.skip)/float64(g.kept)) * slow.next(g) * ss[i/dayMin].factor(i)
		out[i] = g.poisson(lvl)
	}
	return out
}

func (g *gen) jumps(days int) []float64 {
	n := g.minutes(days)
	out := make([]float64, n)
	base := 600 + 600*g.rng.Float64()
	level := 1.0
	slow := ar{rho: 0.99, sigma: 0.02}
	for i := range out {
		// A jump about every eight hours, bounded to 1 … 1.8².
		if g.rng.Float64() < 1.0/480 {
			if level > 1.5 || (level < 1.5 && g.rng.Float64() < 0.5 && level > 1.01) {
				level /= 1.8
			} else if level < 3 {
				level *= 1.8
			}
		}
		lvl := base * (0.5 + 0.5*daily(i, 1)) * level * slow.next(g)
		out[i] = g.poisson(lvl)
	}
	return out
}

func (g *gen) batch(days int) []float64 {
	n := g.minutes(days)
	on := make([]float64, n)
	// Random jobs: on 20–90 minutes, off 30–240 minutes.
	for i := g.rng.IntN(120); i < n; {
		dur := 20 + g.rng.IntN(71)
		load := 1000 + 800*g.rng.Float64()
		for j := i; j < min(n, i+dur); j++ {
			on[j] += load
		}
		i += dur + 30 + g.rng.IntN(211)
	}
	// A nightly cron at 02:00 for an hour.
	cron := 1200 + 400*g.rng.Float64()
	for d := 0; d < spanDays(n); d++ {
		for j := d*dayMin + 120; j < min(n, d*dayMin+180); j++ {
			on[j] += cron
		}
	}
	out := make([]float64, n)
	bg := 40 + 40*g.rng.Float64()
	for i := range out {
		out[i] = g.poisson(bg*(0.5+0.5*daily(i, 0)) + on[i])
	}
	return out
}

func (g *gen) diurnal(days int, rate, sigma float64) []float64 {
	n := g.minutes(days)
	out := make([]float64, n)
	r := rate * (0.7 + 0.6*g.rng.Float64())
	ph := g.rng.Float64()*6 - 3
	slow := ar{rho: 0.98, sigma: sigma}
	dayLevel := 1.0
	for i := range out {
		if i%dayMin == 0 {
			dayLevel = math.Exp(0.05 * g.rng.NormFloat64())
		}
		lvl := r * (0.15 + 0.85*daily(i, ph)) * weekly(i, 0.6) * dayLevel * slow.next(g)
		out[i] = g.poisson(lvl)
	}
	return out
}

func (g *gen) drift(days int) []float64 {
	n := g.minutes(days)
	out := make([]float64, n)
	r := 200 + 300*g.rng.Float64()
	x := 0.0
	slow := ar{rho: 0.97, sigma: 0.03}
	for i := range out {
		// A random walk of the log level, bounded to ±1.
		x += 0.004 * g.rng.NormFloat64()
		x = math.Max(-1, math.Min(1, x))
		lvl := r * math.Exp(x) * (0.8 + 0.2*daily(i, 0)) * slow.next(g)
		out[i] = g.poisson(lvl)
	}
	return out
}

func (g *gen) bursty(days int) []float64 {
	n := g.minutes(days)
	boost, addBurst := burstsOf(n)
	// Viral bursts: about six a day, Pareto magnitudes 1.5–4×.
	g.randomBursts(n, 6, addBurst)
	// Content drops at 09:00 and 17:00 every day.
	for d := 0; d < spanDays(n); d++ {
		for _, h := range []int{9, 17} {
			addBurst(d*dayMin+h*60, 1.8+0.4*g.rng.Float64(), 2, 20)
		}
	}
	return g.socialLevel(boost)
}

// randomBursts adds about perDay bursts a day at random minutes, with
// Pareto magnitudes 1.5–4×, rising over 1–3 minutes and decaying over
// 10–40.
func (g *gen) randomBursts(n int, perDay float64, add func(start int, mag float64, rise, decay int)) {
	for i := 0; i < n; i++ {
		if g.rng.Float64() < perDay/dayMin {
			mag := g.burstMag()
			add(i, mag, 1+g.rng.IntN(3), 10+g.rng.IntN(31))
		}
	}
}

// burstMag draws a burst's magnitude: Pareto from 1.5×, shape 2.5,
// capped at 4×.
func (g *gen) burstMag() float64 {
	return math.Min(4, 1.5/math.Pow(1-g.rng.Float64(), 1/2.5))
}

// burstsOf returns a boost series of n minutes and the function that adds
// one burst to it: a linear rise over rise minutes to mag, then an
// exponential decay with time constant decay.
func burstsOf(n int) ([]float64, func(start int, mag float64, rise, decay int)) {
	boost := make([]float64, n)
	return boost, func(start int, mag float64, rise, decay int) {
		for j := max(0, start); j < n && j < start+rise+6*decay; j++ {
			var f float64
			if k := j - start; k < rise {
				f = float64(k+1) / float64(rise)
			} else {
				f = math.Exp(-float64(k-rise) / float64(decay))
			}
			boost[j] += (mag - 1) * f
		}
	}
}

// burstyHourly is the bursty family's daily pattern with three random
// bursts a day, and, in each hour from 08:00 to 23:00, a burst near the
// top of the hour (start jittered by ±2 minutes) six times in ten.
func (g *gen) burstyHourly(days int) []float64 {
	n := g.minutes(days)
	boost, addBurst := burstsOf(n)
	g.randomBursts(n, 3, addBurst)
	for d := 0; d < spanDays(n); d++ {
		for h := 8; h < 24; h++ {
			if g.rng.Float64() < 0.6 {
				mag := g.burstMag()
				addBurst(d*dayMin+h*60+g.rng.IntN(5)-2, mag, 1+g.rng.IntN(3), 10+g.rng.IntN(21))
			}
		}
	}
	return g.socialLevel(boost)
}

// socialLevel turns a boost series into the bursty families' Poisson
// demand: a daily pattern at 60–140 req/s at its peak, a weekend dip, the
// boost and a slow multiplicative noise.
func (g *gen) socialLevel(boost []float64) []float64 {
	out := make([]float64, len(boost))
	r := 60 + 80*g.rng.Float64()
	slow := ar{rho: 0.95, sigma: 0.08}
	for i := range out {
		lvl := r * (0.2 + 0.8*daily(i, 2)) * weekly(i, 0.9) * (1 + boost[i]) * slow.next(g)
		out[i] = g.poisson(lvl)
	}
	return out
}

// social5mBucket is the social-5m family's counting interval in minutes.
const social5mBucket = 5

// social5m is the social-5m family: a count of mentions per 5-minute
// bucket, held for the bucket's five minutes (a minute's demand is the
// bucket's count per minute). The rate has a daily pattern peaking in the
// afternoon at 8–24 counts a minute (a night at a fifth of it, weekends at
// half), a slow over-dispersing noise, posts scheduled at the top of the
// hour (or at its half) in four of five hours from 12:00 to 23:00 on weekdays, rising
// to 2–6× within a minute and decaying over 5–15, and about eight news
// bursts a day, at any minute, whose magnitudes are Pareto from 2× with
// shape 1.1, capped at 40×, decaying over 10–60 minutes. One trace's few
// largest bursts set its maximum, so the capacity of max/20 leaves the
// daytime level at about half a replica and the night at a tenth.
func (g *gen) social5m(days int) []float64 {
	// Whole buckets, on the clock's 5-minute steps from synthStart (a
	// phased trace may begin and end inside one).
	n := (g.minutes(days) + social5mBucket - 1) / social5mBucket * social5mBucket
	boost, addBurst := burstsOf(n)
	for i := 0; i < n; i++ {
		if g.rng.Float64() < 3.0/dayMin {
			mag := math.Min(12, 1.5/math.Pow(1-g.rng.Float64(), 1/1.5))
			addBurst(i, mag, 1+g.rng.IntN(3), 5+g.rng.IntN(36))
		}
	}
	// One event of the kind that makes a series' maximum (an earnings
	// call, a product launch): 20–30× on a weekday afternoon of the second
	// or third week.
	day := 7 + g.rng.IntN(days-7) + g.skip/dayMin
	for day%7 >= 5 {
		day--
	}
	addBurst(day*dayMin+(14+g.rng.IntN(6))*60+g.rng.IntN(60), 20+10*g.rng.Float64(), 2, 60)
	half := g.rng.IntN(2) * 30 // this account posts at :00 or at :30
	for d := 0; d < spanDays(n); d++ {
		if d%7 >= 5 {
			continue
		}
		for h := 12; h < 24; h++ {
			if g.rng.Float64() < 0.8 {
				addBurst(d*dayMin+h*60+half, 1.5+1.5*g.rng.Float64(), 1, 5+g.rng.IntN(11))
			}
		}
	}
	r := 0.5 + 1.5*g.rng.Float64()
	ph := g.rng.Float64()*2 - 1 // the evening peak (UTC) lies between 19:00 and 21:00
	slow := ar{rho: 0.98, sigma: 0.15}
	out := make([]float64, n)
	for b := 0; b+social5mBucket <= n; b += social5mBucket {
		var lam float64
		for i := b; i < b+social5mBucket; i++ {
			lam += r * (0.2 + 0.8*daily(i, ph)) * weekly(i, 0.5) * (1 + boost[i]) * slow.next(g)
		}
		c := g.count(lam) / social5mBucket
		for i := b; i < b+social5mBucket; i++ {
			out[i] = c
		}
	}
	return out
}

// count draws a whole Poisson count of mean lam.
func (g *gen) count(lam float64) float64 {
	return math.Round(g.draw(lam))
}
