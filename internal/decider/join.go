package decider

import (
	"slices"
	"sort"
	"time"

	"github.com/headroomhq/headroom/proto"
)

// frame is everything known about one app at one tick.
type frame struct {
	ts        int64 // the tick's time on the grid; each tier's metrics keep their own
	metrics   map[string]*proto.Metrics
	incidents map[string][]string
	forecasts map[string]*proto.Forecast
	// missing names, by tier, the inputs an overdue tick was released
	// without ("anomaly", "forecast"); nil for a complete tick.
	missing map[string][]string
	// timedOut says the tick was released by the wall clock (see
	// joiner.expire), not by the backlog's bound.
	timedOut bool
}

// joiner buffers one app's inputs and releases complete ticks in event-time
// order. It is not safe for concurrent use.
type joiner struct {
	step time.Duration // forecast bucket width
	// metric is the metric the forecaster forecasts: it makes no
	// forecast from a tick without it (see forecastDue).
	metric string
	// tick is the app's tick interval (ms): a metrics tick joins the frame
	// of the grid point nearest its time (see grid). 0 or 1 joins ticks by
	// their exact time.
	tick int64
	// limit bounds pending: a metrics tick beyond it releases the oldest
	// pending tick as it is, overdue (see overdue); 0 for no bound.
	limit int
	// wait is how long, in event time (ms), a tick waits for a tier whose
	// metrics lag the app's newest tick, as when an app's tiers are pushed
	// by separate pushers or in batches: a tier whose latest tick is more
	// than wait behind the app's newest is not waited for (it has stopped,
	// or lags further than the join waits). 0 waits for no tier: a later
	// tick of any tier completes the metrics of a tick.
	wait int64

	metrics   map[int64]map[string]*proto.Metrics // by grid point, then tier
	anomalies map[int64]map[string][]string       // by the time of the metrics tick they judged, then tier
	forecasts map[string][]*proto.Forecast        // per tier, by origin

	metricsWM int64                // grid point of the latest metrics tick of any tier
	tiers     map[string]tierState // per tier, for advance and addMetrics
	// inWM: the metrics of every tick at or before it are in (see advance).
	inWM     int64
	closedWM int64 // latest tick declared complete by close (offline drivers)
	// anomalyWM holds, per tier, its latest anomaly message (by the time
	// of the tick it judged): that time says which ticks' messages are in
	// (complete), and a tick the input timeout decides without its own
	// message takes its open incidents (timedOut).
	anomalyWM map[string]openIncidents
	pending   []int64 // grid points of ticks not yet released, sorted
	released  int64
	// releasedTiers holds the metrics of the last tick released, by tier,
	// to tell a redelivery of one of them from a tier's tick that came
	// after its frame was released.
	releasedTiers map[string]*proto.Metrics

	// inSince holds, for the first len(inSince) pending ticks, the
	// elapsed time (ms) at which expire first found each with its metrics
	// in: the pending ticks whose metrics were in at the last expire (more
	// may be in since). The ticks whose metrics are in are a prefix of
	// pending that grows only at its end (inWM and closedWM never move
	// back, and a tick is added only where its metrics are not in), and a
	// pop takes the first of both, so the two stay aligned; the times
	// never decrease (expire shifts them back with a clock that steps
	// back). Only expire fills it.
	inSince []int64
	// expireElapsed is the elapsed time (ms) expire was last given.
	expireElapsed int64
	// expireAge is the maxAge expire was last given: how old an anomaly
	// message's incidents may be for timedOut to carry them on.
	expireAge int64
	// expireTo is the newest grid point expire let go: pending ticks up to
	// it are released with what they have (timedOut).
	expireTo int64
}

func newJoiner(step time.Duration, metric string) *joiner {
	return &joiner{step: step, metric: metric, metrics: map[int64]map[string]*proto.Metrics{}, anomalies: map[int64]map[string][]string{},
		forecasts: map[string][]*proto.Forecast{}, anomalyWM: map[string]openIncidents{}, tiers: map[string]tierState{}}
}

// tierState is what the join knows of one tier's metrics ticks (fields
// ordered to pack: the decider keeps one per tier).
type tierState struct {
	latest   int64 // grid point of its latest tick, added or not
	latestTS int64 // the time of its latest tick
	// extraAt is the grid point of the LateExtra tick of the tier last
	// reported as first (0: none yet; see extraEvery).
	extraAt int64
	// For spacing: the latest arrival of its ticks; the intervals before
	// its newest ticks over a block of spacingGaps, summed each at most
	// two ticks (span) and as they were (raw), and how many so far;
	// whether the last block judged showed it sparse.
	arrived        int64
	blockSpan, raw int64
	blockN         int32
	sparse         bool
	// behind says a LateBehind tick came and none of the tier's ticks has
	// been added since: a run of them goes on (reported once).
	behind bool
}

