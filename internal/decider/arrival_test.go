package decider

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestReplayNextToLiveIsNotIdle: a shadow replay of March traffic arrives
// next to a live app pushing ticks stamped now. By event time the replay is
// months idle; by arrival it is as fresh as the live app, and its state is
// kept. (Evicting it by event time dropped the shop's join mid-backfill in
// the all-in-one and its decisions stopped, TestReplayShadowDecisions.) An
// app that stops arriving is still dropped.
func TestReplayNextToLiveIsNotIdle(t *testing.T) {
	st := NewApps(DefaultConfig(), config.Limits{IdleAfter: time.Hour}, zerolog.Nop())
	now := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	march := time.Date(2026, 3, 3, 4, 0, 0, 0, time.UTC)
	feed := func(app string, at, arrived time.Time) int {
		t.Helper()
		ts := proto.Millis(at)
		n := 0
		for _, in := range []proto.Keyed{
			&proto.Forecast{App: app, Tier: "web", TS: proto.Millis(at.Truncate(5 * time.Minute))},
			&proto.Anomaly{App: app, Tier: "web", TS: ts},
			&proto.Metrics{App: app, Tier: "web", TS: ts, Replicas: 2, Values: proto.Floats{"rps": 10}},
		} {
			st.Arrive(arrived)
			ds, err := st.Handle(in)
			if err != nil {
				t.Fatal(err)
			}
			n += len(ds)
		}
		return n
	}
	decided := 0
	for m := range 180 {
		arrived := now.Add(time.Duration(m) * time.Second) // the replay runs at 60x
		decided += feed("shadow", march.Add(time.Duration(m)*time.Minute), arrived)
		if m%10 == 0 {
			feed("live", now.Add(time.Duration(m)*time.Second), arrived)
		}
		if !st.Has("shadow") {
			t.Fatalf("the replay was dropped at minute %d", m)
		}
	}
	if decided != 179 {
		t.Fatalf("%d decisions for 180 replayed minutes, want 179 (the last waits for the next)", decided)
	}
	// The live app keeps arriving for two more hours; the replay has ended.
	for m := range 120 {
		at := now.Add(time.Hour + time.Duration(m)*time.Minute)
		feed("live", at, at)
	}
	if st.Has("shadow") || !st.Has("live") {
		t.Fatalf("after 2 h without input: shadow held %v, live held %v", st.Has("shadow"), st.Has("live"))
	}
}
