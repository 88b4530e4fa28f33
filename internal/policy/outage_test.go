package policy

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// outageLoad is two hours of noisy load around 100 (capacity 10 a
// replica), then the same value 0.01 for two hours (traffic cut off), then
// the load back at once.
func outageLoad() []float64 {
	rng := rand.New(rand.NewPCG(3, 3))
	load := make([]float64, 360)
	for i := range load {
		load[i] = 100 + 5*rng.NormFloat64()
		if i >= 120 && i < 240 {
			load[i] = 0.01
		}
	}
	return load
}

// fallTo is six hours of noisy load around 100 (capacity 10 a replica)
// that falls after two hours to what low draws each minute.
func fallTo(seed uint64, low func(*rand.Rand) float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed))
	load := make([]float64, 360)
	for i := range load {
		load[i] = 100 + 5*rng.NormFloat64()
		if i >= 120 {
			load[i] = low(rng)
		}
	}
	return load
}

func TestOutageHoldKeepsTheReplicas(t *testing.T) {
	c := guardApp()
	c.OutageHold = 6 * time.Hour
	ds := loop(mustApp(t, c), outageLoad(), nil, nil)
	held := ds[119].To
	if held < 10 {
		t.Fatalf("%d replicas before the outage for a load of 100 at 10 each", held)
	}
	for i := 124; i < 240; i++ {
		if ds[i].To < held {
			t.Fatalf("minute %d: scaled down to %d during a flat-lined outage (held %d): %s", i, ds[i].To, held, ds[i].Reason)
		}
	}
	if !strings.Contains(ds[200].Reason, "flat") {
		t.Fatalf("the reason does not say why it holds: %q", ds[200].Reason)
	}
	// The traffic comes back at once and finds the replicas serving it.
	if ds[239].To*10 < 100 {
		t.Fatalf("%d replicas when the traffic returns", ds[239].To)
	}

	off := guardApp()
	off.OutageHold = 0
	ds = loop(mustApp(t, off), outageLoad(), nil, nil)
	if ds[239].To >= held {
		t.Fatalf("without the hold the outage still kept %d replicas", ds[239].To)
	}

	short := guardApp()
	short.OutageHold = 30 * time.Minute
	ds = loop(mustApp(t, short), outageLoad(), nil, nil)
	if ds[239].To >= held {
		t.Fatalf("a 30-minute hold still held %d replicas after two hours", ds[239].To)
	}
}

// TestOutageHoldLeavesRealLowLoad checks that load which falls but keeps
// moving (real demand, however low) is not taken for an outage, and
// neither is a flat plateau the replicas are busy with.
func TestOutageHoldLeavesRealLowLoad(t *testing.T) {
	c := guardApp()
	c.OutageHold = 6 * time.Hour
	load := fallTo(4, func(rng *rand.Rand) float64 { return float64(rng.IntN(3)) }) // 0, 1 or 2
	ds := loop(mustApp(t, c), load, nil, nil)
	if ds[359].To >= ds[119].To {
		t.Fatalf("low noisy load held %d replicas (had %d)", ds[359].To, ds[119].To)
	}
	plateau := append(flat(120, 100), flat(240, 20)...)
	ds = loop(mustApp(t, c), plateau, nil, nil)
	if ds[359].To >= ds[119].To {
		t.Fatalf("a flat plateau at 20 %% of the replicas held %d (had %d)", ds[359].To, ds[119].To)
	}
}

// TestOutageHoldIsCausal scrambles the load after the middle of the
// outage: no decision up to it may change.
func TestOutageHoldIsCausal(t *testing.T) {
	c := guardApp()
	c.OutageHold = 6 * time.Hour
	load := outageLoad()
	full := loop(mustApp(t, c), load, nil, nil)
	scrambled := append([]float64(nil), load...)
	rng := rand.New(rand.NewPCG(5, 5))
	for i := 181; i < len(scrambled); i++ {
		scrambled[i] = 300 * rng.Float64()
	}
	other := loop(mustApp(t, c), scrambled, nil, nil)
	if !reflect.DeepEqual(full[:181], other[:181]) {
		t.Fatal("a scrambled future changed decisions taken before it")
	}
}

// bucketed holds each value of load for the n minutes of its bucket, as a
// count per 5-minute bucket upsampled to minutes is.
func bucketed(load []float64, n int) []float64 {
	for b := 0; b < len(load); b += n {
		for i := b + 1; i < min(len(load), b+n); i++ {
			load[i] = load[b]
		}
	}
	return load
}

