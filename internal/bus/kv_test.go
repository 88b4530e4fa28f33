package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

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

// TestReplicaBucketIsBounded: the bucket refuses a value over
// ReplicaValueMax and, once it holds ReplicaMaxBytes, a new key, each with
// an error naming the bucket and key; what it held stays readable. A
// bucket provisioned before it had bounds gets them.
func TestReplicaBucketIsBounded(t *testing.T) {
	const capBytes = 16 << 10
	url := natstest.RunJetStream(t)
	ctx := context.Background()

	// A bucket from an older provisioning, without bounds.
	old := mustBus(t, url, func(c *bus.Config) { c.Streams.ReplicaMaxBytes = 1 << 30 })
	js := natstest.JetStream(t, old)
	name := proto.ReplicaBucket(proto.DefaultPrefix)
	if _, err := js.UpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, History: 1, MaxBytes: -1, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}

	b := mustBus(t, url, func(c *bus.Config) { c.Streams.ReplicaMaxBytes = capBytes })
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
	if err := r.Room(ctx); err != nil {
		t.Fatalf("room in the empty bucket: %v", err)
	}
	err = r.Put(ctx, "shop.web", make([]byte, bus.ReplicaValueMax+1))
	if err == nil || !strings.Contains(err.Error(), "shop.web") {
		t.Fatalf("put of %d bytes: %v, want a refusal naming the key", bus.ReplicaValueMax+1, err)
	}
	if _, err := r.Get(ctx, "shop.web"); err == nil {
		t.Fatal("the refused value was stored")
	}

	value := func(i int) []byte { return []byte(fmt.Sprintf("%03d", i) + strings.Repeat("x", 500)) }
	var stored int
	for stored = 0; stored < 2*capBytes/500; stored++ {
		if err = r.Put(ctx, fmt.Sprintf("app%d.web", stored), value(stored)); err != nil {
			break
		}
	}
	if !errors.Is(err, bus.ErrBucketFull) {
		t.Fatalf("%d puts of 500 bytes into a %d-byte bucket, then %v; want ErrBucketFull", stored, capBytes, err)
	}
	if err := r.Room(ctx); !errors.Is(err, bus.ErrBucketFull) {
		t.Errorf("room in the full bucket: %v, want ErrBucketFull", err)
	}
	if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), fmt.Sprintf("app%d.web", stored)) {
		t.Errorf("refusal %q does not name the bucket and key", err)
	}
	if stored == 0 || stored*500 > capBytes {
		t.Errorf("refused after %d values of 500 bytes; the cap is %d bytes", stored, capBytes)
	}
	for i := range stored {
		got, err := r.Get(ctx, fmt.Sprintf("app%d.web", i))
		if err != nil || string(got) != string(value(i)) {
			t.Fatalf("key app%d.web after the refusal: %d bytes, %v", i, len(got), err)
		}
	}
	// A key it holds still takes a new value (History 1 replaces it).
	if err := r.Put(ctx, "app0.web", value(999)); err != nil {
		t.Errorf("replacing a held key in the full bucket: %v", err)
	}
	t.Logf("refused the %dth key: %v", stored+1, err)
}
