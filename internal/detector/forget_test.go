package detector

import (
	"testing"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// TestTiersForget drops an app's tiers and frees their places.
func TestTiersForget(t *testing.T) {
	st := NewTiers(DefaultConfig(), config.Limits{MaxSeries: 2})
	for _, k := range []string{"a", "b"} {
		if _, _, err := st.Step(proto.NewMetrics(k, "web", t0, 1, map[string]float64{"rps": 1})); err != nil {
			t.Fatal(err)
		}
	}
	st.Forget("a")
	if st.Has("a", "web") || !st.Has("b", "web") {
		t.Fatal("forget a")
	}
	if _, _, err := st.Step(proto.NewMetrics("c", "web", t0, 1, map[string]float64{"rps": 1})); err != nil {
		t.Fatalf("after forgetting a: %v", err)
	}
}
