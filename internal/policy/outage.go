package policy

import "time"

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
}

// observe takes the load of the tick at t.
func (f *flatLine) observe(t time.Time, load float64) {
	if load == f.value && f.n > 0 {
		f.n++
		return
	}
	if f.n > 0 {
		f.runs[f.count%flatRuns] = f.n
		f.count++
	}
	f.value, f.n, f.since = load, 1, t
}

// need is how many ticks in a row the load must repeat to be a flat line:
// flatTicks of its samples, a sample being the shortest of the last
// flatRuns runs of one value (one tick for a load measured every tick,
// five for per-minute ticks of a load counted in 5-minute buckets and
// held for each of its minutes, whose every value repeats five times).
func (f *flatLine) need() int {
	step := 0
	for _, n := range f.runs {
		if n > 0 && (step == 0 || n < step) {
			step = n
		}
	}
	return flatTicks * max(1, step)
}

// recognised reports whether the run in progress is long enough to be a
// flat line.
func (f *flatLine) recognised() bool { return f.n >= f.need() }

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
// resolution, at under flatShare of the current replicas' capacity, as an
// outage's does. Without it a short window (the skill selector's or the
// adaptive hold's) lets the replicas go before the outage hold can see
// the flat line and keep them; a run that breaks before it is recognised
// costs that many ticks of the wider window, no more.
func (tr *tier) bridgeFlat(load float64, current int, capacity float64) {
	run := tr.flat.need()
	if tr.app.OutageHold <= 0 || tr.flat.n <= run/flatTicks || tr.flat.n >= run || !outageLevel(load, current, capacity) {
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
