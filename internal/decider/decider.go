package decider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

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
	// ForecastMetric is the metric the forecaster forecasts (its
	// Config.Metric, rps). The forecaster makes no forecast from a tick
	// without it, so a tier's tick without it waits for none and is
	// decided without one (see the package doc, "Missing load").
	ForecastMetric string
	// TierLag is how long, in event time, a tick waits for a tier whose
	// metrics lag the app's newest tick, as when an app's tiers are pushed
	// by separate pushers or in batches. The app's decisions wait with it:
	// a tier whose next tick is late (a gap, a batch on its way) holds
	// every tier's decision back until it comes, by TierLag at most. The
	// decisions age meanwhile: a real driver refuses one older than
	// -executor.max-age (by default policy.ActAge: the tier's lead time,
	// at least a minute, plus the tick) as stale, so tiers pushed
	// minutes apart need that raised too; a pusher's clock running ahead
	// holds nothing back in real time. A tier further behind (stopped, or
	// lagging more) is decided without until it catches up, and its ticks
	// are counted as lagging. Pushers'
	// clocks count too: a push may be up to -push.max-skew (2m) ahead of
	// the collector's clock, so the default leaves a minute over that. 0
	// waits for no tier: a later tick of any tier completes a tick, and a
	// tier's tick behind the newest counts as lagging.
	TierLag time.Duration
	// InputTimeout is how long, in real time, a tick whose metrics
	// are in waits for its anomaly message and forecast before it is
	// decided without them (Apps.Expire), as long as its decision is
	// still fresh enough for the executor to act on: an upstream stage
	// down or slow for longer leaves the app scaled reactively, on the
	// latest forecast that came, rather than not at all. The default,
	// 30 s, leaves a graceful hand-over of an upstream stage time to
	// finish, and a front tier's decision (lead time 1m) fresh for the
	// executor: its tick's metrics are in a tick after it, and the
	// executor's default maximum age is the lead time plus the tick.
	// Validate refuses a minute or more, which would leave such a tier
	// never decided by it. 0 waits for the inputs until the backlog's
	// bound (see Config.backlog), which keeps every decision reproducible
	// but stops an app's scaling while an upstream stage is down.
	InputTimeout time.Duration
}

// DefaultConfig uses the default three-tier policy with decisions every 15 s.
func DefaultConfig() Config {
	p := policy.DefaultAppConfig()
	p.Tick = 15 * time.Second
	return Config{Policy: p, ForecastStep: forecast.DefaultConfig().Step, ForecastMetric: proto.MetricRPS, TierLag: 3 * time.Minute, InputTimeout: 30 * time.Second}
}

// RegisterFlags adds the decider.* flags.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.Duration(&c.Policy.Tick, "decider.tick", d.Policy.Tick, "interval between metrics ticks: one decision per tier per multiple of the tick, on the tier's first tick within half a tick of it")
	f.Float(&c.Policy.BudgetPerHour, "decider.budget", 0, "cap on the summed replica cost per hour across an app's tiers (0: none)")
	f.Duration(&c.TierLag, "decider.tier-lag", d.TierLag, "how long a tick waits for a tier whose metrics lag the app's other tiers (0: none)")
	f.Duration(&c.InputTimeout, "decider.input-timeout", d.InputTimeout, "how long, in real time, a tick waits for its anomaly message and forecast before it is decided without them, flagged, while its decision is fresh enough to act on (less than 1m; 0: until the backlog is full, which stops scaling while an upstream stage is down)")
}

