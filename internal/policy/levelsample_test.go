package policy

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestLevelAveragesTheLoadsOwnSamples: the current level averages
// LevelWindow's worth of the load's own samples. A per-minute load is
// averaged over its last five minutes, as before; a load counted in
// 5-minute buckets and held for each of their minutes over its last five
// buckets, not its last bucket and a minute of the one before; one
// counted in 10-minute buckets over the seasonal memory's longest level
// window (30 minutes). The load repeats 1, 2, 3, 4, 5, 6 (counts a
// bucket), so each window's mean is known.
func TestLevelAveragesTheLoadsOwnSamples(t *testing.T) {
	cases := []struct {
		name   string
		bucket int // minutes a value is held
		// want is the level at the last tick: the mean of the last
		// buckets the window spans.
		want float64
	}{
		{"per-minute", 1, (2 + 3 + 4 + 5 + 6) / 5.0},
		{"5-minute buckets", 5, (2 + 3 + 4 + 5 + 6) / 5.0},
		{"10-minute buckets", 10, (4 + 5 + 6) / 3.0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := guardApp()
			c.OutageHold = 0
			const periods = 40
			load := make([]float64, 0, 6*periods*tc.bucket)
			for p := 0; p < periods; p++ {
				for v := 1; v <= 6; v++ {
					for range tc.bucket {
						load = append(load, float64(v))
					}
				}
			}
			ds := loop(mustApp(t, c), load, nil, nil)
			got := ds[len(ds)-1].Inputs["level"]
			if math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("level %.4f at the last tick, want %.4f (the mean of LevelWindow's worth of the load's samples)", got, tc.want)
			}
		})
	}
}

// TestLevelInSamplesIsCausal: the level's window is read from the runs the
// load has completed, so scrambling a bucketed load (with buckets of
// another length) after minute k changes no decision up to k.
func TestLevelInSamplesIsCausal(t *testing.T) {
	c := guardApp()
	rng := rand.New(rand.NewPCG(3, 3))
	load := make([]float64, 1200)
	for i := range load {
		load[i] = 20 + 40*rng.Float64()
	}
	load = bucketed(load, 5)
	full := loop(mustApp(t, c), load, nil, nil)
	for _, k := range []int{301, 602, 903} {
		scrambled := append([]float64(nil), load...)
		for i := k; i < len(scrambled); i++ {
			scrambled[i] = 100 * rng.Float64()
		}
		scrambled = append(scrambled[:k], bucketed(scrambled[k:], 10)...)
		other := loop(mustApp(t, c), scrambled, nil, nil)
		if !reflect.DeepEqual(full[:k], other[:k]) {
			t.Fatalf("a scrambled future after minute %d changed decisions taken before it", k)
		}
		if reflect.DeepEqual(full[k:], other[k:]) {
			t.Fatalf("scrambling after minute %d changed nothing later: the test scrambles nothing", k)
		}
	}
}
