package executor

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/service"
)

// TestWaitedSetBounded: the decisions remembered as having waited on a
// lease stay within the set's bound however many wait within the hour
// (they grew with decisions, not tiers); the oldest are forgotten first
// and counted, the newest are still known.
func TestWaitedSetBounded(t *testing.T) {
	for _, tc := range []struct {
		limit, marks int
	}{{8, 5}, {8, 8}, {8, 30}, {0, maxWaited + 100}} {
		t.Run(fmt.Sprintf("limit %d, %d marks", tc.limit, tc.marks), func(t *testing.T) {
			w := waitedSet{limit: tc.limit}
			limit := tc.limit
			if limit == 0 {
				limit = maxWaited
			}
			for i := range tc.marks {
				w.mark(fmt.Sprintf("d%06d", i))
			}
			// Marking one it holds again forgets nothing.
			w.mark(fmt.Sprintf("d%06d", tc.marks-1))
			over := max(0, tc.marks-limit)
			if got := w.size(); got != min(tc.marks, limit) {
				t.Errorf("holds %d marks, want %d", got, min(tc.marks, limit))
			}
			if got := w.forgotten.Load(); got != int64(over) {
				t.Errorf("forgot %d marks, want %d", got, over)
			}
			if over > 0 && w.took(fmt.Sprintf("d%06d", 0)) {
				t.Error("the oldest mark is still held")
			}
			if !w.took(fmt.Sprintf("d%06d", tc.marks-1)) {
				t.Error("the newest mark was forgotten")
			}
		})
	}
}

// TestWaitsForgottenMetric: headroom_executor_lease_waits_forgotten_total
// is served from the start, at 0 (a rule on increase() sees the first
// forgotten mark), and counts the marks the executor's set forgets.
func TestWaitsForgottenMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(DefaultConfig(), service.Deps{Log: zerolog.Nop(), Ready: service.NewReady(), Reg: reg})
	if err != nil {
		t.Fatal(err)
	}
	const name = "headroom_executor_lease_waits_forgotten_total"
	if n, found := metricstest.Sum(t, reg, name); !found || n != 0 {
		t.Fatalf("%s = %v (served: %v) at start, want 0 served", name, n, found)
	}
	s.waited.limit = 2
	for i := range 5 {
		s.waited.mark(fmt.Sprintf("d%d", i))
	}
	if n, _ := metricstest.Sum(t, reg, name); n != 3 {
		t.Errorf("%s = %v after 5 marks held at most 2, want 3", name, n)
	}
}
