package decider

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

// TestAppsLimitsAndIdle refuses a tier beyond the configured limits with an
// error naming the limit, decides every complete tick, and evicts an app
// idle for longer than limits.idle_after by event time.
func TestAppsLimitsAndIdle(t *testing.T) {
	lim := config.Limits{MaxSeriesPerApp: 3, MaxSeries: 4, IdleAfter: time.Hour}
	st := NewApps(DefaultConfig(), lim, zerolog.Nop())
	decided := 0
	feed := func(app, tier string, min int) error {
		at := t0.Add(time.Duration(min) * time.Minute)
		ts := proto.Millis(at)
		var all []*proto.Decision
		if at.Equal(at.Truncate(5 * time.Minute)) {
			ds, err := st.AddForecast(&proto.Forecast{App: app, Tier: tier, TS: ts})
			if err != nil {
				return err
			}
			all = append(all, ds...)
		}
		ds, err := st.AddAnomaly(&proto.Anomaly{App: app, Tier: tier, TS: ts})
		if err != nil {
			return err
		}
		all = append(all, ds...)
		ds, err = st.AddMetrics(&proto.Metrics{App: app, Tier: tier, TS: ts, Replicas: 2, Values: proto.Floats{"rps": 10}})
		decided += len(all) + len(ds)
		return err
	}
	for _, k := range []limits.Key{{App: "a", Tier: "web"}, {App: "a", Tier: "cache"}, {App: "a", Tier: "db"}, {App: "b", Tier: "web"}} {
		if err := feed(k.App, k.Tier, 0); err != nil {
			t.Fatal(err)
		}
	}
	err := feed("a", "extra", 0)
	var le *limits.Error
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "limits.max_series_per_app") {
		t.Fatalf("a 4th tier of a: %v", err)
	}
	if err := feed("c", "web", 0); !errors.As(err, &le) || le.Limit != limits.LimitTotal {
		t.Fatalf("a 5th series: %v", err)
	}
	for m := 1; m <= 120; m++ {
		for _, tier := range []string{"web", "cache", "db"} {
			if err := feed("a", tier, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if decided < 3*100 {
		t.Fatalf("%d decisions for 120 ticks of 3 tiers", decided)
	}
	if st.Has("b") || !st.Has("a") || st.Len() != 1 {
		t.Fatalf("after 2h: b %v a %v, %d apps", st.Has("b"), st.Has("a"), st.Len())
	}
	if err := feed("c", "web", 121); err != nil {
		t.Fatalf("after eviction: %v", err)
	}
	if got := DefaultConfig().Lookback(); got != 73*time.Hour {
		t.Fatalf("lookback %s", got)
	}
}
