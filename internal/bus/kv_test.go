package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReplicaStateFitsTheValueBound: the largest replica state (64-byte
// app and tier names, the longest decision id, large counts) encodes well
// under ReplicaValueMax, so the bound never refuses a real state.
func TestReplicaStateFitsTheValueBound(t *testing.T) {
	app, tier := "a"+strings.Repeat("b", 63), "t"+strings.Repeat("u", 63)
	ts := proto.Millis(t0)
	st := &proto.ReplicaState{V: proto.SchemaVersion, App: app, Tier: tier, TS: 1 << 62, Desired: 1 << 30, Ready: 1 << 30,
		Booting: 1 << 30, DecisionID: proto.DecisionID(app, tier, ts)}
	data, err := proto.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) >= 400 || len(data) > bus.ReplicaValueMax {
		t.Fatalf("largest replica state encodes to %d bytes; the bucket takes %d", len(data), bus.ReplicaValueMax)
	}
}

// TestReplicaBucketIsBounded, on a single server and on a three-node
// cluster at three replicas: the bucket refuses a value over
// ReplicaValueMax; Room admits new keys only while every key held could
// grow to the largest value, and each can; past Room, a put of a new key is
// refused with an error naming the bucket and key, and what it held stays
// readable. A bucket provisioned before it had bounds gets them.
func TestReplicaBucketIsBounded(t *testing.T) {
	cases := []struct {
		name     string
		replicas int
		url      func(*testing.T) string
	}{
		{"single server", 1, func(t *testing.T) string { return natstest.RunJetStream(t) }},
		{"three-node cluster", 3, func(t *testing.T) string { return natstest.StartCluster(t, 3).URL() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			testReplicaBucketBound(t, c.url(t), c.replicas)
		})
	}
}

func testReplicaBucketBound(t *testing.T, url string, replicas int) {
	const capBytes = 16 << 10
	ctx := context.Background()
	bounded := func(n int64) func(*bus.Config) {
		return func(c *bus.Config) { c.Streams.ReplicaMaxBytes, c.Streams.Replicas = n, replicas }
	}

	// A bucket from an older provisioning, without bounds.
	old := mustBus(t, url, bounded(1<<30))
	js := natstest.JetStream(t, old)
	name := proto.ReplicaBucket(proto.DefaultPrefix)
	if _, err := js.UpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, History: 1, MaxBytes: -1, Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
		t.Fatal(err)
	}

	b := mustBus(t, url, bounded(capBytes))
	kv, err := js.KeyValue(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config
	if info.MaxBytes != capBytes || info.MaxMsgSize != bus.ReplicaValueMax {
		t.Fatalf("provisioned bucket: max bytes %d, max value %d; want %d, %d", info.MaxBytes, info.MaxMsgSize, capBytes, bus.ReplicaValueMax)
	}

	r, err := b.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Put(ctx, "shop.web", make([]byte, bus.ReplicaValueMax+1))
	if err == nil || !strings.Contains(err.Error(), "shop.web") {
		t.Fatalf("put of %d bytes: %v, want a refusal naming the key", bus.ReplicaValueMax+1, err)
	}
	if _, err := r.Get(ctx, "shop.web"); err == nil {
		t.Fatal("the refused value was stored")
	}

	// New keys as the executor adds them: each after Room, at a real
	// state's size.
	key := func(i int) string { return fmt.Sprintf("app%d.web", i) }
	value := func(i, size int) []byte { return []byte(fmt.Sprintf("%03d", i) + strings.Repeat("x", size-3)) }
	held, want := 0, capBytes/bus.ReplicaEntryMax-1
	for ; r.Room(ctx, 0) == nil; held++ {
		if held > capBytes/100 {
			t.Fatalf("Room still admits keys after %d", held)
		}
		// Keeping one key free refuses only the last key, saying the
		// rest is reserved.
		if err := r.Room(ctx, 1); held < want-1 && err != nil {
			t.Errorf("room for key %d keeping one free: %v, want nil", held, err)
		} else if held == want-1 && (!errors.Is(err, bus.ErrBucketFull) || !errors.Is(err, bus.ErrRoomReserved)) {
			t.Errorf("room for the last key %d keeping one free: %v, want ErrBucketFull and ErrRoomReserved", held, err)
		}
		if err := r.Put(ctx, key(held), value(held, 350)); err != nil {
			t.Fatalf("put of key %d after Room admitted it: %v", held, err)
		}
	}
	if held != want {
		t.Errorf("Room admitted %d keys into %d bytes, want %d", held, capBytes, want)
	}
	if err := r.Room(ctx, 0); !errors.Is(err, bus.ErrBucketFull) || errors.Is(err, bus.ErrRoomReserved) {
		t.Errorf("room in the full bucket: %v, want ErrBucketFull, not ErrRoomReserved", err)
	}
	// Every key held may grow to the largest value.
	for i := range held {
		if err := r.Put(ctx, key(i), value(i, bus.ReplicaValueMax)); err != nil {
			t.Fatalf("key %d growing to %d bytes in the full bucket: %v", i, bus.ReplicaValueMax, err)
		}
	}

	// Past Room (another member's put, say), the cap itself refuses.
	stored := held
	for ; stored < held+capBytes/100; stored++ {
		if err = r.Put(ctx, key(stored), value(stored, 350)); err != nil {
			break
		}
	}
	if !errors.Is(err, bus.ErrBucketFull) {
		t.Fatalf("puts past Room, then %v; want ErrBucketFull", err)
	}
	if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), key(stored)) {
		t.Errorf("refusal %q does not name the bucket and key", err)
	}
	for i := range stored {
		size := 350
		if i < held {
			size = bus.ReplicaValueMax
		}
		got, err := r.Get(ctx, key(i))
		if err != nil || string(got) != string(value(i, size)) {
			t.Fatalf("key %d after the refusal: %d bytes, %v", i, len(got), err)
		}
	}
	t.Logf("Room admitted %d keys; the cap refused key %d: %v", held, stored, err)
}

