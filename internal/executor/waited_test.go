package executor

import (
	"fmt"
	"testing"
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
