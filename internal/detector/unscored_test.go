package detector

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestUnscoredMetricsCounted: once a tier has MaxMetrics detectors, the
// values of further metric names are not scored (so a sender whose names
// keep changing cannot grow the tier's state), and that is said: every
// value left out is counted, and the first tick of the tier that leaves
// some out is a warning naming them and the cap, once while the tier's
// state is held, not once a tick.
func TestUnscoredMetricsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	logs := &natstest.Logs{}
	s, err := New(DefaultConfig(), service.Deps{Log: zerolog.New(logs), Reg: reg, Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	names := func(prefix string, n int) map[string]float64 {
		vs := map[string]float64{}
		for i := range n {
			vs[fmt.Sprintf("%s%02d", prefix, i)] = float64(i)
		}
		return vs
	}
	ticks := []map[string]float64{
		names("a", MaxMetrics), // fills the cap
		names("b", 5),          // 5 left out: warned
		names("c", 3),          // 3 more: counted, not warned again
		names("a", MaxMetrics), // known names: scored
	}
	for i, vs := range ticks {
		out, err := s.step(proto.NewMetrics("shop", "web", t0.Add(time.Duration(i)*time.Minute), 1, vs))
		if err != nil || out == nil {
			t.Fatalf("tick %d: %v, %v", i, out, err)
		}
	}
	if n, found := metricstest.Sum(t, reg, "headroom_anomaly_unscored_values_total"); !found || n != 8 {
		t.Errorf("headroom_anomaly_unscored_values_total = %v (found %v), want 8", n, found)
	}
	lines := logs.Lines(t, "metric names past the tier's cap not scored")
	if len(lines) != 1 {
		t.Fatalf("%d warnings, want 1", len(lines))
	}
	if l := lines[0]; l["app"] != "shop" || l["tier"] != "web" || l["cap"] != float64(MaxMetrics) || fmt.Sprint(l["names"]) != "[b00 b01 b02 b03 b04]" {
		t.Errorf("warning %v", l)
	}
}
