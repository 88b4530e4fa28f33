package collector

import (
	"testing"
	"time"
)

// TestSimPaceAtSpeedOneFollowsTheWallClock pins when the sim's live ticks
// go out. At speed 1 on the wall clock a tick is due at its own time, as a
// scraped target's is, whenever in its tick the source went live and
// however long the backfill took: anchored at the moment live began, each
// tick went out that much late (13.7 s in a run that started 13 s into a
// tick, 28.7 s from each tick to its decision), and each decision reached
// the executor as much older. Other speeds, a -start and a trace keep
// their clock from the moment live begins.
func TestSimPaceAtSpeedOneFollowsTheWallClock(t *testing.T) {
	const tick = 15 * time.Second
	first := time.Date(2026, 12, 7, 21, 26, 0, 0, time.UTC)  // the grid point Run truncated its start to
	live := first.Add(13*time.Second + 690*time.Millisecond) // start 13 s into the tick, then the backfill
	for _, tc := range []struct {
		name       string
		speed      float64
		start      time.Time // Config.Start
		trace      bool
		continuing bool
		// want is when first, and then first+tick, are due.
		want, wantNext time.Time
	}{
		{name: "speed 1, fresh", speed: 1, want: first, wantNext: first.Add(tick)},
		{name: "speed 1, continuing a grid", speed: 1, continuing: true, want: first, wantNext: first.Add(tick)},
		{name: "speed 60", speed: 60, want: live, wantNext: live.Add(tick / 60)},
		{name: "speed 1 from a -start", speed: 1, start: first.Add(-24 * time.Hour), want: live, wantNext: live.Add(tick)},
		{name: "speed 1, a trace", speed: 1, trace: true, want: live, wantNext: live.Add(tick)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Service{cfg: Config{Tick: tick, Start: tc.start}, runWall: first.Add(2 * time.Second)}
			src := &simSource{s: s, tick: tick, start: first, speed: tc.speed}
			if tc.trace {
				src.times = []time.Time{first, first.Add(tick)}
			}
			src.pace(first, tc.continuing, live)
			if got := src.due(first); !got.Equal(tc.want) {
				t.Errorf("tick %s due at %s, want %s (%s after its time)", first.Format(time.TimeOnly), got.Format(time.TimeOnly+".000"),
					tc.want.Format(time.TimeOnly+".000"), got.Sub(first))
			}
			if got := src.due(first.Add(tick)); !got.Equal(tc.wantNext) {
				t.Errorf("tick %s due at %s, want %s", first.Add(tick).Format(time.TimeOnly), got.Format(time.TimeOnly+".000"), tc.wantNext.Format(time.TimeOnly+".000"))
			}
		})
	}
}

// TestSimPaceAtSpeedOneNeverSendsATickEarly: a member continuing a grid
// recorded up to a tick ahead of the clock (checkAhead lets that through)
// goes live on a grid point still to come; at speed 1 on the wall clock
// that tick and the next are due at their own times, never before (the
// executor acts on nothing from the future).
func TestSimPaceAtSpeedOneNeverSendsATickEarly(t *testing.T) {
	const tick = 15 * time.Second
	start := time.Date(2026, 12, 7, 21, 26, 0, 0, time.UTC) // Run's wall clock, truncated to the tick
	now := start.Add(3 * time.Second)                       // going live, a recording ending at start+tick found
	first := start.Add(2 * tick)                            // the grid point after the recording's last
	s := &Service{cfg: Config{Tick: tick}, runWall: start.Add(2 * time.Second)}
	src := &simSource{s: s, tick: tick, start: start, speed: 1}
	src.pace(first, true, now)
	for _, tt := range []time.Time{first, first.Add(tick)} {
		if got := src.due(tt); got.Before(tt) {
			t.Errorf("tick %s due at %s, %s before its time", tt.Format(time.TimeOnly), got.Format(time.TimeOnly+".000"), tt.Sub(got))
		}
	}
}
