package decider

import (
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestAppsForget drops an app and frees its tiers' places.
func TestAppsForget(t *testing.T) {
	st := NewApps(DefaultConfig(), config.Limits{MaxSeries: 2}, zerolog.Nop())
	for _, k := range []string{"a", "b"} {
		if _, err := st.AddMetrics(&proto.Metrics{App: k, Tier: "web", TS: proto.Millis(t0), Values: proto.Floats{"rps": 1}}); err != nil {
			t.Fatal(err)
		}
	}
	st.Forget("a")
	if st.Has("a") || !st.Has("b") {
		t.Fatal("forget a")
	}
	if _, err := st.AddMetrics(&proto.Metrics{App: "c", Tier: "web", TS: proto.Millis(t0), Values: proto.Floats{"rps": 1}}); err != nil {
		t.Fatalf("after forgetting a: %v", err)
	}
}

// TestChurnKeepsBoundedRecords: apps that come once and go are evicted
// when idle, and what the decider remembers of them (their last decisions
// stored, their eviction marks) is forgotten one lookback later, by
// arrival time: 10,000 apps, one a minute, leave only those of the last
// idle limit and lookback, not every app ever seen.
func TestChurnKeepsBoundedRecords(t *testing.T) {
	cfg := DefaultConfig()
	lim := config.DefaultLimits()
	st := NewApps(cfg, lim, zerolog.Nop())
	const apps = 10_000
	for i := range apps {
		at := t0.Add(time.Duration(i) * time.Minute)
		st.Arrive(at)
		if _, err := st.AddMetrics(&proto.Metrics{App: fmt.Sprintf("app%d", i), Tier: "web", TS: proto.Millis(at), Values: proto.Floats{"rps": 1}}); err != nil {
			t.Fatal(err)
		}
	}
	// Records written in the last idle limit and lookback, and one sweep's
	// slack (records are stamped at the sweep after they are written).
	bound := int((2*lim.IdleAfter + cfg.Lookback()) / time.Minute)
	if n := st.dropped.Len(); n > bound || n == 0 {
		t.Fatalf("%d apps remembered after %d came and went, want 1 to %d", n, apps, bound)
	}
}