// Validate checks the settings.
func (c Config) Validate() error {
	if c.ForecastStep <= 0 {
		return fmt.Errorf("forecast step must be positive")
	}
	if c.ForecastMetric == "" {
		return fmt.Errorf("forecast metric must be named")
	}
	if c.InputTimeout < 0 || c.InputTimeout >= time.Minute {
		// A tick's metrics are in a tick after it, and the executor acts on
		// a decision up to its tiers' lead time (at least a minute) plus the
		// tick: at a minute's timeout, an app whose tiers lead by a minute
		// would never be decided by it.
		return fmt.Errorf("input timeout %v must be at least 0 and less than a minute, the shortest lead time the executor allows for", c.InputTimeout)
	}
	if c.TierLag < 0 || c.TierLag >= c.Lookback() {
		return fmt.Errorf("tier lag %v must be at least 0 and less than the lookback, %v", c.TierLag, c.Lookback())
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

// ValidateWith checks the settings as New uses them with the
// configuration file f (Deps.Config; nil without one): the file's
// policies applied, then validated. A standalone main calls it before it
// waits for NATS.
func (c Config) ValidateWith(f *config.File) error {
	_, err := c.validatedWith(f)
	return err
}

// validatedWith returns c with the file f's policies (when f is not nil),
// validated.
func (c Config) validatedWith(f *config.File) (Config, error) {
	if f != nil {
		c = c.WithFile(f)
	}
	return c, c.Validate()
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

// Service is the decider.
type Service struct {
	cfg   Config
	bus   *bus.Bus
	log   zerolog.Logger
	ready *service.Ready

	mu    sync.Mutex
	state *Apps
	apps  bus.AppPartitions // partition of each app held, to hand over

	decisions *prometheus.CounterVec
	badInput  *prometheus.CounterVec // holds of a tier whose load is missing or not a number, by app and tier
	returned  prometheus.Counter     // evicted apps that came back and were rebuilt
	late      *prometheus.CounterVec // metrics ticks the join ignored, by reason
	overdue   *prometheus.CounterVec // tier ticks decided without an input as the backlog filled, by input
	timedOut  *prometheus.CounterVec // tier ticks decided without an input after the input timeout, by input
	waiting   prometheus.Gauge       // ticks waiting for their inputs (Apps.Waiting)
	// waitingPeak is the most ticks that waited at once since the start.
	waitingPeak int

	// publishPause is the pause after a decision's first failed publish;
	// each later attempt waits one more of it.
	publishPause time.Duration
	// retryEvery is the constant retryEvery; tests shorten it.
	retryEvery time.Duration
	// refusals counts the decisions' publishes the server refused in a
	// row for the decider's permissions (bus.IsRefused); refusal is the
	// last, and no decision is tried before refusedUntil (see publish).
	refusals     bus.RefusalStreak
	refusal      error
	refusedUntil time.Time
	// now is the clock Apps.Expire is given (time.Now: its readings carry
	// the monotonic clock, on which the timeout is waited).
	now func() time.Time
	// outboxLimit is maxOutbox; tests lower it.
	outboxLimit int
	// unstoredLimit is maxUnstored; tests lower it.
	unstoredLimit int
	// unstored is how many decisions wait in every app's outbox together.
	unstored int
	// unstoredGauge shows unstored; refused counts the inputs refused
	// unjoined because an outbox bound was reached, by which bound.
	unstoredGauge prometheus.Gauge
	refused       *prometheus.CounterVec
	// dropped counts decisions dropped unstored, refused for themselves.
	dropped prometheus.Counter
	// gate pauses the member's input while a bound is reached (see
	// maxOutbox); the periodic retry opens it (reopen). nil without a bus.
	gate *bus.Gate
	// redelivery says the input being handled was delivered before: a
	// metrics tick the join then ignores is counted as redelivered, not
	// late, since its first delivery was joined even if the publishes
	// that followed failed. (An input refused at either bound is kept by
	// the runtime and handed again on the same delivery.)
	redelivery bool
	// replayed says the input being handled was read by a rebuild, not
	// delivered live (bus.Msg.Replayed).
	replayed bool
}

// New builds the decider; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	cfg, err := cfg.validatedWith(d.Config)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "decider").Logger(), ready: d.Ready,
		publishPause: 200 * time.Millisecond, retryEvery: retryEvery, outboxLimit: maxOutbox, unstoredLimit: maxUnstored, now: time.Now,
		unstoredGauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "headroom_decider_unstored_decisions",
			Help: "Decisions made but not yet stored, over every app this member holds: 0 but for a moment while the decisions stream stores what it is sent; " +
				"it grows while publishes fail, up to maxOutbox (256) an app and maxUnstored (8192) in all, where the member pauses its input."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_decider_refused_inputs_total",
			Help: "Inputs refused unjoined because decisions could not be stored, by the bound reached: " +
				"app (the app's own outbox) or member (every app's together). Each pauses the member's input " +
				"(headroom_bus_input_paused{service=\"decider\"}): the input is kept, unacknowledged, and joined once the periodic retry has stored enough."}, []string{"bound"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_decider_decisions_dropped_total",
			Help: "Decisions dropped unstored because the decisions stream or the server refused the message itself " +
				"(not encodable, over the stream's max message size or the server's max_payload): no retry could store it, so it is not held; the app's later decisions go on. " +
				"Each decision counts once: one a take-over makes again from inputs the member before acknowledged, and drops again, is not counted again."}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_decider_decisions_total", Help: "Decisions published, by action."}, []string{"action"}),
		badInput: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_decider_bad_input_decisions_total",
			Help: "Decisions published that hold a tier because its tick lacked its load metric (a scrape rule on a series " +
				"its targets never exposed, or that selects none) or carried one that is not a finite non-negative number, by app and tier."},
			[]string{"app", "tier"}),
		returned: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_decider_returning_apps_total",
			Help: "Apps evicted for idleness that came back and were rebuilt from their recorded inputs."}),
		late: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_decider_late_ticks_total",
			Help: "Metrics ticks not decided because the metrics of their tick were complete before they came, by reason: " +
				"redelivered for a tier's tick already in its frame, decided or waiting (expected after a restart), " +
				"or for a tick delivered again while decisions could not be stored; " +
				"lagging for a tier's newest tick so far, more than -decider.tier-lag behind its app's newest (its tier lags further than the decider waits); " +
				"extra for a tier's second tick, at another time, in one tick interval (the tier is sent more often than the app's tick; the first is decided); " +
				"late for any other (out of order: an older tick, or one of the first ticks of a tier that starts to lag)."},
			[]string{"reason"}),
		overdue: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_decider_overdue_ticks_total",
			Help: "Tier ticks decided without their anomaly message or forecast because the app's backlog of ticks waiting for them was full " +
				"(an upstream stage down or behind by more than the decider's lookback), by the input missing: anomaly or forecast."},
			[]string{"missing"}),
		timedOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_decider_input_timeouts_total",
			Help: "Tier ticks decided without their anomaly message or forecast because it had not come within -decider.input-timeout of real time " +
				"while the decision was fresh enough to act on, or older and let go with such a tick (an upstream stage down or slow), by the input missing: anomaly or forecast."},
			[]string{"missing"}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "headroom_decider_waiting_ticks",
			Help: "Ticks held waiting for their anomaly message or forecast, over every app this member holds (each with its tiers' metrics): " +
				"a few live and while a take-over replays; it grows while an upstream stage is down or behind, up to each app's backlog."})}
	if d.Reg != nil {
		// At 0 from the start, so that increase() sees the first.
		for _, in := range []string{"anomaly", "forecast"} {
			s.overdue.WithLabelValues(in)
			s.timedOut.WithLabelValues(in)
		}
		for _, reason := range []string{"redelivered", "lagging", "extra", "late"} {
			s.late.WithLabelValues(reason)
		}
		for _, bound := range []string{"app", "member"} {
			s.refused.WithLabelValues(bound)
		}
		for _, c := range []prometheus.Collector{s.decisions, s.badInput, s.returned, s.late, s.overdue, s.timedOut, s.waiting, s.unstoredGauge, s.refused, s.dropped} {
			if err := d.Reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	if d.Bus != nil {
		s.gate = d.Bus.NewGate("decider", "app", "member")
	}
	s.state = NewApps(cfg, config.LimitsOf(d.Config), s.log)
	// Note is called with s.mu held, as reading the apps needs.
	s.apps.Held = func(app string) bool { return s.state.app(app) != nil }
	s.state.Late = s.noteLate
	s.state.Overdue = s.noteOverdue
	s.state.Sparse = s.noteSparse
	s.state.Evicted = s.dropSeries
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
	ctx, cancel := context.WithCancel(ctx)
	retried := make(chan struct{})
	go func() {
		defer close(retried)
		s.retryOutboxes(ctx)
	}()
	defer func() { cancel(); <-retried }()
	// The three inputs split by the same partitions and move between
	// members together, so an app's every input reaches one member.
	var inputs []bus.GroupInput
	for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly} {
		inputs = append(inputs, bus.GroupInput{Spec: bus.ConsumerSpec{Service: "decider", Name: "decider-" + string(k), Kind: k, Gate: s.gate}, Handler: s.handler(k)})
	}
	return s.bus.ConsumeGroup(ctx, "decider", bus.GroupSpec{Rebuild: true, Lookback: s.cfg.Lookback(), Acquire: s.acquire, Release: s.release, Returning: s.returning},
		func() { s.ready.Set("decider") }, inputs...)
}

