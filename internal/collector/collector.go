package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/shop"
	"github.com/headroomhq/headroom/proto"
)

// Config configures the collector and its simulated source.
type Config struct {
	// App names the simulated application.
	App string
	// Seed makes the simulation reproducible.
	Seed int64
	// Tick is the event-time interval between live ticks.
	Tick time.Duration
	// Speed is simulated seconds per real second; 0 runs as fast as the
	// pipeline allows (for tests and demos, best with Lockstep).
	Speed float64
	// Backfill is how much history to publish before going live.
	Backfill time.Duration
	// BackfillTick is the interval between backfilled ticks.
	BackfillTick time.Duration
	// Start is the simulated time live ticks start at; zero means now
	// (truncated to Tick).
	Start time.Time
	// Ticks stops the source after this many live ticks; 0 runs until ctx ends.
	Ticks int
	// Lockstep makes each live tick wait (up to LockstepWait of real time)
	// until the executor has acted on the tick two before, so closed-loop
	// runs are reproducible at any speed.
	Lockstep     bool
	LockstepWait time.Duration
	// CatchUpWait bounds how long the first live tick waits, in lockstep
	// mode, for the pipeline to work through the backfilled history.
	CatchUpWait time.Duration
	// Target is the utilisation the backfilled history was provisioned for.
	Target float64
	// Shop tunes the simulated application; zero value means shop.DefaultConfig.
	Shop *shop.Config
}

// DefaultConfig simulates "shop" live in real time after 7 days of history.
func DefaultConfig() Config {
	return Config{App: "shop", Seed: 1, Tick: 15 * time.Second, Speed: 1, Backfill: 7 * 24 * time.Hour,
		BackfillTick: time.Minute, Lockstep: true, LockstepWait: 2 * time.Second, CatchUpWait: 3 * time.Minute, Target: 0.7}
}

// RegisterFlags adds the collector.* flags (and -speed).
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.App, "sim.app", d.App, "name of the simulated application")
	f.Int64(&c.Seed, "sim.seed", d.Seed, "seed of the simulated application")
	f.Duration(&c.Tick, "sim.tick", d.Tick, "event time between live ticks")
	f.Float(&c.Speed, "speed", d.Speed, "simulated seconds per real second (0: as fast as possible)")
	f.Duration(&c.Backfill, "sim.backfill", d.Backfill, "history to backfill at start")
	f.Duration(&c.BackfillTick, "sim.backfill-tick", d.BackfillTick, "event time between backfilled ticks")
	f.Bool(&c.Lockstep, "sim.lockstep", d.Lockstep, "wait for the executor's replica state before each tick")
}

// Validate checks the settings.
func (c Config) Validate() error {
	var errs []error
	if err := proto.CheckToken("sim.app", c.App); err != nil {
		errs = append(errs, err)
	}
	if c.Tick < time.Second {
		errs = append(errs, fmt.Errorf("sim.tick %v: want at least 1s", c.Tick))
	}
	if c.BackfillTick < c.Tick {
		errs = append(errs, fmt.Errorf("sim.backfill-tick %v: want at least sim.tick", c.BackfillTick))
	}
	if c.Speed < 0 {
		errs = append(errs, fmt.Errorf("speed %v: want >= 0", c.Speed))
	}
	if c.Backfill < 0 || c.Backfill > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("sim.backfill %v: want 0..720h", c.Backfill))
	}
	return errors.Join(errs...)
}

// Service is the collector.
type Service struct {
	cfg   Config
	bus   *bus.Bus
	log   zerolog.Logger
	ready *service.Ready
	// Now is the wall clock; tests replace it.
	Now func() time.Time

	ticks prometheus.Counter
	waits prometheus.Counter
}

