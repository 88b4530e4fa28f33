package decider

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestJoinLaggingTierOrderIndependent checks that a tier whose metrics tick
// reaches the stream after the app's next tick (two pushers of one app's
// tiers, one slower) is joined the same way whatever the interleaving of
// the three input streams: the frames of the ticks cannot depend on whether
// the other tier's anomaly message and forecast came before or after the
// lagging tick, or a take-over, which replays the metrics first, would
// decide differently from a member that never stopped.
func TestJoinLaggingTierOrderIndependent(t *testing.T) {
	const minutes = 30
	streams := map[string][]input{}
	for i := range minutes {
		at := t0.Add(time.Duration(i) * time.Minute)
		// The metrics stream holds db's tick of minute i after web's
		// tick of minute i+1.
		streams["m"] = append(streams["m"], input{"m", "web", at})
		if i > 0 {
			streams["m"] = append(streams["m"], input{"m", "db", at.Add(-time.Minute)})
		}
		for _, tier := range []string{"web", "db"} {
			streams["a"] = append(streams["a"], input{"a", tier, at})
			if i%5 == 0 {
				streams["f"] = append(streams["f"], input{"f", tier, at})
			}
		}
	}
	orders := []func(rng *rand.Rand, kinds []string) string{
		func(_ *rand.Rand, kinds []string) string { return kinds[0] }, // metrics first, as a rebuild replays
		func(rng *rand.Rand, kinds []string) string { return kinds[rng.IntN(len(kinds))] },
	}
	var want []string
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 11))
		pick := orders[min(seed, 1)]
		j := newJoiner(5 * time.Minute)
		pos := map[string]int{}
		var got []string
		for {
			var kinds []string
			for _, k := range []string{"m", "a", "f"} {
				if pos[k] < len(streams[k]) {
					kinds = append(kinds, k)
				}
			}
			if len(kinds) == 0 {
				break
			}
			k := pick(rng, kinds)
			streams[k][pos[k]].add(j)
			pos[k]++
			got = append(got, drain(j)...)
		}
		if len(got) != minutes-1 {
			t.Fatalf("seed %d: released %d ticks, want %d (the last waits for a later one)", seed, len(got), minutes-1)
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d released different frames from the metrics-first order:\n%v\nwant\n%v", seed, got, want)
		}
	}
}
