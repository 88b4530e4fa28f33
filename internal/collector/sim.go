package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/shop"
	"github.com/headroomhq/headroom/proto"
)

// simSource runs the shop model in a closed loop with the executor: each
// tick's metrics depend on the replicas the executor reports. With demand
// and times set (a trace), the trace's rows are the live ticks and its
// values the web demand; otherwise the model makes its own demand on a
// regular clock after backfilling history.
type simSource struct {
	s      *Service
	app    string
	source string // "sim" or "trace"
	model  *shop.Model

	tick, backfillTick, backfill time.Duration
	start                        time.Time
	ticks                        int
	speed                        float64

	// times and demand replace the clock and the model's demand (trace).
	times  []time.Time
	demand []float64

	// The simulated clock: event time anchorSim is due at anchorWall, and
	// later ticks follow at speed (set when the source first goes live on
	// this member, see pace).
	anchorSim, anchorWall time.Time
}

func (src *simSource) name() string { return src.source + ":" + src.app }

func (src *simSource) key() string { return src.app }

// due is the wall time live tick t is sent at.
func (src *simSource) due(t time.Time) time.Time {
	return src.anchorWall.Add(time.Duration(float64(t.Sub(src.anchorSim)) / src.speed))
}

// onWallClock says whether the source's event time is the wall clock's:
// the model's own demand (no trace) at speed 1 from now (no -start).
func (src *simSource) onWallClock() bool {
	return src.times == nil && src.speed == 1 && src.s.cfg.Start.IsZero()
}

// pace sets the simulated clock as the source goes live at first. At
// speed 1 on the wall clock (no -start, no trace) event time is the wall
// clock's: tick t is due at t, as a scraped target's tick is taken at its
// grid point, so the first live tick, a grid point already past, goes at
// once and each later one at its own time. Anchored instead at the moment
// live began, every tick would go out that much after its time (where
// in its tick the collector started, plus the backfill's length), and
// every decision on it would reach the executor as much older. At any
// other speed a fresh start runs from first now, as the wall clock's
// "now" when live begins. A source that continues a live grid another
// member (or an earlier run) left keeps the member's clock (anchored at
// its start when Run began), so the grid points missed during the
// hand-over are sent at once and the app catches up with the others; if
// that clock is behind first (the member started later than the one that
// recorded it), it moves to first now rather than wait.
func (src *simSource) pace(first time.Time, continuing bool, now time.Time) {
	if src.speed <= 0 {
		return
	}
	if src.onWallClock() {
		src.anchorSim, src.anchorWall = first, first
		return
	}
	if src.anchorWall.IsZero() {
		src.anchorSim, src.anchorWall = first, now
		if continuing {
			src.anchorSim, src.anchorWall = src.start, src.s.runWall
		}
	}
	if src.due(first).After(now) {
		src.anchorSim, src.anchorWall = first, now
	}
}

// lastStored returns the event time of the last tick METRICS holds for each
// of the app's tiers (a tier without any is absent).
func (src *simSource) lastStored(ctx context.Context) (map[string]time.Time, error) {
	prefix := src.s.bus.Prefix()
	last, err := src.s.lastTicks(ctx, src.app)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(last))
	for subj, t := range last {
		if _, _, tier, err := proto.ParseSubject(prefix, subj); err == nil {
			out[tier] = t
		}
	}
	return out, nil
}

// liveTime returns the event time of live tick i, false past the end.
func (src *simSource) liveTime(start time.Time, skip, i int) (time.Time, float64, bool) {
	if src.times != nil {
		if skip+i >= len(src.times) {
			return time.Time{}, 0, false
		}
		return src.times[skip+i], src.demand[skip+i], true
	}
	t := start.Add(time.Duration(i) * src.tick)
	if src.ticks > 0 && !t.Before(src.start.Add(time.Duration(src.ticks)*src.tick)) {
		return time.Time{}, 0, false
	}
	return t, -1, true
}

