package scaleeval

import (
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/policy"
)

// Forecaster turns a minute stream into forecasts the way the live
// forecaster service does: closed 5-minute bucket means (stamped with the
// bucket start) feed a forecast.Series, one forecast is made per closed
// bucket, and it becomes visible from its origin on (the start of the next
// bucket), as the decider joins forecasts with origin at or before a tick.
type Forecaster struct {
	series  *forecast.Series
	step    time.Duration
	horizon int
	bucket  time.Time
	sum     float64
	n       int
	latest  *policy.Forecast
	next    *policy.Forecast // made at a bucket close, visible from its origin
}

// NewForecaster returns a Forecaster publishing horizon buckets ahead.
func NewForecaster(cfg forecast.Config, horizon int) *Forecaster {
	return &Forecaster{series: forecast.NewSeries(cfg), step: cfg.Step, horizon: horizon}
}

// Observe folds the minute starting at t into its bucket and returns the
// forecast visible at t (nil while none is). A minute that completes its
// bucket closes it; the resulting forecast is visible from the next minute.
func (f *Forecaster) Observe(t time.Time, v float64) (*policy.Forecast, error) {
	if f.next != nil && !t.Before(f.next.Origin) {
		f.latest, f.next = f.next, nil
	}
	visible := f.latest
	start := t.Truncate(f.step)
	if f.n > 0 && !start.Equal(f.bucket) {
		// The previous bucket ended without its last minute: drop it, as
		// the forecaster drops partial buckets.
		f.n, f.sum = 0, 0
	}
	if f.n == 0 {
		f.bucket = start
	}
	f.sum += v
	f.n++
	if t.Add(time.Minute).Before(start.Add(f.step)) {
		return visible, nil // the bucket's last minute has not been seen yet
	}
	full := f.n == int(f.step/time.Minute)
	mean := f.sum / float64(f.n)
	f.n, f.sum = 0, 0
	if !full {
		return visible, nil
	}
	if err := f.series.Observe(start, mean); err != nil {
		return nil, fmt.Errorf("forecast observe: %w", err)
	}
	pts, _, err := f.series.Forecast(f.horizon)
	if err != nil {
		// Nothing to forecast from yet: the policy runs on the recent level.
		return visible, nil
	}
	f.next = &policy.Forecast{Origin: start.Add(f.step), Step: f.step, Points: pts}
	return visible, nil
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
