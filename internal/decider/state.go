package decider

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/proto"
)

// Lookback is how much input history, in event time before the first live
// tick, rebuilds an app's decider state: the longest policy calibration
// window of any app plus the forecast horizon the join keeps. The policy's
// other state (hold skill, capacity fit) forgets slowly, so a rebuild from
// Lookback decides like a decider that never stopped closely but not bit
// for bit; replay from the streams' start where equality is required.
func (c Config) Lookback() time.Duration {
	w := c.Policy.CalibrationWindow
	for _, p := range c.Apps {
		w = max(w, p.CalibrationWindow)
	}
	return w + time.Hour
}

// backlog is how many ticks an app's join keeps waiting for their anomaly
// messages and forecasts: the ticks of Lookback and TierLag at the app's
// tick interval, ends included. The replays (bus.GroupSpec's Rebuild and
// Returning) merge the input streams by stored time, so that many ticks
// wait only where the anomaly messages and forecasts were stored that much
// later than their metrics (TierLag more when the window's first message
// is a lagging tier's); none of them may be released early or the rebuilt
// decisions would differ from the live ones. A longer backlog means an
// upstream stage is behind by more than the history the decider's state is
// rebuilt from. Past it the oldest tick is decided without what it lacks
// (joiner.overdue): memory stays bounded (about 0.7 KiB per tick per tier,
// megabytes a tier when full). Live, the input timeout (Apps.Expire)
// decides an app's fresh ticks long before that while an upstream stage is
// down (see the package doc); the bound remains for a decider that reads
// its inputs too late for the timeout, or runs without it.
func (c Config) backlog(tick time.Duration) int {
	if tick <= 0 {
		return 0
	}
	return int((c.Lookback()+c.TierLag)/tick) + 1
}

type app struct {
	name     string
	cfg      policy.AppConfig
	join     *joiner
	policy   *policy.App
	tiers    []string         // tiers admitted under the series limits
	lastSeen int64            // arrival of its last input (ms), for idleness
	sentTS   map[string]int64 // per tier: last decision stored
	desired  map[string]int   // per tier: last decided count
	changeTS map[string]int64 // per tier: event time of the last change decided
	// undo holds, per tier, what its last change decided replaced, for
	// Withdraw.
	undo map[string]tierMark
	// again marks the decisions (by id) made again from inputs the member
	// before acknowledged (bus.Msg.HandledBefore): it stored or dropped
	// them, so a drop of one is not counted again. Cleared as they leave
	// the outbox.
	again map[string]bool
	// overdue says the app's last tick was decided overdue, without some
	// of its inputs (to warn once per run of them).
	overdue bool
	// outbox holds decisions made but not yet stored, oldest first. Later
	// decisions queue behind them, and every delivery of the app's inputs
	// (or, without one, the service's periodic retry) stores them first, so
	// a failed publish leaves no gap and nothing leaves out of order (see
	// maxOutbox).
	outbox []*proto.Decision
}

// tierMark is what a change decided for a tier replaced: the count it was
// held at (if known) and the event time of the change before.
type tierMark struct {
	desired    int
	hadDesired bool
	changeTS   int64
}

// total returns the replica count tier is held at for the tick m: the
// executor's committed desired count once it has handled the last change
// decided, else that change's count (pending), else nothing known.
func (a *app) total(tier string, m *proto.Metrics) (int, bool) {
	want, ok := a.desired[tier]
	return heldAt(m, a.changeTS[tier], want, ok)
}

// heldAt is total for a tier whose last change was decided at changeTS
// and whose last decided count is want (ok: one was decided).
func heldAt(m *proto.Metrics, changeTS int64, want int, ok bool) (int, bool) {
	if c := m.Committed; c != nil && c.DecisionTS >= changeTS {
		return c.Desired, true
	}
	return want, ok
}

// counts is the part of a tier's policy input at the tick m its count
// held at gives (total, ok: see app.total): the ready replicas and, where
// a count is held, it and the ones still booting to reach it. Its
// Current() is the count the policy decides from, a decision's From.
func counts(m *proto.Metrics, total int, ok bool) policy.TierInput {
	ti := policy.TierInput{Ready: m.Replicas}
	if ok {
		ti.Desired = total
		ti.Booting = max(0, total-m.Replicas)
	}
	return ti
}