func (src *simSource) run(ctx context.Context, view *replicaView, ready func()) error {
	s := src.s
	cfg := s.cfg
	log := s.log.With().Str("app", src.app).Str("source", src.source).Logger()
	start := src.start
	tiers := src.model.Config().TierNames()
	// The source resumes after the last tick every tier has: a tier's
	// ticks are sent in order, so each has every grid point up to its
	// last, and the grid points after resume are sent only to the tiers
	// that lack them (stored), so a tier stored further (an owner killed
	// between two tiers' publishes) is not sent twice.
	stored, err := src.lastStored(ctx)
	if err != nil {
		return stopped(ctx, err)
	}
	var resume time.Time
	for i, tier := range tiers {
		t, ok := stored[tier]
		if !ok {
			resume = time.Time{}
			break
		}
		if i == 0 || t.Before(resume) {
			resume = t
		}
	}
	// A recording that ends less than a backfill tick before start is a
	// live grid to continue (another member's, handed over, or this
	// member's before a short restart); an older one is history to
	// backfill up to start.
	continuing := src.times == nil && !resume.IsZero() && resume.After(start.Add(-src.backfillTick))
	if err := src.checkAhead(resume, start); err != nil {
		return err
	}
	// published holds the event times of the last two ticks sent: lockstep
	// waits for the decisions of the older one, which the decider releases
	// once the newer one has arrived.
	var published []time.Time
	// Backfill: history provisioned for the target, open loop.
	from := start.Add(-src.backfill).Truncate(src.backfillTick)
	if !resume.IsZero() && resume.After(from) {
		from = resume.Truncate(src.backfillTick).Add(src.backfillTick)
	}
	if src.times == nil && !continuing && from.Before(start) {
		log.Info().Time("from", from).Time("to", start).Msg("backfilling history")
		n := 0
		// Ticks go out in batches: one round of acknowledgements per
		// batch, every failed publish retried with its id until stored.
		var batch []bus.Out
		for t := from; t.Before(start); t = t.Add(src.backfillTick) {
			if ctx.Err() != nil {
				return nil
			}
			published = append(published[max(len(published)-1, 0):], t)
			batch = append(batch, src.tickOuts(t, src.model.InitialReplicas(t, cfg.Target), -1, stored)...)
			if len(batch) >= backfillBatch {
				if err := src.publish(ctx, batch); err != nil {
					return stopped(ctx, err)
				}
				batch = batch[:0]
			}
			if n++; n%1440 == 0 {
				log.Info().Time("at", t).Int("ticks", n).Msg("backfill progress")
			}
		}
		if err := src.publish(ctx, batch); err != nil {
			return stopped(ctx, err)
		}
		log.Info().Int("ticks", n).Msg("backfill done")
	}
	skip := 0
	if src.times != nil {
		for skip < len(src.times) && !resume.IsZero() && !src.times[skip].After(resume) {
			skip++
		}
		if skip < len(src.times) {
			start = src.times[skip]
		}
	} else if continuing {
		start = resume.Truncate(src.tick).Add(src.tick)
	}
	ready()

	// Live: a simulated clock at speed times real time.
	src.pace(start, continuing || skip > 0, s.Now())
	initial := src.initialReplicas(start, skip)
	for i := 0; ; i++ {
		t, demand, ok := src.liveTime(start, skip, i)
		if !ok {
			break
		}
		if src.speed > 0 {
			if d := src.due(t).Sub(s.Now()); d > 0 {
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
		wait := cfg.LockstepWait
		if i == 0 {
			wait = max(wait, cfg.CatchUpWait)
		}
		readyReplicas, err := s.replicas(ctx, view, src.app, need, src.tick, tiers, initial, wait)
		if err != nil {
			return nil // ctx ended
		}
		if err := src.publish(ctx, src.tickOuts(t, readyReplicas, demand, stored)); err != nil {
			return stopped(ctx, err)
		}
		published = append(published[max(len(published)-1, 0):], t)
	}
	log.Info().Msg("source finished")
	return errDone
}

// checkAhead refuses to go live at speed 1 on the wall clock when the
// recording runs more than a tick ahead of it (start is the wall clock's
// tick): an earlier run at a higher speed left it there, and the source
// would carry on from it, its ticks as far ahead of real time for as long
// as it runs, every decision on them refused by the executor as from the
// future. Starting afresh or at the earlier speed is the operator's call,
// so nothing recorded is dropped here.
func (src *simSource) checkAhead(resume, start time.Time) error {
	if !src.onWallClock() || resume.Sub(start) <= src.tick {
		return nil
	}
	return fmt.Errorf("the recorded ticks of %s run to %s, %s ahead of the clock (a run at a -speed above 1 left them there): "+
		"at -speed 1 its ticks would stay that far ahead of real time and the executor refuses decisions from the future; "+
		"run at that -speed again, or start from an empty METRICS stream (the all-in-one: move its -data folder aside)",
		src.app, resume.Format(time.RFC3339), resume.Sub(start).Round(time.Second))
}

// initialReplicas is what each tier starts with before the executor has
// reported: enough for the target utilisation under the model's nominal
// loads, scaled to the trace's first demand when there is one.
func (src *simSource) initialReplicas(start time.Time, skip int) map[string]int {
	if src.times == nil || skip >= len(src.demand) {
		return src.model.InitialReplicas(start, src.s.cfg.Target)
	}
	ratio := 0.0
	if d := src.model.Demand(start); d > 0 {
		ratio = src.demand[skip] / d
	}
	out := map[string]int{}
	for tier, load := range src.model.NominalLoads(start) {
		out[tier] = src.model.NeededReplicas(tier, load*ratio, src.s.cfg.Target)
	}
	return out
}

// backfillBatch is how many backfill ticks are published per round of
// acknowledgements.
const backfillBatch = 512

// tickOuts makes every tier's tick at t, leaving out the tiers stored holds
// a tick at or after t for; demand < 0 lets the model make its own.
func (src *simSource) tickOuts(t time.Time, ready map[string]int, demand float64, stored map[string]time.Time) []bus.Out {
	s := src.s
	var samples []shop.Sample
	if demand < 0 {
		samples = src.model.Tick(t, ready)
	} else {
		samples = src.model.TickWithDemand(t, ready, demand)
	}
	outs := make([]bus.Out, 0, len(samples))
	for _, smp := range samples {
		if last, ok := stored[smp.Tier]; ok && !t.After(last) {
			continue
		}
		m := proto.NewMetrics(src.app, smp.Tier, t, smp.Ready, smp.Values)
		m.Source = src.source
		s.stamp(m)
		outs = append(outs, bus.Out{Subject: proto.MetricsSubject(s.bus.Prefix(), src.app, smp.Tier), Msg: m})
	}
	return outs
}

// publish stores every tick of outs, retrying each failed publish with the
// same Nats-Msg-Id until it is stored (a NATS server restarting mid-stream
// loses no tick and duplicates none); it fails only when ctx ends. A tick
// refused for itself (too large for the stream) is dropped, logged and
// counted by the bus (PublishAll), not retried for good.
func (src *simSource) publish(ctx context.Context, outs []bus.Out) error {
	if len(outs) == 0 {
		return nil
	}
	stored, err := src.s.bus.PublishAllStored(ctx, outs)
	if err != nil {
		return fmt.Errorf("publish ticks: %w", err)
	}
	src.s.ticks.Add(float64(stored))
	return nil
}

// covers says whether a replica state stamped at stateTS (the time of the
// decision it carries out) covers the decisions of the source's tick at
// need. A decision carries the decider's grid point nearest its tick
// (internal/decider), less than half a decider tick from the tick's time;
// with the decider's tick at most the source's, a state later than half a
// source tick before need covers the tick, and the tick before's does not.
func covers(stateTS int64, need time.Time, tick time.Duration) bool {
	return stateTS > proto.Millis(need.Add(-tick/2))
}

// stopped is nil when ctx has ended (the source stops quietly), else err.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// replicas returns each tier's ready count from the executor's state,
// waiting in lockstep mode until that state covers the decisions of the
// tick at needT (zero: no wait; see covers).
func (s *Service) replicas(ctx context.Context, view *replicaView, app string, needT time.Time, tick time.Duration, tiers []string, initial map[string]int, wait time.Duration) (map[string]int, error) {
	ready := make(map[string]int, len(tiers))
	var timeout <-chan time.Time
	if s.cfg.Lockstep && wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		timeout = timer.C
	}
	for _, tier := range tiers {
		for {
			st, ok, changed := view.get(proto.ReplicaKey(app, tier))
			if ok {
				ready[tier] = st.Ready
			} else if _, set := ready[tier]; !set {
				ready[tier] = initial[tier]
			}
			if !s.cfg.Lockstep || needT.IsZero() || timeout == nil || (ok && covers(st.TS, needT, tick)) {
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
