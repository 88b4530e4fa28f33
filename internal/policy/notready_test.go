package policy

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReplicasNotReady feeds the web tier (lead 3 min, one-minute ticks, so
// stuck after 6 min) counts as the cluster reports them: desired (the
// count held) and ready at each minute. Replicas that stay not ready past
// the limit are named in the reason, flagged and counted in the inputs,
// and the decision itself is taken from the count held as before.
func TestReplicasNotReady(t *testing.T) {
	type counts struct{ desired, ready, absent int }
	const minutes = 16
	cases := []struct {
		name   string
		counts func(m int) counts
		first  int    // first minute flagged, -1 for never
		last   int    // replicas stuck at the last minute
		text   string // said at the first minute flagged
	}{
		{"boot in time", func(m int) counts {
			if m < 4 {
				return counts{5, 3, 0}
			}
			return counts{5, 5, 0}
		}, -1, 0, ""},
		{"two never ready", func(m int) counts {
			if m == 0 {
				return counts{3, 3, 0}
			}
			return counts{5, 3, 0}
		}, 7, 2, "2 of the 5 replicas not ready after 7 min (lead time 3 min): counted as running, not replaced"},
		{"one of two ready, one stuck", func(m int) counts {
			switch {
			case m == 0:
				return counts{3, 3, 0}
			case m < 4:
				return counts{5, 3, 0}
			}
			return counts{5, 4, 0}
		}, 11, 1, "1 of the 5 replicas not ready after 7 min"},
		{"a ready replica fails and does not come back", func(m int) counts {
			if m < 5 {
				return counts{5, 5, 0}
			}
			return counts{5, 4, 0}
		}, 11, 1, "1 of the 5 replicas not ready after 7 min"},
		{"ramp: one added each minute, each ready after 3 min", func(m int) counts {
			return counts{3 + m, 3 + max(0, m-3), 0}
		}, -1, 0, ""},
		{"stuck, then scaled down below them", func(m int) counts {
			switch {
			case m == 0:
				return counts{3, 3, 0}
			case m < 10:
				return counts{5, 3, 0}
			}
			return counts{3, 3, 0}
		}, 7, 0, ""},
		{"stuck, then more added on top", func(m int) counts {
			switch {
			case m == 0:
				return counts{3, 3, 0}
			case m < 9:
				return counts{5, 3, 0}
			}
			return counts{8, 3, 0}
		}, 7, 2, "2 of the 5 replicas not ready after 7 min"},
		{"dry-run: 3 acknowledged, never asked of the cluster", func(m int) counts {
			if m == 0 {
				return counts{5, 5, 0}
			}
			return counts{8, 5, 3}
		}, -1, 0, ""},
		{"dry-run on top of a stuck replica: only that one", func(m int) counts {
			switch {
			case m == 0:
				return counts{5, 5, 0}
			case m < 3:
				return counts{5, 4, 0}
			}
			return counts{8, 4, 3}
		}, 7, 1, "1 of the 8 replicas not ready after 7 min"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustApp(t, webOnly(10*time.Minute))
			first, last := -1, 0
			var firstReason, lastReason string
			for m := range minutes {
				n := c.counts(m)
				in := TierInput{Load: 30, Ready: n.ready, Booting: n.desired - n.ready, Desired: n.desired, Absent: n.absent}
				d := a.Decide(at(m), map[string]TierInput{"web": in})[0]
				stuck := int(d.Inputs["not_ready_stuck"])
				flagged := slices.Contains(d.Flags, "replicas-not-ready")
				if flagged != (stuck > 0) || flagged != strings.Contains(d.Reason, "not ready after") {
					t.Fatalf("minute %d: flag %v, stuck %d, reason %q disagree", m, flagged, stuck, d.Reason)
				}
				if d.From != n.desired {
					t.Fatalf("minute %d: decided from %d, want the %d held", m, d.From, n.desired)
				}
				if stuck > 0 && first < 0 {
					first, firstReason = m, d.Reason
				}
				last, lastReason = stuck, d.Reason
			}
			if first != c.first || last != c.last {
				t.Fatalf("first flagged at minute %d with %d stuck at the end, want %d and %d (last reason %q)", first, last, c.first, c.last, lastReason)
			}
			if c.text != "" && !strings.Contains(firstReason, c.text) {
				t.Fatalf("reason %q does not say %q", firstReason, c.text)
			}
		})
	}
}

// An up decided while replicas are stuck says the new ones come on top.
func TestStuckReplicasUpSaysSo(t *testing.T) {
	a := mustApp(t, webOnly(10*time.Minute))
	var d Decision
	for m := range 9 {
		in := TierInput{Load: 30, Ready: 3, Booting: 2, Desired: 5}
		if m == 0 {
			in = TierInput{Load: 30, Ready: 3, Desired: 3}
		}
		if m == 8 {
			in.Load = 200 // demand jumps: more replicas wanted
		}
		d = a.Decide(at(m), map[string]TierInput{"web": in})[0]
	}
	if d.Action != ActionUp || !strings.Contains(d.Reason, "2 of the 5 replicas not ready after 8 min") ||
		!strings.Contains(d.Reason, "the replicas added come on top of them") {
		t.Fatalf("decision %s %d→%d: %q", d.Action, d.From, d.To, d.Reason)
	}
}