// retryEvery is how often decisions left waiting by a failed publish are
// retried without an input of their app to retry them.
const retryEvery = 5 * time.Second

// retryOutboxes stores, every retryEvery until ctx ends, what waits in the
// apps' outboxes: an app whose inputs have stopped would otherwise keep its
// last decisions unstored. The retry only stores decisions already made, in
// order; after a hand-over the member that let the app go may still store
// a waiting decision the new one remakes, and the stream's dedupe window
// keeps one of the two identical copies.
func (s *Service) retryOutboxes(ctx context.Context) {
	t := time.NewTimer(s.retryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.retryRound(ctx)
		t.Reset(s.retryEvery) // a full retryEvery between rounds, however long one took
	}
}

// retryRound tries once to store each app's waiting decisions, and gives up
// the rest of the round after retryEvery: under an outage it holds the lock
// for at most that long, and an app whose store keeps failing does not stop
// the apps after it.
func (s *Service) retryRound(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.retryEvery)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.reopen()
	if s.gate == nil || s.gate.Paused() == "" {
		// Not while the input is paused: the inputs the ticks wait for
		// may be the ones held back, not late upstream.
		s.expireAll()
	}
	var waiting []string
	for name, a := range s.state.apps {
		if len(a.outbox) > 0 {
			waiting = append(waiting, name)
		}
	}
	slices.Sort(waiting)
	for _, name := range waiting {
		if ctx.Err() != nil {
			return
		}
		_ = s.flush(ctx, s.state.apps[name], 1) // what fails waits for the next round or input
	}
}

