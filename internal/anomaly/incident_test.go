package anomaly

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func hotScore(v float64, dir int) Score {
	return Score{Value: 0.9, Anomaly: true, Observed: v, Expected: v / 2, Detector: DetectorResidual, Direction: dir}
}

func calmScore(v float64) Score { return Score{Value: 0.05, Observed: v, Expected: v} }

func TestClassifierKinds(t *testing.T) {
	cases := []struct {
		name   string
		scores map[string]Score
		want   []string // kinds opened
	}{
		{"demand up with latency is load", map[string]Score{"rps": hotScore(900, 1), "latency_p95_ms": hotScore(400, 1), "error_rate": calmScore(0)}, []string{KindLoad}},
		{"latency up without demand is performance", map[string]Score{"rps": calmScore(100), "latency_p95_ms": hotScore(840, 1)}, []string{KindPerformance}},
		{"cpu up without demand is performance", map[string]Score{"rps": calmScore(100), "cpu": hotScore(0.95, 1)}, []string{KindPerformance}},
		{"errors up", map[string]Score{"rps": calmScore(100), "error_rate": hotScore(0.2, 1)}, []string{KindErrors}},
		{"errors and latency", map[string]Score{"rps": calmScore(100), "error_rate": hotScore(0.2, 1), "latency_p99_ms": hotScore(900, 1)}, []string{KindErrors, KindPerformance}},
		{"traffic cliff is drop", map[string]Score{"rps": hotScore(3, -1), "latency_p95_ms": calmScore(100)}, []string{KindDrop}},
		{"latency down is nothing", map[string]Score{"rps": calmScore(100), "latency_p95_ms": hotScore(10, -1)}, nil},
		{"all calm", map[string]Score{"rps": calmScore(100), "cpu": calmScore(0.4)}, nil},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := NewClassifier(DefaultClassifierConfig())
			values := map[string]float64{}
			for k, s := range c.scores {
				values[k] = s.Observed
			}
			got := cl.Observe(t0, values, c.scores)
			var kinds []string
			for _, inc := range got {
				if inc.State != StateOpen {
					t.Errorf("incident %s state %q, want open", inc.ID, inc.State)
				}
				kinds = append(kinds, inc.Kind)
			}
			if !reflect.DeepEqual(kinds, c.want) {
				t.Errorf("kinds %v, want %v", kinds, c.want)
			}
		})
	}
}

func TestClassifierLifecycle(t *testing.T) {
	cfg := DefaultClassifierConfig()
	cl := NewClassifier(cfg)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tick := func(i int, lat Score) []Incident {
		s := map[string]Score{"rps": calmScore(100), "latency_p95_ms": lat}
		return cl.Observe(t0.Add(time.Duration(i)*time.Minute), map[string]float64{"rps": 100, "latency_p95_ms": lat.Observed}, s)
	}
	got := tick(0, hotScore(840, 1))
	if len(got) != 1 || got[0].State != StateOpen || got[0].Kind != KindPerformance {
		t.Fatalf("tick 0: %+v, want one open performance incident", got)
	}
	id := got[0].ID
	if id != "performance-"+strconv.FormatInt(t0.UnixMilli(), 10) {
		t.Errorf("id %q, want performance-<start ms>", id)
	}
	if len(got[0].Evidence) != 1 || !strings.Contains(got[0].Evidence[0], "latency_p95_ms 840 vs expected 420") {
		t.Errorf("evidence %q lacks the numbers", got[0].Evidence)
	}
	// Same severity: no update.
	if got := tick(1, hotScore(850, 1)); len(got) != 0 {
		t.Errorf("tick 1: %+v, want no output", got)
	}
	// Severity rises: update.
	higher := hotScore(1200, 1)
	higher.Value = 0.99
	if got := tick(2, higher); len(got) != 1 || got[0].State != StateUpdate || got[0].ID != id || got[0].Severity != 0.99 {
		t.Errorf("tick 2: %+v, want an update of %s with severity 0.99", got, id)
	}
	// Quiet ticks: closes after CloseAfter of them, with End at the last hot tick.
	for i := 3; i < 3+cfg.CloseAfter-1; i++ {
		if got := tick(i, calmScore(120)); len(got) != 0 {
			t.Fatalf("tick %d: %+v, want nothing while cooling", i, got)
		}
	}
	got = tick(3+cfg.CloseAfter-1, calmScore(120))
	if len(got) != 1 || got[0].State != StateClosed || got[0].ID != id || !got[0].End.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("close tick: %+v, want %s closed with end at minute 2", got, id)
	}
	// A new hot tick opens a new incident with a new id.
	if got := tick(20, hotScore(900, 1)); len(got) != 1 || got[0].ID == id || got[0].State != StateOpen {
		t.Errorf("tick 20: %+v, want a new open incident", got)
	}
}

