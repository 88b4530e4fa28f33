package detector

import (
	"context"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/bus"
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

type tier struct {
	detectors  map[string]*anomaly.Detector
	classifier *anomaly.Classifier
	open       map[string]bool
	// sentTS is the event time of the last output stored before this
	// process started (read from ANOMALIES): replayed ticks up to it
	// rebuild state without publishing again.
	sentTS int64
	// lastTS is the last tick folded into the detectors. Its output is in
	// the outbox, which stores it whatever happens, so a redelivered tick
	// at or before lastTS is skipped without leaving a gap.
	lastTS int64
}

// Service is the anomaly service.
type Service struct {
	cfg   Config
	bus   *bus.Bus
	log   zerolog.Logger
	ready *service.Ready
	tiers map[string]*tier
	out   *outbox.Outbox

	incidents *prometheus.CounterVec
}

// New builds the anomaly service; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "anomaly").Logger(), ready: d.Ready, tiers: map[string]*tier{},
		incidents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_anomaly_incidents_total", Help: "Incidents opened, by kind."}, []string{"kind"})}
	if d.Reg != nil {
		if err := d.Reg.Register(s.incidents); err != nil {
			return nil, err
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
	sent, err := s.bus.LastEventTimes(ctx, proto.KindAnomaly, proto.Filter(s.bus.Prefix(), proto.KindAnomaly))
	if err != nil {
		return err
	}
	for subj, t := range sent {
		if _, app, tr, err := proto.ParseSubject(s.bus.Prefix(), subj); err == nil {
			s.get(app, tr).sentTS = proto.Millis(t)
		}
	}
	octx, stop := context.WithCancel(context.WithoutCancel(ctx))
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		s.out.Run(octx)
	}()
	err = s.bus.Consume(ctx, bus.ConsumerSpec{
		Service: "anomaly", Name: "anomaly", Kind: proto.KindMetrics, Replay: true,
		Started: func() { s.ready.Set("anomaly") },
	}, s.handle)
	if left := s.out.Drain(octx); left > 0 {
		s.log.Warn().Int("outputs", left).Msg("stopping with outputs not stored; the next start makes them again")
	}
	stop()
	<-stored
	return err
}

func (s *Service) get(app, name string) *tier {
	key := app + "." + name
	t, ok := s.tiers[key]
	if !ok {
		t = &tier{detectors: map[string]*anomaly.Detector{}, classifier: anomaly.NewClassifier(s.cfg.Classifier), open: map[string]bool{}}
		s.tiers[key] = t
	}
	return t
}

// handle folds one tick into its tier's detectors and queues the tick's
// output in the outbox; the input is acknowledged at once, the outbox
// stores the output whatever happens.
func (s *Service) handle(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
	var tick proto.Metrics
	if err := s.bus.Decode(m, proto.KindMetrics, &tick); err != nil {
		return nil, err
	}
	tr := s.get(tick.App, tick.Tier)
	if tick.TS <= tr.lastTS {
		return nil, nil // redelivered (its output is stored or queued) or late
	}
	tr.lastTS = tick.TS
	t := tick.EventTime()
	names := make([]string, 0, len(tick.Values))
	for k := range tick.Values {
		names = append(names, k)
	}
	slices.Sort(names)
	scores := make(map[string]anomaly.Score, len(names))
	msg := &proto.Anomaly{V: proto.SchemaVersion, ID: proto.AnomalyID(tick.App, tick.Tier, tick.TS), App: tick.App, Tier: tick.Tier, TS: tick.TS,
		Scores: make([]proto.Score, 0, len(names))}
	for _, k := range names {
		d, ok := tr.detectors[k]
		if !ok {
			d = anomaly.NewDetector(s.cfg.Detector)
			tr.detectors[k] = d
		}
		sc := d.Observe(t, tick.Values[k])
		scores[k] = sc
		msg.Scores = append(msg.Scores, proto.Score{Metric: k, Score: clamp01(sc.Value), Anomaly: sc.Anomaly, Observed: finite(sc.Observed),
			Expected: finite(sc.Expected), Detector: sc.Detector, Direction: sc.Direction})
	}
	for _, in := range tr.classifier.Observe(t, tick.Values, scores) {
		p := proto.Incident{ID: in.ID, Kind: in.Kind, State: in.State, Start: proto.Millis(in.Start), Severity: clamp01(in.Severity), Evidence: in.Evidence}
		if !in.End.IsZero() {
			p.End = proto.Millis(in.End)
		}
		msg.Incidents = append(msg.Incidents, p)
		switch in.State {
		case anomaly.StateClosed:
			delete(tr.open, in.Kind)
		default:
			if !tr.open[in.Kind] && tick.TS > tr.sentTS {
				s.incidents.WithLabelValues(in.Kind).Inc()
				s.log.Info().Str("app", tick.App).Str("tier", tick.Tier).Str("kind", in.Kind).Str("msg_id", msg.ID).Strs("evidence", in.Evidence).Msg("incident opened")
			}
			tr.open[in.Kind] = true
		}
	}
	for k := range tr.open {
		msg.Open = append(msg.Open, k)
	}
	slices.Sort(msg.Open)
	if tick.TS <= tr.sentTS {
		return nil, nil // stored before a restart
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