// reopen resumes the member's input, paused at a bound (see maxOutbox),
// once its apps hold at most half of each bound: a member that resumed
// just under a bound would pause again at its next few inputs, and each
// pause costs the messages then in flight a delivery (bus.Gate). s.mu is
// held.
func (s *Service) reopen() {
	if s.gate == nil || s.gate.Paused() == "" || s.unstored > s.unstoredLimit/2 {
		return
	}
	for _, a := range s.state.apps {
		if len(a.outbox) > s.outboxLimit/2 {
			return
		}
	}
	s.gate.Open()
	s.state.ResumeInput(s.now())
}

// refuse refuses an input at bound ("app" or "member"), pausing the
// member's input (bus.Gate.Refuse); s.mu is held.
func (s *Service) refuse(bound string, err error) error {
	s.refused.WithLabelValues(bound).Inc()
	if s.gate == nil {
		return err
	}
	// The input timeout counts the pause as no time: the inputs the
	// waiting ticks want may be among those held back.
	s.state.HoldInput(s.now())
	return s.gate.Refuse(bound, err)
}

// expireAll queues the decisions of every app's ticks whose inputs have
// not come within the input timeout (Apps.Expire), so an app is decided
// on time even while no input of it comes to do so; s.mu is held.
func (s *Service) expireAll() {
	if s.cfg.InputTimeout <= 0 {
		return
	}
	now := s.now()
	for name, a := range s.state.apps { // apps are decided apart: any order
		s.queue(a, s.state.Expire(name, now))
	}
	s.noteWaiting()
}

// returning says whether m's app was evicted for idleness and is back, so
// the runtime replays its recorded inputs (all three) first.
func (s *Service) returning(m *bus.Msg) (app, tier string, ok bool) {
	_, app, _, err := proto.ParseSubject(s.bus.Prefix(), m.Subject)
	if err != nil {
		return "", "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.state.Returning(app) {
		return "", "", false
	}
	s.returned.Inc()
	return app, "", true
}

// acquire loads the last decision stored for each of partition p's tiers,
// so its rebuild publishes none twice and withdraws a change the member
// before dropped (Apps.SetSentDecision), and the ticks of the tier's
// decisions stored within Config.StoredWindow before it, so the rebuild
// also withdraws a change dropped behind decisions stored after it
// (Apps.SetStoredTicks). Either read failing fails the take-over, which is
// tried again.
func (s *Service) acquire(ctx context.Context, p int) error {
	sent, err := s.bus.LastMessages(ctx, proto.KindDecision, proto.PartitionFilter(s.bus.Prefix(), proto.KindDecision, p))
	if err != nil {
		return err
	}
	// Each tier's last decision, read once: the stored ticks are read only
	// for the tiers whose last decision is one the rebuild can check
	// (SetSentDecision takes it), as only those use them.
	type lastStored struct {
		app, tier string
		at        time.Time
		d         *proto.Decision // nil: unreadable, for bad
		bad       error
	}
	lasts := make(map[string]lastStored, len(sent))
	since := make(map[string]time.Time, len(sent))
	for subj, last := range sent {
		_, app, tier, err := proto.ParseSubject(s.bus.Prefix(), subj)
		if err != nil {
			continue
		}
		ls := lastStored{app: app, tier: tier, at: last.EventTime}
		var d proto.Decision
		if ls.bad = proto.Decode(last.Data, &d); ls.bad == nil {
			ls.d = &d
			since[subj] = last.EventTime.Add(-s.cfg.StoredWindow(app))
		}
		lasts[subj] = ls
	}
	began := time.Now()
	stored, err := s.bus.EventTimesSince(ctx, proto.KindDecision, since, storedChange)
	if err != nil {
		return err
	}
	n := 0
	for _, st := range stored {
		n += len(st.Ticks)
	}
	s.log.Info().Int("partition", p).Int("tiers", len(since)).Int("decisions", n).Dur("took", time.Since(began)).
		Msg("read the ticks of the decisions stored before the take-over")
	s.mu.Lock()
	defer s.mu.Unlock()
	for subj, ls := range lasts {
		err := ls.bad
		if ls.d == nil {
			s.state.SetSent(ls.app, ls.tier, ls.at)
		} else {
			err = s.state.SetSentDecision(ls.app, ls.tier, ls.at, ls.d)
		}
		if err != nil {
			s.log.Warn().Err(err).Str("app", ls.app).Str("tier", ls.tier).Time("tick_time", ls.at).
				Msg("the last decision stored is unreadable or none the decider makes: its time is kept, the count it was decided from is not checked")
			continue
		}
		s.state.SetStoredTicks(ls.app, ls.tier, stored[subj].Ticks, stored[subj].Marked)
	}
	return nil
}

