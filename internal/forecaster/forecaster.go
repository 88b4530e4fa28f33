package forecaster

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
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
	cfg   Config
	bus   *bus.Bus
	log   zerolog.Logger
	ready *service.Ready
	tiers *Tiers
	apps  bus.AppPartitions // partition of each app held, to hand over
	out   *outbox.Outbox

	published prometheus.Counter
	late      prometheus.Counter
	fitTime   prometheus.Histogram
	held      prometheus.Gauge   // tiers whose state is held
	returned  prometheus.Counter // evicted tiers that came back and were rebuilt
}

// New builds the forecaster; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "forecaster").Logger(), ready: d.Ready,
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_forecaster_forecasts_total", Help: "Forecasts published."}),
		late:      prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_forecaster_late_ticks_total", Help: "Ticks older than their series' current bucket, ignored."}),
		fitTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "headroom_forecaster_forecast_seconds", Help: "Time per forecast (fit or update plus predict).",
			Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10)}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "headroom_forecaster_tiers", Help: "Tiers whose forecasting state is held (idle ones are evicted)."}),
		returned: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_forecaster_returning_tiers_total",
			Help: "Tiers evicted for idleness that came back and were rebuilt from their recorded ticks."}),
	}
	if d.Reg != nil {
		for _, c := range []prometheus.Collector{s.published, s.late, s.fitTime, s.held, s.returned} {
			if err := d.Reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	s.tiers = NewTiers(cfg, config.LimitsOf(d.Config), s.log)
	s.tiers.FitTime = func(d time.Duration) { s.fitTime.Observe(d.Seconds()) }
	var err error
	if s.out, err = outbox.New(cfg.Outbox, d.Bus, "forecaster", s.log, d.Reg); err != nil {
		return nil, err
	}
	d.Ready.Wait("forecaster")
	return s, nil
}

// Run replays METRICS to rebuild state, then forecasts live until ctx ends.
// Forecasts are stored by the outbox, in order; on shutdown it gets a few
// seconds to store what is left (what it cannot is made again by the next
// start's replay).
func (s *Service) Run(ctx context.Context) error {
	octx, stop := context.WithCancel(context.WithoutCancel(ctx))
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		s.out.Run(octx)
	}()
	err := s.bus.Consume(ctx, bus.ConsumerSpec{
		Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics,
		Started: func() { s.ready.Set("forecaster") },
		Group: &bus.GroupSpec{Rebuild: true, Lookback: s.cfg.Lookback(), Acquire: s.acquire, Release: s.release,
			Returning: s.bus.TierReturning(s.tiers.Returning, s.returned.Inc)},
	}, s.handle)
	if left := s.out.Drain(octx); left > 0 {
		s.log.Warn().Int("forecasts", left).Msg("stopping with forecasts not stored; the next start makes them again")
	}
	stop()
	<-stored
	return err
}

// acquire loads what was stored for partition p's tiers, so its rebuild
// makes no forecast twice.
func (s *Service) acquire(ctx context.Context, p int) error {
	sent, err := s.bus.LastEventTimes(ctx, proto.KindForecast, proto.PartitionFilter(s.bus.Prefix(), proto.KindForecast, p))
	if err != nil {
		return err
	}
	for subj, t := range sent {
		if _, app, tier, err := proto.ParseSubject(s.bus.Prefix(), subj); err == nil {
			s.tiers.SetSent(app, tier, t)
		}
	}
	return nil
}

// release drops the state of partition p's apps, handed to another member.
func (s *Service) release(p int) {
	for _, app := range s.apps.Take(p) {
		s.tiers.Forget(app)
	}
}

// handle folds one tick into its series and, when it opens a new bucket,
// queues that bucket's forecast in the outbox; the input is acknowledged at
// once, the outbox stores the forecast whatever happens.
func (s *Service) handle(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
	var tick proto.Metrics
	if err := s.bus.Decode(m, proto.KindMetrics, &tick); err != nil {
		return nil, err
	}
	s.apps.Note(tick.App, m.Partition)
	s.tiers.Arrive(m.Stored)
	f, late, err := s.tiers.Step(&tick)
	s.held.Set(float64(s.tiers.Len()))
	if err != nil {
		return nil, bus.Permanent(err)
	}
	if late {
		s.late.Inc()
	}
	if f == nil {
		return nil, nil
	}
	if err := s.out.Add(ctx, bus.Out{Subject: proto.ForecastSubject(s.bus.Prefix(), tick.App, tick.Tier), Msg: f}); err != nil {
		// Only when stopping with a full outbox: the next start's replay
		// makes this forecast again.
		return nil, err
	}
	s.published.Inc()
	return nil, nil
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