// Apps is the decider's stage: its state for every app it knows (the join
// of its three inputs and its scaling policy) and its step, Handle. It is
// the pure part of the service, with no NATS and no clock, driven the same
// way by the live consumers (Service), by the offline evaluation
// (internal/scaleeval behind `decider simulate`) and by tests and
// benchmarks; it is not safe for concurrent use.
//
// Its size is bounded: every app.tier it sees is admitted within the
// configured series limits (a refused input returns the *limits.Error
// naming the limit), and an app that has had no input for limits.IdleAfter
// of arrival time (see Arrive) is dropped (unless
// decisions of it wait to be stored); if it comes back, Returning tells the
// runtime to replay its recorded inputs of Config.Lookback first, so it
// resumes where it was.
type Apps struct {
	cfg   Config
	log   zerolog.Logger
	admit *limits.Series
	idle  limits.Idle
	apps  map[string]*app
	// waiting counts the ticks the apps' joins hold waiting for their
	// anomaly messages and forecasts (see Waiting).
	waiting int
	// clockBase is the first time Expire was given; input timeouts are
	// waited from it (see Expire).
	clockBase time.Time
	// held is how long the input timeout's clock has stood still
	// (HoldInput to ResumeInput); heldSince is when it stopped, zero while
	// it runs.
	held      time.Duration
	heldSince time.Time
	// dropped remembers, per app and tier, the last decision stored
	// before this start or before an eviction, and marks the apps
	// (Key{App: name}) evicted for idleness (Returning).
	dropped limits.Dropped
	// lastFrom holds, per app and tier, the last decision stored before
	// this start (SetSentDecision): its tick and the count it was decided
	// from, which a rebuild checks its own against (reconcile).
	lastFrom map[string]map[string]storedFrom

	// Late, when set, is told of every metrics tick the join ignores:
	// its frame's metrics were in before it came, or its tier's frame has
	// a tick of the tier already (a redelivery, or a second tick in one
	// interval).
	Late func(LateTick)
	// Overdue, when set, is told of every tick decided without some of its
	// inputs, because the app's backlog was full (see Config.backlog) or
	// because they had not come within Config.InputTimeout (see Expire),
	// but a tick whose decisions were stored before this process started
	// (SetSent), which was reported when it was decided.
	Overdue func(OverdueTick)
	// Sparse, when set, is told once per run when a tier's ticks came, on
	// average over the last spacingGaps intervals, at least 1.25 of its
	// app's tick apart (mean): the tier is sent less often than the tick
	// (see joiner.spacing).
	Sparse func(m *proto.Metrics, mean, tick time.Duration)
	// Evicted, when set, is told of each app Evict drops for idleness
	// (the runtime drops its per-app series from /metrics).
	Evicted func(app string)
}

// OverdueTick is a tick decided without some of its inputs (see
// Apps.Overdue).
type OverdueTick struct {
	App string
	TS  int64 // the tick's grid point (Unix ms)
	// Missing names, by tier, the inputs it was decided without
	// ("anomaly", "forecast").
	Missing map[string][]string
	// First says the app's tick before was decided complete: a run of
	// overdue ticks begins.
	First bool
	// TimedOut says the wall clock released it (Apps.Expire), not the
	// backlog's bound.
	TimedOut bool
}

// LateTick is a metrics tick the join ignored (see Apps.Late).
type LateTick struct {
	Metrics *proto.Metrics
	// Why says why it was ignored.
	Why Lateness
	// First says a LateBehind tick begins a run of them for its tier (none
	// of the tier's ticks since its last one added was behind), or a
	// LateExtra tick is its tier's first in an hour of event time.
	First bool
	// Released is the app's last tick decided, Newest its newest metrics
	// tick (Unix ms).
	Released, Newest int64
}

// NewApps returns empty state for cfg within lim's series limits.
func NewApps(cfg Config, lim config.Limits, log zerolog.Logger) *Apps {
	return &Apps{cfg: cfg, log: log, admit: limits.NewSeries(lim.MaxSeriesPerApp, lim.MaxSeries), idle: limits.NewIdle(lim.IdleAfter),
		apps: map[string]*app{}, dropped: limits.NewDropped(), lastFrom: map[string]map[string]storedFrom{}}
}

// Arrive gives the arrival time of the next input: the stream's stored
// timestamp of its message. Idle apps are dropped by arrival time
// (limits.Idle); without Arrive an input arrives at its event time.
func (as *Apps) Arrive(t time.Time) { as.idle.Arrive(t) }

// Len returns the number of apps held.
func (as *Apps) Len() int { return len(as.apps) }

// Waiting returns how many ticks, over all apps, wait for their anomaly
// messages or forecasts; each holds its tiers' metrics. Live it stays near
// the few ticks an upstream stage takes, as it does while a take-over's
// rebuild replays the inputs merged by stored time; while an upstream stage
// is down it grows, up to each app's backlog bound (Config.backlog).
func (as *Apps) Waiting() int { return as.waiting }

// Has says whether app's state is held.
func (as *Apps) Has(name string) bool {
	_, ok := as.apps[name]
	return ok
}