// storedChange marks, for acquire's read of the ticks stored, a decision
// stored that may have been a change: any but a readable hold.
func storedChange(data []byte) bool {
	var d proto.Decision
	return proto.Decode(data, &d) != nil || d.Action != proto.ActionHold
}

// release drops the state of partition p's apps, handed to another member
// once all three of its inputs have stopped.
func (s *Service) release(p int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, app := range s.apps.Take(p) {
		if a := s.state.app(app); a != nil {
			s.unstored -= len(a.outbox) // the member taking the app over remakes them
			s.unstoredGauge.Set(float64(s.unstored))
		}
		s.state.Forget(app)
		s.dropSeries(app)
	}
	s.noteWaiting()
	s.reopen()
}

// dropSeries removes app's series from /metrics once this member no
// longer decides it (evicted for idleness, or its partition handed over):
// else every app.tier ever decided would stay a series until the process
// ends, however many apps come and go within the series limits. A range
// like increase()'s still reads the samples scraped before; the app's
// next decision here starts its series again.
func (s *Service) dropSeries(app string) {
	s.badInput.DeletePartialMatch(prometheus.Labels{"app": app})
}

// noteWaiting sets the gauge of waiting ticks; s.mu is held.
func (s *Service) noteWaiting() {
	n := s.state.Waiting()
	s.waitingPeak = max(s.waitingPeak, n)
	s.waiting.Set(float64(n))
}

// maxOutbox bounds the decisions an app holds while their publishes fail
// (a tick makes at most one per tier; each is about 1 KiB, mostly its
// inputs map). Below it, an input is joined on its first delivery, in its
// stream's order, even while earlier decisions wait: refused with an
// error, it would be redelivered after later inputs of its stream, in
// whatever order the retries came, and the join would see a tier's tick
// after a later one of its app (and ignore it as late) only because a
// publish had failed; and once out of deliveries it would be
// dead-lettered without ever being joined. At the bound, a long outage
// pauses the member's input instead of growing the outbox: the input is
// refused through the member's gate (bus.Gate), and every consumer of the
// member (all three inputs, every partition) stops fetching and keeps
// what it fetched, in order, unacknowledged and in progress, so nothing
// is redelivered out of order or dead-lettered however long the outage
// lasts; each input is joined in its stream's order once the periodic
// retry has stored enough (reopen: half of each bound). A take-over's
// rebuild refused at the bound waits likewise. While paused the inputs
// wait in their streams, which bound them by their own limits (a
// stream's max age: an outage longer than that loses the oldest). The
// bound is checked before an input is joined, so the outbox can pass it
// by what one input completes: usually one tick, at most the join's
// backlog when the input it waited for comes. An input dead-lettered
// below the bound (a publish failing past MaxDeliver) was joined; only
// its acknowledgement waited for the store.
const maxOutbox = 256

// maxUnstored bounds the decisions every app of a member holds at once
// while their publishes fail, as maxOutbox bounds one app's: without it
// memory grew with the number of apps (up to the series limit, 10000 by
// default: some 3.3 GiB at maxOutbox each), which whoever pushes or
// scrapes new app names chooses. BenchmarkUnstoredDecisions measures
// 1.35 KB a decision held (three-tier app, seven metrics a tick), so
// 8192, the forecaster's and anomaly service's outbox bound, hold some
// 11 MB.
// At the bound an input is refused unjoined and the member's input paused,
// as at maxOutbox, unless storing waiting decisions, its own app's first,
// brings the total under it (makeRoom); the periodic retry stores the
// rest, and resumes the input once at most half the bound waits. An input
// a rebuild replays from before the acknowledgement floor is not refused
// at it (bus.Msg.HandledBefore: the take-over would wait on it): a
// take-over during an outage may pass it by the decisions its replay
// makes again, at most maxOutbox an app taken over. It is checked before an input is
// joined, so the total can pass it by what one input completes, and by
// the ticks already joined that the input timeout decides without their
// inputs (expireAll, at each retry round): at most what waits in the
// joins (headroom_decider_waiting_ticks), taken when below the bound.
const maxUnstored = 8192

