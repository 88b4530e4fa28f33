package forecaster

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// Lookback is how much METRICS history, in event time before the first live
// tick, rebuilds a tier's forecasting state exactly: the Window + RefitEvery
// buckets a forecast.Series holds, plus one bucket for the partial first
// bucket the bucketing rule drops. A restart or a returning (evicted) tier
// needs to replay no more than this.
func (c Config) Lookback() time.Duration {
	return time.Duration(c.Model.Window+c.Model.RefitEvery+1) * c.Model.Step
}

// series is one tier's state.
type series struct {
	app, tier string
	b         forecast.Bucketer
	s         *forecast.Series
	// sentTS is the origin (ms) of the last forecast stored before this
	// process started (read from FORECASTS): replayed buckets up to it are
	// observed without publishing again.
	sentTS int64
	// lastTS is the last tick folded in (ms). A forecast it produced is in
	// the outbox, which stores it whatever happens, so a redelivered tick at
	// or before lastTS is skipped without leaving a gap.
	lastTS int64
	// lastSeen is the arrival of its last tick (ms), for idleness.
	lastSeen int64
}

// Tiers is the forecaster's stage: its state for every tier it knows (each
// tier's bucketer, internal/forecast's one bucketing rule, and
// forecast.Series) and its step, Step. It is the pure part of the service,
// with no NATS and no clock, driven the same way by the live consumer
// (Service), by the offline scaling evaluation (scaleeval.RecordTape,
// behind `decider simulate`) and by tests and benchmarks; it is not safe
// for concurrent use.
//
// Its size is bounded: new tiers are admitted within the configured series
// limits (a refused tick returns the *limits.Error naming the limit), and a
// tier that has had no tick for limits.IdleAfter of arrival time (see
// Arrive) is dropped; if it comes back, Returning tells the runtime to
// replay its recorded ticks of Config.Lookback first, so it resumes where
// it was.
type Tiers struct {
	cfg    Config
	log    zerolog.Logger
	admit  *limits.Series
	idle   limits.Idle
	series map[string]*series
	// dropped remembers, per app and tier, the last output stored before
	// this start or before an eviction (a tier rebuilt by a replay outputs
	// none of it again) and the tiers evicted for idleness (Returning).
	dropped limits.Dropped
	// FitTime, when set, is told how long each forecast took (wall time;
	// it feeds a metric, never a forecast).
	FitTime func(time.Duration)
}

// NewTiers returns empty state for cfg within lim's series limits.
func NewTiers(cfg Config, lim config.Limits, log zerolog.Logger) *Tiers {
	return &Tiers{cfg: cfg, log: log, admit: limits.NewSeries(lim.MaxSeriesPerApp, lim.MaxSeries), idle: limits.NewIdle(lim.IdleAfter),
		series: map[string]*series{}, dropped: limits.NewDropped()}
}

// Arrive gives the arrival time of the next input: the stream's stored
// timestamp of its message. Idle tiers are dropped by arrival time
// (limits.Idle); without Arrive an input arrives at its event time.
func (ts *Tiers) Arrive(t time.Time) { ts.idle.Arrive(t) }

// Len returns the number of tiers held.
func (ts *Tiers) Len() int { return len(ts.series) }

// Has says whether app.tier's state is held.
func (ts *Tiers) Has(app, tier string) bool {
	_, ok := ts.series[app+"."+tier]
	return ok
}

// SetSent records that forecasts of app.tier up to origin t were stored
// before this process started: replayed ticks up to there rebuild state
// without forecasting again.
func (ts *Tiers) SetSent(app, tier string, t time.Time) {
	ts.dropped.SetSent(limits.Key{App: app, Tier: tier}, proto.Millis(t))
	if se, ok := ts.series[app+"."+tier]; ok {
		se.sentTS = proto.Millis(t)
	}
}

// Returning reports, once, that app.tier's state was evicted for
// idleness and the tier is back: a runtime replays its recorded ticks of
// the lookback before the new one, and the forecasts they make again are
// not output (they were stored before the eviction).
func (ts *Tiers) Returning(app, tier string) bool {
	return ts.dropped.Returning(limits.Key{App: app, Tier: tier})
}

// get returns app.tier's state, building it when new and admitted.
func (ts *Tiers) get(app, tier string) (*series, error) {
	key := app + "." + tier
	if se, ok := ts.series[key]; ok {
		return se, nil
	}
	if err := ts.admit.Admit(app, tier); err != nil {
		return nil, fmt.Errorf("forecaster state: %w", err)
	}
	// Spread the series' refits over the refit period, so 10,000 series
	// do not all refit on the same bucket. The phase depends on the tier
	// only, not the app, so a shadow replay of an app refits on the same
	// buckets as the original and forecasts identically.
	mc := ts.cfg.Model
	mc.RefitOffset = refitOffset(tier, mc.RefitEvery)
	k := limits.Key{App: app, Tier: tier}
	sent, _ := ts.dropped.Sent(k)
	se := &series{app: app, tier: tier, b: forecast.NewBucketer(mc.Step), s: forecast.NewSeries(mc), sentTS: sent}
	ts.series[key] = se
	ts.dropped.Held(k)
	return se, nil
}

