package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/kubelog"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// Service is the executor.
type Service struct {
	cfg        Config
	bus        *bus.Bus
	log        zerolog.Logger
	ready      *service.Ready
	driver     Driver
	driverName string
	shadow     *SimDriver
	kv         *bus.Replicas

	held *held // the replica states of the tiers handled, within the series limits
	// refusedRetry is the first wait before a scaling event refused for
	// the executor's permissions is published again (storeRefused).
	refusedRetry time.Duration
	// stopping is closed when Run is told to stop (its context's Done):
	// a handling goes on past it (an action begun is finished), but a
	// scaling event's wait for the server's permission ends there
	// (storeRefused). Nil before Run: never closed.
	stopping <-chan struct{}
	// group is the service name the executor's copies share their
	// partitions under: "executor" (a test runs another group, a member
	// that does not see the first group's).
	group string

	actions *prometheus.CounterVec
	refused *prometheus.CounterVec
	// syncs counts syncs by result (syncCarried, syncRefused, syncFailed).
	syncs      *prometheus.CounterVec
	driverTime *prometheus.HistogramVec
	// conflicts counts decisions judged again because another member
	// stored their tier's state meanwhile (see handle).
	conflicts prometheus.Counter
	// leaseWaits counts changes held back by another member's lease of
	// their tier, leaseErrors changes not made because the lease bucket
	// could not be used (see takeLease).
	leaseWaits, leaseErrors prometheus.Counter
	// leaseRenewals counts the renewals of a tier's lease kept while its
	// change is recorded, by app, tier and result (renewResults; see
	// tierLease.keep).
	leaseRenewals *prometheus.CounterVec
	// afterReads counts the messages newer read on decision subjects
	// after a decision judged.
	afterReads prometheus.Counter
	now        func() time.Time

	// member names this process in the leases it takes.
	member   string
	leasesMu sync.Mutex
	leases   *bus.Leases // opened at the first lease
	waited   waitedSet
	// leaseHealth is the "leases" readiness check of a member that takes
	// leases (takesLeases).
	leaseHealth leaseHealth

	healthObserver func(error)
	// beforeRebasePut, when set (tests), is called by rebase after it
	// read the state stored meanwhile, before it records the change over
	// it.
	beforeRebasePut func()

	// restoreKubeLog, set with the kubernetes driver New builds, hands
	// client-go's logging back from this service's log (kubelog.Install);
	// Run calls it as it returns, New when it fails.
	restoreKubeLog func()

	// closeDriver, set when New built the driver itself and the driver
	// has watches to stop (KubeDriver), stops them; Run calls it as it
	// returns, New when it fails. A driver passed with WithDriver is the
	// embedder's to close.
	closeDriver func()
}

// refusals are the values of headroom_executor_refused_total's why: the
// first word of each reason a change is not made for, except "replayed":
// a change decided on replayed input for a tier a real driver may act on
// (reason replayedInput), counted apart from "unauthorised" (a tier
// without authority, refused every tick by design) because it means a
// replay runs under a live app's name.
// "moved" counts a delivery whose change a driver refused because the count
// moved since the decision was judged (ErrMovedSinceJudged), once however
// many times the decision is judged again in it.
// The results of a sync (see Service.syncDue), the values of
// headroom_executor_syncs_total's result: the driver set the count the
// record held, the sync was refused as a change is (and is due again at
// the next decision), or the driver failed (due again too).
const (
	syncCarried = "carried"
	syncRefused = "refused"
	syncFailed  = "failed"
)

var refusals = []string{"unauthorised", "replayed", "stale", "superseded", "outdated", "inconsistent", "out of bounds", "series limit", "bucket full", "moved"}

// Option changes how New builds the service.
type Option func(*Service)