// handler decodes one kind of input, adds it to its app's joiner and
// publishes the decisions of every tick it completes. Publishing happens
// under the lock, so decisions leave in event-time order whichever stream
// completed them; a decision counts as sent only once stored.
func (s *Service) handler(k proto.Kind) bus.Handler {
	return func(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
		var in proto.Keyed
		switch k {
		case proto.KindMetrics:
			in = &proto.Metrics{}
		case proto.KindForecast:
			in = &proto.Forecast{}
		case proto.KindAnomaly:
			in = &proto.Anomaly{}
		}
		if err := s.bus.Decode(m, k, in); err != nil {
			return nil, err
		}
		appName, _ := in.Key()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.apps.Note(appName, m.Partition)
		s.redelivery, s.replayed = m.Delivered > 1, m.Replayed()
		// An app whose outbox is full stores what waits there before it
		// takes anything more: while the publishes fail the input is
		// refused, and the member's input paused (see maxOutbox).
		if a := s.state.app(appName); a != nil && len(a.outbox) >= s.outboxLimit {
			if err := s.flush(ctx, a, publishAttempts); err != nil {
				return nil, s.refuse("app", fmt.Errorf("input not taken: app %s holds %d decisions not stored: %w", appName, len(a.outbox), err))
			}
		}
		// Likewise when every app's outboxes together are full, unless
		// storing waiting decisions makes room (makeRoom). Not an input a
		// rebuild replays from before the acknowledgement floor: the
		// take-over would wait on it until the stream stores again,
		// though what such replays add is bounded by the app's own bound,
		// and only the decisions the member before could not store pass
		// their stored marks.
		if s.unstored >= s.unstoredLimit && !m.HandledBefore() {
			if err := s.makeRoom(ctx, appName); err != nil {
				return nil, s.refuse("member", fmt.Errorf("input not taken: this member's apps hold %d decisions not stored, the limit (maxUnstored) is %d: %w", s.unstored, s.unstoredLimit, err))
			}
		}
		s.state.Arrive(m.Stored)
		ds, err := s.state.Handle(in)
		if err != nil {
			s.noteWaiting()
			return nil, bus.Permanent(err)
		}
		a := s.state.app(appName)
		ds = append(ds, s.state.Expire(appName, s.now())...)
		if m.HandledBefore() {
			// The member before acknowledged the input only once its
			// decisions were stored or dropped: made again here, one it
			// dropped is dropped again, not counted again. So are those
			// the input timeout lets go here: the member before read the
			// same inputs live, no faster than a replay does, so by this
			// input its ticks had waited at least as long, and it let
			// them go at it or before (unless its input was paused, or
			// they were too far ahead of its clock). Those let go later,
			// by a retry round or a live input, are counted: the member
			// before may have stopped while they waited.
			for _, d := range ds {
				a.again[d.ID] = true
			}
		}
		s.noteWaiting()
		s.queue(a, ds) // behind any still waiting from a failed publish
		if err := s.flush(ctx, a, publishAttempts); err != nil {
			// The input is joined; its redeliveries add nothing to the
			// join and retry the flush.
			return nil, err
		}
		return nil, nil
	}
}

// noteLate counts and logs a metrics tick the join ignored as late,
// lagging, extra or redelivered, and warns at the first lagging tick of a
// run of its tier and at a tier's first extra tick of an hour. A tick a
// rebuild replays is neither counted nor warned of: it was when it was
// delivered live.
func (s *Service) noteLate(l LateTick) {
	if s.replayed {
		return
	}
	m := l.Metrics
	reason := "late"
	switch {
	case l.Why == LateRedelivered:
		reason = "redelivered"
	case l.Why == LateBehind:
		reason = "lagging"
	case l.Why == LateExtra:
		reason = "extra"
	case s.redelivery:
		reason = "redelivered"
	}
	s.late.WithLabelValues(reason).Inc()
	if reason == "extra" && l.First {
		s.log.Warn().Str("app", m.App).Str("tier", m.Tier).Time("tick_time", m.EventTime()).Dur("tick", s.cfg.policyFor(m.App).Tick).
			Msg("the tier sends more than one tick per tick interval (-decider.tick, or the app's policy.tick): only the first tick of each interval is decided")
		return
	}
	if reason == "lagging" && l.First {
		s.log.Warn().Str("app", m.App).Str("tier", m.Tier).Time("tick_time", m.EventTime()).Time("newest", proto.Time(l.Newest)).
			Dur("tier_lag", s.cfg.TierLag).
			Msg("the tier's metrics are further behind its app's newest tick than -decider.tier-lag: its ticks are not decided until they catch up (or the newest tick came from a clock that runs ahead)")
		return
	}
	s.log.Debug().Str("app", m.App).Str("tier", m.Tier).Time("tick_time", m.EventTime()).Time("last", proto.Time(l.Released)).
		Str("reason", reason).Msg("late tick not decided")
}

