package limits

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestTiersKeepTheirBooks follows one tracker through what a stage's state
// goes through: admission within the limits, a restart's SetSent, an
// eviction for idleness and the tier's return, and a hand-over.
func TestTiersKeepTheirBooks(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ms := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixMilli() }
	made := 0
	newState := func() *int { made++; v := made; return &v }
	ts := NewTiers[*int](2, 3, time.Hour)

	// A restart learnt that a.x's outputs up to minute 5 were stored: the
	// tier made later starts with that.
	ts.SetSent("a", "x", t0.Add(5*time.Minute))
	e, err := ts.Tick("a", "x", ms(0), newState)
	if err != nil || e.SentTS != ms(5) || *e.State != 1 {
		t.Fatalf("a.x: %+v, %v; want a new state sent up to minute 5", e, err)
	}
	e.LastTS = ms(0)
	if again, _ := ts.Tick("a", "x", ms(1), newState); again != e || made != 1 {
		t.Fatal("a held tier was made again")
	}
	if _, err := ts.Tick("a", "y", ms(1), newState); err != nil {
		t.Fatal(err)
	}
	var lim *Error
	if _, err := ts.Tick("a", "z", ms(1), newState); !errors.As(err, &lim) {
		t.Fatalf("a third tier of a: %v, want the per-app limit", err)
	}

	// b.x keeps ticking for two hours; a's tiers, quiet, are dropped, their
	// places freed, and a.x's last tick is what a rebuild must not output
	// again.
	for m := 2; m <= 120; m++ {
		if _, err := ts.Tick("b", "x", ms(m), newState); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := ts.Get("a", "x"); ok || ts.Len() != 1 {
		t.Fatalf("after 2 h: a.x held %v, %d tiers; want only b.x", ok, ts.Len())
	}
	if !ts.Returning("a", "x") || ts.Returning("a", "x") {
		t.Fatal("an evicted tier is reported returning exactly once")
	}
	e, err = ts.Tick("a", "x", ms(121), newState)
	if err != nil || e.SentTS != ms(5) {
		t.Fatalf("a.x back: %+v, %v; want sent up to minute 5 kept", e, err)
	}

	// A hand-over forgets app a whole: its places are free again.
	ts.Forget("a")
	if _, ok := ts.Get("a", "x"); ok || ts.Len() != 1 {
		t.Fatalf("after Forget: a.x held %v, %d tiers", ok, ts.Len())
	}
	for _, tier := range []string{"x", "y"} {
		if _, err := ts.Tick("a", tier, ms(122), newState); err != nil {
			t.Fatalf("a.%s after Forget: %v", tier, err)
		}
	}
	if _, err := ts.Tick("c", "x", ms(122), newState); !errors.As(err, &lim) {
		t.Fatalf("a fourth tier in all: %v, want the total limit", err)
	}
}

// TestTiersEvictionRemembersTheLastTick: a tier evicted after folding a tick
// in comes back knowing that tick's output was stored or queued.
func TestTiersEvictionRemembersTheLastTick(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ts := NewTiers[struct{}](0, 0, time.Hour)
	none := func() struct{} { return struct{}{} }
	e, _ := ts.Tick("a", "x", t0.UnixMilli(), none)
	e.LastTS = t0.UnixMilli()
	if n := ts.Evict(t0.Add(time.Minute)); n != 1 {
		t.Fatalf("evicted %d, want 1", n)
	}
	e, _ = ts.Tick("a", "x", t0.Add(3*time.Hour).UnixMilli(), none)
	if e.SentTS != t0.UnixMilli() || e.LastTS != 0 {
		t.Fatalf("back: sent %d last %d, want sent at the last tick folded in and nothing folded yet", e.SentTS, e.LastTS)
	}
}

// TestTiersForgetWhatTheyNoLongerReplay: a tier evicted for idleness is
// recognised as returning, with its last output kept, for the window
// given to RememberFor; after it, nothing of it is left and it comes back
// as a new tier.
func TestTiersForgetWhatTheyNoLongerReplay(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	none := func() struct{} { return struct{}{} }
	for _, c := range []struct {
		name     string
		remember time.Duration
		back     time.Duration // when a.x ticks again
		known    bool
	}{
		{"back within the window", 3 * time.Hour, 3 * time.Hour, true},
		{"back after the window", 3 * time.Hour, 6 * time.Hour, false},
		{"no window", 0, 1000 * time.Hour, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := NewTiers[struct{}](0, 0, time.Hour)
			ts.RememberFor(c.remember)
			e, _ := ts.Tick("a", "x", t0.UnixMilli(), none)
			e.LastTS = t0.UnixMilli()
			// b.x ticks every minute: the sweeps that evict a.x, then
			// stamp and prune its record.
			for m := time.Minute; m < c.back; m += time.Minute {
				if _, err := ts.Tick("b", "x", t0.Add(m).UnixMilli(), none); err != nil {
					t.Fatal(err)
				}
			}
			if _, held := ts.Get("a", "x"); held {
				t.Fatal("a.x still held after an hour idle")
			}
			if got := ts.Returning("a", "x"); got != c.known {
				t.Fatalf("returning %v, want %v", got, c.known)
			}
			e, _ = ts.Tick("a", "x", t0.Add(c.back).UnixMilli(), none)
			if want := map[bool]int64{true: t0.UnixMilli()}[c.known]; e.SentTS != want {
				t.Fatalf("back with sent %d, want %d", e.SentTS, want)
			}
		})
	}
}

// TestTiersChurnKeepsBoundedRecords: apps that tick once and go away, a
// new batch every half hour for 100 hours, leave records of only the
// last few hours' apps when the tracker remembers for a window, and of
// every app evicted without one (what the stages did before pruning).
func TestTiersChurnKeepsBoundedRecords(t *testing.T) {
	const batch, rounds = 50, 200
	idle, remember, every := time.Hour, 3*time.Hour, 30*time.Minute
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	none := func() struct{} { return struct{}{} }
	for _, c := range []struct {
		name     string
		remember time.Duration
		most     int
	}{
		// A record lives at most idle + 2 sweeps (eviction) + remember +
		// 2 sweeps (stamp, prune) after its app's tick: that many
		// batches, plus the batch in hand.
		{"remembering for 3h", remember, batch * (int((idle+remember+4*idle/8)/every) + 1)},
		{"remembering for ever", 0, 0}, // every app evicted
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := NewTiers[struct{}](0, 0, idle)
			ts.RememberFor(c.remember)
			most := 0
			for r := range rounds {
				at := t0.Add(time.Duration(r) * every).UnixMilli()
				for i := range batch {
					e, err := ts.Tick(fmt.Sprintf("app%d-%d", r, i), "web", at, none)
					if err != nil {
						t.Fatal(err)
					}
					e.LastTS = at
				}
				most = max(most, ts.Remembered())
			}
			if c.remember == 0 {
				c.most = batch*rounds - ts.Len()
			}
			if most > c.most || (c.remember == 0 && most != c.most) {
				t.Fatalf("at most %d records over %d apps, want at most %d", most, batch*rounds, c.most)
			}
			t.Logf("at most %d records over %d apps (%d held at the end)", most, batch*rounds, ts.Len())
		})
	}
}
