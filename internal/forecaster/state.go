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

// series is one tier's state: its bucketer (internal/forecast's one
// bucketing rule) and its forecast.Series.
type series struct {
	b forecast.Bucketer
	s *forecast.Series
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
// What it remembers of a tier it dropped is forgotten once the tier has
// been gone for Config.Lookback (limits.Tiers.RememberFor): there is
// nothing left to replay, and the tier comes back as a new one.
type Tiers struct {
	// Tiers holds each tier's state within the series limits and what
	// was stored of its forecasts (Arrive, SetSent, Returning, Forget,
	// Evict, Len).
	*limits.Tiers[*series]
	cfg Config
	log zerolog.Logger
	// FitTime, when set, is told how long each forecast took (wall time;
	// it feeds a metric, never a forecast).
	FitTime func(time.Duration)
	// Late, when set, is told of every tick with the metric Step ignores
	// because its tier has already handled a tick at or after its time
	// (last, Unix ms): a redelivery when the times are equal, else a tick
	// out of order (an older tick, or a copy of one stored again past the
	// stream's duplicate window).
	Late func(tick *proto.Metrics, last int64)
}

// NewTiers returns empty state for cfg within lim's series limits.
func NewTiers(cfg Config, lim config.Limits, log zerolog.Logger) *Tiers {
	ts := &Tiers{Tiers: limits.NewTiers[*series](lim.MaxSeriesPerApp, lim.MaxSeries, lim.IdleAfter), cfg: cfg, log: log}
	// A tier gone for longer than the lookback has nothing to replay:
	// forget it rather than keep a record of every tier ever seen.
	ts.RememberFor(cfg.Lookback())
	return ts
}

// Has says whether app.tier's state is held.
func (ts *Tiers) Has(app, tier string) bool {
	_, ok := ts.Get(app, tier)
	return ok
}

// newSeries is tier's empty state.
func (ts *Tiers) newSeries(tier string) *series {
	// Spread the series' refits over the refit period, so 10,000 series
	// do not all refit on the same bucket. The phase depends on the tier
	// only, not the app, so a shadow replay of an app refits on the same
	// buckets as the original and forecasts identically.
	mc := ts.cfg.Model
	mc.RefitOffset = refitOffset(tier, mc.RefitEvery)
	return &series{b: forecast.NewBucketer(mc.Step), s: forecast.NewSeries(mc)}
}

// Step folds one tick into its tier. When the tick opens a new bucket it
// returns that bucket's forecast, stamped with the bucket's start, to be
// stored; every bucket gets exactly one, empty while the tier has no closed
// bucket, so the decider can wait for it without ever waiting forever. It
// returns nil for a tick that opens no bucket, a tick without the metric
// (for which the decider, reading the tick alone, waits for none: its
// Config.ForecastMetric mirrors this rule, so keep the two alike), a
// redelivered tick, and a bucket whose forecast was stored before a
// restart. A tick at or before the last its tier handled is ignored and
// reported to Late; late reports a tick older than its tier's open bucket
// the bucketing refuses (ignored).
// An error is permanent for the tick: a tier refused by a series limit (a
// *limits.Error) or a bucket the series cannot take.
func (ts *Tiers) Step(tick *proto.Metrics) (f *proto.Forecast, late bool, err error) {
	v, ok := tick.Values[ts.cfg.Metric]
	if !ok {
		return nil, false, nil
	}
	e, err := ts.Tick(tick.App, tick.Tier, tick.TS, func() *series { return ts.newSeries(tick.Tier) })
	if err != nil {
		return nil, false, fmt.Errorf("forecaster state: %w", err)
	}
	if tick.TS <= e.LastTS {
		// Redelivered (a forecast it made is stored or queued) or late.
		if ts.Late != nil {
			ts.Late(tick, e.LastTS)
		}
		return nil, false, nil
	}
	se := e.State
	t := tick.EventTime()
	if se.b.Started() && t.Before(se.b.Open()) {
		return nil, true, nil
	}
	e.LastTS = tick.TS
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
	if proto.Millis(origin) <= e.SentTS {
		return nil, false, nil // stored before a restart
	}
	return ts.forecast(e.Key, se, closed.Start, origin, ok), false, nil
}

// forecast predicts from the bucket after last (the bucket just closed) and
// keeps the points from origin on: buckets between them were missing. With
// nothing to forecast from it returns an empty forecast.
func (ts *Tiers) forecast(k limits.Key, se *series, last, origin time.Time, closed bool) *proto.Forecast {
	app, tier, step := k.App, k.Tier, ts.cfg.Model.Step
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