// noteSparse warns that a tier is sent less often than its app's tick,
// also on ticks a rebuild replays (marked so): the join reports a run of
// sparse blocks once, so a run found in the replay would otherwise go
// unsaid by this process. Nothing is counted, so no alert fires again.
func (s *Service) noteSparse(m *proto.Metrics, mean, tick time.Duration) {
	s.log.Warn().Str("app", m.App).Str("tier", m.Tier).Time("tick_time", m.EventTime()).Dur("mean_interval", mean).Dur("tick", tick).Bool("replayed", s.replayed).
		Msg("the tier's ticks come less often than its app's tick (-decider.tick, or the app's policy.tick): the policy counts its windows in ticks, so they span more time than configured; set the tick to the tier's interval")
}

// noteOverdue counts a tick decided without some of its inputs and warns
// at the first of a run of them, naming the app, its tiers and what they
// lack. A tick the backlog's bound released while a rebuild replays is
// neither counted nor warned of (it was when it was decided live, if it
// was then); one the input timeout released is (the wall clock, not the
// recording, decided it), unless the member before this one stored its
// decisions and counted it (Apps.Overdue is not told of those).
func (s *Service) noteOverdue(o OverdueTick) {
	if s.replayed && !o.TimedOut {
		// A replay's window may also begin inside a forecast bucket
		// whose forecast it does not read.
		return
	}
	counter, msg := s.overdue, "deciding without the tick's anomaly message or forecast: the decider's backlog waiting for them is full (is an upstream stage down?)"
	if o.TimedOut {
		counter, msg = s.timedOut, "deciding without the tick's anomaly message or forecast: not come within -decider.input-timeout (an upstream stage is down, or behind: catching up after a start or an outage, or overloaded); scaling reactively on the latest forecast"
	}
	for _, tier := range slices.Sorted(maps.Keys(o.Missing)) {
		for _, in := range o.Missing[tier] {
			counter.WithLabelValues(in).Inc()
		}
		if o.First {
			ev := s.log.Warn().Str("app", o.App).Str("tier", tier).Strs("missing", o.Missing[tier]).Time("tick_time", proto.Time(o.TS))
			if o.TimedOut {
				ev = ev.Str("input_timeout", s.cfg.InputTimeout.String())
			}
			ev.Msg(msg)
		}
	}
}

// publishAttempts is how many times a handler tries to store a decision
// before its input is redelivered (the periodic retry tries once).
const publishAttempts = 5

// refusedRetry is the wait after the first of the decisions' publishes
// the server refused in a row for the decider's permissions, doubling at
// each refusal after up to bus.RefusedRetryMax (bus.RefusedBackoff).
const refusedRetry = time.Second

// flush stores a's pending decisions in order, marking each sent once
// stored; each gets up to attempts publishes. A decision refused for
// itself (bus.IsRefusedMessage: not encodable, or too large for the stream
// or the server) is dropped (see drop), and the rest go on: held, it would
// stop its app's decisions for good and, at the app's bound, pause every
// app of the member.
func (s *Service) flush(ctx context.Context, a *app, attempts int) error {
	for len(a.outbox) > 0 {
		d := a.outbox[0]
		if err := s.publish(ctx, d, attempts); err != nil {
			why := bus.RefusedMessageReason(err)
			if why == "" {
				return err
			}
			s.drop(a, d, why, err)
		}
		delete(a.again, d.ID)
		a.sentTS[d.Tier] = d.TS
		a.outbox = a.outbox[1:]
		s.unstored--
		s.unstoredGauge.Set(float64(s.unstored))
	}
	a.outbox = nil
	return nil
}

// drop gives up d, which why (bus.RefusedMessageReason) refused for
// itself: it is logged with its app, tier, id and what refused it, and
// counted once (a take-over that makes it again from inputs the member
// before acknowledged, or lets it go by the input timeout while it
// handles them, drops it again uncounted, at warn: that member counted
// it), and what deciding it committed is withdrawn where it can
// be (Apps.Withdraw): nothing scaled, so a change starts no cool-down and
// the tier's count stays the one it held.
func (s *Service) drop(a *app, d *proto.Decision, why string, err error) {
	withdrawn := s.state.Withdraw(d)
	ev := s.log.Error()
	msg := "decision dropped: the decisions stream or the server refuses it for itself (refused says why), so no retry can store it"
	if a.again[d.ID] {
		ev = s.log.Warn()
		msg = "decision dropped again: made again from inputs the member before handled, which dropped and counted it (refused says why)"
	} else {
		s.dropped.Inc()
	}
	ev.Err(err).Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Time("tick_time", proto.Time(d.TS)).Str("action", d.Action).
		Str("refused", why).Bool("withdrawn", withdrawn).Msg(msg)
}

