package policy

import (
	"testing"
	"time"
)

// TestChangeWithdrawnBehindHolds: a change whose decision is dropped only
// after later ticks were decided (an outage's backlog: they waited behind
// it unstored) is withdrawn as long as those ticks held: nothing scaled,
// so its up cool-down refuses no scale-up after it. A later change
// depends on it (it was decided from the count it set) and keeps it.
func TestChangeWithdrawnBehindHolds(t *testing.T) {
	c := webOnly(0)
	c.Tiers[0].CooldownUp = 10 * time.Minute
	c.Tiers[0].MaxStep = 2
	for _, tc := range []struct {
		name      string
		change    bool // the tick behind it changes too
		withdrawn bool
	}{
		{"behind holds", false, true},
		{"behind a change", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustApp(t, c)
			ds := loop(a, flat(40, 10), nil, nil)
			n := ds[len(ds)-1].To
			up := a.Decide(at(40), map[string]TierInput{"web": {Load: 100, Ready: n}})[0]
			if up.Action != ActionUp || up.To != n+2 {
				t.Fatalf("first step: %+v", up)
			}
			// Decided behind it, from its count (pending, booting).
			behind := TierInput{Load: 100, Ready: n, Booting: 2}
			if tc.change {
				behind.Incidents = []string{IncidentLoad}
			}
			d := a.Decide(at(41), map[string]TierInput{"web": behind})[0]
			if want := map[bool]string{false: ActionHold, true: ActionUp}[tc.change]; d.Action != want {
				t.Fatalf("the tick behind: %+v, want %s", d, want)
			}
			if got := a.Withdraw("web", at(40)); got != tc.withdrawn {
				t.Fatalf("Withdraw of the change behind the tick after: %v, want %v", got, tc.withdrawn)
			}
			if !tc.withdrawn {
				return
			}
			// Nothing scaled: the tier still holds n, and is not in the
			// change's up cool-down.
			next := a.Decide(at(42), map[string]TierInput{"web": {Load: 100, Ready: n}})[0]
			if next.Action != ActionUp || next.From != n || next.To != n+2 {
				t.Fatalf("the tick after the withdrawal: %+v, want up %d to %d", next, n, n+2)
			}
			if a.Withdraw("web", at(40)) {
				t.Fatal("Withdraw twice: true")
			}
		})
	}
}
