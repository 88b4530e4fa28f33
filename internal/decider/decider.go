package decider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// Config configures the decider.
type Config struct {
	// Policy is the scaling policy of every app without an entry in Apps.
	Policy policy.AppConfig
	// Apps holds per-app policies by app name.
	Apps map[string]policy.AppConfig
	// ForecastStep is the forecaster's bucket width.
	ForecastStep time.Duration
}

// DefaultConfig uses the default three-tier policy with decisions every 15 s.
func DefaultConfig() Config {
	p := policy.DefaultAppConfig()
	p.Tick = 15 * time.Second
	return Config{Policy: p, ForecastStep: forecast.DefaultConfig().Step}
}

// RegisterFlags adds the decider.* flags.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.Duration(&c.Policy.Tick, "decider.tick", d.Policy.Tick, "interval between metrics ticks (one decision per tier per tick)")
	f.Float(&c.Policy.BudgetPerHour, "decider.budget", 0, "cap on the summed replica cost per hour across an app's tiers (0: none)")
}

// Validate checks the settings.
func (c Config) Validate() error {
	if c.ForecastStep <= 0 {
		return fmt.Errorf("forecast step must be positive")
	}
	if err := c.Policy.Validate(); err != nil {
		return err
	}
	for name, p := range c.Apps {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("app %s: %w", name, err)
		}
	}
	return nil
}

// WithFile returns c with the policies of the configuration file's apps,
// each laid over Policy, in Apps.
func (c Config) WithFile(f *config.File) Config {
	apps := maps.Clone(c.Apps)
	if apps == nil {
		apps = map[string]policy.AppConfig{}
	}
	maps.Copy(apps, f.Policies(c.Policy))
	c.Apps = apps
	return c
}

// policyFor returns app's policy: its own, else the default.
func (c Config) policyFor(app string) policy.AppConfig {
	if p, ok := c.Apps[app]; ok {
		return p
	}
	return c.Policy
}

type app struct {
	cfg      policy.AppConfig
	join     *joiner
	policy   *policy.App
	sentTS   map[string]int64 // per tier: last decision stored
	desired  map[string]int   // per tier: last decided count
	changeTS map[string]int64 // per tier: event time of the last change decided
	// outbox holds decisions made but not yet stored, oldest first. They
	// are stored before anything else is decided, so a failed publish is
	// retried on the next delivery instead of leaving a gap.
	outbox []*proto.Decision
}

// total returns the replica count tier is held at for the tick m: the
// executor's committed desired count once it has handled the last change
// decided, else that change's count (pending), else nothing known.
func (a *app) total(tier string, m *proto.Metrics) (int, bool) {
	if c := m.Committed; c != nil && c.DecisionTS >= a.changeTS[tier] {
		return c.Desired, true
	}
	want, ok := a.desired[tier]
	return want, ok
}

// Service is the decider.
type Service struct {
	cfg   Config
	bus   *bus.Bus
	log   zerolog.Logger
	ready *service.Ready

	mu   sync.Mutex
	apps map[string]*app
	sent map[string]time.Time // subject → last decision stored, read at start

	decisions *prometheus.CounterVec
}

// New builds the decider; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	if d.Config != nil {
		cfg = cfg.WithFile(d.Config)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "decider").Logger(), ready: d.Ready, apps: map[string]*app{},
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_decider_decisions_total", Help: "Decisions published, by action."}, []string{"action"})}
	if d.Reg != nil {
		if err := d.Reg.Register(s.decisions); err != nil {
			return nil, err
		}
	}
	d.Ready.Wait("decider")
	for _, name := range slices.Sorted(maps.Keys(cfg.Apps)) {
		var tiers []string
		for _, t := range cfg.Apps[name].Tiers {
			tiers = append(tiers, fmt.Sprintf("%s(lead %s, %d..%d)", t.Name, t.LeadTime, t.Min, t.Max))
		}
		s.log.Info().Str("app", name).Strs("tiers", tiers).Dur("tick", cfg.Apps[name].Tick).Msg("decider policy")
	}
	s.log.Info().Dur("tick", cfg.Policy.Tick).Int("configured_apps", len(cfg.Apps)).Msg("decider configuration (apps not configured get the default policy)")
	return s, nil
}