// TestClassifierSustainsWhileDeviating checks an incident stays open while
// its metric keeps deviating after the (sparse) score has gone quiet, and
// closes once the metric is back.
func TestClassifierSustainsWhileDeviating(t *testing.T) {
	cfg := DefaultClassifierConfig()
	cl := NewClassifier(cfg)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tick := func(i int, rps Score) []Incident {
		return cl.Observe(t0.Add(time.Duration(i)*time.Minute), map[string]float64{"rps": rps.Observed}, map[string]Score{"rps": rps})
	}
	if got := tick(0, hotScore(3, -1)); len(got) != 1 || got[0].Kind != KindDrop {
		t.Fatalf("tick 0: %+v, want a drop opening", got)
	}
	low := calmScore(3)
	low.Expected, low.Deviation = 100, -12
	for i := 1; i <= 3*cfg.CloseAfter; i++ {
		if got := tick(i, low); len(got) != 0 {
			t.Fatalf("tick %d: %+v, want the drop to stay open while rps is still far below", i, got)
		}
	}
	last := 3 * cfg.CloseAfter
	var closed []Incident
	for i := last + 1; i <= last+cfg.CloseAfter; i++ {
		closed = append(closed, tick(i, calmScore(100))...)
	}
	if len(closed) != 1 || closed[0].State != StateClosed || !closed[0].End.Equal(t0.Add(time.Duration(last)*time.Minute)) {
		t.Errorf("recovery: %+v, want one close with end at the last deviating tick", closed)
	}
}

// TestClassifierLatencyFollowingLoad checks latency that rises a few ticks
// after a demand surge, while demand is still high, joins the load incident
// instead of opening a performance one.
func TestClassifierLatencyFollowingLoad(t *testing.T) {
	cl := NewClassifier(DefaultClassifierConfig())
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tick := func(i int, s map[string]Score) []Incident {
		values := map[string]float64{}
		for k, v := range s {
			values[k] = v.Observed
		}
		return cl.Observe(t0.Add(time.Duration(i)*time.Minute), values, s)
	}
	got := tick(0, map[string]Score{"rps": hotScore(900, 1), "latency_p95_ms": calmScore(100)})
	if len(got) != 1 || got[0].Kind != KindLoad {
		t.Fatalf("tick 0: %+v, want a load incident", got)
	}
	high := calmScore(880)
	high.Expected, high.Deviation = 300, 9
	got = tick(2, map[string]Score{"rps": high, "latency_p95_ms": hotScore(400, 1)})
	if len(got) != 1 || got[0].Kind != KindLoad || got[0].State != StateUpdate {
		t.Fatalf("tick 2: %+v, want the load incident updated with latency", got)
	}
	if ev := strings.Join(got[0].Evidence, ";"); !strings.Contains(ev, "latency_p95_ms 400") || !strings.Contains(ev, "rps 880 vs expected 300") {
		t.Errorf("evidence %q lacks the latency or the demand", got[0].Evidence)
	}
}
