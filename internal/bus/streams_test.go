package bus_test

import (
	"context"
	"testing"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestDecisionsAreReadFromTheLeader: the executor's superseded check reads
// the last decision of a tier. A direct get may be answered by a replica
// that is behind, so DECISIONS allows none, also when an older
// provisioning had allowed them; the stage inputs keep them for take-overs.
func TestDecisionsAreReadFromTheLeader(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	// A DECISIONS stream provisioned before, with direct gets.
	old := b.StreamConfig(proto.KindDecision)
	old.AllowDirect = true
	s, err := b.StreamOf(ctx, proto.KindDecision)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(ctx); err != nil {
		t.Fatal(err)
	}
	js := natstest.JetStream(t, b)
	if _, err := js.UpdateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range proto.Kinds {
		s, err := b.StreamOf(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		got := s.CachedInfo().Config.AllowDirect
		if want := k != proto.KindDecision; got != want {
			t.Errorf("%s allows direct gets: %v, want %v", k, got, want)
		}
	}
	ts := proto.Millis(t0)
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "web", ts), App: "shop", Tier: "web", TS: ts,
		From: 2, To: 3, Action: proto.ActionUp, Reason: "test"}
	subject := proto.DecisionSubject("apm", "shop", "web")
	if err := b.Publish(ctx, bus.Out{Subject: subject, Msg: d}); err != nil {
		t.Fatal(err)
	}
	seq, data, err := b.LastMsg(ctx, proto.KindDecision, subject)
	if err != nil || seq == 0 || len(data) == 0 {
		t.Fatalf("last decision through the leader: seq %d, %d bytes, %v", seq, len(data), err)
	}
}
