package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// Service is the executor.
type Service struct {
	cfg    Config
	bus    *bus.Bus
	log    zerolog.Logger
	ready  *service.Ready
	driver Driver
	shadow *SimDriver
	kv     jetstream.KeyValue

	mu     sync.Mutex
	states map[string]*proto.ReplicaState

	actions *prometheus.CounterVec
}

// New builds the executor; it starts nothing.
func New(cfg Config, d service.Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, bus: d.Bus, log: d.Log.With().Str("part", "executor").Logger(), ready: d.Ready, states: map[string]*proto.ReplicaState{}}
	s.shadow = NewSimDriver(cfg.BootDelays, cfg.DefaultBootDelay, cfg.FailureRate, cfg.Seed)
	s.driver = s.shadow
	s.actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_executor_actions_total", Help: "Scaling events published, by mode and status."}, []string{"mode", "status"})
	if d.Reg != nil {
		if err := d.Reg.Register(s.actions); err != nil {
			return nil, err
		}
	}
	d.Ready.Wait("executor")
	return s, nil
}

// Run consumes decisions until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	kv, err := s.bus.ReplicaBucket(ctx)
	if err != nil {
		return err
	}
	s.kv = kv
	if err := s.restore(ctx); err != nil {
		return err
	}
	return s.bus.Consume(ctx, bus.ConsumerSpec{
		Service: "executor", Name: "executor", Kind: proto.KindDecision,
		Started: func() { s.ready.Set("executor") },
	}, s.handle)
}

// restore loads every tier's replica state from the bucket and seeds the
// simulated clusters with it.
func (s *Service) restore(ctx context.Context) error {
	keys, err := s.kv.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("list replica keys: %w", err)
	}
	for k := range keys.Keys() {
		e, err := s.kv.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("replica state %s: %w", k, err)
		}
		var st proto.ReplicaState
		if err := proto.Decode(e.Value(), &st); err != nil {
			s.log.Warn().Err(err).Str("key", k).Msg("ignoring unreadable replica state")
			continue
		}
		s.states[k] = &st
		s.shadow.Restore(st.App, st.Tier, proto.Time(st.TS), st.Ready, st.Booting)
	}
	return nil
}

func (s *Service) handle(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
	var d proto.Decision
	if err := proto.Decode(m.Data, &d); err != nil {
		return nil, bus.Permanent(err)
	}
	log := s.log.With().Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Logger()
	key := proto.ReplicaKey(d.App, d.Tier)
	s.mu.Lock()
	prev := s.states[key]
	s.mu.Unlock()
	if prev != nil && d.TS <= prev.TS {
		// Redelivered or replayed: already applied.
		log.Debug().Msg("decision already applied")
		return nil, nil
	}
	t := proto.Time(d.TS)
	if prev == nil {
		// A tier seen for the first time runs what the decider saw running.
		s.shadow.Restore(d.App, d.Tier, t, d.From, 0)
	}
	mode := s.cfg.mode(d.App)
	var drv Driver = s.driver
	if mode == ModeShadow {
		drv = s.shadow
	}

	st := proto.ReplicaState{V: proto.SchemaVersion, App: d.App, Tier: d.Tier, TS: d.TS, Desired: d.To}
	var outs []bus.Out
	emit := func(status, decisionID, errText string) {
		ev := &proto.Scaling{V: proto.SchemaVersion, ID: proto.ScalingID(d.App, d.Tier, decisionID, status, d.TS), App: d.App, Tier: d.Tier, TS: d.TS,
			DecisionID: decisionID, Status: status, Desired: st.Desired, Ready: st.Ready, Booting: st.Booting, Driver: s.cfg.Driver, Mode: mode, Error: errText}
		outs = append(outs, bus.Out{Subject: proto.ScalingSubject(s.bus.Prefix(), d.App, d.Tier), Msg: ev})
		s.actions.WithLabelValues(mode, status).Inc()
	}

	// Where the tier stands now, in event time.
	cur := Result{Ready: d.From}
	if prev != nil {
		cur = Result{Ready: prev.Ready, Booting: prev.Booting}
		st.Desired, st.DecisionID = prev.Desired, prev.DecisionID
	}
	if obs, ok := drv.(Observer); ok {
		if r, ok := obs.Observe(d.App, d.Tier, t); ok {
			cur = r
		}
	}
	st.Ready, st.Booting = cur.Ready, cur.Booting
	if prev != nil && prev.Booting > 0 && cur.Booting == 0 && cur.Ready == prev.Desired {
		emit(proto.StatusReady, prev.DecisionID, "")
	}

	if d.Action != proto.ActionHold && d.To != cur.Ready+cur.Booting {
		st.Desired, st.DecisionID = d.To, d.ID
		switch mode {
		case ModeDryRun:
			log.Info().Int("from", d.From).Int("to", d.To).Str("reason", d.Reason).Msg("dry-run: not acting")
			emit(proto.StatusSkipped, d.ID, "")
			st.Desired = cur.Ready + cur.Booting
		default:
			emit(proto.StatusRequested, d.ID, "")
			r, err := drv.Scale(ctx, Request{App: d.App, Tier: d.Tier, Replicas: d.To, DecisionID: d.ID, Time: t})
			if err != nil {
				log.Error().Err(err).Msg("scale failed")
				emit(proto.StatusFailed, d.ID, err.Error())
				st.Desired = cur.Ready + cur.Booting
			} else {
				st.Ready, st.Booting = r.Ready, r.Booting
				log.Info().Int("from", d.From).Int("to", d.To).Int("ready", r.Ready).Int("booting", r.Booting).Str("mode", mode).Msg("scaled")
				emit(proto.StatusApplied, d.ID, "")
				if r.Booting == 0 {
					emit(proto.StatusReady, d.ID, "")
				}
			}
		}
	}
	if err := s.put(ctx, key, &st); err != nil {
		return nil, err // transient: retried
	}
	return outs, nil
}

func (s *Service) put(ctx context.Context, key string, st *proto.ReplicaState) error {
	data, err := proto.Encode(st)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, key, data); err != nil {
		return fmt.Errorf("put replica state %s: %w", key, err)
	}
	s.mu.Lock()
	s.states[key] = st
	s.mu.Unlock()
	return nil
}

// ReadState returns a tier's replica state from the bucket.
func ReadState(ctx context.Context, kv jetstream.KeyValue, app, tier string) (*proto.ReplicaState, error) {
	e, err := kv.Get(ctx, proto.ReplicaKey(app, tier))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st proto.ReplicaState
	return &st, proto.Decode(e.Value(), &st)
}
