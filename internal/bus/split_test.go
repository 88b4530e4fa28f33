package bus

import (
	"fmt"
	"testing"
)

// TestSplitIsBalanced: every partition has an owner and every member gets
// its fair share, n/len rounded down or up, whatever the members' ids
// (plain rendezvous hashing left one of two members idle once in 128
// draws). A member joining moves few partitions besides the ones it takes.
func TestSplitIsBalanced(t *testing.T) {
	const n, draws = 8, 500
	for m := 1; m <= 5; m++ {
		moved, ideal := 0, 0
		for d := range draws {
			var members []string
			for i := range m {
				members = append(members, fmt.Sprintf("member-%d-%d-%d", m, d, i))
			}
			owners := split(members, n)
			load := map[string]int{}
			for p, o := range owners {
				if o == "" {
					t.Fatalf("%d members, draw %d: partition %d has no owner", m, d, p)
				}
				load[o]++
			}
			for _, id := range members {
				if l := load[id]; l < n/m || l > (n+m-1)/m {
					t.Fatalf("%d members, draw %d: %s owns %d of %d partitions: %v", m, d, id, l, n, owners)
				}
			}
			after := split(append(members, fmt.Sprintf("newcomer-%d-%d", m, d)), n)
			for p := range owners {
				if owners[p] != after[p] {
					moved++
				}
			}
			ideal += n / (m + 1) // at least what the newcomer must take
		}
		t.Logf("%d → %d members: %.2f partitions moved per join on average, %.2f at least", m, m+1, float64(moved)/draws, float64(ideal)/draws)
		if float64(moved)/draws > n/2 {
			t.Errorf("%d → %d members: %.2f of %d partitions moved per join: a join reshuffles most of them", m, m+1, float64(moved)/draws, n)
		}
	}
}
