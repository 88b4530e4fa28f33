package decider

import (
	"testing"

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
