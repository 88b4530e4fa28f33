package bus

import (
	"fmt"
	"slices"
	"testing"
)

// TestAppPartitionsForgetsAppsNotHeld notes a thousand app names of which
// the stage holds a few (the others refused by its limits, or evicted
// idle). Without Held the record keeps every name until its partition is
// handed over, which a lone member never does; with it, the record stays
// within twice the apps held plus pruneSlack (and the one being noted),
// and keeps every app held, so a hand-over still drops their state.
//
// In "held first" the apps held come first, as when a stage's limits
// admit the first apps and refuse every later one (the decider's
// TestPartitionRecordBoundedByAppsHeld): every sweep then runs on a
// refused app's Note, which the sweep keeps (it is not taken yet).
func TestAppPartitionsForgetsAppsNotHeld(t *testing.T) {
	for _, tc := range []struct {
		name        string
		held        []string // nil: no Held
		least, most int
	}{
		{"without Held", nil, 1000, 1000}, // every name, for good
		{"with Held", []string{"app0001", "app0500", "app0999"}, 3, 2*3 + pruneSlack + 1},
		{"held first", []string{"app0000", "app0001"}, 2, 2*2 + pruneSlack + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held := map[string]bool{}
			for _, app := range tc.held {
				held[app] = true
			}
			a := AppPartitions{}
			if tc.held != nil {
				a.Held = func(app string) bool { return held[app] }
			}
			peak := 0
			for i := range 1000 {
				a.Note(fmt.Sprintf("app%04d", i), i%4)
				peak = max(peak, a.Len())
			}
			if peak < tc.least || peak > tc.most {
				t.Errorf("the record peaked at %d apps, want %d to %d", peak, tc.least, tc.most)
			}
			var got []string
			for p := range 4 {
				got = append(got, a.Take(p)...)
			}
			for app := range held {
				if !slices.Contains(got, app) {
					t.Errorf("%s, held, is not in its partition's apps", app)
				}
			}
			if a.Len() != 0 {
				t.Errorf("%d apps noted after every partition was taken", a.Len())
			}
		})
	}
}

// BenchmarkAppPartitionsNote measures a Note with the sweep (its cost
// constant on average) for a stage holding 10,000 apps, as many as the
// default series limits admit, while names it does not hold keep coming.
func BenchmarkAppPartitionsNote(b *testing.B) {
	const holding = 10000
	first := fmt.Sprintf("app%08d", holding) // the first name not held
	a := AppPartitions{Held: func(app string) bool { return app < first }}
	names := make([]string, 2*holding)
	for i := range names {
		names[i] = fmt.Sprintf("app%08d", i)
	}
	for i := range holding {
		a.Note(names[i], i%16)
	}
	b.ResetTimer()
	for i := range b.N {
		a.Note(names[holding+i%holding], i%16)
	}
	b.StopTimer()
	b.ReportMetric(float64(a.Len()), "apps-noted")
}
