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

// TestEvictedTierRemembersStored replays a tier whose forecasts were
// stored up to 5h: evicted midway by idleness and rebuilt, it still makes
// none of the stored forecasts again.
func TestEvictedTierRemembersStored(t *testing.T) {
	st := NewTiers(DefaultConfig(), config.Limits{IdleAfter: time.Hour}, zerolog.Nop())
	st.SetSent("a", "x", t0.Add(5*time.Hour))
	step := func(tier string, min int) *proto.Forecast {
		t.Helper()
		f, _, err := st.Step(proto.NewMetrics("a", tier, t0.Add(time.Duration(min)*time.Minute), 1, map[string]float64{"rps": 1}))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for m := range 300 {
		if m < 10 || m > 200 {
			if f := step("x", m); f != nil {
				t.Fatalf("minute %d: forecast %s made again", m, f.EventTime().Format("15:04"))
			}
		}
		step("y", m)
		if m == 150 && st.Has("a", "x") {
			t.Fatal("a.x not evicted after 140 idle minutes")
		}
	}
	if f := step("x", 300); f != nil {
		t.Fatalf("the last stored bucket made again: %v", f.EventTime())
	}
	if f := step("x", 305); f == nil || !f.EventTime().Equal(t0.Add(5*time.Hour+5*time.Minute)) {
		t.Fatalf("the first bucket after the stored ones: %v", f)
	}
}