// WithDriver makes d, reported under name, the live driver instead of the one
// Config.Driver selects (embedders with their own driver; tests). New routes
// client-go's logging into the service's log only for the kubernetes driver
// it builds itself: an embedder passing a driver on client-go
// (NewKubeDriverForClient) calls kubelog.Install.
func WithDriver(name string, d Driver) Option {
	return func(s *Service) { s.driverName, s.driver = name, d }
}

// WithClock makes now the executor's wall clock (tests of stale and future
// decisions).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = now }
}

// WithHealthObserver makes observe see every change of the decision
// consumer's health (a lost consumer's reason, nil once recreated) besides
// the readiness gate.
func WithHealthObserver(observe func(error)) Option {
	return func(s *Service) { s.healthObserver = observe }
}

// New builds the executor and its driver; it starts nothing.
func New(cfg Config, d service.Deps, opts ...Option) (*Service, error) {
	cfg, err := cfg.resolveWith(d.Config)
	if err != nil {
		return nil, err
	}
	lim := config.LimitsOf(d.Config)
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "executor").Logger(), ready: d.Ready, now: time.Now, group: "executor", member: memberID(), refusedRetry: refusedRetryBase,
		held: newHeld(lim.MaxSeriesPerApp, lim.MaxSeries, lim.IdleAfter)}
	s.shadow = NewSimDriver(cfg.BootDelays, cfg.DefaultBootDelay, cfg.FailureRate, cfg.Seed)
	for _, o := range opts {
		o(s)
	}
	if s.driver == nil {
		if cfg.Driver == DriverKubernetes {
			// client-go logs through klog, which kubelog routes,
			// masked, to stderr until it is given the service's log.
			// Before the driver is built: loading its configuration
			// may log already.
			s.restoreKubeLog = kubelog.Install(s.log)
		}
		if s.driver, err = newDriver(cfg, s.shadow); err != nil {
			s.releaseKubeLog()
			return nil, err
		}
		s.driverName = cfg.Driver
		if c, ok := s.driver.(interface{ Close() }); ok {
			s.closeDriver = c.Close
		}
	}
	s.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_executor_actions_total", Help: "Scaling events published, by mode and status."}, []string{"mode", "status"})
	s.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_executor_refused_total",
		Help: "Decided changes the executor refused, by why (" + strings.Join(refusals, ", ") + "); each was not made, except moved: a driver changed nothing because the tier's count moved since the decision was judged, and the decision was judged again (once per delivery), which may have made it."}, []string{"why"})
	// Every series exists from the start, at 0, so that a rule on
	// increase() sees the first of each (a series appearing at 1 increases
	// by nothing).
	for _, why := range refusals {
		s.refused.WithLabelValues(why)
	}
	s.syncs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_executor_syncs_total",
		Help: "Syncs, by result: first live judgements of a tier whose record held a count only acknowledged (dry-run, without authority, shadow), which have the driver set it, a hold included: carried (the driver set it), refused (skipped as a change is: inconsistent, out of bounds, stale, superseded, outdated; due again at the next decision) or failed (the driver's call failed; due again). Each is counted in headroom_executor_actions_total too."}, []string{"result"})
	for _, result := range []string{syncCarried, syncRefused, syncFailed} {
		s.syncs.WithLabelValues(result)
	}
	for _, mode := range []string{ModeLive, ModeDryRun, ModeShadow} {
		for _, status := range []string{proto.StatusRequested, proto.StatusApplied, proto.StatusReady, proto.StatusFailed, proto.StatusSkipped} {
			s.actions.WithLabelValues(mode, status)
		}
	}
	s.driverTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "headroom_executor_driver_seconds", Help: "Time spent in driver calls, by driver and outcome (ok, error, moved: refused, the count changed since the decision was judged).",
		Buckets: prometheus.ExponentialBuckets(1e-4, 4, 10)}, []string{"driver", "outcome"})
	s.conflicts = prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_executor_state_conflicts_total",
		Help: "Puts of a tier's replica state that found another member's stored meanwhile (members handling a tier at once), each counted: the decision judged again, or, a change carried out under the tier's lease over a hold stored meanwhile, recorded over it (a put of that meeting yet another state counted again)."})
	s.leaseWaits = prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_executor_lease_waits_total",
		Help: "Changes held back because another member held their tier's lease (its driver, one that cannot read the count back, was changing the tier): retried and judged again later."})
	s.leaseErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_executor_lease_errors_total",
		Help: "Changes not made because the tier's lease could not be taken (the lease bucket missing or failing): retried; none is made unleased."})
	s.leaseRenewals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_executor_lease_renewals_total",
		Help: "Renewals of a tier's lease kept while the change made under it is recorded (its scaling events or state waiting in place for the server's permissions), by app, tier and result: " +
			"renewed; failed (a timeout, a refusal: retried at the next third of the lease); lost (the key moved: the lease lapsed or was taken again) or lapsed (its renewals failed until it lapsed by this member's clock), " +
			"either ending the keeping while the change is not recorded, so another member may change the tier judged from a state without it. A change recorded at once costs none."},
		[]string{"app", "tier", "result"})
	if s.takesLeases() {
		// Only the tiers the file names live take leases (realDriverFor):
		// their series exist from the start, at 0, for increase() to see
		// the first of each.
		for app, tiers := range s.cfg.Authority {
			for _, tier := range tiers {
				for _, result := range renewResults {
					s.leaseRenewals.WithLabelValues(app, tier, result)
				}
			}
		}
	}
	s.afterReads = prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_executor_superseded_reads_total",
		Help: "Messages read on decision subjects between a change judged and the last stored, to tell whether a newer decision supersedes it (when the last is not one: decisions on replayed input, or messages any client can have stored there); each is read once by a member, not once per change judged before it."})
	waitsForgotten := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "headroom_executor_lease_waits_forgotten_total",
		Help: "Marks of decisions that waited on another member's lease forgotten because the executor held its most (16,384): such a decision refused later as stale no longer says it waited."},
		func() float64 { return float64(s.waited.forgotten.Load()) })
	if d.Reg != nil {
		for _, c := range []prometheus.Collector{s.actions, s.refused, s.syncs, s.driverTime, s.conflicts, s.leaseWaits, s.leaseErrors, s.leaseRenewals, s.afterReads, waitsForgotten} {
			if err := d.Reg.Register(c); err != nil {
				s.release()
				return nil, fmt.Errorf("executor metrics: %w", err)
			}
		}
	}
	d.Ready.Wait("executor")
	if s.takesLeases() {
		s.leaseHealth.probe = errNotProbed
		d.Ready.Check("leases", s.leaseHealth.Err)
	}
	if w, ok := s.driver.(watcher); ok {
		// "driver", not "kubernetes": the driver's errors name it
		// already ("driver: kubernetes: workloads not listed …").
		d.Ready.Check("driver", w.Synced)
	}
	s.logEffective()
	return s, nil
}

