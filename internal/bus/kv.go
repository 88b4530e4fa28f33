package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// Replicas is the replica key-value bucket: each tier's replica state
// (proto.ReplicaState, encoded) under proto.ReplicaKey. The executor writes
// it; the collector watches it to stamp ticks with what is committed. It is
// safe for concurrent use.
type Replicas struct {
	b    *Bus
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
	return &Replicas{b: b, name: proto.ReplicaBucket(b.cfg.Prefix), kv: kv}, nil
}

// Get returns the value stored under key; ErrNotFound when there is none.
func (r *Replicas) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := r.Entry(ctx, key)
	return v, err
}

// Entry returns the value stored under key and its revision, which
// Update takes to replace exactly it; ErrNotFound (revision 0) when there
// is none.
func (r *Replicas) Entry(ctx context.Context, key string) ([]byte, uint64, error) {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("kv %s key %s: %w", r.name, key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("kv %s key %s: %w", r.name, key, err)
	}
	return e.Value(), e.Revision(), nil
}

// ErrChanged is returned (wrapped) by Update when the key's value is no
// longer the revision it was read at: another writer stored one since.
var ErrChanged = errors.New("changed since it was read")

// Update stores value under key if the key still holds revision rev (0:
// if it holds no value, deleted or never written), and returns the new
// revision. When another value was stored meanwhile the error wraps
// ErrChanged and nothing is stored; when the bucket is full it wraps
// ErrBucketFull; when the server refuses this user the key, it is that
// refusal (IsRefused), at once.
func (r *Replicas) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	var next uint64
	err := r.write(ctx, key, func(ctx context.Context) (err error) {
		if rev == 0 {
			// Create also replaces a delete marker, which has a
			// revision of its own that Entry does not return.
			next, err = r.kv.Create(ctx, key, value)
		} else {
			next, err = r.kv.Update(ctx, key, value, rev)
		}
		return err
	})
	switch {
	case err == nil:
		return next, nil
	case moved(err):
		err = fmt.Errorf("%w: %w", ErrChanged, err)
	case full(err):
		err = fmt.Errorf("%w: %w", ErrBucketFull, err)
	}
	return 0, fmt.Errorf("kv %s update %s at revision %d: %w", r.name, key, rev, err)
}

// ErrBucketFull is returned (wrapped) when the replica bucket holds its
// StreamLimits.ReplicaMaxBytes: a key it does not hold cannot be added.
var ErrBucketFull = errors.New("replica bucket full")

// Put stores value under key, replacing what was there. When the bucket is
// full the error wraps ErrBucketFull; when the server refuses this user
// the key, it is that refusal (IsRefused), at once.
func (r *Replicas) Put(ctx context.Context, key string, value []byte) error {
	if err := r.write(ctx, key, func(ctx context.Context) error {
		_, err := r.kv.Put(ctx, key, value)
		return err
	}); err != nil {
		if full(err) {
			err = fmt.Errorf("%w: %w", ErrBucketFull, err)
		}
		return fmt.Errorf("kv %s put %s: %w", r.name, key, err)
	}
	return nil
}

// write runs put, a write of key, ending as soon as the server refuses
// this user the key's subject ($KV.<bucket>.<key>) with that refusal
// (IsRefused), as Publish does: the write itself would only wait out
// ctx (the executor's 10 s), each retry the same.
func (r *Replicas) write(ctx context.Context, key string, put func(context.Context) error) error {
	return r.b.refusable(ctx, publishKey("$KV."+r.name+"."+key), put)
}

// full reports whether err is the server refusing a message because its
// stream holds its MaxBytes. The server has no error code of its own for
// it: its store failure (10077) carries the store's reason.
// moved reports whether a write conditional on a key's revision (an
// update, a purge at a revision, a publish expecting the subject's last
// sequence) failed because the key is no longer at that revision: the
// bucket's own calls say so with ErrKeyExists or ErrKeyRevisionMismatch,
// a raw publish to the key's subject with the stream's wrong-last-sequence
// error.
func moved(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

func full(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10077 && strings.Contains(apiErr.Description, "maximum bytes")
}

// Room returns nil when the bucket can take one more key and still keep
// reserve more free, and otherwise an error wrapping ErrBucketFull with
// what it holds; when only the reserve stands in the way, the error wraps
// ErrRoomReserved too. A new key is admitted only while every key, the new
// one and the reserved ones included, could still grow to ReplicaEntryMax
// (replicaCap), so a held tier's next state always fits. Room reads the
// bucket's stream state, so it is a check, not a reservation: a put by
// another member meanwhile may still fill it.
func (r *Replicas) Room(ctx context.Context, reserve int) error {
	st, err := r.kv.Status(ctx)
	if err != nil {
		return fmt.Errorf("kv %s status: %w", r.name, err)
	}
	kvs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return fmt.Errorf("kv %s status: unexpected %T", r.name, st)
	}
	info := kvs.StreamInfo()
	limit, keys := info.Config.MaxBytes, int64(info.State.Msgs)
	switch {
	case limit <= 0:
		return nil
	case replicaCap(keys+1) > limit:
		return fmt.Errorf("kv %s holds %d of its %d bytes (%d keys): %w", r.name, info.State.Bytes, limit, keys, ErrBucketFull)
	case reserve > 0 && replicaCap(keys+1+int64(reserve)) > limit:
		return fmt.Errorf("kv %s holds %d of its %d bytes (%d keys), and keeps room for %d more: %w: %w", r.name, info.State.Bytes, limit, keys, reserve, ErrRoomReserved, ErrBucketFull)
	}
	return nil
}

// ErrRoomReserved marks a Room refusal made only to keep the reserve
// asked for free: the bucket has room for the key, but not past it.
var ErrRoomReserved = errors.New("the rest is reserved")

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