// New builds the collector; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "collector").Str("app", cfg.App).Logger(), ready: d.Ready, Now: time.Now,
		ticks: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_collector_ticks_total", Help: "Metrics ticks published."}),
		waits: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_collector_lockstep_timeouts_total", Help: "Live ticks published without the executor's state for the tick two before."}),
	}
	if d.Reg != nil {
		for _, c := range []prometheus.Collector{s.ticks, s.waits} {
			if err := d.Reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	d.Ready.Wait("collector")
	return s, nil
}

// Run backfills, then publishes live ticks until ctx ends or Ticks are done.
func (s *Service) Run(ctx context.Context) error {
	start := s.cfg.Start
	if start.IsZero() {
		start = s.Now().UTC().Truncate(s.cfg.Tick)
	}
	shopCfg := shop.DefaultConfig()
	if s.cfg.Shop != nil {
		shopCfg = *s.cfg.Shop
	}
	shopCfg.App, shopCfg.Seed = s.cfg.App, s.cfg.Seed
	if shopCfg.Demand.TrendStart.IsZero() {
		shopCfg.Demand.TrendStart = shop.TrendAnchor(start, s.cfg.Backfill)
	}
	model, err := shop.New(shopCfg)
	if err != nil {
		return fmt.Errorf("shop model: %w", err)
	}
	kv, err := s.bus.ReplicaBucket(ctx)
	if err != nil {
		return err
	}
	view := newReplicaView()
	g, gctx := errgroup.WithContext(ctx)
	watching := make(chan struct{})
	g.Go(func() error { return view.watch(gctx, kv, func() { close(watching) }) })
	g.Go(func() error {
		select {
		case <-watching:
		case <-gctx.Done():
			return nil
		}
		err := s.produce(gctx, model, view, start)
		if errors.Is(err, errDone) {
			<-gctx.Done() // keep serving until the process stops
			return nil
		}
		return err
	})
	return g.Wait()
}

var errDone = errors.New("source finished")

func (s *Service) produce(ctx context.Context, model *shop.Model, view *replicaView, start time.Time) error {
	last, err := s.bus.LastEventTimes(ctx, proto.KindMetrics, proto.AppFilter(s.bus.Prefix(), proto.KindMetrics, s.cfg.App))
	if err != nil {
		return err
	}
	var resume time.Time
	for _, t := range last {
		if t.After(resume) {
			resume = t
		}
	}
	tiers := model.Config().TierNames()
	// published holds the event times of the last two ticks sent: lockstep
	// waits for the decisions of the older one, which the decider releases
	// once the newer one has arrived.
	var published []time.Time
	// Backfill: history provisioned for the target, open loop.
	from := start.Add(-s.cfg.Backfill).Truncate(s.cfg.BackfillTick)
	if !resume.IsZero() && resume.After(from) {
		from = resume.Truncate(s.cfg.BackfillTick).Add(s.cfg.BackfillTick)
	}
	if from.Before(start) {
		s.log.Info().Time("from", from).Time("to", start).Msg("backfilling history")
		n := 0
		for t := from; t.Before(start); t = t.Add(s.cfg.BackfillTick) {
			published = append(published[max(len(published)-1, 0):], t)
			if err := s.publishTick(ctx, model, t, model.InitialReplicas(t, s.cfg.Target), tiers); err != nil {
				return err
			}
			if n++; n%1440 == 0 {
				s.log.Info().Time("at", t).Int("ticks", n).Msg("backfill progress")
			}
		}
		if err := s.bus.Flush(ctx); err != nil {
			return err
		}
		s.log.Info().Int("ticks", n).Msg("backfill done")
	}
	if !resume.IsZero() && !resume.Before(start) {
		start = resume.Truncate(s.cfg.Tick).Add(s.cfg.Tick)
	}
	s.ready.Set("collector")

	// Live: a simulated clock at Speed times real time.
	wallStart := s.Now()
	initial := model.InitialReplicas(start, s.cfg.Target)
	for i := 0; s.cfg.Ticks == 0 || i < s.cfg.Ticks; i++ {
		t := start.Add(time.Duration(i) * s.cfg.Tick)
		if s.cfg.Speed > 0 {
			due := wallStart.Add(time.Duration(float64(t.Sub(start)) / s.cfg.Speed))
			if d := due.Sub(s.Now()); d > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(d):
				}
			}
		}
		var need time.Time
		if len(published) == 2 {
			need = published[0]
		}
		wait := s.cfg.LockstepWait
		if i == 0 {
			wait = max(wait, s.cfg.CatchUpWait)
		}
		ready, err := s.replicas(ctx, view, need, tiers, initial, wait)
		if err != nil {
			return nil // ctx ended
		}
		if err := s.publishTick(ctx, model, t, ready, tiers); err != nil {
			return err
		}
		published = append(published[max(len(published)-1, 0):], t)
		if err := s.bus.Flush(ctx); err != nil {
			return err
		}
	}
	return errDone
}

// replicas returns each tier's ready count from the executor's state,
// waiting in lockstep mode until that state covers the decisions at need
// (zero: no wait).
func (s *Service) replicas(ctx context.Context, view *replicaView, needT time.Time, tiers []string, initial map[string]int, wait time.Duration) (map[string]int, error) {
	need := proto.Millis(needT)
	ready := make(map[string]int, len(tiers))
	var timeout <-chan time.Time
	if s.cfg.Lockstep && wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		timeout = timer.C
	}
	for _, tier := range tiers {
		for {
			st, ok, changed := view.get(proto.ReplicaKey(s.cfg.App, tier))
			if ok {
				ready[tier] = st.Ready
			} else if _, set := ready[tier]; !set {
				ready[tier] = initial[tier]
			}
			if !s.cfg.Lockstep || needT.IsZero() || timeout == nil || (ok && st.TS >= need) {
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-changed:
				continue
			case <-timeout:
				s.waits.Inc()
				timeout = nil
			}
			break
		}
	}
	return ready, nil
}

func (s *Service) publishTick(ctx context.Context, model *shop.Model, t time.Time, ready map[string]int, tiers []string) error {
	for _, smp := range model.Tick(t, ready) {
		m := proto.NewMetrics(s.cfg.App, smp.Tier, t, smp.Ready, smp.Values)
		m.Source = "sim"
		if _, err := s.bus.PublishAsync(bus.Out{Subject: proto.MetricsSubject(s.bus.Prefix(), s.cfg.App, smp.Tier), Msg: m}); err != nil {
			return err
		}
		s.ticks.Inc()
	}
	return ctx.Err()
}
