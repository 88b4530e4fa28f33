package detector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/tierstage"
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
	log   zerolog.Logger
	tiers *Tiers
	stage *tierstage.Runtime

	incidents *prometheus.CounterVec
	late      *prometheus.CounterVec
	unscored  prometheus.Counter
}

// New builds the anomaly service; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	s := &Service{log: d.Log.With().Str("part", "anomaly").Logger(), tiers: NewTiers(cfg, config.LimitsOf(d.Config)),
		incidents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_anomaly_incidents_total", Help: "Incidents opened, by kind."}, []string{"kind"}),
		late:      tierstage.NewLateTicks("headroom_anomaly_late_ticks_total", lateHelp),
		unscored: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_anomaly_unscored_values_total",
			Help: fmt.Sprintf("Values of ticks not scored because their tier scores %d metric names already (the cap per tier); a take-over's replay counts its ticks again.", MaxMetrics)})}
	if d.Reg != nil {
		for _, c := range []prometheus.Collector{s.incidents, s.late, s.unscored} {
			if err := d.Reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	s.tiers.Late = s.noteLate
	s.tiers.Unscored = s.noteUnscored
	var err error
	s.stage, err = tierstage.New(tierstage.Spec{Name: "anomaly", Output: proto.KindAnomaly, Lookback: cfg.Lookback(),
		Outbox: cfg.Outbox, State: s.tiers, Step: s.step}, d)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Run replays METRICS to rebuild the detectors, then scores live until ctx
// ends (package tierstage: outputs are stored in order by an outbox).
func (s *Service) Run(ctx context.Context) error { return s.stage.Run(ctx) }

// Pending returns how many outputs wait to be stored.
func (s *Service) Pending() int { return s.stage.Pending() }

// Blocked returns how many output subjects wait on a refused output.
func (s *Service) Blocked() int { return s.stage.Blocked() }

// step folds one tick into its tier's detectors and returns the tick's
// anomaly message, logging and counting the incidents it opens.
func (s *Service) step(tick *proto.Metrics) (proto.Message, error) {
	msg, opened, err := s.tiers.Step(tick)
	if err != nil {
		return nil, err
	}
	for _, in := range opened {
		s.incidents.WithLabelValues(in.Kind).Inc()
		s.log.Info().Str("app", tick.App).Str("tier", tick.Tier).Str("kind", in.Kind).Str("msg_id", proto.AnomalyID(tick.App, tick.Tier, tick.TS)).Strs("evidence", in.Evidence).Msg("incident opened")
	}
	if msg == nil {
		return nil, nil // not a nil pointer in a non-nil proto.Message
	}
	return msg, nil
}

// lateHelp is the Help of headroom_anomaly_late_ticks_total.
const lateHelp = "Ticks not scored because their tier had already scored a tick at or after their time, by reason: " +
	"redelivered for a tick with the time of the tier's last (expected after a restart); late for one older than it " +
	"(out of order, or the redelivery of an older tick: the state keeps only the last time, so it cannot tell them apart)."

// noteLate counts and logs a tick Step ignored as late or redelivered
// (last is its tier's last tick scored, Unix ms).
func (s *Service) noteLate(tick *proto.Metrics, last int64) {
	tierstage.NoteLate(s.late, s.log, tick, last, "late tick not scored")
}

// noteUnscored counts the values of a tick left unscored for the cap on
// a tier's metric names, and warns the first time a tier's state leaves
// some out (again after the tier is evicted and back), naming at most ten.
func (s *Service) noteUnscored(tick *proto.Metrics, names []string, first bool) {
	s.unscored.Add(float64(len(names)))
	if first {
		s.log.Warn().Str("app", tick.App).Str("tier", tick.Tier).Int("cap", MaxMetrics).Strs("names", names[:min(len(names), 10)]).
			Int("left_out", len(names)).Msg("metric names past the tier's cap not scored")
	}
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
