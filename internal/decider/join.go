package decider

import (
	"slices"
	"time"

	"github.com/headroomhq/headroom/proto"
)

// frame is everything known about one app at one tick.
type frame struct {
	ts        int64
	metrics   map[string]*proto.Metrics
	incidents map[string][]string
	forecasts map[string]*proto.Forecast
	// missing names, by tier, the inputs an overdue tick was released
	// without ("anomaly", "forecast"); nil for a complete tick.
	missing map[string][]string
}

// joiner buffers one app's inputs and releases complete ticks in event-time
// order. It is not safe for concurrent use.
type joiner struct {
	step time.Duration // forecast bucket width
	// limit bounds pending: a metrics tick beyond it releases the oldest
	// pending tick as it is, overdue (see overdue); 0 for no bound.
	limit int
	// wait is how long, in event time (ms), a tick waits for a tier whose
	// metrics lag the app's newest tick, as when an app's tiers are pushed
	// by separate pushers: a tier whose latest tick is more than wait
	// behind the app's newest is not waited for (it has stopped, or lags
	// further than the join waits). 0 waits for no tier: a later tick of
	// any tier completes the metrics of a tick.
	wait int64

	metrics   map[int64]map[string]*proto.Metrics
	anomalies map[int64]map[string][]string
	forecasts map[string][]*proto.Forecast // per tier, by origin

	metricsWM int64               // latest metrics tick of any tier
	tiers     map[string]tierMark // per tier: when a tick waits for it (metricsIn)
	closedWM  int64               // latest tick declared complete by close (offline drivers)
	anomalyWM map[string]int64    // per tier
	pending   []int64             // metric tick times not yet released, sorted
	released  int64
	// releasedTiers holds the metrics of the last tick released, by tier,
	// to tell a redelivery of one of them from a tier's tick that came
	// after its frame was released.
	releasedTiers map[string]*proto.Metrics
}

func newJoiner(step time.Duration) *joiner {
	return &joiner{step: step, metrics: map[int64]map[string]*proto.Metrics{}, anomalies: map[int64]map[string][]string{},
		forecasts: map[string][]*proto.Forecast{}, anomalyWM: map[string]int64{}, tiers: map[string]tierMark{}}
}

// tierMark is what the join knows of one tier's metrics, to wait for the
// tier when its ticks lag the app's newest (see metricsIn).
type tierMark struct {
	latest int64 // latest tick of the tier, added or not
	// from: ticks at or before it do not wait for the tier. A tier the join
	// starts to wait for (first seen, or back after it was more than wait
	// behind) with a tick that came too late for its frame is waited for
	// only by ticks after the newest then; earlier ticks may already be
	// complete.
	from int64
}

// addMetrics adds a metrics tick to its frame and reports whether it did. A
// tick at or before the last tick released is not added (the caller counts
// it): redelivered says it is that tick's metrics of a tier already
// released, else it came too late for its frame (out of order). Nor is a
// tier's tick whose metrics are already in (metricsIn: a later tick of the
// app came and no tier it waits for lags behind the tick, or the tick was
// closed): whether its frame was released yet depends on when the other
// streams' inputs came, so adding it would make the frame depend on the
// interleaving of the three streams (a take-over replays the metrics
// first) rather than on the metrics stream alone.
func (j *joiner) addMetrics(m *proto.Metrics) (added, redelivered bool) {
	tm, known := j.tiers[m.Tier]
	if m.TS <= j.released || j.metricsIn(m.TS) {
		if !known || j.metricsWM-tm.latest > j.wait {
			tm.from = j.metricsWM
		}
		tm.latest = max(tm.latest, m.TS)
		j.tiers[m.Tier] = tm
		if m.TS <= j.released {
			_, again := j.releasedTiers[m.Tier]
			return false, again && m.TS == j.released
		}
		_, again := j.metrics[m.TS][m.Tier]
		return false, again
	}
	byTier, ok := j.metrics[m.TS]
	if !ok {
		byTier = map[string]*proto.Metrics{}
		j.metrics[m.TS] = byTier
		i, _ := slices.BinarySearch(j.pending, m.TS)
		j.pending = slices.Insert(j.pending, i, m.TS)
	}
	byTier[m.Tier] = m
	j.metricsWM = max(j.metricsWM, m.TS)
	tm.latest = max(tm.latest, m.TS)
	j.tiers[m.Tier] = tm
	return true, false
}

