package policy

import (
	"math"
	"time"
)

// flatTicks is how many ticks in a row the load must repeat exactly to be
// taken for a flat line (no demand information) by the outage hold, and
// flatShare the most of the held replicas' capacity it may use: an outage
// leaves next to nothing, where a plateau of real demand would not.
const (
	flatTicks = 5
	flatShare = 0.05
	// flatRuns is how many completed runs of a repeated value the outage
	// hold reads the load's own resolution from.
	flatRuns = 8
	// flatRunCap bounds a flat line's length in samples, for a load whose
	// recent level is nothing at all (a run of its zeros is no surprise).
	flatRunCap = math.MaxInt32
)

// flatLine follows a tier's load through runs of one repeated value: the
// run in progress and the lengths of the last completed ones, from which
// the outage hold (AppConfig.OutageHold) and its bridge (bridgeFlat) tell
// a flat line from a load that repeats because of its own resolution.
type flatLine struct {
	// value is the load repeated since since, n ticks in a row (0 before
	// the first tick).
	value float64
	n     int
	since time.Time
	// runs holds the lengths of the last completed runs of one repeated
	// value (0 until seen): a load counted in buckets of several ticks
	// and held for each of them repeats every value for a bucket, so a
	// flat line is counted in those buckets (need).
	runs  [flatRuns]int
	count int
	// vals holds the values of those runs, and res the smallest step the
	// load has taken between two values (0 until it has moved): the
	// load's recent level in its own counts, against which a run of one
	// value is read as likely or not (surprise).
	vals [flatRuns]float64
	res  float64
	// needN and bridgeN are need and bridgeFrom for the run in progress,
	// read when it starts: nothing they depend on changes within a run.
	needN, bridgeN int
}

// observe takes the load of the tick at t.
func (f *flatLine) observe(t time.Time, load float64) {
	if load == f.value && f.n > 0 {
		f.n++
		return
	}
	if f.n > 0 {
		i := f.count % flatRuns
		f.runs[i], f.vals[i] = f.n, f.value
		if need, _ := f.lengths(); f.n >= need {
			// A run taken for a flat line is not the load's level: an
			// outage's zeros say nothing of the demand around it
			// (surprise skips it).
			f.vals[i] = math.NaN()
		}
		f.count++
		if d := math.Abs(load - f.value); d > 0 && (f.res == 0 || d < f.res) {
			f.res = d
		}
	}
	f.value, f.n, f.since = load, 1, t
	f.needN, f.bridgeN = f.lengths()
}

// sample is how many ticks one sample of the load spans: the shortest of
// the last flatRuns runs of one value (one tick for a load measured every
// tick, five for per-minute ticks of a load counted in 5-minute buckets
// and held for each of its minutes, whose every value repeats five times).
func (f *flatLine) sample() int {
	step := 0
	for _, n := range f.runs {
		if n > 0 && (step == 0 || n < step) {
			step = n
		}
	}
	return max(1, step)
}

// surprise is how unlikely one sample at the run's value is for the load's
// recent level, in nats: -log of its Poisson probability, counting the
// load in its own resolution (res, one count) and taking its level as the
// mean of the last flatRuns runs. A load at one count a sample or more
// makes any one value at least 1 nat unlikely (a Poisson probability is
// at most 1/e from a mean of one up), and surprise says 1 there: the flat
// line is flatTicks samples, as it always was. Only a sparse count load,
// under one count a sample, repeats its zeros more often than that, and
// its runs must be as unlikely as flatTicks samples of a load at one
// count before they are taken for a flat line.
func (f *flatLine) surprise() float64 {
	var sum, ticks float64
	for i, n := range f.runs {
		if n > 0 && !math.IsNaN(f.vals[i]) {
			sum += float64(n) * f.vals[i]
			ticks += float64(n)
		}
	}
	if f.res <= 0 || ticks == 0 || f.value < 0 {
		return 1
	}
	lambda := sum / ticks / f.res
	c := math.Round(f.value / f.res)
	lg, _ := math.Lgamma(c + 1)
	nll := lambda + lg
	if c > 0 {
		if lambda <= 0 {
			return 1
		}
		nll -= c * math.Log(lambda)
	}
	return math.Min(1, nll)
}

// samplesFor is how many samples, each s nats unlikely (surprise), a run
// needs to be as unlikely as nats nats of a load at one count a sample
// (flatRunCap at most).
func samplesFor(s, nats float64) int {
	if s*flatRunCap <= nats {
		return flatRunCap
	}
	return int(math.Ceil(nats/s - 1e-9))
}

// lengths computes, from the runs seen and the run's value, need and
// bridgeFrom: flatTicks samples, or as many more as a sparse load needs
// for its run to be as unlikely as that (surprise), and one sample, or as
// many more as it needs to be as unlikely as one sample of a load at one
// count.
func (f *flatLine) lengths() (need, bridgeFrom int) {
	step, s := f.sample(), f.surprise()
	return step * max(flatTicks, samplesFor(s, flatTicks)), step * max(1, samplesFor(s, 1))
}

// need is how many ticks in a row the load must repeat to be a flat line.
func (f *flatLine) need() int { return f.needN }

// bridgeFrom is the run's length after which the bridge (bridgeFlat) may
// stretch the window.
func (f *flatLine) bridgeFrom() int { return f.bridgeN }

// recognised reports whether the run in progress is long enough to be a
// flat line.
func (f *flatLine) recognised() bool { return f.n > 0 && f.n >= f.needN }

// outageLevel reports whether load is next to nothing for current
// replicas of capacity: under flatShare of what they serve, as an outage
// leaves, where a plateau of real demand would not. The outage hold and
// its bridge (bridgeFlat) read a flat line only at that level.
func outageLevel(load float64, current int, capacity float64) bool {
	return load < flatShare*float64(current)*capacity
}

// bridgeFlat stretches a scale-down window shorter than a flat line's
// recognition (flatLine.need ticks) to that length while a flat line is
// in progress: the load has repeated one value beyond a sample of its own
// resolution (a sparse count load, beyond a run as unlikely as one sample
// of a load at one count: bridgeFrom), at under flatShare of the current
// replicas' capacity, as an outage's does. Without it a short window
// (the skill selector's or the adaptive hold's) lets the replicas go
// before the outage hold can see the flat line and keep them; a run that
// breaks before it is recognised costs that many ticks of the wider
// window, no more.
func (tr *tier) bridgeFlat(load float64, current int, capacity float64) {
	run := tr.flat.need()
	if tr.app.OutageHold <= 0 || tr.flat.n <= tr.flat.bridgeFrom() || tr.flat.n >= run || !outageLevel(load, current, capacity) {
		return
	}
	bridge := time.Duration(run) * tr.app.Tick
	switch {
	case tr.m.window <= 0 || tr.m.window >= bridge:
	case bridge >= tr.cfg.ScaleDownStabilization:
		tr.m.window = 0
	default:
		tr.m.window = bridge
	}
}