// SetSent records that decisions of app.tier up to t were stored before
// this process started: replayed ticks up to there rebuild state without
// deciding for publication again.
func (as *Apps) SetSent(appName, tier string, t time.Time) {
	as.dropped.SetSent(limits.Key{App: appName, Tier: tier}, proto.Millis(t))
	if a, ok := as.apps[appName]; ok {
		a.sentTS[tier] = proto.Millis(t)
	}
}

// storedFrom is a tier's last decision stored before this start: its tick
// and the count it was decided from, and the ticks of the tier's decisions
// stored up to it and of those that may have been changes
// (SetStoredTicks), sorted; nil when not read.
type storedFrom struct {
	ts      int64
	from    int
	stored  []int64
	changes []int64
	// behind marks a last change to withdraw once ts is decided, as
	// dropped behind the last stored decision (see reconcile).
	behind bool
}

// unstored says whether tick ts, before the last stored decision's, has no
// decision stored, though the stored ticks read reach from before it
// through the last stored decision: the member before dropped it. A tick
// at or before the first read is never taken for dropped: the stream's
// retention may have purged it (it drops a subject's oldest first), or it
// lies before the window read. Nor is any tick where the ticks read do not
// reach the last stored decision (a read that ended early). Nor is a tick
// with a change stored after it, through the last stored decision: the
// member before changed the tier there, so it did not decide those ticks
// behind a change at ts (a rebuild that made its change at a tick the
// member before decided nothing at, a change stored later, would
// otherwise withdraw it, the tier left at the count before while the
// executor runs the stored change's).
func (st storedFrom) unstored(ts int64) bool {
	if len(st.stored) == 0 || ts <= st.stored[0] || ts >= st.ts {
		return false
	}
	if _, ok := slices.BinarySearch(st.stored, st.ts); !ok {
		return false
	}
	if i, _ := slices.BinarySearch(st.changes, ts); i < len(st.changes) && st.changes[i] <= st.ts {
		return false
	}
	_, ok := slices.BinarySearch(st.stored, ts)
	return !ok
}

// StoredWindow is how far before a tier's last stored decision a take-over
// reads which of its ticks have a decision stored (SetStoredTicks): twice
// the ticks an app's outbox holds (maxOutbox) at its tick interval. A
// change dropped behind stored decisions was dropped after they were all
// decided, while it and they waited to be stored together (an outage's
// backlog), so they lie within the outbox's bound of it; one dropped
// further back (an outbox that passed its bound by a whole join backlog)
// is left as before, standing (see reconcile).
func (c Config) StoredWindow(app string) time.Duration {
	return 2 * maxOutbox * c.policyFor(app).Tick
}

// SetSentDecision records d, the last decision of app.tier stored
// before this process started, at t, as SetSent does t, and the count it
// was decided from: when a rebuild reaches d's tick, a tier whose count
// differs by its last change, which d was not decided from, takes that
// change as dropped unstored by the member before and withdraws it as that
// member did (see reconcile). A dropped decision leaves nothing in the
// stream, and its change otherwise stood in the rebuilt state as issued.
//
// d is the last message stored on app.tier's subject at t, decoded: one
// that is no decision the decider makes there (another app, tier or time
// than its subject's, an id not its own, counts its action does not move
// between, a count past proto.MaxReplicas) has only t kept, as SetSent
// does, and the reason returned: its From, taken as the count held, would
// have the rebuilt tier withdraw a stored change or decide from a count
// nobody decided (the stream's subjects can be written by more than the
// decider: see proto.DecodeReplicaState).
func (as *Apps) SetSentDecision(appName, tier string, t time.Time, d *proto.Decision) error {
	as.SetSent(appName, tier, t)
	switch {
	case d.App != appName || d.Tier != tier || d.TS != proto.Millis(t):
		return fmt.Errorf("decision of %s.%s at %d stored as %s.%s's at %d", d.App, d.Tier, d.TS, appName, tier, proto.Millis(t))
	case d.ID != proto.DecisionID(d.App, d.Tier, d.TS):
		return fmt.Errorf("decision id %q is not its app, tier and time's", d.ID)
	case d.From < 0 || d.From > proto.MaxReplicas || d.To < 0 || d.To > proto.MaxReplicas,
		d.Action == proto.ActionUp && d.To <= d.From, d.Action == proto.ActionDown && d.To >= d.From,
		d.Action == proto.ActionHold && d.To != d.From, d.Action != proto.ActionUp && d.Action != proto.ActionDown && d.Action != proto.ActionHold:
		return fmt.Errorf("decision %s from %d to %d replicas is none the decider makes", d.Action, d.From, d.To)
	}
	if as.lastFrom[d.App] == nil {
		as.lastFrom[d.App] = map[string]storedFrom{}
	}
	as.lastFrom[d.App][d.Tier] = storedFrom{ts: d.TS, from: d.From}
	return nil
}