// metricsIn reports whether the metrics of the tick at ts are all in, as
// far as the join waits for them: the tick was closed, or a later tick of
// the app came and no tier the join waits for at ts lags behind it. A tier
// is waited for while its latest tick is at most wait behind the app's
// newest (beyond that it has stopped, or lags further than the join
// waits), by the ticks after its mark's from. metricsIn depends on the
// metrics stream alone, not on when the other streams' inputs came; once
// true for a tick it stays true, and it is true for every earlier tick.
func (j *joiner) metricsIn(ts int64) bool {
	if ts <= j.closedWM {
		return true
	}
	if j.metricsWM <= ts {
		return false
	}
	for _, tm := range j.tiers {
		if ts > tm.from && tm.latest < ts && j.metricsWM-tm.latest <= j.wait {
			return false
		}
	}
	return true
}

func (j *joiner) addAnomaly(a *proto.Anomaly) {
	j.anomalyWM[a.Tier] = max(j.anomalyWM[a.Tier], a.TS)
	if a.TS <= j.released {
		return
	}
	byTier, ok := j.anomalies[a.TS]
	if !ok {
		byTier = map[string][]string{}
		j.anomalies[a.TS] = byTier
	}
	byTier[a.Tier] = a.Open
}

func (j *joiner) addForecast(f *proto.Forecast) {
	fs := j.forecasts[f.Tier]
	if n := len(fs); n > 0 && f.TS <= fs[n-1].TS {
		return
	}
	j.forecasts[f.Tier] = append(fs, f)
}

// forecastAt returns tier's latest forecast with origin at or before ts.
func (j *joiner) forecastAt(tier string, ts int64) *proto.Forecast {
	fs := j.forecasts[tier]
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].TS <= ts {
			return fs[i]
		}
	}
	return nil
}

// close declares that the metrics of every tier of the app up to ts are in,
// as a later metrics tick does: a driver that knows the app's tiers (the
// offline evaluation) closes a tick without waiting for the next one. The
// tick's frame is the same either way, so is its decision.
func (j *joiner) close(ts int64) {
	j.closedWM = max(j.closedWM, ts)
}

// complete reports whether the tick at ts can be evaluated.
func (j *joiner) complete(ts int64) bool {
	if !j.metricsIn(ts) {
		return false
	}
	bucket := proto.Millis(proto.Time(ts).Truncate(j.step))
	for tier := range j.metrics[ts] {
		if j.anomalyWM[tier] < ts {
			return false
		}
		fs := j.forecasts[tier]
		if len(fs) == 0 || fs[len(fs)-1].TS < bucket {
			return false
		}
	}
	return true
}

// next releases the earliest pending tick if it is complete.
func (j *joiner) next() (*frame, bool) {
	if len(j.pending) == 0 || !j.complete(j.pending[0]) {
		return nil, false
	}
	return j.pop(), true
}

// overdue releases the earliest pending tick, complete or not, when more
// than limit ticks are pending: its anomaly message or forecast is so late
// that keeping it would let the backlog, and the memory it holds, grow for
// as long as an upstream stage is down. The frame names what it lacks in
// missing. Only the count of metrics ticks decides it, so the same input
// order releases the same ticks overdue.
func (j *joiner) overdue() (*frame, bool) {
	if j.limit <= 0 || len(j.pending) <= j.limit {
		return nil, false
	}
	ts := j.pending[0]
	bucket := proto.Millis(proto.Time(ts).Truncate(j.step))
	missing := map[string][]string{}
	for tier := range j.metrics[ts] {
		if j.anomalyWM[tier] < ts {
			missing[tier] = append(missing[tier], "anomaly")
		}
		if fs := j.forecasts[tier]; len(fs) == 0 || fs[len(fs)-1].TS < bucket {
			missing[tier] = append(missing[tier], "forecast")
		}
	}
	f := j.pop()
	f.missing = missing
	return f, true
}

// pop releases the earliest pending tick with the inputs it has.
func (j *joiner) pop() *frame {
	ts := j.pending[0]
	j.pending = j.pending[1:]
	f := &frame{ts: ts, metrics: j.metrics[ts], incidents: map[string][]string{}, forecasts: map[string]*proto.Forecast{}}
	for tier := range f.metrics {
		f.incidents[tier] = j.anomalies[ts][tier]
		f.forecasts[tier] = j.forecastAt(tier, ts)
	}
	delete(j.metrics, ts)
	for at := range j.anomalies {
		if at <= ts {
			delete(j.anomalies, at)
		}
	}
	// Keep only the forecasts a later tick may still use.
	for tier, fs := range j.forecasts {
		keep := 0
		for i, fc := range fs {
			if fc.TS <= ts {
				keep = i
			}
		}
		j.forecasts[tier] = fs[keep:]
	}
	j.released, j.releasedTiers = ts, f.metrics
	return f
}
