package detector

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// Config configures the anomaly service.
type Config struct {
	Detector   anomaly.Config
	Classifier anomaly.ClassifierConfig
	// Outbox bounds the outputs waiting to be stored (zero: its defaults).
	Outbox outbox.Config
}

// DefaultConfig returns the detector's one configuration for every series.
func DefaultConfig() Config {
	return Config{Detector: anomaly.DefaultConfig(), Classifier: anomaly.DefaultClassifierConfig()}
}

// Service is the anomaly service.
type Service struct {
	cfg   Config
	bus   *bus.Bus
	log   zerolog.Logger
	ready *service.Ready
	tiers *Tiers
	apps  bus.AppPartitions // partition of each app held, to hand over
	out   *outbox.Outbox

	incidents *prometheus.CounterVec
	returned  prometheus.Counter // evicted tiers that came back and were rebuilt
}

// New builds the anomaly service; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "anomaly").Logger(), ready: d.Ready, tiers: NewTiers(cfg, config.LimitsOf(d.Config)),
		incidents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_anomaly_incidents_total", Help: "Incidents opened, by kind."}, []string{"kind"}),
		returned: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_anomaly_returning_tiers_total",
			Help: "Tiers evicted for idleness that came back and were rebuilt from their recorded ticks."})}
	if d.Reg != nil {
		for _, c := range []prometheus.Collector{s.incidents, s.returned} {
			if err := d.Reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if s.out, err = outbox.New(cfg.Outbox, d.Bus, "anomaly", s.log, d.Reg); err != nil {
		return nil, err
	}
	d.Ready.Wait("anomaly")
	return s, nil
}

// Run replays METRICS to rebuild the detectors, then scores live until ctx
// ends. Outputs are stored by the outbox, in order; on shutdown it gets a
// few seconds to store what is left (what it cannot is made again by the
// next start's replay).
func (s *Service) Run(ctx context.Context) error {
	octx, stop := context.WithCancel(context.WithoutCancel(ctx))
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		s.out.Run(octx)
	}()
	err := s.bus.Consume(ctx, bus.ConsumerSpec{
		Service: "anomaly", Name: "anomaly", Kind: proto.KindMetrics,
		Started: func() { s.ready.Set("anomaly") },
		Group: &bus.GroupSpec{Rebuild: true, Lookback: s.cfg.Lookback(), Acquire: s.acquire, Release: s.release,
			Returning: s.bus.TierReturning(s.tiers.Returning, s.returned.Inc)},
	}, s.handle)
	if left := s.out.Drain(octx); left > 0 {
		s.log.Warn().Int("outputs", left).Msg("stopping with outputs not stored; the next start makes them again")
	}
	stop()
	<-stored
	return err
}

// acquire loads what was stored for partition p's tiers, so its rebuild
// stores no output twice.
func (s *Service) acquire(ctx context.Context, p int) error {
	sent, err := s.bus.LastEventTimes(ctx, proto.KindAnomaly, proto.PartitionFilter(s.bus.Prefix(), proto.KindAnomaly, p))
	if err != nil {
		return err
	}
	for subj, t := range sent {
		if _, app, tr, err := proto.ParseSubject(s.bus.Prefix(), subj); err == nil {
			s.tiers.SetSent(app, tr, t)
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

// handle folds one tick into its tier's detectors and queues the tick's
// output in the outbox; the input is acknowledged at once, the outbox
// stores the output whatever happens.
func (s *Service) handle(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
	var tick proto.Metrics
	if err := s.bus.Decode(m, proto.KindMetrics, &tick); err != nil {
		return nil, err
	}
	s.apps.Note(tick.App, m.Partition)
	s.tiers.Arrive(m.Stored)
	msg, opened, err := s.tiers.Step(&tick)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	for _, in := range opened {
		s.incidents.WithLabelValues(in.Kind).Inc()
		s.log.Info().Str("app", tick.App).Str("tier", tick.Tier).Str("kind", in.Kind).Str("msg_id", proto.AnomalyID(tick.App, tick.Tier, tick.TS)).Strs("evidence", in.Evidence).Msg("incident opened")
	}
	if msg == nil {
		return nil, nil
	}
	if err := s.out.Add(ctx, bus.Out{Subject: proto.AnomalySubject(s.bus.Prefix(), tick.App, tick.Tier), Msg: msg}); err != nil {
		// Only when stopping with a full outbox: this tick's output is
		// lost to this process; the next start's replay makes it again.
		return nil, err
	}
	return nil, nil
}

func clamp01(v float64) float64 {
	if !(v >= 0) { // also NaN
		return 0
	}
	return min(v, 1)
}

func finite(v float64) float64 {
	if v != v || v > 1e300 || v < -1e300 {
		return 0
	}
	return v
}