// TestReplicaBucketCapBelowItsKeys: provisioning refuses a cap that would
// leave the keys a bucket holds no room to change, naming the flag, and
// leaves the bucket and its keys as they were.
func TestReplicaBucketCapBelowItsKeys(t *testing.T) {
	url := natstest.RunJetStream(t)
	ctx := context.Background()
	b := mustBus(t, url)
	r, err := b.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const keys = 20
	for i := range keys {
		if err := r.Put(ctx, fmt.Sprintf("app%d.web", i), []byte("state")); err != nil {
			t.Fatal(err)
		}
	}
	cfg := b.Config()
	cfg.Streams.ReplicaMaxBytes = 16 << 10
	small, err := bus.Connect(ctx, cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = small.Close(5 * time.Second) })
	err = small.EnsureStreams(ctx)
	if err == nil || !strings.Contains(err.Error(), "-stream.replica-max-bytes 16384") || !strings.Contains(err.Error(), fmt.Sprintf("holds %d keys", keys)) {
		t.Fatalf("provisioning a 16 KiB cap over %d keys: %v, want a refusal naming the flag and the keys", keys, err)
	}
	st, err := natstest.JetStream(t, b).Stream(ctx, "KV_"+proto.ReplicaBucket(proto.DefaultPrefix))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config.MaxBytes; got != bus.DefaultConfig().Streams.ReplicaMaxBytes {
		t.Errorf("bucket cap after the refusal: %d, want the default %d", got, bus.DefaultConfig().Streams.ReplicaMaxBytes)
	}
	if got, err := r.Get(ctx, fmt.Sprintf("app%d.web", keys-1)); err != nil || string(got) != "state" {
		t.Errorf("a key after the refusal: %q, %v", got, err)
	}
}

// TestReplicaUpdateComparesRevisions, on a single server and on a
// three-node cluster at three replicas (which reports a conflict with
// another error code): Update stores a value only over the revision it
// was given (0: no value, a deleted key included), and a stale revision
// is refused with ErrChanged, the value stored meanwhile left as it is.
func TestReplicaUpdateComparesRevisions(t *testing.T) {
	cases := []struct {
		name     string
		replicas int
		url      func(*testing.T) string
	}{
		{"single server", 1, func(t *testing.T) string { return natstest.RunJetStream(t) }},
		{"three-node cluster", 3, func(t *testing.T) string { return natstest.StartCluster(t, 3).URL() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			b := mustBus(t, c.url(t), func(cfg *bus.Config) { cfg.Streams.Replicas = c.replicas })
			if err := b.EnsureStreams(ctx); err != nil {
				t.Fatal(err)
			}
			kv, err := b.Replicas(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, rev, err := kv.Entry(ctx, "shop.web"); !errors.Is(err, bus.ErrNotFound) || rev != 0 {
				t.Fatalf("entry of a new key: revision %d, error %v; want 0 and ErrNotFound", rev, err)
			}
			r1, err := kv.Update(ctx, "shop.web", []byte("one"), 0)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if _, err := kv.Update(ctx, "shop.web", []byte("again"), 0); !errors.Is(err, bus.ErrChanged) {
				t.Fatalf("second create over a value: %v, want ErrChanged", err)
			}
			r2, err := kv.Update(ctx, "shop.web", []byte("two"), r1)
			if err != nil || r2 <= r1 {
				t.Fatalf("update at the revision read: revision %d after %d, error %v", r2, r1, err)
			}
			if _, err := kv.Update(ctx, "shop.web", []byte("stale"), r1); !errors.Is(err, bus.ErrChanged) {
				t.Fatalf("update at a stale revision: %v, want ErrChanged", err)
			}
			if v, rev, err := kv.Entry(ctx, "shop.web"); err != nil || string(v) != "two" || rev != r2 {
				t.Fatalf("entry %q at revision %d (%v), want \"two\" at %d", v, rev, err, r2)
			}
			// A deleted key holds no value: revision 0 writes it again.
			js := natstest.JetStream(t, b)
			raw, err := js.KeyValue(ctx, proto.ReplicaBucket(proto.DefaultPrefix))
			if err != nil {
				t.Fatal(err)
			}
			if err := raw.Delete(ctx, "shop.web"); err != nil {
				t.Fatal(err)
			}
			if _, err := kv.Update(ctx, "shop.web", []byte("three"), 0); err != nil {
				t.Fatalf("create over a deleted key: %v", err)
			}
			if v, _, err := kv.Entry(ctx, "shop.web"); err != nil || string(v) != "three" {
				t.Fatalf("entry %q (%v), want \"three\"", v, err)
			}
		})
	}
}