// extraEvery is how much event time passes between two LateExtra ticks of
// a tier reported as first: a tier sent faster than the tick has an extra
// tick every interval, and is warned of once an hour, not every tick. (A
// count of warnings rather than of time would have a take-over's replay
// use the count up in silence.)
const extraEvery = time.Hour

// spacingGaps is how many intervals between a tier's newest ticks are
// judged at once for how often the tier is sent (see spacing).
const spacingGaps = 19

// Lateness says why the join did not add a metrics tick (see Apps.Late).
type Lateness int

const (
	// LateRedelivered: its tier's tick at that time is in its frame
	// already, decided or waiting.
	LateRedelivered Lateness = iota + 1
	// LateOutOfOrder: its frame's metrics were in before it came: an older
	// tick, or one of the first ticks of a tier that starts to lag.
	LateOutOfOrder
	// LateBehind: a tick newer than any of its tier before, more than the
	// tier lag behind its app's newest tick: its tier lags further than
	// the join waits.
	LateBehind
	// LateExtra: another tick of its tier in one tick interval, at a
	// different time: its tier is sent more often than the app's tick, and
	// only the first tick of each interval is decided. The first of an hour
	// of event time is reported as first (see extraEvery).
	LateExtra
)

// grid returns the grid point of a tick at ts: the multiple of the tick
// nearest it (time.Time.Round; the collector stamps its ticks on these
// points). A tick's interval is the span of times with its grid point,
// half a tick either side. The join keys frames by it, so the tiers of an
// app pushed separately, each at its own instant of one interval, are
// decided together, at the grid point, and the policy sees one evenly
// spaced tick per interval whatever the senders' jitter. Nearest, not the
// point before: a sender that means the grid and is a little early or late
// (a schedule at the top of the minute, a clock a second off) stays in one
// interval a tick.
func (j *joiner) grid(ts int64) int64 {
	if j.tick <= 1 {
		return ts
	}
	return proto.Millis(proto.Time(ts).Round(time.Duration(j.tick) * time.Millisecond))
}

// addMetrics adds a metrics tick to the frame of its grid point, or says
// why it did not (late is 0 when it did). A tick is not added when its
// frame's metrics are in already (metricsIn): whether the frame was
// released yet depends on when the other streams' inputs came, so adding it
// would make the frame depend on the interleaving of the three streams
// (which a replay does not reproduce exactly) rather than on the metrics
// stream alone. Nor is a tier's second tick of one interval (LateExtra):
// the first stays. first says a LateBehind tick follows an added tick of
// its tier (a run begins), or a LateExtra tick is its tier's first in an
// hour.
func (j *joiner) addMetrics(m *proto.Metrics) (late Lateness, first bool) {
	at := j.grid(m.TS)
	st, seen := j.tiers[m.Tier]
	prev, prevTS := st.latest, st.latestTS
	st.latest, st.latestTS = max(st.latest, at), max(st.latestTS, m.TS)
	defer func() {
		j.tiers[m.Tier] = st
		j.advance()
	}()
	// held is the tier's tick in the frame at, decided or waiting (none in
	// a frame released before the last).
	held := j.metrics[at][m.Tier]
	if at == j.released {
		held = j.releasedTiers[m.Tier]
	}
	// A tick is added to a waiting frame whose metrics are not in yet, if
	// the frame holds no other tick of its tier (a copy of the same one is
	// added again).
	if at > j.released && !j.metricsIn(at) && (held == nil || held.TS == m.TS) {
		byTier, ok := j.metrics[at]
		if !ok {
			byTier = map[string]*proto.Metrics{}
			j.metrics[at] = byTier
			i, _ := slices.BinarySearch(j.pending, at)
			j.pending = slices.Insert(j.pending, i, at)
		}
		byTier[m.Tier] = m
		j.metricsWM = max(j.metricsWM, at)
		st.behind = false
		return 0, false
	}
	switch {
	case held != nil && held.TS == m.TS, seen && m.TS == prevTS: // a copy of a tick the tier sent before
		return LateRedelivered, false
	case held == nil && seen && at == prev && st.behind: // another tick of a lagging tier's interval
		return LateBehind, false
	case held != nil, seen && at == prev: // another tick of its tier's latest interval
		if first = st.extraAt == 0 || at-st.extraAt >= extraEvery.Milliseconds(); first {
			st.extraAt = at
		}
		return LateExtra, first
	case (!seen || at > prev) && j.metricsWM-at > j.wait:
		first = !st.behind
		st.behind = true
		return LateBehind, first
	}
	return LateOutOfOrder, false
}

