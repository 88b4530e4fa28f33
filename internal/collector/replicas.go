package collector

import (
	"context"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// replicaView mirrors the replica bucket: each tier's latest state, with a
// channel closed on every change so waiters need not poll.
type replicaView struct {
	mu      sync.Mutex
	states  map[string]proto.ReplicaState
	changed chan struct{}
}

func newReplicaView() *replicaView {
	return &replicaView{states: map[string]proto.ReplicaState{}, changed: make(chan struct{})}
}

// watch follows the bucket until ctx ends.
func (v *replicaView) watch(ctx context.Context, kv jetstream.KeyValue, started func()) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	once := sync.Once{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil { // initial values delivered
				once.Do(started)
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				continue
			}
			var st proto.ReplicaState
			if err := proto.Decode(e.Value(), &st); err != nil {
				continue
			}
			v.mu.Lock()
			v.states[e.Key()] = st
			close(v.changed)
			v.changed = make(chan struct{})
			v.mu.Unlock()
		}
	}
}

// get returns a tier's state and the channel closed at the next change.
func (v *replicaView) get(key string) (proto.ReplicaState, bool, <-chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st, ok := v.states[key]
	return st, ok, v.changed
}