// TestOutageHoldReadsTheLoadsResolution: a load counted in 5-minute
// buckets and held for their minutes repeats every value five times; a
// fall to a low load that still moves from bucket to bucket is demand,
// not a flat line, and the replicas bought before it go (the hold read
// every bucket's fifth minute as a flat line and kept them). A flat line
// of such a load is one after five buckets (25 minutes), by when the
// policy has usually scaled down: the hold protects per-minute loads.
func TestOutageHoldReadsTheLoadsResolution(t *testing.T) {
	c := guardApp()
	c.OutageHold = 6 * time.Hour
	load := fallTo(6, func(rng *rand.Rand) float64 { return 0.2 * float64(1+rng.IntN(4)) }) // 1 to 4 counts a minute
	ds := loop(mustApp(t, c), bucketed(load, 5), nil, nil)
	if ds[119].To < 10 {
		t.Fatalf("%d replicas for a load of 100 at 10 each", ds[119].To)
	}
	if ds[359].To > 2 {
		t.Fatalf("a low load moving from bucket to bucket held %d replicas (had %d): %s", ds[359].To, ds[119].To, ds[359].Reason)
	}
}

// TestOutageHoldBridgesAShortWindow: on a 3-minute tier's first day the
// skill selector runs the short window (3 minutes), shorter than the
// flatTicks ticks a flat line needs to be recognised, so without a bridge
// the replicas go before the outage hold can see the outage. While the
// load repeats one value, at next to nothing for the replicas, the window
// is stretched to the recognition's length, and only then: a run that
// breaks before it is recognised gets the short window back, and without
// the outage hold there is no bridge.
func TestOutageHoldBridgesAShortWindow(t *testing.T) {
	short := guardApp().ShortStabilization.Seconds()
	bridge := float64(flatTicks) * guardApp().Tick.Seconds()
	win := func(d Decision) float64 { return d.Inputs["stabilisation_s"] }

	c := guardApp()
	c.OutageHold = 6 * time.Hour
	ds := loop(mustApp(t, c), outageLoad(), nil, nil)
	if win(ds[119]) != short {
		t.Fatalf("first day's window %vs before the outage, want the short %vs", win(ds[119]), short)
	}
	for i := 121; i < 124; i++ {
		if win(ds[i]) != bridge {
			t.Errorf("minute %d, a flat line not yet recognised: window %vs, want %vs", i, win(ds[i]), bridge)
		}
	}

	// Three ticks of one value, then low load that moves: the run
	// breaks before it is recognised.
	broken := outageLoad()
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 123; i < 240; i++ {
		broken[i] = 0.5 + 0.1*rng.Float64()
	}
	ds = loop(mustApp(t, c), broken, nil, nil)
	if win(ds[122]) != bridge || win(ds[124]) != short {
		t.Errorf("a run broken at minute 123: windows %vs at 122 and %vs at 124, want %vs then %vs", win(ds[122]), win(ds[124]), bridge, short)
	}
	if ds[130].To >= ds[119].To {
		t.Errorf("low load that moves still held %d replicas at minute 130", ds[130].To)
	}

	off := guardApp()
	off.OutageHold = 0
	ds = loop(mustApp(t, off), outageLoad(), nil, nil)
	if win(ds[122]) != short {
		t.Errorf("without the outage hold: window %vs at minute 122, want the short %vs", win(ds[122]), short)
	}
}

// TestFlatLineCountsInSamples: a flat line is flatTicks of the load's own
// samples, one tick for a load measured every tick and five for a load
// counted in 5-minute buckets and held for each of their minutes.
func TestFlatLineCountsInSamples(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		bucket int // ticks each value is held for
		want   int
	}{
		{"per tick", 1, flatTicks},
		{"5-tick buckets", 5, 5 * flatTicks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f flatLine
			tick := 0
			// Enough distinct buckets to fill the runs the step is read from.
			for v := range flatRuns + 1 {
				for range tc.bucket {
					f.observe(t0.Add(time.Duration(tick)*time.Minute), float64(v+1))
					tick++
				}
			}
			if got := f.need(); got != tc.want {
				t.Fatalf("need %d ticks, want %d", got, tc.want)
			}
			start := t0.Add(time.Duration(tick) * time.Minute)
			for i := range tc.want {
				if f.recognised() {
					t.Fatalf("recognised after %d of %d ticks", i, tc.want)
				}
				f.observe(start.Add(time.Duration(i)*time.Minute), 0)
			}
			if !f.recognised() || !f.since.Equal(start) {
				t.Fatalf("after %d ticks of 0: recognised %v since %v, want true since %v", tc.want, f.recognised(), f.since, start)
			}
		})
	}
}

// sparseCounts is n minutes of a sparse count load: each minute one event
// of size unit with probability p (a mean of p counts a sample), else
// nothing, so that runs of zeros of five minutes and more are ordinary.
func sparseCounts(seed uint64, n int, p, unit float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed))
	load := make([]float64, n)
	for i := range load {
		if rng.Float64() < p {
			load[i] = unit
		}
	}
	return load
}

