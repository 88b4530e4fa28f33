package collector

import (
	"testing"
	"time"

	"github.com/headroomhq/headroom/proto"
)

// TestCoversOffGridTicks: lockstep waits for the replica state of the tick
// before last; the decider stamps that tick's decision with the grid point
// of its tick nearest the tick's time, which a source off the grid (a
// trace starting at :07) does not share. The state of the grid point
// covers the tick; the tick before's does not.
func TestCoversOffGridTicks(t *testing.T) {
	minute := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name        string
		need, state time.Time
		sourceTick  time.Duration
		want        bool
	}{
		{"on the grid", minute, minute, 15 * time.Second, true},
		{"a later decision", minute, minute.Add(15 * time.Second), 15 * time.Second, true},
		{"the tick before", minute, minute.Add(-15 * time.Second), 15 * time.Second, false},
		{"7 s past the grid, decided at it", minute.Add(7 * time.Second), minute, 15 * time.Second, true},
		{"8 s before the grid, decided at it", minute.Add(-8 * time.Second), minute, 15 * time.Second, true},
		{"7 s past the grid, the tick before", minute.Add(7 * time.Second), minute.Add(-15 * time.Second), 15 * time.Second, false},
		{"a minute's source, a 15 s decider", minute.Add(37 * time.Second), minute.Add(30 * time.Second), time.Minute, true},
		{"a minute's source, the minute before", minute.Add(37 * time.Second), minute.Add(-30 * time.Second), time.Minute, false},
	} {
		if got := covers(proto.Millis(c.state), c.need, c.sourceTick); got != c.want {
			t.Errorf("%s: covers = %v, want %v", c.name, got, c.want)
		}
	}
}
