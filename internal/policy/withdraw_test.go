package policy

import (
	"testing"
	"time"
)

// TestWithdrawnChangeStartsNoCooldown: a scale-up withdrawn (its decision
// dropped unstored, so nothing scaled) leaves the tier as before it, so the
// next tick scales up again from the count held, where the up cool-down
// the change started refused it; a down withdrawn likewise starts no down
// cool-down. Withdraw refuses a change a later change followed (one
// behind holds: TestChangeWithdrawnBehindHolds).
func TestWithdrawnChangeStartsNoCooldown(t *testing.T) {
	c := webOnly(0)
	c.Tiers[0].CooldownUp = 5 * time.Minute
	c.Tiers[0].MaxStep = 2
	c.Tiers[0].CooldownDown = 10 * time.Minute
	for _, tc := range []struct {
		name     string
		withdraw bool
		action   string // the tick after the change's
	}{
		{"kept", false, ActionHold},
		{"withdrawn", true, ActionUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustApp(t, c)
			load := flat(40, 10)
			ds := loop(a, load, nil, nil)
			n := ds[len(ds)-1].To
			up := a.Decide(at(40), map[string]TierInput{"web": {Load: 100, Ready: n}})[0]
			if up.Action != ActionUp || up.To != n+2 {
				t.Fatalf("first step: %+v", up)
			}
			if tc.withdraw && !a.Withdraw("web", at(40)) {
				t.Fatal("Withdraw of the last step's change: false")
			}
			if a.Withdraw("web", at(39)) {
				t.Fatal("Withdraw at a tick with no change: true")
			}
			// Nothing scaled: the tier still holds n.
			next := a.Decide(at(41), map[string]TierInput{"web": {Load: 100, Ready: n}})[0]
			if next.Action != tc.action || next.From != n {
				t.Fatalf("the tick after: %+v, want %s from %d", next, tc.action, n)
			}
			if tc.withdraw && (next.To != n+2 || next.State != "cooldown-up") {
				t.Fatalf("the tick after: %+v, want up %d to %d in cooldown-up", next, n, n+2)
			}
			if tc.withdraw && a.Withdraw("web", at(40)) {
				t.Fatal("Withdraw of a change a later change followed: true")
			}
		})
	}
}
