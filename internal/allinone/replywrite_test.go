package allinone

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// TestObserverCannotWriteThroughReplies: the anonymous observer (any local
// user, no credentials) names a decision subject and a replica key as the
// reply subjects of JetStream API requests it may make ($JS.API.INFO, a
// DIRECT.GET of the replica bucket): the server must store neither answer.
func TestObserverCannotWriteThroughReplies(t *testing.T) {
	ctx := context.Background()
	s, admin, _ := embedded(t, time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC).UnixMilli())
	kv, err := admin.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Encode(&proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 1, Desired: 190, Ready: 190})
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, proto.ReplicaKey("shop", "web"), data); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := nc.PublishRequest("$JS.API.INFO", "apm.decision.shop.db", nil); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$JS.API.DIRECT.GET.KV_REPLICAS", "$KV.REPLICAS.shop.db", []byte(`{"last_by_subj":"$KV.REPLICAS.shop.web"}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// Settled once the parts' own next writes are stored.
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "cache", 1), App: "shop", Tier: "cache", TS: 1,
		Action: proto.ActionUp, From: 1, To: 2}
	if err := admin.Publish(ctx, bus.Out{Subject: proto.DecisionSubject("apm", "shop", "cache"), Msg: d}); err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, proto.ReplicaKey("shop", "cache"), data); err != nil {
		t.Fatal(err)
	}
	r, err := admin.Reader(ctx, proto.KindDecision)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := r.State(ctx); err != nil || st.Msgs != 1 {
		t.Errorf("DECISIONS holds %d messages (%v), want only the one published", st.Msgs, err)
	}
	if v, err := kv.Get(ctx, proto.ReplicaKey("shop", "db")); err == nil {
		t.Errorf("replica key shop.db written by the observer: %q", v)
	}
}