// SetStoredTicks records ticks, the ticks (Unix ms) of app.tier's
// decisions stored before this process started, from some point (the
// subject's first retained message, or the start of the window read:
// Config.StoredWindow) through its last stored decision, which
// SetSentDecision recorded before, and changes, those of them that were
// changes (or unreadable). When the rebuild reaches that decision
// and its count is the one the decision was decided from, the tier's last
// change, if undoable, whose tick lies within ticks' span but has no
// decision stored is taken as dropped unstored after the decisions behind
// it were made (an outage's backlog: they were decided from its count, so
// the counts agree) and withdrawn, as the member before withdrew it (see
// reconcile), unless a change was stored after its tick. Without it, such
// a change stands. A tier without a readable
// last decision, or ticks that do not reach it, is left as it is.
func (as *Apps) SetStoredTicks(appName, tier string, ticks, changes []int64) {
	st, ok := as.lastFrom[appName][tier]
	if !ok {
		return
	}
	st.stored = slices.Sorted(slices.Values(ticks))
	st.changes = slices.Sorted(slices.Values(changes))
	as.lastFrom[appName][tier] = st
}

// reconcile gives each tier of the tick f, before it is decided, the
// count its last decision stored before this start (SetSentDecision), at
// f's tick, was decided from, where the rebuilt count differs: that is the
// count the member before held, and told the executor. Where the tier's
// last change, withdrawn, gives that count, the member before dropped the
// change unstored and withdrew it (Withdraw), and the rebuild withdraws it
// too (its cool-down with it); otherwise (a change dropped further back,
// after which the member before decided from another count, or a rebuild
// from the lookback, which decides closely, not bit for bit) the count is
// taken as it is, pending, and the policy's state left as rebuilt.
//
// Where the counts agree, the member before may still have dropped the
// tier's last change, after it had decided the ticks behind it up to the
// last stored decision from the change's count (an outage's backlog, all
// waiting to be stored): they were stored, the change refused, and the
// member withdrew it only then. The last stored decision cannot tell that
// from a change stored; the ticks stored (SetStoredTicks) can: a change
// whose tick has no decision stored among them is withdrawn, which leaves
// the tier as the member before left it, at the count before the change,
// its cool-down undone, its phase as the holds behind it left it.
func (as *Apps) reconcile(a *app, f *frame) {
	for tier, m := range f.metrics {
		st, ok := as.lastFrom[a.name][tier]
		if !ok || st.ts > f.ts {
			continue
		}
		total, ok := a.total(tier, m)
		rebuilt := counts(m, total, ok).Current()
		changeTS := a.changeTS[tier]
		u, undo := a.undo[tier]
		if st.ts == f.ts && rebuilt == st.from && undo && st.unstored(changeTS) {
			// Decided from the last change's count, the last stored
			// decision was decided behind it, yet the change's own tick
			// has no decision stored: the member before dropped it only
			// after it had decided this tick (before, the tick would have
			// been decided from the count without it), and withdrew it
			// then. The rebuild does so too, once it has decided the
			// tick (withdrawBehind).
			st.behind = true
			as.lastFrom[a.name][tier] = st
			continue
		}
		delete(as.lastFrom[a.name], tier) // read once, or passed
		if len(as.lastFrom[a.name]) == 0 {
			delete(as.lastFrom, a.name)
		}
		if st.ts != f.ts || rebuilt == st.from {
			continue
		}
		ev := as.log.Info().Str("app", a.name).Str("tier", tier).Time("tick_time", proto.Time(f.ts)).Int("rebuilt", rebuilt).Int("stored_from", st.from)
		if undo {
			// The count the tier is held at with the change withdrawn.
			total, ok = heldAt(m, u.changeTS, u.desired, u.hadDesired)
		}
		if undo && counts(m, total, ok).Current() == st.from && as.withdrawChange(a, tier, changeTS) {
			ev.Time("withdrawn", proto.Time(changeTS)).Msg("rebuild: a change the last stored decision was not decided from is withdrawn, as the member before dropped it")
			continue
		}
		a.desired[tier] = st.from
		ev.Msg("rebuild: the tier takes the count its last stored decision was decided from")
	}
}

// AddMetrics adds a metrics tick and returns the decisions of every tick it
// completes, oldest first, for the caller to store (see app.outbox). A tick
// whose frame's metrics were in before it came, or whose frame holds a
// tick of its tier already, is ignored and reported to Late.
func (as *Apps) AddMetrics(m *proto.Metrics) ([]*proto.Decision, error) {
	return as.add(m.App, m.Tier, m.TS, func(j *joiner, arrived int64) {
		if mean, sparse := j.spacing(m, arrived); sparse && as.Sparse != nil {
			as.Sparse(m, mean, time.Duration(j.tick)*time.Millisecond)
		}
		if why, first := j.addMetrics(m); why != 0 && as.Late != nil {
			as.Late(LateTick{Metrics: m, Why: why, First: first, Released: j.released, Newest: j.metricsWM})
		}
	})
}

