package proto

import (
	"fmt"
	"time"
)

// ForecastPoint is one step of a forecast: the bucket starting at TS.
type ForecastPoint struct {
	TS   int64   `msgpack:"ts"`
	Yhat float64 `msgpack:"yhat"`
	Lo80 float64 `msgpack:"lo80"`
	Hi80 float64 `msgpack:"hi80"`
	Lo95 float64 `msgpack:"lo95"`
	Hi95 float64 `msgpack:"hi95"`
}

// Forecast is a forecast of one metric of one tier, made at the close of a
// bucket. Published by the forecaster on <prefix>.forecast.<app>.<tier>;
// consumed by the decider and the gateway; recorded in FORECASTS. TS is the
// origin: the start of the first forecast bucket, equal to the end of the last
// observed one.
type Forecast struct {
	V      int    `msgpack:"v"`
	ID     string `msgpack:"id"`
	App    string `msgpack:"app"`
	Tier   string `msgpack:"tier"`
	TS     int64  `msgpack:"ts"`
	Metric string `msgpack:"metric"`
	// StepMS is the bucket width in milliseconds.
	StepMS int64 `msgpack:"step_ms"`
	// Model names the model (or blend) that produced the points.
	Model string `msgpack:"model"`
	// Trained is the number of observed buckets the model was fitted on.
	Trained int             `msgpack:"trained"`
	Points  []ForecastPoint `msgpack:"points"`
}

// ForecastID is the deterministic id of the forecast of metric made at origin ts.
func ForecastID(app, tier, metric string, ts int64) string {
	return fmt.Sprintf("f.%s.%s.%s.%d", app, tier, metric, ts)
}

// MsgID returns the message id.
func (f *Forecast) MsgID() string { return f.ID }

// EventTime returns the forecast origin.
func (f *Forecast) EventTime() time.Time { return Time(f.TS) }

// Validate checks the field rules.
func (f *Forecast) Validate() error {
	if err := checkHeader(f.V, f.ID, f.TS); err != nil {
		return err
	}
	if err := checkAppTier(f.App, f.Tier); err != nil {
		return err
	}
	if !ValidMetricName(f.Metric) {
		return fmt.Errorf("%w: metric %q", ErrInvalid, f.Metric)
	}
	if f.StepMS <= 0 {
		return fmt.Errorf("%w: step_ms=%d", ErrInvalid, f.StepMS)
	}
	for i, p := range f.Points {
		for _, x := range []struct {
			n string
			v float64
		}{{"yhat", p.Yhat}, {"lo80", p.Lo80}, {"hi80", p.Hi80}, {"lo95", p.Lo95}, {"hi95", p.Hi95}} {
			if err := checkFinite(fmt.Sprintf("points[%d].%s", i, x.n), x.v); err != nil {
				return err
			}
		}
		if !(p.Lo95 <= p.Lo80 && p.Lo80 <= p.Yhat && p.Yhat <= p.Hi80 && p.Hi80 <= p.Hi95) {
			return fmt.Errorf("%w: points[%d]: want lo95 <= lo80 <= yhat <= hi80 <= hi95", ErrInvalid, i)
		}
	}
	return nil
}
