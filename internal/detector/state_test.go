package detector

import (
	"errors"
	"reflect"
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
	if e, _ := st.Get("a", "x"); len(e.State.detectors) != MaxMetrics {
		n := len(e.State.detectors)
		t.Fatalf("%d detectors for %d metrics, want the cap %d", n, len(many), MaxMetrics)
	}
	if err := tick("c", "x", 121, one); err != nil {
		t.Fatalf("after eviction: %v", err)
	}
}

// TestReturningTierResumes: a tier evicted for idleness says so, once,
// when it comes back; replaying its recorded ticks (as the runtime does)
// outputs none of them again, and the ticks after score exactly as a tier
// that was never evicted scores them.
func TestReturningTierResumes(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	value := func(i int) map[string]float64 {
		v := 100 + 30*float64(i%60)/60
		if i == 500 {
			v *= 4 // a spike after the return, to be scored alike
		}
		return map[string]float64{"rps": v, "cpu": 0.3 + float64(i%7)/100}
	}
	tick := func(app string, i int) *proto.Metrics {
		return proto.NewMetrics(app, "web", t0.Add(time.Duration(i)*time.Minute), 2, value(i))
	}
	never := NewTiers(DefaultConfig(), config.DefaultLimits())
	st := NewTiers(DefaultConfig(), config.Limits{MaxSeriesPerApp: 10, MaxSeries: 10, IdleAfter: time.Hour})
	step := func(ts *Tiers, m *proto.Metrics) *proto.Anomaly {
		t.Helper()
		out, _, err := ts.Step(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for i := range 400 {
		step(never, tick("a", i))
		step(st, tick("a", i))
	}
	// a goes quiet for two hours while b ticks: evicted.
	for i := 400; i < 520; i++ {
		step(st, tick("b", i))
	}
	if st.Has("a", "web") {
		t.Fatal("a.web not evicted after two idle hours")
	}
	if !st.Returning("a", "web") || st.Returning("a", "web") {
		t.Fatal("Returning must say yes once for the evicted tier")
	}
	if st.Returning("b", "web") {
		t.Fatal("Returning said yes for a tier never evicted")
	}
	for i := range 400 { // the runtime's replay of a's history
		if out := step(st, tick("a", i)); out != nil {
			t.Fatalf("replayed tick %d output again", i)
		}
	}
	for i := 520; i < 600; i++ {
		got, want := step(st, tick("a", i)), step(never, tick("a", i))
		if got == nil || !reflect.DeepEqual(got.Scores, want.Scores) || !reflect.DeepEqual(got.Incidents, want.Incidents) {
			t.Fatalf("tick %d after the return scored %+v, want %+v", i, got, want)
		}
	}
}
