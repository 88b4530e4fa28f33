package forecaster

import (
	"errors"
	"math"
	"reflect"
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

// TestLookbackRebuildsExactly holds Config.Lookback to its word: a tier
// rebuilt from only the last Lookback of its ticks (what a restart
// replays) forecasts bit for bit like one that saw its whole history, for
// histories far longer than the lookback, whatever the refit phase at
// the cut. A shorter replay does not (so the test can tell).
func TestLookbackRebuildsExactly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Model.Window, cfg.Model.Holdout = 3*288, 288 // three days of 5-minute buckets: a lookback of ~3 days
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	value := func(i int) float64 { // daily cycle, trend and a deterministic wobble
		return 200 + 80*math.Sin(2*math.Pi*float64(i)/1440) + float64(i)/200 + float64((i*7919)%23)
	}
	run := func(from, to int) map[int64]*proto.Forecast {
		st := NewTiers(cfg, config.DefaultLimits(), zerolog.Nop())
		out := map[int64]*proto.Forecast{}
		for i := from; i < to; i++ {
			f, _, err := st.Step(proto.NewMetrics("a", "web", t0.Add(time.Duration(i)*time.Minute), 2, map[string]float64{"rps": value(i)}))
			if err != nil {
				t.Fatal(err)
			}
			if f != nil {
				out[f.TS] = f
			}
		}
		return out
	}
	const total = 8 * 1440 // eight days of minutes, more than twice the lookback
	whole := run(0, total)
	lb := int(cfg.Lookback() / time.Minute)
	for _, cut := range []int{5 * 1440, 5*1440 + 17, 5*1440 + 35, 5*1440 + 59} { // cuts at several refit phases
		from := cut - lb
		rebuilt := run(from, total)
		compared := 0
		for ts, f := range rebuilt {
			if ts < proto.Millis(t0.Add(time.Duration(cut)*time.Minute)) {
				continue // the replayed part: forecasts there were stored before the restart
			}
			if !reflect.DeepEqual(f, whole[ts]) {
				t.Fatalf("cut at minute %d: the forecast of %s differs after a rebuild from the lookback:\n%+v\nwant\n%+v",
					cut, proto.Time(ts).Format(time.RFC3339), f, whole[ts])
			}
			if f.Model == "none" {
				t.Fatalf("cut at minute %d: no model forecast at %s: the test would prove nothing", cut, proto.Time(ts).Format(time.RFC3339))
			}
			compared++
		}
		if compared < 500 {
			t.Fatalf("cut at minute %d: only %d forecasts compared", cut, compared)
		}
	}
	// Two hours short of the lookback changes the forecasts.
	short, differ := run(5*1440-lb+120, total), 0
	for ts, f := range short {
		if ts >= proto.Millis(t0.Add(5*24*time.Hour)) && !reflect.DeepEqual(f, whole[ts]) {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("a replay shorter than the lookback forecasts alike too: the test cannot tell")
	}
}