// AddForecast adds a forecast and returns the decisions of every tick it
// completes, oldest first, for the caller to store (see app.outbox).
func (as *Apps) AddForecast(f *proto.Forecast) ([]*proto.Decision, error) {
	return as.add(f.App, f.Tier, f.TS, func(j *joiner, _ int64) { j.addForecast(f) })
}

// AddAnomaly adds an anomaly message and returns the decisions of every
// tick it completes, oldest first, for the caller to store (see app.outbox).
func (as *Apps) AddAnomaly(an *proto.Anomaly) ([]*proto.Decision, error) {
	return as.add(an.App, an.Tier, an.TS, func(j *joiner, _ int64) { j.addAnomaly(an) })
}

// add puts an input into its app's join (put gets the input's arrival
// time, Arrive's or its event time) and returns the decisions it completes.
func (as *Apps) add(appName, tier string, ts int64, put func(j *joiner, arrived int64)) ([]*proto.Decision, error) {
	at, due, cutoff := as.idle.Seen(ts)
	if a, ok := as.apps[appName]; ok {
		// Seen now, so the sweep below keeps it: an app just rebuilt from
		// its history has only that history's old arrivals.
		a.lastSeen = max(a.lastSeen, at)
	}
	if due { // first: an eviction never removes the app returned below
		as.Evict(proto.Time(cutoff))
		// A returning app's replay starts one lookback before its input:
		// what is remembered of an app gone longer has nothing to replay.
		as.dropped.Prune(at, as.cfg.Lookback().Milliseconds())
	}
	// Admitted first: an app none of whose tiers the limits admit holds
	// nothing, where it held its policy and join until the idle sweep,
	// however many such apps came.
	a := as.apps[appName]
	if a == nil || !slices.Contains(a.tiers, tier) {
		if err := as.admit.Admit(appName, tier); err != nil {
			return nil, fmt.Errorf("decider state: %w", err)
		}
	}
	if a == nil {
		var err error
		if a, err = as.getApp(appName); err != nil {
			as.admit.Forget(appName, tier)
			return nil, err
		}
	}
	if !slices.Contains(a.tiers, tier) {
		a.tiers = append(a.tiers, tier)
	}
	a.lastSeen = max(a.lastSeen, at)
	before := len(a.join.pending)
	put(a.join, at)
	return as.release(a, before), nil
}

// release decides every tick of a that the join completes, oldest first;
// while the join holds more ticks than its bound, its oldest tick as it is
// (joiner.overdue); and the ticks Expire let go of (joiner.timedOut). It
// keeps the count of waiting ticks, given how many the join held before
// the input (or the Expire) that led here.
func (as *Apps) release(a *app, before int) []*proto.Decision {
	var out []*proto.Decision
	defer func() { as.waiting += len(a.join.pending) - before }()
	for {
		f, ok := a.join.next()
		if ok {
			a.overdue = false
		} else {
			if f, ok = a.join.overdue(); !ok {
				f, ok = a.join.timedOut()
			}
			if !ok {
				return out
			}
			if !a.stored(f) { // reported when it was decided
				if as.Overdue != nil {
					as.Overdue(OverdueTick{App: a.name, TS: f.ts, Missing: f.missing, First: !a.overdue, TimedOut: f.timedOut})
				}
				a.overdue = true
			}
		}
		out = append(out, as.decide(a, f)...)
	}
}

// Expire decides, at wall time now, appName's ticks whose anomaly message
// or forecast has not come within Config.InputTimeout of their metrics
// being in, as they are (flagged with what they lack and
// proto.FlagInputTimeout), and returns their decisions, oldest first, for
// the caller to store; with them go the app's older ticks still waiting.
// Only a tick whose decision a real driver could still act on is let go so
// (no older than the longest lead time of the tiers its app sends, at least
// a minute, plus the tick, as the executor's default maximum age): an
// upstream stage that is down no longer stops the app's scaling, which goes
// on reactively, on the latest forecast that came. It is the only step that
// takes the clock: the live service calls it after each input and every few
// seconds; the offline evaluation and replays that must be reproducible do
// not (which ticks it releases depends on when the inputs were read).
// InputTimeout 0 turns it off. The timeout is waited on now.Sub of the
// first time Expire was given, which reads the monotonic clock where both
// carry it (time.Now's do), so a step of the wall clock neither cuts a
// wait short nor stretches it; a tick's age is read off the wall. While
// the member's input is paused the clock of the waits stands still
// (HoldInput).
func (as *Apps) Expire(appName string, now time.Time) []*proto.Decision {
	a := as.apps[appName]
	if a == nil || as.cfg.InputTimeout <= 0 {
		return nil
	}
	if as.clockBase.IsZero() {
		as.clockBase = now
	}
	before := len(a.join.pending)
	elapsed := as.inputClock(now).Milliseconds()
	a.join.expire(proto.Millis(now), elapsed, as.cfg.InputTimeout.Milliseconds(), a.actAge().Milliseconds(), maxAhead.Milliseconds())
	return as.release(a, before)
}