// Run replays the three input streams and decides live until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	sent, err := s.bus.LastEventTimes(ctx, proto.KindDecision, proto.Filter(s.bus.Prefix(), proto.KindDecision))
	if err != nil {
		return err
	}
	s.sent = sent
	var started sync.WaitGroup
	started.Add(3)
	go func() {
		started.Wait()
		s.ready.Set("decider")
	}()
	g, gctx := errgroup.WithContext(ctx)
	for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly} {
		g.Go(func() error {
			return s.bus.Consume(gctx, bus.ConsumerSpec{
				Service: "decider", Name: "decider-" + string(k), Kind: k, Replay: true,
				Started: started.Done,
			}, s.handler(k))
		})
	}
	return g.Wait()
}

func (s *Service) getApp(name string) (*app, error) {
	a, ok := s.apps[name]
	if ok {
		return a, nil
	}
	pc := s.cfg.policyFor(name)
	p, err := policy.NewApp(pc)
	if err != nil {
		return nil, err
	}
	a = &app{cfg: pc, join: newJoiner(s.cfg.ForecastStep), policy: p, sentTS: map[string]int64{}, desired: map[string]int{}, changeTS: map[string]int64{}}
	for _, tc := range pc.Tiers {
		s.restoreSent(name, a, tc.Name)
	}
	s.apps[name] = a
	return a, nil
}

// restoreSent records the event time of tier's last decision stored before
// this start, so decide republishes nothing older.
func (s *Service) restoreSent(appName string, a *app, tier string) {
	if t, ok := s.sent[proto.DecisionSubject(s.bus.Prefix(), appName, tier)]; ok {
		a.sentTS[tier] = proto.Millis(t)
	}
}

// handler decodes one kind of input, adds it to its app's joiner and
// publishes the decisions of every tick it completes. Publishing happens
// under the lock, so decisions leave in event-time order whichever stream
// completed them; a decision counts as sent only once stored.
func (s *Service) handler(k proto.Kind) bus.Handler {
	return func(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
		var appName string
		var add func(*joiner)
		switch k {
		case proto.KindMetrics:
			var v proto.Metrics
			if err := s.bus.Decode(m, k, &v); err != nil {
				return nil, err
			}
			appName, add = v.App, func(j *joiner) { j.addMetrics(&v) }
		case proto.KindForecast:
			var v proto.Forecast
			if err := s.bus.Decode(m, k, &v); err != nil {
				return nil, err
			}
			appName, add = v.App, func(j *joiner) { j.addForecast(&v) }
		case proto.KindAnomaly:
			var v proto.Anomaly
			if err := s.bus.Decode(m, k, &v); err != nil {
				return nil, err
			}
			appName, add = v.App, func(j *joiner) { j.addAnomaly(&v) }
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		a, err := s.getApp(appName)
		if err != nil {
			return nil, bus.Permanent(err)
		}
		add(a.join)
		for {
			if err := s.flush(ctx, a); err != nil {
				return nil, err // the input is redelivered; the outbox keeps the decisions
			}
			f, ok := a.join.next()
			if !ok {
				return nil, nil
			}
			a.outbox = append(a.outbox, s.decide(appName, a, f)...)
		}
	}
}

// flush stores a's pending decisions in order, marking each sent once stored.
func (s *Service) flush(ctx context.Context, a *app) error {
	for len(a.outbox) > 0 {
		d := a.outbox[0]
		if err := s.publish(ctx, d); err != nil {
			return err
		}
		a.sentTS[d.Tier] = d.TS
		a.outbox = a.outbox[1:]
	}
	a.outbox = nil
	return nil
}

// decide runs the policy on one complete tick and returns the decisions to
// publish (those newer than what was stored before a restart).
func (s *Service) decide(appName string, a *app, f *frame) []*proto.Decision {
	s.adoptTiers(appName, a, f)
	in := make(map[string]policy.TierInput, len(f.metrics))
	for tier, m := range f.metrics {
		tc := a.tierConfig(tier)
		if tc == nil {
			continue
		}
		ti := policy.TierInput{Load: m.Values[tc.LoadMetric], Values: m.Values, Ready: m.Replicas, Incidents: f.incidents[tier]}
		if total, ok := a.total(tier, m); ok {
			ti.Desired = total
			ti.Booting = max(0, total-m.Replicas)
		}
		if fc := f.forecasts[tier]; fc != nil && len(fc.Points) > 0 {
			pf := &policy.Forecast{Origin: fc.EventTime(), Step: time.Duration(fc.StepMS) * time.Millisecond, Points: make([]forecast.Point, len(fc.Points))}
			for i, p := range fc.Points {
				pf.Points[i] = forecast.Point{Time: proto.Time(p.TS), Yhat: p.Yhat, Lo80: p.Lo80, Hi80: p.Hi80, Lo95: p.Lo95, Hi95: p.Hi95}
			}
			ti.Forecast = pf
		}
		in[tier] = ti
	}
	t := proto.Time(f.ts)
	var out []*proto.Decision
	for _, d := range a.policy.Decide(t, in) {
		if _, ok := in[d.Tier]; !ok {
			continue // the app has no such tier at this tick
		}
		a.desired[d.Tier] = d.To
		if d.Action != proto.ActionHold {
			a.changeTS[d.Tier] = f.ts
		}
		if f.ts <= a.sentTS[d.Tier] {
			continue // stored before a restart
		}
		pd := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID(appName, d.Tier, f.ts), App: appName, Tier: d.Tier, TS: f.ts,
			From: d.From, To: d.To, Action: d.Action, Reason: d.Reason, Inputs: proto.Floats{}, State: d.State, Flags: d.Flags}
		for k, v := range d.Inputs {
			if v == v && v < 1e300 && v > -1e300 {
				pd.Inputs[k] = v
			}
		}
		out = append(out, pd)
	}
	return out
}