// spacing follows how often tier m.Tier is sent. At each first tick of a
// newer interval than the tier's latest, it takes the time since the
// tier's latest tick (an extra one included), and reports when these
// intervals, over a block of spacingGaps, each counted at most two ticks,
// were at least 1.25 of the app's tick on average: the tier is sent less
// often than the tick, and the policy, which counts its windows in ticks,
// has them span more time than configured. A missed tick now and then, or
// one outage, does not (the cap); a tier sent every one and a half ticks
// does, and so does one sent every four. mean is the block's mean
// interval, uncapped; a run of sparse blocks is reported once. arrived is
// m's arrival time (Apps.Arrive): an interval that arrived in less than
// half its length (a backfill, a catch-up after an outage) says nothing of
// how the tier is sent, and is left out.
func (j *joiner) spacing(m *proto.Metrics, arrived int64) (mean time.Duration, report bool) {
	st, seen := j.tiers[m.Tier]
	if !seen || j.tick <= 1 {
		return 0, false // its first tick: addMetrics adds the tier
	}
	defer func() { st.arrived = max(st.arrived, arrived); j.tiers[m.Tier] = st }()
	gap := m.TS - st.latestTS
	if j.grid(m.TS) <= st.latest || gap <= 0 || st.arrived == 0 || 2*(arrived-st.arrived) < gap {
		return 0, false // an extra, a copy or an old tick; the interval from its first tick, whose arrival was not kept; or a catch-up
	}
	st.blockSpan += min(gap, 2*j.tick)
	st.raw += gap
	if st.blockN++; st.blockN < spacingGaps {
		return 0, false
	}
	span, raw := st.blockSpan, st.raw
	st.blockSpan, st.raw, st.blockN = 0, 0, 0
	sparse := 4*span >= 5*spacingGaps*j.tick
	report = sparse && !st.sparse
	st.sparse = sparse
	return time.Duration(raw/spacingGaps) * time.Millisecond, report
}

// advance moves inWM, after each metrics tick added or not, as far as the
// tiers the join waits for allow: to just before the app's
// newest tick, but not past the latest tick of any tier at most wait
// behind it. inWM never moves back, so a tick once in stays in, as does
// every earlier one; and a tick seen again (a redelivery) moves nothing,
// so inWM, and with it whether a tier's tick is added, depends on the
// metrics stream as stored alone, not on redeliveries or on when the other
// streams' inputs came. A tier first seen, or back, on a tick that came
// after its frame's metrics were in holds inWM from then on, so its later
// ticks are waited for.
func (j *joiner) advance() {
	in := j.metricsWM - 1
	for _, st := range j.tiers {
		if j.metricsWM-st.latest <= j.wait {
			in = min(in, st.latest)
		}
	}
	j.inWM = max(j.inWM, in)
}

// metricsIn reports whether the metrics of the tick at ts are all in, as
// far as the join waits for them: the tick was closed, or is at or before
// inWM.
func (j *joiner) metricsIn(ts int64) bool {
	return ts <= max(j.inWM, j.closedWM)
}

