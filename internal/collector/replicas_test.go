package collector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestUndecodableReplicaStateCounted stores a value in the replica bucket
// that is not a replica state: the collector's view ignores it, and counts
// it on the service's registry instead of dropping it silently.
func TestUndecodableReplicaStateCounted(t *testing.T) {
	h := newHarness(t, DefaultConfig(), "apps:\n  edge:\n    source: push\n    tiers: [{name: web}]\n")
	natstest.Serve(t, "collector run", h.svc.Run)
	kv, err := h.bus.Replicas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(context.Background(), proto.ReplicaKey("edge", "web"), []byte("not msgpack \xc1")); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 15*time.Second, func() error {
		if v, _ := metricstest.Sum(t, h.reg, "headroom_collector_undecodable_replica_states_total"); v != 1 {
			return fmt.Errorf("headroom_collector_undecodable_replica_states_total = %v, want 1", v)
		}
		return nil
	})
	if _, ok, _ := h.svc.view.get(proto.ReplicaKey("edge", "web")); ok {
		t.Fatal("an undecodable value became the tier's state")
	}
}

// TestForeignReplicaStateIgnored: a value under edge.web's key that is not
// the executor's state of edge.web is a copy: any NATS client can have the
// server store one there (a JetStream API request answered on the reply
// subject $KV.REPLICAS.edge.web: a DIRECT.GET of api's state, or of one of
// web's own past scaling events, whose fields include a state's). Stamped
// on web's ticks, its count (190) would be what the decider scales web
// from. The view ignores and counts each; web's own state, stored after,
// is kept.
func TestForeignReplicaStateIgnored(t *testing.T) {
	h := newHarness(t, DefaultConfig(), "apps:\n  edge:\n    source: push\n    tiers: [{name: web}, {name: api}]\n")
	natstest.Serve(t, "collector run", h.svc.Run)
	ctx := context.Background()
	kv, err := h.bus.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := proto.ReplicaKey("edge", "web")
	for i, foreign := range []proto.Message{
		&proto.ReplicaState{V: proto.SchemaVersion, App: "edge", Tier: "api", TS: 1, Desired: 190, Ready: 190},
		&proto.Scaling{V: proto.SchemaVersion, ID: proto.ScalingID("edge", "web", "x", proto.StatusRequested, 1), App: "edge", Tier: "web", TS: 1,
			Status: proto.StatusRequested, Desired: 190, Ready: 4, Driver: "sim", Mode: "live"},
	} {
		data, err := proto.Encode(foreign)
		if err != nil {
			t.Fatal(err)
		}
		if err := kv.Put(ctx, key, data); err != nil {
			t.Fatal(err)
		}
		natstest.Eventually(t, 15*time.Second, func() error {
			if v, _ := metricstest.Sum(t, h.reg, "headroom_collector_undecodable_replica_states_total"); v != float64(i+1) {
				return fmt.Errorf("headroom_collector_undecodable_replica_states_total = %v, want %d", v, i+1)
			}
			return nil
		})
		if st, ok, _ := h.svc.view.get(key); ok {
			t.Fatalf("%T became edge.web's state: %+v", foreign, st)
		}
	}
	data, err := proto.Encode(&proto.ReplicaState{V: proto.SchemaVersion, App: "edge", Tier: "web", TS: 2, Desired: 4, Ready: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 15*time.Second, func() error {
		if st, ok, _ := h.svc.view.get(key); !ok || st.Desired != 4 {
			return fmt.Errorf("edge.web's own state not seen yet: %+v", st)
		}
		return nil
	})
}

// TestReplicaViewDropsDeletedKeys: a tier's replica state deleted from the
// bucket leaves the collector's view too, rather than stamping ticks with a
// committed count the executor no longer records.
func TestReplicaViewDropsDeletedKeys(t *testing.T) {
	h := newHarness(t, DefaultConfig(), "apps:\n  edge:\n    source: push\n    tiers: [{name: web}]\n")
	natstest.Serve(t, "collector run", h.svc.Run)
	ctx := context.Background()
	kv, err := h.bus.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := proto.ReplicaKey("edge", "web")
	data, err := proto.Encode(&proto.ReplicaState{V: proto.SchemaVersion, App: "edge", Tier: "web", Desired: 4, Ready: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 15*time.Second, func() error {
		if _, ok, _ := h.svc.view.get(key); !ok {
			return fmt.Errorf("state of %s not seen yet", key)
		}
		return nil
	})
	raw, err := natstest.JetStream(t, h.bus).KeyValue(ctx, proto.ReplicaBucket(h.bus.Prefix()))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 15*time.Second, func() error {
		if st, ok, _ := h.svc.view.get(key); ok {
			return fmt.Errorf("deleted state of %s still in the view: %+v", key, st)
		}
		return nil
	})
}
