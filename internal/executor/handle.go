package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// step gathers what handling one decision publishes and records.
type step struct {
	s      *Service
	d      *proto.Decision
	mode   string
	driver string
	st     proto.ReplicaState
	outs   []bus.Out
}

// emit adds a scaling event with the tier's counts as they stand in st.
func (p *step) emit(status, decisionID, errText string) {
	d := p.d
	ev := &proto.Scaling{V: proto.SchemaVersion, ID: proto.ScalingID(d.App, d.Tier, decisionID, status, d.TS), App: d.App, Tier: d.Tier, TS: d.TS,
		DecisionID: decisionID, Status: status, Desired: p.st.Desired, Ready: p.st.Ready, Booting: p.st.Booting,
		Driver: p.driver, Mode: p.mode, Error: errText}
	p.outs = append(p.outs, bus.Out{Subject: proto.ScalingSubject(p.s.bus.Prefix(), d.App, d.Tier), Msg: ev})
	p.s.actions.WithLabelValues(p.mode, status).Inc()
}

// handle applies one decision. A decision at or before the event time of the
// last one applied to its tier (kept in the bucket, so across restarts) is a
// redelivery or a replay and is acknowledged without acting.
func (s *Service) handle(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
	var d proto.Decision
	if err := proto.Decode(m.Data, &d); err != nil {
		return nil, bus.Permanent(err)
	}
	if err := ctx.Err(); err != nil {
		// Stopping: leave the decision to be redelivered after the restart.
		return nil, fmt.Errorf("executor stopping: %w", err)
	}
	// An action once started finishes (bounded by the driver's timeouts) even
	// if shutdown begins meanwhile, so the state recorded is what was done.
	ctx = context.WithoutCancel(ctx)
	log := s.log.With().Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Logger()
	key := proto.ReplicaKey(d.App, d.Tier)
	s.mu.Lock()
	prev := s.states[key]
	s.mu.Unlock()
	if prev != nil && d.TS <= prev.TS {
		log.Debug().Int64("last_ts", prev.TS).Msg("decision already applied")
		return nil, nil
	}
	t := proto.Time(d.TS)
	if prev == nil {
		// A tier seen for the first time runs what the decider saw running.
		s.shadow.Restore(d.App, d.Tier, t, d.From, 0)
	}
	p := &step{s: s, d: &d, mode: s.cfg.mode(d.App), driver: s.driverName,
		st: proto.ReplicaState{V: proto.SchemaVersion, App: d.App, Tier: d.Tier, TS: d.TS, Desired: d.To}}
	drv := s.driver
	if p.mode == ModeShadow {
		drv, p.driver = s.shadow, DriverSim
	}

	// Where the tier stands now, in event time.
	cur := Result{Ready: d.From}
	if prev != nil {
		cur = Result{Ready: prev.Ready, Booting: prev.Booting}
		p.st.Desired, p.st.DecisionID = prev.Desired, prev.DecisionID
	}
	if obs, ok := drv.(Observer); ok {
		if r, ok := obs.Observe(d.App, d.Tier, t); ok {
			cur = r
		}
	}
	p.st.Ready, p.st.Booting = cur.Ready, cur.Booting
	if cur.Failed > 0 && prev != nil {
		log.Warn().Int("failed", cur.Failed).Str("decision_id", prev.DecisionID).Msg("replicas failed to boot")
		p.emit(proto.StatusFailed, prev.DecisionID, fmt.Sprintf("%d booting replica(s) failed", cur.Failed))
	}
	if prev != nil && prev.Booting > 0 && cur.Booting == 0 && cur.Ready == prev.Desired {
		p.emit(proto.StatusReady, prev.DecisionID, "")
	}
	if d.Action != proto.ActionHold && d.To != cur.Ready+cur.Booting {
		s.change(ctx, p, drv, cur, log)
	}
	if err := s.put(ctx, key, &p.st); err != nil {
		return nil, err // transient: retried
	}
	return p.outs, nil
}

// change asks drv for the decision's count, or only logs it in dry-run mode.
func (s *Service) change(ctx context.Context, p *step, drv Driver, cur Result, log zerolog.Logger) {
	d := p.d
	p.st.Desired, p.st.DecisionID = d.To, d.ID
	if p.mode == ModeDryRun {
		log.Info().Int("from", d.From).Int("to", d.To).Str("reason", d.Reason).Msg("dry-run: not acting")
		p.st.Desired = cur.Ready + cur.Booting
		p.emit(proto.StatusSkipped, d.ID, "")
		return
	}
	p.emit(proto.StatusRequested, d.ID, "")
	start := time.Now()
	r, err := drv.Scale(ctx, Request{App: d.App, Tier: d.Tier, Replicas: d.To, DecisionID: d.ID, Time: proto.Time(d.TS), Reason: d.Reason})
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	s.driverTime.WithLabelValues(p.driver, outcome).Observe(time.Since(start).Seconds())
	if err != nil {
		log.Error().Err(err).Str("driver", p.driver).Str("mode", p.mode).Int("to", d.To).Msg("scale failed")
		p.st.Desired = cur.Ready + cur.Booting
		p.emit(proto.StatusFailed, d.ID, err.Error())
		return
	}
	p.st.Ready, p.st.Booting = r.Ready, r.Booting
	log.Info().Int("from", d.From).Int("to", d.To).Int("ready", r.Ready).Int("booting", r.Booting).
		Str("driver", p.driver).Str("mode", p.mode).Msg("scaled")
	p.emit(proto.StatusApplied, d.ID, "")
	if r.Failed > 0 {
		p.emit(proto.StatusFailed, d.ID, fmt.Sprintf("%d booting replica(s) failed", r.Failed))
	}
	if r.Booting == 0 && r.Ready == d.To {
		p.emit(proto.StatusReady, d.ID, "")
	}
}
