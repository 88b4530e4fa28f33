package scaleeval

import (
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/policy"
)

// Forecaster turns a minute stream into forecasts the way the live
// forecaster service does: the samples are bucketed by internal/forecast's
// one rule (forecast.Bucketer: 5-minute means stamped with the bucket
// start, a partial first bucket dropped), each closed bucket feeds a
// forecast.Series, and the forecast made when a minute opens a new bucket
// is stamped with that bucket's start and visible from it on, as the
// decider joins forecasts with origin at or before a tick.
type Forecaster struct {
	series  *forecast.Series
	buckets forecast.Bucketer
	step    time.Duration
	horizon int
	latest  *policy.Forecast
}

// NewForecaster returns a Forecaster publishing horizon buckets ahead.
func NewForecaster(cfg forecast.Config, horizon int) *Forecaster {
	return &Forecaster{series: forecast.NewSeries(cfg), buckets: forecast.NewBucketer(cfg.Step), step: cfg.Step, horizon: horizon}
}

// Observe folds the minute starting at t into its bucket and returns the
// forecast visible at t (nil while none is). A minute that opens a new
// bucket closes the previous one; the forecast made from it is visible from
// this minute on.
func (f *Forecaster) Observe(t time.Time, v float64) (*policy.Forecast, error) {
	closed, ok, err := f.buckets.Add(t, v)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	if !ok {
		return f.latest, nil
	}
	if err := f.series.Observe(closed.Start, closed.Mean); err != nil {
		return nil, fmt.Errorf("forecast observe: %w", err)
	}
	origin := f.buckets.Open()
	skip := max(int(origin.Sub(closed.Start)/f.step)-1, 0) // buckets missing since the closed one
	pts, _, err := f.series.Forecast(f.horizon + skip)
	if err != nil {
		// Nothing to forecast from yet: the policy runs on the recent level.
		return f.latest, nil
	}
	f.latest = &policy.Forecast{Origin: origin, Step: f.step, Points: pts[skip:]}
	return f.latest, nil
}

// RecordForecasts runs a Forecaster over the trace and returns, per minute,
// the forecast visible at that minute. Forecasts depend on the demand only,
// so one tape serves every policy run on the same trace.
func RecordForecasts(times []time.Time, demand []float64, cfg forecast.Config, horizon int) ([]*policy.Forecast, error) {
	if horizon <= 0 {
		return nil, nil
	}
	f := NewForecaster(cfg, horizon)
	tape := make([]*policy.Forecast, len(demand))
	for i := range demand {
		fc, err := f.Observe(times[i], demand[i])
		if err != nil {
			return nil, fmt.Errorf("minute %d: %w", i, err)
		}
		tape[i] = fc
	}
	return tape, nil
}