// adoptTiers gives tiers that send metrics but have no policy the default
// front-tier policy, so every tier is decided: an app pushing "api" and
// "worker" tiers gets decisions without a configuration file. The policy
// is rebuilt (its learned state starts again), which happens only when a
// tier first appears, at a point fixed by the data, so it stays
// deterministic.
func (s *Service) adoptTiers(appName string, a *app, f *frame) {
	var added []string
	for tier := range f.metrics {
		if a.tierConfig(tier) == nil {
			added = append(added, tier)
		}
	}
	if len(added) == 0 {
		return
	}
	slices.Sort(added)
	cfg := a.cfg
	cfg.Tiers = slices.Clone(cfg.Tiers)
	for _, tier := range added {
		tc := policy.DefaultAppConfig().Tiers[0]
		tc.Name, tc.Upstream = tier, ""
		cfg.Tiers = append(cfg.Tiers, tc)
	}
	p, err := policy.NewApp(cfg)
	if err != nil {
		s.log.Error().Err(err).Str("app", appName).Strs("tiers", added).Msg("cannot adopt tiers")
		return
	}
	s.log.Warn().Str("app", appName).Strs("tiers", added).Msg("tiers without a policy: deciding them with the default front-tier policy")
	a.cfg, a.policy = cfg, p
	for _, tier := range added {
		s.restoreSent(appName, a, tier)
	}
}

func (a *app) tierConfig(name string) *policy.TierConfig {
	for i := range a.cfg.Tiers {
		if a.cfg.Tiers[i].Name == name {
			return &a.cfg.Tiers[i]
		}
	}
	return nil
}

func (s *Service) publish(ctx context.Context, d *proto.Decision) error {
	out := bus.Out{Subject: proto.DecisionSubject(s.bus.Prefix(), d.App, d.Tier), Msg: d}
	var err error
	for attempt := range 5 {
		if err = s.bus.Publish(ctx, out); err == nil {
			s.decisions.WithLabelValues(d.Action).Inc()
			if d.Action != proto.ActionHold {
				s.log.Info().Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Int("from", d.From).Int("to", d.To).Str("reason", d.Reason).Msg("decision")
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	s.log.Error().Err(err).Str("msg_id", d.ID).Msg("decision not stored")
	return err
}