// watcher is a driver that watches the workloads it scales (KubeDriver):
// Run starts its watches, and readiness waits for them to list.
type watcher interface {
	Watch()
	Synced() error
}

// newDriver builds the driver cfg.Driver names; the sim driver is sim.
func newDriver(cfg Config, sim *SimDriver) (Driver, error) {
	switch cfg.Driver {
	case DriverCommand:
		return NewCommandDriver(cfg.Command)
	case DriverWebhook:
		return NewWebhookDriver(cfg.Webhook)
	case DriverKubernetes:
		return NewKubeDriver(cfg.Kubernetes)
	default:
		return sim, nil
	}
}

// releaseKubeLog hands client-go's logging back from this service's log,
// if New gave it.
func (s *Service) releaseKubeLog() {
	if s.restoreKubeLog != nil {
		s.restoreKubeLog()
	}
}

// release closes the driver New built, if it has watches to stop, and then
// hands client-go's logging back from the service's log (lines its
// informers log as they stop still reach it).
func (s *Service) release() {
	if s.closeDriver != nil {
		s.closeDriver()
	}
	s.releaseKubeLog()
}

// Run consumes decisions until ctx ends. As it returns, it closes the
// driver New built (a kubernetes driver's informers would otherwise retry
// their watches for the life of the process; one passed with WithDriver is
// the embedder's to close), and client-go's logging leaves the service's
// log.
func (s *Service) Run(ctx context.Context) error {
	defer s.release()
	s.stopping = ctx.Done()
	kv, err := s.bus.Replicas(ctx)
	if err != nil {
		return err
	}
	s.kv = kv
	if w, ok := s.driver.(watcher); ok {
		w.Watch()
	}
	if s.takesLeases() {
		probeCtx, stopProbe := context.WithCancel(ctx)
		probed := make(chan struct{})
		go func() {
			defer close(probed)
			s.watchLeaseRights(probeCtx, 5*time.Second, time.Minute)
		}()
		defer func() { stopProbe(); <-probed }()
	}
	// Copies of the executor split the apps by partition; the server
	// delivers each partition to one of them at a time, so no decision is
	// ever acted on twice. A member taking a partition over drops what it
	// held of the partition's tiers, so it reads the replica state the
	// previous one committed; one handing a partition on drops it too. So
	// does one pinned afresh on a partition it kept (Repinned): it may
	// have lost the pin meanwhile to a member that acted on the tiers.
	return s.bus.Consume(ctx, bus.ConsumerSpec{
		// A message stays unacknowledged while its driver works; the
		// runtime keeps it in progress, however slow the driver, so the
		// durable's AckWait (provisioning's) need not know the driver.
		Service: s.group, Name: "executor", Kind: proto.KindDecision, Progress: true,
		Started: func() { s.ready.Set("executor") }, Health: s.health,
		Group: &bus.GroupSpec{Acquire: func(_ context.Context, p int) error { s.forget(p); return nil }, Release: s.forget, Repinned: s.forget},
	}, s.handle)
}

