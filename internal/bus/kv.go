package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// Replicas is the replica key-value bucket: each tier's replica state
// (proto.ReplicaState, encoded) under proto.ReplicaKey. The executor writes
// it; the collector watches it to stamp ticks with what is committed. It is
// safe for concurrent use.
type Replicas struct {
	name string
	kv   jetstream.KeyValue
}

// Replicas opens the replica bucket, which provisioning created
// (EnsureStreams).
func (b *Bus) Replicas(ctx context.Context) (*Replicas, error) {
	kv, err := b.openReplicaBucket(ctx)
	if err != nil {
		return nil, err
	}
	return &Replicas{name: proto.ReplicaBucket(b.cfg.Prefix), kv: kv}, nil
}

// Get returns the value stored under key; ErrNotFound when there is none.
func (r *Replicas) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("kv %s key %s: %w", r.name, key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("kv %s key %s: %w", r.name, key, err)
	}
	return e.Value(), nil
}

// Put stores value under key, replacing what was there.
func (r *Replicas) Put(ctx context.Context, key string, value []byte) error {
	if _, err := r.kv.Put(ctx, key, value); err != nil {
		return fmt.Errorf("kv %s put %s: %w", r.name, key, err)
	}
	return nil
}

// Keys lists the keys holding a value (none: an empty list).
func (r *Replicas) Keys(ctx context.Context) ([]string, error) {
	l, err := r.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("kv %s keys: %w", r.name, err)
	}
	defer func() { _ = l.Stop() }()
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}

// Watch hands fn every value stored in the bucket: first the current value
// of each key, then started is called once, then every change as it is
// stored, until ctx ends; a deleted or purged key comes as a nil value. fn
// runs on Watch's goroutine, one call at a time. It returns nil when ctx
// ends.
func (r *Replicas) Watch(ctx context.Context, started func(), fn func(key string, value []byte)) error {
	w, err := r.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("kv %s watch: %w", r.name, err)
	}
	defer func() { _ = w.Stop() }()
	begun := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil { // the current values are all delivered
				if !begun {
					begun = true
					if started != nil {
						started()
					}
				}
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				fn(e.Key(), nil)
				continue
			}
			fn(e.Key(), e.Value())
		}
	}
}
