package executor

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

var heldT0 = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

func key(app, tier string) limits.Key { return limits.Key{App: app, Tier: tier} }

// TestHeldAdmitsWithinLimits: tiers beyond the per-app or the total limit
// are refused with the limit's name, and a known tier always passes.
func TestHeldAdmitsWithinLimits(t *testing.T) {
	h := newHeld(2, 3, 0)
	for _, c := range []struct {
		k     limits.Key
		limit string // "" admitted
	}{
		{key("a", "web"), ""},
		{key("a", "cache"), ""},
		{key("a", "db"), limits.LimitPerApp},
		{key("b", "web"), ""},
		{key("c", "web"), limits.LimitTotal},
		{key("a", "web"), ""},
	} {
		_, err := h.see(c.k, 0, heldT0, proto.Millis(heldT0))
		var le *limits.Error
		switch {
		case c.limit == "" && err != nil:
			t.Errorf("%s refused: %v", c.k, err)
		case c.limit != "" && (!errors.As(err, &le) || le.Limit != c.limit):
			t.Errorf("%s: err %v, want the %s limit", c.k, err, c.limit)
		}
	}
	if n := h.len(); n != 3 {
		t.Errorf("%d tiers held, want 3", n)
	}
}

// TestHeldDropsIdleTiers: a tier with no decision for the idle limit of
// arrival time is dropped, frees its place, and comes back unloaded (its
// state is read from the bucket again).
func TestHeldDropsIdleTiers(t *testing.T) {
	h := newHeld(0, 2, time.Hour)
	a, b, c := key("a", "web"), key("b", "web"), key("c", "web")
	st := &proto.ReplicaState{App: "a", Tier: "web", Desired: 3}
	if _, err := h.see(a, 0, heldT0, 0); err != nil {
		t.Fatal(err)
	}
	h.set(a, st, 0)
	if _, err := h.see(b, 1, heldT0.Add(30*time.Minute), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.see(c, 2, heldT0.Add(40*time.Minute), 0); err == nil {
		t.Fatal("a third tier admitted over the total limit of 2")
	}
	// b keeps arriving; a last arrived at heldT0, more than an hour before.
	dropped, err := h.see(b, 1, heldT0.Add(70*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, []limits.Key{a}) {
		t.Fatalf("dropped %v, want [%v]", dropped, a)
	}
	if _, err := h.see(c, 2, heldT0.Add(71*time.Minute), 0); err != nil {
		t.Fatalf("c refused after a's place was freed: %v", err)
	}
	if _, ok := h.get(a); ok {
		t.Error("a still held after it was dropped")
	}
	h.set(a, st, 0) // a dropped tier is not cached again behind the limits' back
	if _, ok := h.get(a); ok {
		t.Error("set cached a tier that was not seen")
	}
	if _, err := h.see(a, 0, heldT0.Add(72*time.Minute), 0); err == nil {
		t.Error("a back over the total limit of 2 (b and c held)")
	}
}

// TestHeldForgetsAPartition: a partition taken over or handed on drops
// only its own tiers and frees their places.
func TestHeldForgetsAPartition(t *testing.T) {
	h := newHeld(0, 2, 0)
	a, b := key("a", "web"), key("b", "web")
	for i, k := range []limits.Key{a, b} {
		if _, err := h.see(k, i, heldT0, 0); err != nil {
			t.Fatal(err)
		}
		h.set(k, nil, 0)
	}
	if got := h.forget(0); !slices.Equal(got, []limits.Key{a}) {
		t.Fatalf("forget(0) dropped %v, want [%v]", got, a)
	}
	if _, ok := h.get(b); !ok {
		t.Error("b (partition 1) dropped with partition 0")
	}
	if _, err := h.see(key("c", "web"), 0, heldT0, 0); err != nil {
		t.Errorf("a's place not freed: %v", err)
	}
}

// heldBudget is the most heap one tier the executor handles may hold: its
// cached replica state, its place under the limits and its simulated
// cluster.
const heldBudget = 2048

// TestHeldMemoryPerTier measures the heap 10,000 held tiers take, with
// their simulated clusters, and fails past heldBudget a tier.
func TestHeldMemoryPerTier(t *testing.T) {
	const n = 10_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h := newHeld(0, n, time.Hour)
	sim := NewSimDriver(map[string]time.Duration{"web": time.Minute}, time.Minute, 0.01, 1)
	for i := range n {
		k := key(fmt.Sprintf("app%04d", i/10), fmt.Sprintf("tier%d", i%10))
		if _, err := h.see(k, i%8, heldT0, proto.Millis(heldT0)); err != nil {
			t.Fatal(err)
		}
		st := &proto.ReplicaState{V: proto.SchemaVersion, App: k.App, Tier: k.Tier, TS: proto.Millis(heldT0), Desired: 5, Ready: 4, Booting: 1,
			DecisionID: proto.DecisionID(k.App, k.Tier, proto.Millis(heldT0))}
		h.set(k, st, 0)
		sim.Restore(k.App, k.Tier, heldT0, st.Ready, st.Booting, heldT0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%d tiers held: %.0f B a tier", n, per)
	if per > heldBudget {
		t.Errorf("%.0f B a held tier, budget %d", per, heldBudget)
	}
	runtime.KeepAlive(h)
	runtime.KeepAlive(sim)
}