// TestOutageHoldRefusesASparseLoadsZeros: a load of whole counts at
// under one count a minute repeats its zeros for five minutes and more
// as a matter of course; the outage hold and its bridge take a run of
// them for a flat line only when it is as unlikely for the load's level
// as flatTicks samples of a load at one count, not after flatTicks
// samples. The same load's traffic cut off from many counts a minute is
// still a flat line after flatTicks minutes, and held.
func TestOutageHoldRefusesASparseLoadsZeros(t *testing.T) {
	c := guardApp()
	c.OutageHold = 6 * time.Hour
	short := guardApp().ShortStabilization.Seconds()
	load := sparseCounts(7, 720, 0.3, 10)
	ds := loop(mustApp(t, c), load, nil, nil)
	held, bridged, dense, denseBridge := 0, 0, 0, 0
	for i, d := range ds {
		if i < 60 {
			continue // the first hour reads the load's resolution and level
		}
		if strings.Contains(d.Reason, "flat") {
			held++
		}
		if w := d.Inputs["stabilisation_s"]; w > short && w < (15*time.Minute).Seconds() {
			bridged++
		}
		// The ticks a load at one count a minute or more would take
		// for a flat line (flatTicks zeros and on), and those its
		// bridge would stretch the window on (beyond one zero, before
		// flatTicks).
		if j := i - flatTicks + 1; j >= 0 && slices.Max(load[j:i+1]) == 0 {
			dense++
		} else if load[i] == 0 && load[i-1] == 0 {
			denseBridge++
		}
	}
	if dense < 50 {
		t.Fatalf("only %d ticks %d minutes into a zero run: the load is not sparse enough to test", dense, flatTicks)
	}
	// The rule at one count a minute holds nearly all of the first and
	// bridges nearly all of the second (106 and 196 here). Read at the
	// load's own level, about 0.3 counts a minute (a zero run as
	// unlikely as flatTicks samples at one count after 17 minutes, as
	// one after 4, the level read from the last flatRuns runs), the
	// hold fires on under a fifth and the bridge on under half.
	if held*5 > dense || bridged*2 > denseBridge {
		t.Errorf("a sparse load's ordinary zero runs: held %d of the %d ticks %d minutes into a zero run, bridged %d of the %d before", held, dense, flatTicks, bridged, denseBridge)
	}

	// The load rises to 100 counts a minute, then its traffic is cut off.
	rng := rand.New(rand.NewPCG(8, 8))
	for range 120 {
		load = append(load, 10*math.Round(10+rng.NormFloat64()))
	}
	load = append(load, flat(120, 0)...)
	ds = loop(mustApp(t, c), load, nil, nil)
	before := ds[839].To
	if before < 10 {
		t.Fatalf("%d replicas for a load of 100 at 10 each", before)
	}
	for i := 840 + flatTicks; i < len(load); i++ {
		if ds[i].To < before || !strings.Contains(ds[i].Reason, "flat") {
			t.Fatalf("minute %d of an outage from 100 counts a minute: %d replicas (had %d): %s", i-840, ds[i].To, before, ds[i].Reason)
		}
	}
}

// TestFlatLineReadsASparseLevel: a flat line is flatTicks samples of a
// load at one count a sample or more; a load under one count a sample
// needs a run of zeros as unlikely as that for its own level, and the
// bridge one as unlikely as one sample at one count.
func TestFlatLineReadsASparseLevel(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name          string
		pattern       []float64 // repeated to fill the runs the level is read from
		need, bridgeN int
	}{
		{"two counts a minute", []float64{1, 3}, flatTicks, 1},
		{"a count in two minutes", []float64{1, 0}, 10, 2},
		{"a count in four minutes", []float64{1, 0, 0, 0}, 20, 4},
		{"a count in ten minutes", []float64{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 50, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f flatLine
			tick := 0
			for range flatRuns + 1 {
				for _, v := range tc.pattern {
					f.observe(t0.Add(time.Duration(tick)*time.Minute), v)
					tick++
				}
			}
			f.observe(t0.Add(time.Duration(tick)*time.Minute), tc.pattern[0]) // the last count before the run
			tick++
			for i := range tc.need {
				f.observe(t0.Add(time.Duration(tick+i)*time.Minute), 0)
				if i == 0 {
					if got, b := f.need(), f.bridgeFrom(); got != tc.need || b != tc.bridgeN {
						t.Fatalf("need %d ticks and bridge after %d, want %d and %d", got, b, tc.need, tc.bridgeN)
					}
				}
				if f.recognised() != (i+1 == tc.need) {
					t.Fatalf("after %d of %d ticks of 0: recognised %v", i+1, tc.need, f.recognised())
				}
			}
			if !f.recognised() {
				t.Fatalf("not recognised after %d ticks of 0", tc.need)
			}
		})
	}
}