// health fails readiness while the decision consumer is lost (the bus logs
// the error and recreates it) and restores it after.
func (s *Service) health(err error) {
	s.ready.Health("executor")(err)
	if s.healthObserver != nil {
		s.healthObserver(err)
	}
}

// forget drops what the executor holds of partition p's tiers, their
// simulated clusters included: the next decision of each reads its state
// from the bucket.
func (s *Service) forget(p int) {
	for _, k := range s.held.forget(p) {
		s.shadow.Forget(k.App, k.Tier)
	}
}

// state returns k's replica state (nil for a tier the bucket does not
// know): what the executor holds, else the bucket's, which then seeds the
// tier's simulated cluster and is held. An unreadable value in the bucket
// is logged and taken as none, so the tier's next state replaces it. k
// must have been seen.
func (s *Service) state(ctx context.Context, k limits.Key) (*proto.ReplicaState, error) {
	if st, ok := s.held.get(k); ok {
		return st, nil
	}
	return s.load(ctx, k)
}

// current returns k's replica state as the bucket has it, for a change
// about to be decided from held, the state this member holds: when the
// bucket's revision is not the held one's, another member wrote it
// meanwhile, and the bucket's replaces the held one (and the tier's
// simulated cluster) first. A member learns of most such writes from its
// partition (Acquire, Repinned), but not of one made while it was still
// handling messages delivered under a pin it had lost (see
// bus.GroupSpec.Repinned): the driver must not act from a view of before
// it. (put records a state only over the revision it was judged from, so
// what the bucket holds never goes back in event time.)
func (s *Service) current(ctx context.Context, k limits.Key, held *proto.ReplicaState, log zerolog.Logger) (*proto.ReplicaState, error) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, rev, err := readState(rctx, s.kv, k.App, k.Tier)
	if err != nil && !errors.Is(err, errUnreadableState) {
		return nil, err
	}
	if rev == s.held.revision(k) {
		return held, nil
	}
	ev := log.Info()
	if held != nil {
		ev = ev.Int64("held_ts", held.TS)
	}
	if st != nil {
		ev = ev.Int64("bucket_ts", st.TS)
	}
	ev.Msg("the tier's state changed in the bucket since this member held it (another member acted on it): going on from the bucket's")
	s.shadow.Forget(k.App, k.Tier)
	return s.hold(k, st, rev, err), nil
}

