package limits

import (
	"testing"
	"time"
)

func TestIdleSweepsByArrival(t *testing.T) {
	day := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	i := NewIdle(time.Hour)

	// Offline: inputs arrive at their event times.
	if at, due, _ := i.Seen(day.UnixMilli()); at != day.UnixMilli() || !due {
		t.Fatalf("first input: at %d due %v, want its event time and a sweep", at, due)
	}
	if _, due, _ := i.Seen(day.Add(5 * time.Minute).UnixMilli()); due {
		t.Fatal("a sweep after 5 min of a 1 h limit, want one every 7.5 min")
	}
	_, due, cutoff := i.Seen(day.Add(8 * time.Minute).UnixMilli())
	if want := day.Add(8*time.Minute - time.Hour).UnixMilli(); !due || cutoff != want {
		t.Fatalf("sweep at 8 min: due %v cutoff %d, want %d", due, cutoff, want)
	}

	// Live: a replay of March data arriving now is as fresh as a tick
	// stamped now; neither makes the other idle.
	i = NewIdle(time.Hour)
	i.Arrive(now)
	pushed, _, _ := i.Seen(now.UnixMilli())
	i.Arrive(now.Add(time.Second))
	replayed, _, _ := i.Seen(day.UnixMilli())
	if replayed <= pushed-time.Hour.Milliseconds() {
		t.Fatalf("replayed input arrived at %d, pushed at %d: the replay would be idle", replayed, pushed)
	}
	i.Arrive(time.Time{})
	if at, _, _ := i.Seen(day.UnixMilli()); at != day.UnixMilli() {
		t.Fatalf("zero arrival gives %d, want the event time", at)
	}

	never := NewIdle(0)
	for m := range 1000 {
		if _, due, _ := never.Seen(day.Add(time.Duration(m) * time.Hour).UnixMilli()); due {
			t.Fatal("a zero limit swept")
		}
	}
}
