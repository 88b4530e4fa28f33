package forecaster

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/tierstage"
	"github.com/headroomhq/headroom/proto"
)

// Config configures the forecaster.
type Config struct {
	// Metric is the value forecast for every tier (the load metric).
	Metric string
	// Horizon is the number of buckets forecast ahead.
	Horizon int
	// Model is the forecasting configuration (bucket width, window, refits).
	Model forecast.Config
	// Outbox bounds the forecasts waiting to be stored (zero: its defaults).
	Outbox outbox.Config
}

// DefaultConfig forecasts rps 12 five-minute buckets (one hour) ahead.
func DefaultConfig() Config {
	return Config{Metric: proto.MetricRPS, Horizon: 12, Model: forecast.DefaultConfig()}
}

// RegisterFlags adds the forecaster.* flags.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.Metric, "forecaster.metric", d.Metric, "metric forecast for every tier")
	f.Int(&c.Horizon, "forecaster.horizon", d.Horizon, "buckets forecast ahead")
	f.Int(&c.Model.RefitEvery, "forecaster.refit-every", d.Model.RefitEvery, "buckets between full refits of a series")
}

// Validate checks the settings.
func (c Config) Validate() error {
	if !proto.MetricNameRE.MatchString(c.Metric) {
		return fmt.Errorf("forecaster.metric %q: bad metric name", c.Metric)
	}
	if c.Horizon < 1 || c.Horizon > 2016 {
		return fmt.Errorf("forecaster.horizon %d: want 1..2016", c.Horizon)
	}
	return c.Model.Validate()
}

// Service is the forecaster.
type Service struct {
	log   zerolog.Logger
	tiers *Tiers
	stage *tierstage.Runtime

	published prometheus.Counter
	late      *prometheus.CounterVec
	fitTime   prometheus.Histogram
	held      prometheus.Gauge // tiers whose state is held
}

// New builds the forecaster; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_forecaster_forecasts_total", Help: "Forecasts made and queued for storing."}),
		late:      tierstage.NewLateTicks("headroom_forecaster_late_ticks_total", lateHelp),
		fitTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "headroom_forecaster_forecast_seconds", Help: "Time per forecast (fit or update plus predict).",
			Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10)}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "headroom_forecaster_tiers", Help: "Tiers whose forecasting state is held (idle ones are evicted)."}),
	}
	if d.Reg != nil {
		for _, c := range []prometheus.Collector{s.published, s.late, s.fitTime, s.held} {
			if err := d.Reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	s.log = d.Log.With().Str("part", "forecaster").Logger()
	s.tiers = NewTiers(cfg, config.LimitsOf(d.Config), s.log)
	s.tiers.FitTime = func(d time.Duration) { s.fitTime.Observe(d.Seconds()) }
	s.tiers.Late = s.noteLate
	var err error
	s.stage, err = tierstage.New(tierstage.Spec{Name: "forecaster", Output: proto.KindForecast, Lookback: cfg.Lookback(),
		Outbox: cfg.Outbox, State: s.tiers, Step: s.step}, d)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Run replays METRICS to rebuild state, then forecasts live until ctx ends
// (package tierstage: forecasts are stored in order by an outbox).
func (s *Service) Run(ctx context.Context) error { return s.stage.Run(ctx) }

// Pending returns how many forecasts wait to be stored.
func (s *Service) Pending() int { return s.stage.Pending() }

// Blocked returns how many output subjects wait on a refused output.
func (s *Service) Blocked() int { return s.stage.Blocked() }

// step folds one tick into its series and returns the forecast of the
// bucket it opens, if it opens one.
func (s *Service) step(tick *proto.Metrics) (proto.Message, error) {
	f, late, err := s.tiers.Step(tick)
	s.held.Set(float64(s.tiers.Len()))
	if err != nil {
		return nil, err
	}
	if late {
		s.late.WithLabelValues("late").Inc()
	}
	if f == nil {
		return nil, nil // not a nil pointer in a non-nil proto.Message
	}
	s.published.Inc()
	return f, nil
}

// lateHelp is the Help of headroom_forecaster_late_ticks_total.
const lateHelp = "Ticks with the forecast metric not forecast because their tier had already handled a tick at or after their time, by reason: " +
	"redelivered for a tick with the time of the tier's last (expected after a restart); late for one older than it " +
	"(out of order, a copy stored again past the stream's duplicate window, or the redelivery of an older tick: the state keeps only the last time, so it cannot tell them apart)."

// noteLate counts and logs a tick Step ignored as late or redelivered
// (last is its tier's last tick handled, Unix ms).
func (s *Service) noteLate(tick *proto.Metrics, last int64) {
	tierstage.NoteLate(s.late, s.log, tick, last, "late tick not forecast")
}

// sanitize keeps a point publishable: finite and ordered.
func sanitize(p *proto.ForecastPoint) {
	vals := []*float64{&p.Lo95, &p.Lo80, &p.Yhat, &p.Hi80, &p.Hi95}
	for _, v := range vals {
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			*v = 0
		}
	}
	for i := 1; i < len(vals); i++ {
		if *vals[i] < *vals[i-1] {
			*vals[i] = *vals[i-1]
		}
	}
}
