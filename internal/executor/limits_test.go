package executor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
)

// TestSeriesLimitRefusesNewTiers: the executor holds replica state only for
// the tiers the configuration's series limits admit. A decision for one
// more tier is dead-lettered naming the limit and counted; the admitted
// tier goes on being acted on.
func TestSeriesLimitRefusesNewTiers(t *testing.T) {
	file, err := config.Parse("limits.yaml", []byte("limits: {max_series_per_app: 1}\napps:\n  shop:\n    source: push\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	h.startWith(executor.DefaultConfig(), file, reg)
	first, extra, next := decision("shop", 1, 2, 3), tierDecision("shop", "cache", t0.Add(time.Minute), 2, 3), decision("shop", 2, 3, 4)
	h.publish(first, extra, next)
	if st := h.waitState(next); st.Desired != 4 {
		t.Fatalf("web state %+v, want 4 desired", st)
	}
	if dl := h.deadLetters(1); !strings.Contains(dl[0], "shop.cache refused") || !strings.Contains(dl[0], "limits.max_series_per_app") {
		t.Errorf("dead letter %q, want the per-app limit refusing shop.cache", dl[0])
	}
	if st, err := executor.ReadState(t.Context(), h.kv, "shop", "cache"); err != nil || st != nil {
		t.Errorf("cache state %+v (%v), want none", st, err)
	}
	for why, n := range metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why") {
		if want := map[bool]float64{true: 1}[why == "series limit"]; n != want {
			t.Errorf("headroom_executor_refused_total{why=%q} = %v, want %v", why, n, want)
		}
	}
}
