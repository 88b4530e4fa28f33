package policy

import (
	"testing"
	"time"
)

// TestWithdrawnDownStartsNoCooldown: a scale-down withdrawn (its decision
// dropped unstored) leaves the machine as before it: the next tick, still
// at the count held and still wanting fewer, scales down again, where the
// down cool-down the change started held it (cooldown-down).
func TestWithdrawnDownStartsNoCooldown(t *testing.T) {
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		withdraw bool
		action   string // the tick after the change's
		phase    phase
	}{
		{"kept", false, ActionHold, cooldownDown},
		{"withdrawn", true, ActionDown, cooldownDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := machine{stabilise: 3 * time.Minute, coolDown: 10 * time.Minute, maxStep: 1}
			var v verdict
			i := 0
			for ; i < 10 && v.action != ActionDown; i++ {
				v = m.step(t0.Add(time.Duration(i)*time.Minute), 8, 4, false, false)
			}
			if v.action != ActionDown || v.to != 7 {
				t.Fatalf("no scale-down 8→7 after %d ticks: %+v", i, v)
			}
			at := t0.Add(time.Duration(i-1) * time.Minute)
			if tc.withdraw && !m.withdraw(at) {
				t.Fatal("withdraw of the last step's down: false")
			}
			next := m.step(at.Add(time.Minute), 8, 4, false, false)
			if next.action != tc.action || m.phase != tc.phase {
				t.Fatalf("the tick after: %+v in %s, want %s in %s", next, m.phase, tc.action, tc.phase)
			}
		})
	}
}