// Step folds one tick into its tier. When the tick opens a new bucket it
// returns that bucket's forecast, stamped with the bucket's start, to be
// stored; every bucket gets exactly one, empty while the tier has no closed
// bucket, so the decider can wait for it without ever waiting forever. It
// returns nil for a tick that opens no bucket, a tick without the metric,
// a redelivered tick, and a bucket whose forecast was stored before a
// restart; late reports a tick older than its tier's open bucket (ignored).
// An error is permanent for the tick: a tier refused by a series limit (a
// *limits.Error) or a bucket the series cannot take.
func (ts *Tiers) Step(tick *proto.Metrics) (f *proto.Forecast, late bool, err error) {
	v, ok := tick.Values[ts.cfg.Metric]
	if !ok {
		return nil, false, nil
	}
	at, due, cutoff := ts.idle.Seen(tick.TS)
	if se, ok := ts.series[tick.App+"."+tick.Tier]; ok {
		// Seen now, so the sweep below keeps it: a tier just rebuilt
		// from its history has only that history's old arrivals.
		se.lastSeen = max(se.lastSeen, at)
	}
	if due { // first: a tier it evicts is rebuilt by get
		ts.Evict(proto.Time(cutoff))
	}
	se, err := ts.get(tick.App, tick.Tier)
	if err != nil {
		return nil, false, err
	}
	se.lastSeen = max(se.lastSeen, at)
	if tick.TS <= se.lastTS {
		return nil, false, nil // redelivered (a forecast it made is stored or queued) or late
	}
	t := tick.EventTime()
	if se.b.Started() && t.Before(se.b.Open()) {
		return nil, true, nil
	}
	se.lastTS = tick.TS
	before := se.b.Open()
	closed, ok, err := se.b.Add(t, v)
	if err != nil {
		return nil, true, nil
	}
	origin := se.b.Open()
	if origin.Equal(before) {
		return nil, false, nil // same bucket
	}
	// A new bucket began: it gets its forecast, made from the bucket that
	// just closed (none when that was the partial first bucket).
	if ok {
		if err := se.s.Observe(closed.Start, closed.Mean); err != nil {
			return nil, false, fmt.Errorf("observe bucket %s: %w", closed.Start.Format(time.RFC3339), err)
		}
	}
	if proto.Millis(origin) <= se.sentTS {
		return nil, false, nil // stored before a restart
	}
	return ts.forecast(se, closed.Start, origin, ok), false, nil
}

// Evict drops every tier whose last tick is before cutoff and frees its
// place under the series limits; it returns how many were dropped. Step
// calls it by event time; a runtime may call it too.
func (ts *Tiers) Evict(cutoff time.Time) int {
	c, n := proto.Millis(cutoff), 0
	for key, se := range ts.series {
		if se.lastSeen < c {
			delete(ts.series, key)
			ts.admit.Forget(se.app, se.tier)
			// Every bucket opened up to its last tick has its forecast
			// stored or queued: a rebuild from its history outputs none
			// of them again.
			ts.dropped.Evict(limits.Key{App: se.app, Tier: se.tier}, se.lastTS)
			n++
		}
	}
	return n
}

// forecast predicts from the bucket after last (the bucket just closed) and
// keeps the points from origin on: buckets between them were missing. With
// nothing to forecast from it returns an empty forecast.
func (ts *Tiers) forecast(se *series, last, origin time.Time, closed bool) *proto.Forecast {
	app, tier, step := se.app, se.tier, ts.cfg.Model.Step
	ms := proto.Millis(origin)
	f := &proto.Forecast{V: proto.SchemaVersion, ID: proto.ForecastID(app, tier, ts.cfg.Metric, ms), App: app, Tier: tier, TS: ms,
		Metric: ts.cfg.Metric, StepMS: step.Milliseconds(), Model: "none"}
	if !closed {
		return f
	}
	skip := max(int(origin.Sub(last)/step)-1, 0)
	began := time.Now()
	pts, info, err := se.s.Forecast(ts.cfg.Horizon + skip)
	if ts.FitTime != nil {
		ts.FitTime(time.Since(began))
	}
	if err != nil {
		ts.log.Warn().Err(err).Str("app", app).Str("tier", tier).Msg("no forecast")
		return f
	}
	pts = pts[skip:]
	f.Model, f.Trained = info.Model, info.Trained
	f.Points = make([]proto.ForecastPoint, len(pts))
	for i, p := range pts {
		f.Points[i] = proto.ForecastPoint{TS: proto.Millis(p.Time), Yhat: p.Yhat, Lo80: p.Lo80, Hi80: p.Hi80, Lo95: p.Lo95, Hi95: p.Hi95}
		sanitize(&f.Points[i])
	}
	return f
}

// refitOffset is tier's phase in the refit schedule: a hash of its name.
func refitOffset(tier string, every int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(tier))
	return int(h.Sum32() % uint32(max(every, 1)))
}