// load reads k's replica state from the bucket and holds it, seeding the
// tier's simulated cluster (see state).
func (s *Service) load(ctx context.Context, k limits.Key) (*proto.ReplicaState, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, rev, err := readState(ctx, s.kv, k.App, k.Tier)
	if err != nil && !errors.Is(err, errUnreadableState) {
		return nil, err
	}
	return s.hold(k, st, rev, err), nil
}

// hold keeps st, read from the bucket at revision rev, as k's state and
// seeds the tier's simulated cluster from it; a state read as unreadable
// (err) is logged and held as none, to be replaced by the tier's next.
func (s *Service) hold(k limits.Key, st *proto.ReplicaState, rev uint64, err error) *proto.ReplicaState {
	if err != nil {
		s.log.Warn().Err(err).Str("app", k.App).Str("tier", k.Tier).Msg("ignoring unreadable replica state")
		st = nil
	}
	if st != nil {
		// The booting replicas began when the change that asked for them
		// was decided (the state's decision id), not at the state's time,
		// which a later hold moves on.
		var since time.Time
		if ts, ok := proto.DecisionTime(st.DecisionID); ok {
			since = proto.Time(ts)
		}
		s.shadow.Restore(k.App, k.Tier, proto.Time(st.TS), st.Ready, st.Booting, since)
	}
	s.held.set(k, st, rev)
	return st
}

// put records a tier's state in the bucket, then in memory, only over
// the revision of the state it was judged from (the one held): when
// another member stored one since, nothing is stored, the held state is
// dropped (the next read is the bucket's) and the error wraps
// bus.ErrChanged, for the decision to be judged again from it.
func (s *Service) put(ctx context.Context, k limits.Key, st *proto.ReplicaState) error {
	return s.putOver(ctx, k, st, s.held.revision(k))
}

// putOver is put over bucket revision rev (0: no value) instead of the
// held state's.
func (s *Service) putOver(ctx context.Context, k limits.Key, st *proto.ReplicaState, rev uint64) error {
	err := s.storeOver(ctx, k, st, rev)
	if errors.Is(err, bus.ErrBucketFull) {
		// Another member's put filled the bucket after this tier's room
		// check: the change is made, but retrying cannot record it.
		return s.bucketFull(fmt.Errorf("replica state %s cannot be recorded after its decision was handled: %w", proto.ReplicaKey(k.App, k.Tier), err))
	}
	return err
}

// storeOver is putOver without its verdict on a full bucket: the error
// wraps bus.ErrBucketFull, and nothing is counted (see rebase).
func (s *Service) storeOver(ctx context.Context, k limits.Key, st *proto.ReplicaState, rev uint64) error {
	key := proto.ReplicaKey(k.App, k.Tier)
	data, err := proto.Encode(st)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rev, err = s.kv.Update(ctx, key, data, rev)
	switch {
	case errors.Is(err, bus.ErrBucketFull):
		return fmt.Errorf("put replica state %s: %w", key, err)
	case errors.Is(err, bus.ErrChanged):
		s.held.unload(k)
		s.shadow.Forget(k.App, k.Tier)
		return fmt.Errorf("put replica state %s: %w", key, err)
	case err != nil:
		return fmt.Errorf("put replica state %s: %w", key, err)
	}
	s.held.set(k, st, rev)
	return nil
}

