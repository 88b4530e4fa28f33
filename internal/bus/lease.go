package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// Leases is the executor's lease bucket (proto.LeaseBucket): a key per
// app.tier (proto.ReplicaKey) held by the member whose driver, one that
// cannot read the tier's count back, is changing it. Each key is created
// with a time to live, so a lease whose holder died lapses by itself. It
// is safe for concurrent use.
type Leases struct {
	name string
	kv   jetstream.KeyValue
	b    *Bus
}

// Leases opens the lease bucket, which provisioning created
// (EnsureStreams).
func (b *Bus) Leases(ctx context.Context) (*Leases, error) {
	name := proto.LeaseBucket(b.cfg.Prefix)
	kv, err := b.js.KeyValue(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: %w", name, err)
	}
	return &Leases{name: name, kv: kv, b: b}, nil
}

// Take creates key with value, to lapse after ttl, and returns its
// revision. When the key holds a lease already the error wraps ErrChanged
// and Holder tells whose it is. A take the server refuses this user ends
// at that refusal (IsRefused), as Renew and Release do.
func (l *Leases) Take(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error) {
	var rev uint64
	err := l.write(ctx, key, func(ctx context.Context) error {
		var err error
		rev, err = l.kv.Create(ctx, key, value, jetstream.KeyTTL(ttl))
		return err
	})
	switch {
	case err == nil:
		return rev, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		err = fmt.Errorf("%w: %w", ErrChanged, err)
	}
	return 0, fmt.Errorf("kv %s take %s: %w", l.name, key, err)
}

// Renew stores value under key, to lapse after ttl from now, only while
// the key is still at revision rev (the lease its caller took or last
// renewed: not lapsed, released or taken again since), and returns its
// new revision. A key no longer at rev is left alone (the error wraps
// ErrChanged). The bucket's own Update cannot set a time to live, and a
// value stored without one would never lapse: the write is the bucket's
// publish with both headers. A renewal the server refuses this user ends
// at that refusal (IsRefused), as a replica state's write does, not at
// ctx's end (the server drops the publish).
func (l *Leases) Renew(ctx context.Context, key string, value []byte, rev uint64, ttl time.Duration) (uint64, error) {
	m := &nats.Msg{Subject: l.subject(key), Data: value}
	var seq uint64
	err := l.write(ctx, key, func(ctx context.Context) error {
		ack, err := l.b.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(rev), jetstream.WithMsgTTL(ttl))
		if err == nil {
			seq = ack.Sequence
		}
		return err
	})
	if err == nil {
		return seq, nil
	}
	if moved(err) {
		err = fmt.Errorf("%w: %w", ErrChanged, err)
	}
	return 0, fmt.Errorf("kv %s renew %s at revision %d: %w", l.name, key, rev, err)
}

// Holder returns the value of the lease key holds and its revision;
// ErrNotFound when there is none (released, or lapsed).
func (l *Leases) Holder(ctx context.Context, key string) ([]byte, uint64, error) {
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("kv %s key %s: %w", l.name, key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("kv %s key %s: %w", l.name, key, err)
	}
	return e.Value(), e.Revision(), nil
}

// Release removes the lease key holds at revision rev, the one its holder
// took: a lease that lapsed and was taken by another member since is left
// alone (the error wraps ErrChanged). The marker the removal leaves lapses
// after markerTTL. A removal the server refuses this user ends at that
// refusal (IsRefused), as Renew does.
func (l *Leases) Release(ctx context.Context, key string, rev uint64, markerTTL time.Duration) error {
	err := l.write(ctx, key, func(ctx context.Context) error {
		return l.kv.Purge(ctx, key, jetstream.LastRevision(rev), jetstream.PurgeTTL(markerTTL))
	})
	if err == nil {
		return nil
	}
	if moved(err) {
		err = fmt.Errorf("%w: %w", ErrChanged, err)
	}
	return fmt.Errorf("kv %s release %s at revision %d: %w", l.name, key, rev, err)
}

// subject is the bucket's subject of key, which its writes publish to.
func (l *Leases) subject(key string) string { return "$KV." + l.name + "." + key }

// write runs put, a write of key, until it ends or the server refuses
// this user the key's subject (refusable): the server drops a refused
// publish, so the write's request would only wait out ctx (the
// executor's 10 s), holding whatever its caller holds meanwhile.
func (l *Leases) write(ctx context.Context, key string, put func(context.Context) error) error {
	return l.b.refusable(ctx, publishKey(l.subject(key)), put)
}

// LeaseValueMax is the largest value the lease bucket takes.
const LeaseValueMax = 1 << 10

// leaseBucket creates or updates the lease bucket: values of at most
// LeaseValueMax, a time to live per key (the lease's), and markers of
// removed keys kept for a minute, capped at StreamLimits.LeaseMaxBytes
// (r, its file store reservation, for the error when the server has no
// room for it).
func (b *Bus) leaseBucket(ctx context.Context, r Reservation) error {
	storage := jetstream.FileStorage
	if b.cfg.Streams.Memory {
		storage = jetstream.MemoryStorage
	}
	name := proto.LeaseBucket(b.cfg.Prefix)
	_, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         name,
		Description:    "Headroom executor leases per app.tier (a member changing the tier with a driver that cannot read it back)",
		History:        1,
		MaxBytes:       b.cfg.Streams.LeaseMaxBytes(),
		MaxValueSize:   LeaseValueMax,
		Storage:        storage,
		Replicas:       b.cfg.Streams.Replicas,
		LimitMarkerTTL: time.Minute,
	})
	if err != nil {
		return fmt.Errorf("kv bucket %s: %w", name, b.storeRefusal(r, err))
	}
	return nil
}