// inputClock is the time the input timeout counts at now since
// clockBase: none while the clock stands still (HoldInput).
func (as *Apps) inputClock(now time.Time) time.Duration {
	if !as.heldSince.IsZero() {
		now = as.heldSince
	}
	return now.Sub(as.clockBase) - as.held
}

// HoldInput stops the input timeout's clock at now, as the member's input
// is paused (bus.Gate): the anomaly messages and forecasts the waiting
// ticks want may be among the inputs held back, not late upstream, so the
// pause counts as no time for their wait, as a step back of the clock
// does. ResumeInput starts it again; a tick that waited part of its
// timeout before the pause waits the rest after it, time for the backlog
// held back to be read. Either called again does nothing.
func (as *Apps) HoldInput(now time.Time) {
	if as.heldSince.IsZero() {
		if as.clockBase.IsZero() {
			as.clockBase = now
		}
		as.heldSince = now
	}
}

// ResumeInput starts the input timeout's clock again at now (see
// HoldInput).
func (as *Apps) ResumeInput(now time.Time) {
	if as.heldSince.IsZero() {
		return
	}
	as.held += max(now.Sub(as.heldSince), 0)
	as.heldSince = time.Time{}
}

// stored says the decisions of every tier of f were stored before this
// process started (SetSent): a rebuild decides the tick again, for its
// state, and publishes nothing.
func (a *app) stored(f *frame) bool {
	for tier := range f.metrics {
		if f.ts > a.sentTS[tier] {
			return false
		}
	}
	return len(f.metrics) > 0
}

// maxAhead is how far ahead of the wall clock a tick may be stamped for
// Expire to let it go: the executor's default -executor.max-future-skew,
// past which a real driver refuses the decision (a recording replayed
// faster than real time runs ahead of the clock, and its upstream stages
// may lag by more than the timeout without being down).
const maxAhead = policy.MaxFutureSkew

// actAge is the oldest decision of a the executor acts on by default for
// any of the tiers a has sent: policy.ActAge of their longest lead time.
// Tiers its policy names that have sent nothing, as the default policy's
// in an app pushed without a configuration, do not count: their decisions
// are never made.
func (a *app) actAge() time.Duration {
	var lead time.Duration
	for _, tier := range a.tiers {
		if tc := a.tierConfig(tier); tc != nil {
			lead = max(lead, tc.LeadTime)
		}
	}
	return policy.ActAge(lead, a.cfg.Tick)
}

// Handle is the decider's step, the one entry the live service and the
// offline evaluation (internal/scaleeval, `decider simulate`) both drive:
// it adds one input (a *proto.Metrics, *proto.Forecast or *proto.Anomaly)
// to its app's join and returns the decisions of every tick it completes,
// oldest first, for the caller to store. Any other type is an error.
func (as *Apps) Handle(in proto.Keyed) ([]*proto.Decision, error) {
	switch v := in.(type) {
	case *proto.Metrics:
		return as.AddMetrics(v)
	case *proto.Forecast:
		return as.AddForecast(v)
	case *proto.Anomaly:
		return as.AddAnomaly(v)
	default:
		return nil, fmt.Errorf("decider: no input of type %T", in)
	}
}

// Withdraw undoes what deciding d committed, as d was dropped unstored
// (refused for itself: no executor sees it, so nothing scaled): its tier's
// count is again the one held before it, not d.To pending, and its policy
// starts no cool-down for it (policy.App.Withdraw). Only a change that is
// its tier's last change is undone: the ticks decided behind it while it
// waited in the outbox (an outage's backlog) stand as made, and only holds
// among them leave it withdrawable (they scaled nothing either); a later
// change was decided from the count d set, which stays. It reports whether
// it undid d.
func (as *Apps) Withdraw(d *proto.Decision) bool {
	a := as.apps[d.App]
	if a == nil || d.Action == proto.ActionHold {
		return false
	}
	return as.withdrawChange(a, d.Tier, d.TS)
}

// withdrawChange undoes tier's change decided at ts, if it is the tier's
// last change (see Withdraw).
func (as *Apps) withdrawChange(a *app, tier string, ts int64) bool {
	if a.changeTS[tier] != ts {
		return false
	}
	u, ok := a.undo[tier]
	if !ok || !a.policy.Withdraw(tier, proto.Time(ts)) {
		return false
	}
	if u.hadDesired {
		a.desired[tier] = u.desired
	} else {
		delete(a.desired, tier)
	}
	a.changeTS[tier] = u.changeTS
	delete(a.undo, tier)
	return true
}

