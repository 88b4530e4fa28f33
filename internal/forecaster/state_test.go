package forecaster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// TestTiersLimitsAndIdle refuses a tier beyond the configured limits with
// an error naming the limit, evicts tiers idle for longer than
// limits.idle_after by event time, and then admits the refused tier.
func TestTiersLimitsAndIdle(t *testing.T) {
	lim := config.Limits{MaxSeriesPerApp: 2, MaxSeries: 3, IdleAfter: time.Hour}
	st := NewTiers(DefaultConfig(), lim, zerolog.Nop())
	tick := func(app, tier string, min int) error {
		_, _, err := st.Step(proto.NewMetrics(app, tier, t0.Add(time.Duration(min)*time.Minute), 1, map[string]float64{"rps": 1}))
		return err
	}
	for _, k := range []limits.Key{{App: "a", Tier: "x"}, {App: "a", Tier: "y"}, {App: "b", Tier: "x"}} {
		if err := tick(k.App, k.Tier, 0); err != nil {
			t.Fatal(err)
		}
	}
	err := tick("a", "z", 1)
	var le *limits.Error
	if !errors.As(err, &le) || le.Limit != limits.LimitPerApp || !strings.Contains(err.Error(), "limits.max_series_per_app") {
		t.Fatalf("a 3rd tier of a: %v", err)
	}
	if err := tick("c", "x", 1); !errors.As(err, &le) || le.Limit != limits.LimitTotal || !strings.Contains(err.Error(), "limits.max_series") {
		t.Fatalf("a 4th series: %v", err)
	}
	// Only a.x keeps ticking, for two hours of event time.
	for m := 1; m <= 120; m++ {
		if err := tick("a", "x", m); err != nil {
			t.Fatal(err)
		}
	}
	if st.Has("a", "y") || st.Has("b", "x") || !st.Has("a", "x") || st.Len() != 1 {
		t.Fatalf("after 2h: a.y %v b.x %v a.x %v, %d tiers", st.Has("a", "y"), st.Has("b", "x"), st.Has("a", "x"), st.Len())
	}
	if err := tick("a", "z", 121); err != nil {
		t.Fatalf("after eviction: %v", err)
	}
	// b.x comes back: its state starts again from the ticks it now gets.
	if err := tick("b", "x", 122); err != nil || !st.Has("b", "x") {
		t.Fatalf("b.x back: %v", err)
	}
	if got := DefaultConfig().Lookback(); got != time.Duration(4032+12+1)*5*time.Minute {
		t.Fatalf("lookback %s", got)
	}
}
