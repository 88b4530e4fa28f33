package limits

import (
	"errors"
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