// Close declares that the metrics of every tier of appName at the grid
// points of its tick up to t are in, as the next tick's metrics do live,
// and returns the decisions of every tick it completes (those still
// waiting for their anomaly or forecast stay pending). A driver that knows
// an app's tiers, such as the offline simulation, which must decide minute
// t before it can make minute t+1's replica counts, calls it after the
// minute's inputs; the frame of a tick, and so its decision, is the same
// whichever way it was completed.
func (as *Apps) Close(appName string, t time.Time) []*proto.Decision {
	a := as.apps[appName]
	if a == nil {
		return nil
	}
	before := len(a.join.pending)
	a.join.close(proto.Millis(t))
	return as.release(a, before)
}

// Returning reports, once, that appName's state was evicted for idleness
// and the app is back: a runtime replays its recorded inputs of the
// lookback before the new one, and the decisions they make again are not
// output (they were stored before the eviction).
func (as *Apps) Returning(appName string) bool {
	return as.dropped.Returning(limits.Key{App: appName})
}

// app returns app's state, nil for an app not held.
func (as *Apps) app(name string) *app { return as.apps[name] }

func (as *Apps) getApp(name string) (*app, error) {
	a, ok := as.apps[name]
	if ok {
		return a, nil
	}
	pc := as.cfg.policyFor(name)
	p, err := policy.NewApp(pc)
	if err != nil {
		return nil, err
	}
	a = &app{name: name, cfg: pc, join: newJoiner(as.cfg.ForecastStep, as.cfg.ForecastMetric), policy: p, sentTS: map[string]int64{}, desired: map[string]int{}, changeTS: map[string]int64{},
		undo: map[string]tierMark{}, again: map[string]bool{}}
	a.join.tick = pc.Tick.Milliseconds()
	a.join.limit = as.cfg.backlog(pc.Tick)
	a.join.wait = as.cfg.TierLag.Milliseconds()
	for _, tc := range pc.Tiers {
		as.restoreSent(a, tc.Name)
	}
	as.apps[name] = a
	as.dropped.Held(limits.Key{App: name})
	return a, nil
}

// restoreSent records the event time of tier's last decision stored before
// this start, so decide republishes nothing older.
func (as *Apps) restoreSent(a *app, tier string) {
	if t, ok := as.dropped.Sent(limits.Key{App: a.name, Tier: tier}); ok {
		a.sentTS[tier] = t
	}
}

// Evict drops every app whose newest input is before cutoff and that has no
// decision waiting to be stored, and frees its tiers' places under the
// series limits; it returns how many apps were dropped.
func (as *Apps) Evict(cutoff time.Time) int {
	c, n := proto.Millis(cutoff), 0
	for name, a := range as.apps {
		if a.lastSeen < c && len(a.outbox) == 0 {
			delete(as.apps, name)
			as.waiting -= len(a.join.pending)
			for _, tier := range a.tiers {
				as.admit.Forget(name, tier)
			}
			// Every decision it made is stored: a rebuild from its
			// history outputs none of them again.
			for tier, t := range a.sentTS {
				as.dropped.Keep(limits.Key{App: name, Tier: tier}, t)
			}
			as.dropped.Mark(limits.Key{App: name})
			if as.Evicted != nil {
				as.Evicted(name)
			}
			n++
		}
	}
	return n
}

