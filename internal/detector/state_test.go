package detector

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// TestTiersLimitsAndIdle refuses a tier beyond the configured limits with
// an error naming the limit, evicts tiers idle for longer than
// limits.idle_after by event time, and bounds the detectors per tier.
func TestTiersLimitsAndIdle(t *testing.T) {
	lim := config.Limits{MaxSeriesPerApp: 1, MaxSeries: 2, IdleAfter: time.Hour}
	st := NewTiers(DefaultConfig(), lim)
	tick := func(app, tier string, min int, values map[string]float64) error {
		_, _, err := st.Step(proto.NewMetrics(app, tier, t0.Add(time.Duration(min)*time.Minute), 1, values))
		return err
	}
	one := map[string]float64{"rps": 1}
	if err := tick("a", "x", 0, one); err != nil {
		t.Fatal(err)
	}
	if err := tick("b", "x", 0, one); err != nil {
		t.Fatal(err)
	}
	err := tick("a", "y", 1, one)
	var le *limits.Error
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "limits.max_series_per_app") {
		t.Fatalf("a 2nd tier of a: %v", err)
	}
	if err := tick("c", "x", 1, one); !errors.As(err, &le) || le.Limit != limits.LimitTotal {
		t.Fatalf("a 3rd series: %v", err)
	}
	many := map[string]float64{}
	for i := range MaxMetrics + 10 {
		many[strings.Repeat("m", 1+i%5)+string(rune('a'+i/5))] = float64(i)
	}
	for m := 1; m <= 120; m++ {
		if err := tick("a", "x", m, many); err != nil {
			t.Fatal(err)
		}
	}
	if st.Has("b", "x") || !st.Has("a", "x") || st.Len() != 1 {
		t.Fatalf("after 2h: b.x %v a.x %v, %d tiers", st.Has("b", "x"), st.Has("a", "x"), st.Len())
	}
	if n := len(st.tiers["a.x"].detectors); n != MaxMetrics {
		t.Fatalf("%d detectors for %d metrics, want the cap %d", n, len(many), MaxMetrics)
	}
	if err := tick("c", "x", 121, one); err != nil {
		t.Fatalf("after eviction: %v", err)
	}
}
