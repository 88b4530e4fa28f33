package collector

import (
	"context"
	"iter"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/proto"
)

// replicaView mirrors the replica bucket: each tier's latest state, with a
// channel closed on every change so waiters need not poll.
type replicaView struct {
	mu      sync.Mutex
	states  map[string]proto.ReplicaState
	changed chan struct{}

	log zerolog.Logger
	// undecodable counts bucket values that could not be decoded.
	undecodable prometheus.Counter
}

func newReplicaView(log zerolog.Logger) *replicaView {
	return &replicaView{states: map[string]proto.ReplicaState{}, changed: make(chan struct{}), log: log,
		undecodable: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_collector_undecodable_replica_states_total",
			Help: "Values of the replica bucket that could not be decoded as their tier's state, logged and ignored (the tier keeps its previous state)."})}
}

// watch follows the bucket until ctx ends, calling started once it holds
// every state stored when it began. A value that cannot be decoded as the
// tier's state (a copy of another message, see proto.DecodeReplicaState)
// is logged and counted, and the tier keeps the state it had; a deleted
// key drops the tier's state (the executor has recorded none).
func (v *replicaView) watch(ctx context.Context, kv *bus.Replicas, started func()) error {
	return kv.Watch(ctx, started, func(key string, value []byte) {
		if value == nil {
			v.set(key, nil)
			return
		}
		// A copy of another message is not the tier's state (see
		// proto.DecodeReplicaState).
		st, err := proto.DecodeReplicaState(key, value)
		if err != nil {
			v.undecodable.Inc()
			v.log.Warn().Err(err).Str("key", key).Int("bytes", len(value)).Msg("undecodable replica state ignored")
			return
		}
		v.set(key, st)
	})
}

// set records key's state (nil: none) and wakes the waiters.
func (v *replicaView) set(key string, st *proto.ReplicaState) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if st == nil {
		delete(v.states, key)
	} else {
		v.states[key] = *st
	}
	close(v.changed)
	v.changed = make(chan struct{})
}

// get returns a tier's state and the channel closed at the next change.
func (v *replicaView) get(key string) (proto.ReplicaState, bool, <-chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st, ok := v.states[key]
	return st, ok, v.changed
}

// committed returns the executor's recorded state of app's tier as a tick
// carries it, nil when the executor has recorded none.
func (v *replicaView) committed(app, tier string) *proto.Committed {
	st, ok, _ := v.get(proto.ReplicaKey(app, tier))
	if !ok {
		return nil
	}
	return st.Committed()
}

// stamp sets m's Committed from the replica bucket, overwriting whatever the
// source put there: only the executor's own record may say what is
// committed, never a pushed body.
func (s *Service) stamp(m *proto.Metrics) {
	m.Committed = s.view.committed(m.App, m.Tier)
}

// stamping wraps the push API's publisher so pushed ticks carry the
// committed state too.
func (s *Service) stamping(pub ingest.Publisher) ingest.Publisher {
	return func(ctx context.Context, ticks iter.Seq[*proto.Metrics]) error {
		return pub(ctx, func(yield func(*proto.Metrics) bool) {
			for m := range ticks {
				s.stamp(m)
				if !yield(m) {
					return
				}
			}
		})
	}
}
