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
}

func (src *simSource) name() string { return src.source + ":" + src.app }

// liveTime returns the event time of live tick i, false past the end.
func (src *simSource) liveTime(start time.Time, skip, i int) (time.Time, float64, bool) {
	if src.times != nil {
		if skip+i >= len(src.times) {
			return time.Time{}, 0, false
		}
		return src.times[skip+i], src.demand[skip+i], true
	}
	if src.ticks > 0 && i >= src.ticks {
		return time.Time{}, 0, false
	}
	return start.Add(time.Duration(i) * src.tick), -1, true
}

func (src *simSource) run(ctx context.Context, view *replicaView, ready func()) error {
	s := src.s
	cfg := s.cfg
	log := s.log.With().Str("app", src.app).Str("source", src.source).Logger()
	start := src.start
	last, err := s.bus.LastEventTimes(ctx, proto.KindMetrics, proto.AppFilter(s.bus.Prefix(), proto.KindMetrics, src.app))
	if err != nil {
		return err
	}
	var resume time.Time
	for _, t := range last {
		if t.After(resume) {
			resume = t
		}
	}
	tiers := src.model.Config().TierNames()
	// published holds the event times of the last two ticks sent: lockstep
	// waits for the decisions of the older one, which the decider releases
	// once the newer one has arrived.
	var published []time.Time
	// Backfill: history provisioned for the target, open loop.
	from := start.Add(-src.backfill).Truncate(src.backfillTick)
	if !resume.IsZero() && resume.After(from) {
		from = resume.Truncate(src.backfillTick).Add(src.backfillTick)
	}
	if src.times == nil && from.Before(start) {
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
			batch = append(batch, src.tickOuts(t, src.model.InitialReplicas(t, cfg.Target), -1)...)
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
	} else if !resume.IsZero() && !resume.Before(start) {
		start = resume.Truncate(src.tick).Add(src.tick)
	}
	ready()

	// Live: a simulated clock at speed times real time.
	wallStart := s.Now()
	initial := src.initialReplicas(start, skip)
	for i := 0; ; i++ {
		t, demand, ok := src.liveTime(start, skip, i)
		if !ok {
			break
		}
		if src.speed > 0 {
			due := wallStart.Add(time.Duration(float64(t.Sub(start)) / src.speed))
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
		wait := cfg.LockstepWait
		if i == 0 {
			wait = max(wait, cfg.CatchUpWait)
		}
		readyReplicas, err := s.replicas(ctx, view, src.app, need, tiers, initial, wait)
		if err != nil {
			return nil // ctx ended
		}
		if err := src.publish(ctx, src.tickOuts(t, readyReplicas, demand)); err != nil {
			return stopped(ctx, err)
		}
		published = append(published[max(len(published)-1, 0):], t)
	}
	log.Info().Msg("source finished")
	return errDone
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

// tickOuts makes every tier's tick at t; demand < 0 lets the model make its
// own.
func (src *simSource) tickOuts(t time.Time, ready map[string]int, demand float64) []bus.Out {
	s := src.s
	var samples []shop.Sample
	if demand < 0 {
		samples = src.model.Tick(t, ready)
	} else {
		samples = src.model.TickWithDemand(t, ready, demand)
	}
	outs := make([]bus.Out, 0, len(samples))
	for _, smp := range samples {
		m := proto.NewMetrics(src.app, smp.Tier, t, smp.Ready, smp.Values)
		m.Source = src.source
		s.stamp(m)
		outs = append(outs, bus.Out{Subject: proto.MetricsSubject(s.bus.Prefix(), src.app, smp.Tier), Msg: m})
	}
	return outs
}

// publish stores every tick of outs, retrying each failed publish with the
// same Nats-Msg-Id until it is stored (a NATS server restarting mid-stream
// loses no tick and duplicates none); it fails only when ctx ends.
func (src *simSource) publish(ctx context.Context, outs []bus.Out) error {
	if len(outs) == 0 {
		return nil
	}
	if err := src.s.bus.PublishAll(ctx, outs); err != nil {
		return fmt.Errorf("publish ticks: %w", err)
	}
	src.s.ticks.Add(float64(len(outs)))
	return nil
}

// stopped is nil when ctx has ended (the source stops quietly), else err.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// replicas returns each tier's ready count from the executor's state,
// waiting in lockstep mode until that state covers the decisions at need
// (zero: no wait).
func (s *Service) replicas(ctx context.Context, view *replicaView, app string, needT time.Time, tiers []string, initial map[string]int, wait time.Duration) (map[string]int, error) {
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
			st, ok, changed := view.get(proto.ReplicaKey(app, tier))
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