// makeRoom stores waiting decisions until fewer than unstoredLimit wait,
// those of appName first, then other apps' (each app's in order), and
// says why it could not. Each publish gets one attempt: under an outage
// every app's inputs come here, and each would hold the lock through
// publishAttempts' pauses; the first failure ends it. Once the stream
// accepts again, an input stores what it needs to be taken: leaving the
// others' to the periodic retry refused the inputs of apps with nothing
// waiting until a round had stored enough (one stores what it can in
// retryEvery), and paused the member's input meanwhile (before the
// gate: dead-lettered them after MaxDeliver deliveries, a few seconds),
// though every store would have succeeded. s.mu is held.
func (s *Service) makeRoom(ctx context.Context, appName string) error {
	if a := s.state.app(appName); a != nil && len(a.outbox) > 0 {
		if err := s.flush(ctx, a, 1); err != nil {
			return fmt.Errorf("store app %s's waiting decisions: %w", a.name, err)
		}
	}
	for _, a := range s.state.apps { // any order: each app's stay in theirs
		if s.unstored < s.unstoredLimit {
			return nil
		}
		if len(a.outbox) > 0 {
			if err := s.flush(ctx, a, 1); err != nil {
				return fmt.Errorf("store app %s's waiting decisions: %w", a.name, err)
			}
		}
	}
	if s.unstored >= s.unstoredLimit { // only if the count and the outboxes disagree
		return errors.New("no app holds the decisions counted as waiting")
	}
	return nil
}

// queue puts ds behind a's waiting decisions and counts them; s.mu is held.
func (s *Service) queue(a *app, ds []*proto.Decision) {
	a.outbox = append(a.outbox, ds...)
	s.unstored += len(ds)
	s.unstoredGauge.Set(float64(s.unstored))
}

// publish stores d, trying up to attempts times, a growing pause apart.
// A publish the server refuses for the decider's permissions (bus.IsRefused:
// nats.conf does not let its user publish decisions) is not tried again
// until the shared schedule of such refusals lets it: each try is a
// permissions violation in the server's log, and a permission is granted
// by an operator, not by waiting. Until then no decision is tried, by an
// input or the periodic retry: the error, the last refusal, asks its
// input's redelivery to wait as long (bus.RetryAfter). The refusals are
// counted in a row, any other outcome ending the count, and logged at the
// first and every tenth (bus.RefusedLevel), at debug level between.
// s.mu is held.
func (s *Service) publish(ctx context.Context, d *proto.Decision, attempts int) error {
	out := bus.Out{Subject: proto.DecisionSubject(s.bus.Prefix(), d.App, d.Tier), Msg: d}
	var err error
	for attempt := range attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt) * s.publishPause):
			}
		}
		if wait := time.Until(s.refusedUntil); wait > 0 {
			return bus.RetryAfter(fmt.Errorf("decision %s not tried, its publish refused for the decider's permissions (next try in %s): %w",
				d.ID, wait.Round(time.Millisecond), s.refusal), wait)
		}
		err = s.bus.Publish(ctx, out)
		if n := s.refusals.Add(err); n > 0 {
			wait := bus.RefusedBackoff(refusedRetry, n)
			s.refusal, s.refusedUntil = err, time.Now().Add(wait)
			s.log.WithLevel(bus.RefusedLevel(n, zerolog.ErrorLevel)).Err(err).Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Int("refusals", n).Dur("retry_in", wait).
				Msg("decision not stored")
			return bus.RetryAfter(err, wait)
		}
		s.refusal, s.refusedUntil = nil, time.Time{}
		if bus.IsRefusedMessage(err) {
			return err // the caller drops it (flush)
		} else if err == nil {
			s.decisions.WithLabelValues(d.Action).Inc()
			// The tier's series starts with its first decision here: at
			// 0 if that one is not a hold without load, so increase()
			// sees the first that is. (A tier without load from its first
			// decision starts at 1; its next holds are seen, and the
			// alert waits for sustained holds anyway.)
			if bad := s.badInput.WithLabelValues(d.App, d.Tier); slices.Contains(d.Flags, policy.FlagBadInput) {
				bad.Inc()
			}
			if d.Action != proto.ActionHold {
				s.log.Info().Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Int("from", d.From).Int("to", d.To).Str("reason", d.Reason).Msg("decision")
			}
			return nil
		}
	}
	s.log.Error().Err(err).Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Msg("decision not stored")
	return err
}