// room refuses d when its tier k has no replica state yet and the bucket
// has no room for one: acting on a tier whose state cannot be recorded
// would leave the decider and the next decision blind to the change. The
// refused tier gives its place under the series limits back. Tiers with a
// state go on, as each replaces its own key.
//
// The bucket's keys are never deleted, and tiers come and go by names
// anyone pushing metrics chooses, so a tier the configuration file does
// not name is admitted only while room stays for a key per tier the file
// names (reserve): a bucket filled by such names still takes the first
// state of a tier the operator configures. The reserve is every named
// tier, those already holding a key included: a constant, without a read
// per named tier, which keeps at most that many keys (a few hundred of
// the default cap's 52,000) unused.
func (s *Service) room(ctx context.Context, k limits.Key, d *proto.Decision) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reserve := 0
	if !slices.Contains(s.cfg.Named[k.App], k.Tier) {
		for _, tiers := range s.cfg.Named {
			reserve += len(tiers)
		}
	}
	err := s.kv.Room(ctx, reserve)
	switch {
	case errors.Is(err, bus.ErrRoomReserved):
		s.held.release(k)
		return s.bucketFull(fmt.Errorf("decision %s: tier %s has no replica state, is not named in the configuration, and the bucket's remaining room is reserved for the configuration's %d tiers, so it is not acted on: %w", d.ID, k, reserve, err))
	case errors.Is(err, bus.ErrBucketFull):
		s.held.release(k)
		return s.bucketFull(fmt.Errorf("decision %s: tier %s has no replica state and the bucket has no room for one, so it is not acted on: %w", d.ID, k, err))
	}
	return err // nil, or transient: retried
}

// bucketFull counts a refusal for a full replica bucket and marks err
// permanent, saying what would make room: retrying cannot.
func (s *Service) bucketFull(err error) error {
	s.refused.WithLabelValues("bucket full").Inc()
	return bus.Permanent(fmt.Errorf("%w (raise -stream.replica-max-bytes and provision again)", err))
}

// ReadState returns a tier's replica state from the bucket. A value that
// does not decode as the tier's state (proto.DecodeReplicaState: a copy of
// another message, say) is an errUnreadableState.
func ReadState(ctx context.Context, kv *bus.Replicas, app, tier string) (*proto.ReplicaState, error) {
	st, _, err := readState(ctx, kv, app, tier)
	return st, err
}

// readState is ReadState with the bucket revision of the value read (0:
// none), an unreadable one's included.
func readState(ctx context.Context, kv *bus.Replicas, app, tier string) (*proto.ReplicaState, uint64, error) {
	v, rev, err := kv.Entry(ctx, proto.ReplicaKey(app, tier))
	if errors.Is(err, bus.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("replica state %s.%s: %w", app, tier, err)
	}
	st, err := proto.DecodeReplicaState(proto.ReplicaKey(app, tier), v)
	if err != nil {
		return nil, rev, fmt.Errorf("replica state %s.%s: %w: %w", app, tier, errUnreadableState, err)
	}
	return st, rev, nil
}

// errUnreadableState marks a replica state ReadState found but could not
// decode as the tier's state.
var errUnreadableState = errors.New("unreadable")

// logEffective logs, once at start, how the executor will act: its driver,
// the modes, and the tiers a real driver may touch.
func (s *Service) logEffective() {
	ev := s.log.Info().Str("driver", s.driverName).Interface("modes", s.cfg.Modes).Dur("max_future_skew", s.cfg.MaxFutureSkew)
	if s.driverName != DriverSim {
		ev = ev.Interface("authority", s.cfg.Authority).Dur("max_age", s.cfg.MaxAge)
		if len(s.cfg.Authority) == 0 {
			s.log.Warn().Str("driver", s.driverName).Msg("no app is configured with mode live: every change will be recorded as not authorised")
		}
	}
	ev.Msg("executor configuration")
}