// addAnomaly keeps an anomaly message under the time of the metrics tick it
// judged: a frame takes, for each tier, the one judging the tick it holds.
func (j *joiner) addAnomaly(a *proto.Anomaly) {
	if lo, ok := j.anomalyWM[a.Tier]; !ok || a.TS > lo.ts {
		j.anomalyWM[a.Tier] = openIncidents{ts: a.TS, open: a.Open}
	}
	if j.grid(a.TS) <= j.released {
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
	for tier, m := range j.metrics[ts] {
		if j.anomalyWM[tier].ts < m.TS || (j.forecastDue(m) && !j.forecastIn(tier, m.TS)) {
			return false
		}
	}
	return true
}

// forecastDue says whether a forecast is to come for the bucket of tick m,
// by the forecaster's rule (forecaster.Tiers.Step): it makes none from a
// tick without the metric it forecasts, not even at a bucket's start. A
// tick without it (a tier whose scrape rule's counter was never exposed, a
// pusher that sends no rps) so waits for no forecast, which would come, if
// ever, only with a later tick of its bucket that has the metric: waiting
// would hold the tick and its app's other tiers until the input timeout or
// the backlog's bound. It is decided without one, never with whichever
// forecast happened to have come (that would depend on when it came); a
// tier behind it derives no forecast from it on that tick. This reads the
// tick alone, so it is the same live, replayed and offline.
func (j *joiner) forecastDue(m *proto.Metrics) bool { return hasValue(m, j.metric) }

// forecastIn says whether tier's forecast for the bucket holding its tick
// at ts is in: the forecaster publishes it as the bucket's first tick
// comes, so it is judged by the tick's own time, not its grid point (which
// may be in the next bucket, whose forecast only the tier's next tick
// brings: a tier that stopped there would hold its app back).
func (j *joiner) forecastIn(tier string, ts int64) bool {
	fs := j.forecasts[tier]
	return len(fs) > 0 && fs[len(fs)-1].TS >= proto.Millis(proto.Time(ts).Truncate(j.step))
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
	return j.popIncomplete(), true
}

// openIncidents are the incidents an anomaly message found open, and the
// time of the tick it judged.
type openIncidents struct {
	ts   int64
	open []string
}

// expire lets go, by the clock, of the ticks whose inputs an upstream
// stage has not sent in time: every pending tick up to the newest one
// whose metrics are in, that has waited at least wait (ms) since expire
// first found its metrics in, and whose time is at most maxAge before now
// and at most ahead after it. now is the wall clock (Unix ms), read
// against the ticks' event times; elapsed is a clock that should only run
// forward (ms from any origin; live, the monotonic clock), read for the
// waits alone, so that a wall clock stepped forward (an NTP step, a VM
// resumed) does not cut a wait short. timedOut then releases them, oldest
// first. A tick older than maxAge, or further ahead, is released so
// only with a tick in between: its decision could not be acted on (too
// old, or from a clock so far ahead the executor refuses it), and waiting
// keeps it decided on the recorded inputs alone. Which ticks expire lets
// go depends on when this process read its inputs, so a replay of the
// same streams may decide them otherwise, with inputs that came later;
// expire is the one place the clock reaches the join.
func (j *joiner) expire(now, elapsed, wait, maxAge, ahead int64) {
	if elapsed < j.expireElapsed {
		// The clock stepped back (it can, read off the wall: see
		// Apps.Expire): the ticks waiting go on waiting from where they
		// were (the step counts as no time). Left as they were, their
		// times, later than any to come for as long as the step, would
		// keep each of them, and every tick behind them, from timing out
		// until the clock caught up.
		for i := range j.inSince {
			j.inSince[i] -= j.expireElapsed - elapsed
		}
	}
	j.expireElapsed, j.expireAge = elapsed, maxAge
	for len(j.inSince) < len(j.pending) && j.metricsIn(j.pending[len(j.inSince)]) {
		j.inSince = append(j.inSince, elapsed)
	}
	// The ticks that waited long enough are a prefix (inSince never
	// decreases); its newest not too far ahead decides.
	k := sort.Search(len(j.inSince), func(i int) bool { return j.inSince[i] > elapsed-wait })
	k = sort.Search(k, func(i int) bool { return j.pending[i]-now > ahead })
	if k > 0 && now-j.pending[k-1] <= maxAge {
		j.expireTo = max(j.expireTo, j.pending[k-1])
	}
}

// timedOut releases the earliest pending tick if expire let go of it,
// naming what it lacks in missing. A tier without its anomaly message
// takes the incidents open in the tier's latest one, if that judged a
// tick at most expire's maxAge before: a slow anomaly service delays the
// incidents it reports rather than closing them (an incident on a tier
// changes how the policy reads its load).
func (j *joiner) timedOut() (*frame, bool) {
	if len(j.pending) == 0 || j.pending[0] > j.expireTo {
		return nil, false
	}
	f := j.popIncomplete()
	f.timedOut = true
	for tier, miss := range f.missing {
		if lo, ok := j.anomalyWM[tier]; ok && slices.Contains(miss, "anomaly") && f.metrics[tier].TS-lo.ts <= j.expireAge {
			f.incidents[tier] = lo.open
		}
	}
	return f, true
}

// popIncomplete releases the earliest pending tick with what it has, and
// names in missing, by tier, the inputs it lacks.
func (j *joiner) popIncomplete() *frame {
	ts := j.pending[0]
	missing := map[string][]string{}
	for tier, m := range j.metrics[ts] {
		if j.anomalyWM[tier].ts < m.TS {
			missing[tier] = append(missing[tier], "anomaly")
		}
		if j.forecastDue(m) && !j.forecastIn(tier, m.TS) {
			missing[tier] = append(missing[tier], "forecast")
		}
	}
	f := j.pop()
	f.missing = missing
	return f
}

// pop releases the earliest pending tick with the inputs it has.
func (j *joiner) pop() *frame {
	ts := j.pending[0]
	j.pending = j.pending[1:]
	if len(j.inSince) > 0 {
		j.inSince = j.inSince[1:]
	}
	f := &frame{ts: ts, metrics: j.metrics[ts], incidents: map[string][]string{}, forecasts: map[string]*proto.Forecast{}}
	for tier, m := range f.metrics {
		f.incidents[tier] = j.anomalies[m.TS][tier]
		if j.forecastDue(m) {
			f.forecasts[tier] = j.forecastAt(tier, m.TS) // forecasts' origins are bucket starts: the one forecastIn waited for
		}
	}
	delete(j.metrics, ts)
	for at := range j.anomalies {
		if j.grid(at) <= ts {
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