// decide runs the policy on one complete tick and returns the decisions to
// publish (those newer than what was stored before a restart).
func (as *Apps) decide(a *app, f *frame) []*proto.Decision {
	appName := a.name
	as.adoptTiers(a, f)
	as.reconcile(a, f)
	in := make(map[string]policy.TierInput, len(f.metrics))
	for tier, m := range f.metrics {
		tc := a.tierConfig(tier)
		if tc == nil {
			continue
		}
		load, ok := m.Values[tc.LoadMetric]
		if !ok {
			// A tick without its load metric (a scrape rule whose
			// counter its target has never exposed, say) did not
			// observe zero load: read as 0 it would scale the tier
			// down. Not a number, the policy holds (bad-input) and
			// learns nothing from it.
			load = math.NaN()
		}
		total, ok := a.total(tier, m)
		ti := counts(m, total, ok)
		ti.Load, ti.Values, ti.Incidents = load, m.Values, f.incidents[tier]
		if ok {
			if c := m.Committed; c != nil && c.DecisionTS >= a.changeTS[tier] {
				// Acknowledged without acting (dry-run) or failed: not booting.
				ti.Absent = max(0, c.Desired-c.Ready-c.Booting)
			}
		}
		// The policy's forecast is one of the tier's load: the
		// forecaster forecasts one metric (Config.ForecastMetric), so a
		// tier that measures its load by another (load_metric) is
		// decided without it, reactively, rather than on a forecast of
		// something else read in its load's units.
		if fc := f.forecasts[tier]; fc != nil && len(fc.Points) > 0 && fc.Metric == tc.LoadMetric {
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
		prev, had := a.desired[d.Tier]
		a.desired[d.Tier] = d.To
		if d.Action != proto.ActionHold {
			a.undo[d.Tier] = tierMark{desired: prev, hadDesired: had, changeTS: a.changeTS[d.Tier]}
			a.changeTS[d.Tier] = f.ts
		}
		if f.ts <= a.sentTS[d.Tier] {
			continue // stored before a restart
		}
		pd := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID(appName, d.Tier, f.ts), App: appName, Tier: d.Tier, TS: f.ts,
			From: d.From, To: d.To, Action: d.Action, Reason: d.Reason, Inputs: proto.Floats{}, State: d.State, Flags: d.Flags,
			TickMS: a.cfg.Tick.Milliseconds()}
		if metric := a.tierConfig(d.Tier).LoadMetric; !hasValue(f.metrics[d.Tier], metric) {
			pd.Reason += fmt.Sprintf(" (the tick has no %s, its load metric: a load not observed is not taken for 0)", metric)
		}
		if miss := f.missing[d.Tier]; len(miss) > 0 {
			for _, in := range miss {
				pd.Flags = append(slices.Clip(pd.Flags), missingFlag[in])
			}
			if f.timedOut {
				pd.Flags = append(slices.Clip(pd.Flags), proto.FlagInputTimeout)
				pd.Reason += fmt.Sprintf(" (decided without its %s: not come %s after the tick's metrics)", strings.Join(miss, " and "), as.cfg.InputTimeout)
			} else {
				pd.Reason += fmt.Sprintf(" (decided without its %s: %d later ticks came first)", strings.Join(miss, " and "), a.join.limit)
			}
		}
		if m := f.metrics[d.Tier]; m != nil && m.Source == proto.SourceReplay {
			// Decided and shown; the executor's real drivers never act on
			// it (DESIGN.md, "Acting safely").
			pd.Flags = append(slices.Clip(pd.Flags), proto.FlagReplayedInput)
		}
		for k, v := range d.Inputs {
			if v == v && v < 1e300 && v > -1e300 {
				pd.Inputs[k] = v
			}
		}
		out = append(out, pd)
	}
	as.withdrawBehind(a, f)
	return out
}

// withdrawBehind withdraws, once the tick f is decided, each tier's last
// change that reconcile found dropped behind the last decision stored
// before this start, at f's tick: the member before withdrew it after it
// had decided that tick (see reconcile). A rebuild that decided the tick
// otherwise, a change, withdraws nothing.
func (as *Apps) withdrawBehind(a *app, f *frame) {
	for tier, st := range as.lastFrom[a.name] {
		if !st.behind || st.ts != f.ts {
			continue
		}
		delete(as.lastFrom[a.name], tier)
		if len(as.lastFrom[a.name]) == 0 {
			delete(as.lastFrom, a.name)
		}
		changeTS := a.changeTS[tier]
		if st.unstored(changeTS) && as.withdrawChange(a, tier, changeTS) {
			as.log.Info().Str("app", a.name).Str("tier", tier).Time("tick_time", proto.Time(st.ts)).Int("stored_from", st.from).
				Time("withdrawn", proto.Time(changeTS)).Int("held", a.desired[tier]).
				Msg("rebuild: a change whose tick has no decision stored, dropped behind stored decisions made from its count, is withdrawn, as the member before withdrew it")
		}
	}
}

// hasValue reports whether tick m carries metric.
func hasValue(m *proto.Metrics, metric string) bool {
	_, ok := m.Values[metric]
	return ok
}

// missingFlag is the decision flag of each input an overdue tick lacks.
var missingFlag = map[string]string{"anomaly": proto.FlagAnomalyMissing, "forecast": proto.FlagForecastMissing}

// adoptTiers gives tiers that send metrics but have no policy the default
// front-tier policy, so every tier is decided: an app pushing "api" and
// "worker" tiers gets decisions without a configuration file. The policy
// is rebuilt (its learned state starts again), which happens only when a
// tier first appears, at a point fixed by the data, so it stays
// deterministic.
func (as *Apps) adoptTiers(a *app, f *frame) {
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
		as.log.Error().Err(err).Str("app", a.name).Strs("tiers", added).Msg("cannot adopt tiers")
		return
	}
	as.log.Warn().Str("app", a.name).Strs("tiers", added).Msg("tiers without a policy: deciding them with the default front-tier policy")
	a.cfg, a.policy = cfg, p
	for _, tier := range added {
		as.restoreSent(a, tier)
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
