package scaleeval

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/headroomhq/headroom/proto"
)

func TestSyntheticFamilies(t *testing.T) {
	for _, f := range append(SyntheticFamilies(), OptionalFamilies()...) {
		a, err := Synthetic(f, 7)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Synthetic(f, 7)
		c, _ := Synthetic(f, 8)
		if !reflect.DeepEqual(a.Demand, b.Demand) {
			t.Errorf("%s: same seed, different traces", f)
		}
		if reflect.DeepEqual(a.Demand, c.Demand) {
			t.Errorf("%s: seeds 7 and 8 give the same trace", f)
		}
		if a.Seed != 7 || c.Seed != 8 {
			t.Errorf("%s: traces of seeds 7 and 8 say seeds %d and %d (the three-tier rows seed their back tiers with it)", f, a.Seed, c.Seed)
		}
		if len(a.Demand) < 14*1440 || len(a.Times) != len(a.Demand) {
			t.Errorf("%s: %d minutes", f, len(a.Demand))
		}
		peak := 0.0
		for i, v := range a.Demand {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("%s: minute %d demand %v", f, i, v)
			}
			peak = math.Max(peak, v)
		}
		if peak <= 0 {
			t.Errorf("%s: no demand", f)
		}
	}
	if _, err := Synthetic("nope", 1); err == nil {
		t.Error("unknown family accepted")
	}
}

// TestScrambledFutureLeavesEarlierDecisions runs the full path (forecaster
// tape and policy, every guard on) on a surge trace, then replaces
// everything after minute k by a shuffled, rescaled copy and checks that
// every decision up to and including minute k is unchanged.
func TestScrambledFutureLeavesEarlierDecisions(t *testing.T) {
	tr, err := Synthetic("surges", 3)
	if err != nil {
		t.Fatal(err)
	}
	n := 3 * 1440
	ts, d := tr.Times[:n], tr.Demand[:n]
	o := DefaultOptions()
	o.Warmup = 60
	s := DefaultSetup(d)
	s.Warmup = o.Warmup
	run := func(d []float64) Run {
		t.Helper()
		tape, err := RecordTape(DefaultStages(o.Horizon), o.Tier(), ts, d)
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := RunPolicy(ts, d, s, o, tape, 1)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := run(d)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1500, 2000, 2881, 4000} {
		sc := append([]float64(nil), d...)
		rest := sc[k+1:]
		rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		for i := range rest {
			rest[i] *= 0.2 + 3*rng.Float64()
		}
		got := run(sc)
		if !reflect.DeepEqual(got.Desired[:k+1], base.Desired[:k+1]) {
			for i := 0; i <= k; i++ {
				if got.Desired[i] != base.Desired[i] {
					t.Fatalf("future scrambled after minute %d changed the decision at minute %d: %d, was %d", k, i, got.Desired[i], base.Desired[i])
				}
			}
		}
		if reflect.DeepEqual(got.Desired[k+1:], base.Desired[k+1:]) {
			t.Fatalf("scrambling after minute %d changed nothing later: the test scrambles nothing", k)
		}
	}
}

func TestLeaveOneOut(t *testing.T) {
	res := func(under, cost float64) Result {
		return Result{Ours: Score{UnderPct: under, UnservedPct: under, CostRatio: cost}, HPAUnder: 1, HPAUnserved: 1}
	}
	// Candidate 0 wins everywhere except trace 2, where it loses badly;
	// candidate 1 is fair everywhere.
	results := [][]Result{
		{res(0.1, 1.2), res(0.1, 1.2), res(3, 1.2)},
		{res(0.5, 1.2), res(0.5, 1.2), res(0.5, 1.2)},
	}
	if got := LeaveOneOut(results); !reflect.DeepEqual(got, []int{1, 1, 0}) {
		t.Fatalf("chosen %v, want [1 1 0]", got)
	}
	if c := Choose(results, -1); c != 1 {
		t.Fatalf("on all traces chose %d, want the one that holds everywhere", c)
	}
	if !res(1.01, 1).Loses() || res(1, 1).Loses() || !res(0.1, 2.1).Loses() {
		t.Fatal("Loses")
	}
	if r := (Result{HPAUnder: 0, HPAUnserved: 0}); r.Loses() || r.Worst() != 0 {
		t.Fatal("a tie at zero is not a loss")
	}
}

func TestShopTiersAreScored(t *testing.T) {
	if testing.Short() {
		t.Skip("four days of three tiers")
	}
	o := DefaultOptions()
	o.Warmup = 1440
	rs, err := EvaluateShopTiers(context.Background(), 1, 4, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("%d tiers", len(rs))
	}
	for _, r := range rs {
		if r.Ours.Minutes != 3*1440 || r.Ours.CostRatio <= 0 || math.IsNaN(r.HPAUnder) {
			t.Fatalf("%s: %+v", r.Name, r)
		}
	}
}

func TestChooseHonoursGoals(t *testing.T) {
	mk := func(u, g float64) Result {
		return Result{Name: "x", Ours: Score{UnderPct: u, UnservedPct: u, CostRatio: 1.5}, HPAUnder: 1, HPAUnserved: 1, Goal: g}
	}
	// Candidate 1 is better on the second trace but takes the first past
	// its 0.25 goal.
	res := [][]Result{{mk(0.215, 0.25), mk(0.965, 0)}, {mk(0.267, 0.25), mk(0.952, 0)}}
	if l, _ := WorstLoss(res[1], -1); math.Abs(l-0.267/0.25) > 1e-9 {
		t.Fatalf("worst loss %v", l)
	}
	if c := Choose(res, -1); c != 0 {
		t.Fatalf("chose %d, want the one that keeps every goal", c)
	}
}

// TestLeaveOneFamilyOut: rows of one family leave together, so a setting
// that only a trace's sibling seed favours is not chosen for it.
func TestLeaveOneFamilyOut(t *testing.T) {
	res := func(fam string, under float64) Result {
		return Result{Family: fam, Ours: Score{UnderPct: under, UnservedPct: under, CostRatio: 1.2}, HPAUnder: 1, HPAUnserved: 1}
	}
	// Candidate 0 is fair everywhere; candidate 1 is better on family a
	// and on c, but a disaster on b. Rows 0 and 1 are family a's two seeds.
	results := [][]Result{
		{res("a", 0.9), res("a", 0.9), res("b", 0.5), res("c", 0.5)},
		{res("a", 0.2), res("a", 0.2), res("b", 5), res("c", 0.4)},
	}
	// Leaving row 0 out alone, row 1 (same family) would still weigh in;
	// leaving family a out, the worst case over b and c decides: 0.
	if got := LeaveOneOut(results); !reflect.DeepEqual(got, []int{0, 0, 1, 0}) {
		t.Fatalf("chosen %v, want [0 0 1 0]", got)
	}
}

// TestShopScrambledFutureLeavesEarlierDecisions is the scrambled-future
// test for the three-tier policy: every tier's load after minute k is
// replaced by a shuffled, rescaled copy (the tapes recorded again from
// it), and no tier's decision up to minute k may change, though the
// database's decisions draw on the web's and the cache's forecasts and
// ramps (UpstreamSurges) through the live decider's join.
func TestShopScrambledFutureLeavesEarlierDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("three days of three tiers")
	}
	ts, loads, err := ShopLoads(3, 3)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	if !o.UpstreamSurges {
		t.Fatal("the shipped options do not propagate surges: the test would not cover them")
	}
	names := []string{"web", "cache", "db"}
	setups := make([]Setup, len(names))
	for k, name := range names {
		setups[k] = DefaultSetup(loads[k])
		setups[k].BootDelay = ShopLeadTimes[name]
	}
	propagated := 0
	run := func(loads [][]float64) []Run {
		t.Helper()
		tapes := make([]*Tape, len(names))
		for k, name := range names {
			if tapes[k], err = RecordTape(DefaultStages(o.Horizon), name, ts, loads[k]); err != nil {
				t.Fatal(err)
			}
		}
		propagated = 0
		runs, err := SimulateTiers(ts, loads, setups, tapes, o.TiersConfig(names, setups), o.Horizon, func(d *proto.Decision) {
			if d.Inputs["upstream_ramp"] == 1 {
				propagated++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return runs
	}
	base := run(loads)
	if propagated == 0 {
		t.Fatal("no tier carried its upstream's ramp: the test would not cover UpstreamSurges")
	}
	t.Logf("%d decisions carried the upstream's ramp", propagated)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{2000, 3500} {
		sc := make([][]float64, len(loads))
		perm := rng.Perm(len(ts) - k - 1)
		for j := range loads {
			sc[j] = append([]float64(nil), loads[j]...)
			for i, p := range perm {
				sc[j][k+1+i] = loads[j][k+1+p] * (0.2 + 3*rng.Float64())
			}
		}
		got := run(sc)
		for j, name := range names {
			for i := 0; i <= k; i++ {
				if got[j].Desired[i] != base[j].Desired[i] {
					t.Fatalf("%s: future scrambled after minute %d changed the decision at minute %d: %d, was %d", name, k, i, got[j].Desired[i], base[j].Desired[i])
				}
			}
			if reflect.DeepEqual(got[j].Desired[k+1:], base[j].Desired[k+1:]) {
				t.Fatalf("%s: scrambling after minute %d changed nothing later", name, k)
			}
		}
	}
}

// TestSurgeSchedule: the surges family's schedule is the generator's own
// (the trace rises at every surge it lists), with the weekly matches on
// Wednesdays and Saturdays at one fixed hour.
func TestSurgeSchedule(t *testing.T) {
	tr, err := Synthetic("surges", 1)
	if err != nil {
		t.Fatal(err)
	}
	ss := SurgeSchedule(1)
	weekly, hour := 0, -1
	for _, s := range ss {
		if s.Start < 30 || s.End <= s.Start+30 || s.End > len(tr.Demand)+60 {
			t.Fatalf("surge %+v", s)
		}
		before := mean(tr.Demand[s.Start-30 : s.Start])
		during := mean(tr.Demand[s.Start+12 : s.Start+30])
		if during < 1.8*before {
			t.Errorf("surge %+v: demand %.0f over %.0f before, no surge", s, during, before)
		}
		if !s.Weekly {
			continue
		}
		weekly++
		if wd := (s.Start / 1440) % 7; wd != 2 && wd != 5 {
			t.Errorf("weekly surge %+v on day %d of the week", s, wd)
		}
		if h := (s.Start % 1440) / 60; hour >= 0 && h != hour {
			t.Errorf("weekly surges at %d:00 and %d:00", hour, h)
		} else {
			hour = h
		}
	}
	if weekly != 6 || len(ss) <= weekly {
		t.Fatalf("%d surges, %d weekly: want 6 weekly over 21 days and some random ones", len(ss), weekly)
	}
}

// TestDailySales: the daily-sales family holds one flash sale a day, at
// the same minute of every day (on the hour, 10:00–21:00), each ramping
// within minutes to 2–5× the load before it, a magnitude that varies
// from day to day; the schedule is the generator's own and a pure
// function of the seed, and the family stays out of the default suite.
func TestDailySales(t *testing.T) {
	if slices.Contains(SyntheticFamilies(), "daily-sales") {
		t.Fatal("daily-sales is in the default suite; its rows would change the suite's table")
	}
	for _, seed := range []uint64{1, 2, 3} {
		tr, err := Synthetic("daily-sales", seed)
		if err != nil {
			t.Fatal(err)
		}
		ss := SaleSchedule(seed)
		if !reflect.DeepEqual(ss, SaleSchedule(seed)) {
			t.Fatalf("seed %d: two schedules", seed)
		}
		if len(ss) != len(tr.Demand)/1440 {
			t.Fatalf("seed %d: %d sales over %d days", seed, len(ss), len(tr.Demand)/1440)
		}
		lo, hi := math.Inf(1), 0.0
		for d, s := range ss {
			if s.Start != d*1440+ss[0].Start || s.Start%60 != 0 || s.Start%1440 < 10*60 || s.Start%1440 > 21*60 || s.Weekly {
				t.Fatalf("seed %d: sale %+v on day %d, the first at minute %d", seed, s, d, ss[0].Start)
			}
			if s.End-s.Start < 38 || s.End-s.Start > 118 || s.End > (d+1)*1440 {
				t.Fatalf("seed %d: sale %+v", seed, s)
			}
			before := mean(tr.Demand[s.Start-20 : s.Start])
			peak := mean(tr.Demand[s.Start+8 : s.Start+28])
			if r := peak / before; r < 1.7 || r > 5.5 {
				t.Errorf("seed %d: sale %+v rises %.2f×, want 2–5×", seed, s, r)
			} else {
				lo, hi = math.Min(lo, r), math.Max(hi, r)
			}
		}
		if hi-lo < 1 {
			t.Errorf("seed %d: sales of %.2f–%.2f×, want magnitudes varying by day", seed, lo, hi)
		}
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestFrontTierLoads: the back tiers of a front trace are derived as the
// shop derives them: cache operations are the web requests times the
// calls per request, database queries the misses of a hit ratio that
// wanders about 0.85, all in the same minute.
func TestFrontTierLoads(t *testing.T) {
	tr, err := Synthetic("surges", 1)
	if err != nil {
		t.Fatal(err)
	}
	n := 2 * 1440
	loads, err := FrontTierLoads(tr.Times[:n], tr.Demand[:n], 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(loads) != 3 {
		t.Fatalf("%d tiers", len(loads))
	}
	lo, hi := math.Inf(1), 0.0
	for i, w := range tr.Demand[:n] {
		if loads[0][i] != w {
			t.Fatalf("minute %d: web load %v, trace %v", i, loads[0][i], w)
		}
		if math.Abs(loads[1][i]-4*w) > 1e-9*w {
			t.Fatalf("minute %d: cache load %v for web %v", i, loads[1][i], w)
		}
		if w > 0 {
			miss := loads[2][i] / (6 * w)
			lo, hi = math.Min(lo, miss), math.Max(hi, miss)
		}
	}
	if lo < 0.12 || hi > 0.18 || hi-lo < 0.01 {
		t.Fatalf("miss ratio %.3f–%.3f, want a wander within 0.15 ± 0.03", lo, hi)
	}
}

// TestFrontTiersAreScored: a front trace run as a three-tier app gives a
// row per tier in the trace's family, so the cross-validation leaves
// them out with it.
func TestFrontTiersAreScored(t *testing.T) {
	if testing.Short() {
		t.Skip("three days of three tiers")
	}
	tr, err := Synthetic("surges", 1)
	if err != nil {
		t.Fatal(err)
	}
	n := 3 * 1440
	tr.Times, tr.Demand = tr.Times[:n], tr.Demand[:n]
	o := DefaultOptions()
	p, err := PrepareFrontTiers(context.Background(), tr, 1, o)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := p.Score(o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"surges-s1/web(3m)", "surges-s1/cache(3m)", "surges-s1/db(10m)"}
	for k, r := range rs {
		if r.Name != want[k] || r.Family != "surges" || r.Ours.Minutes != 2*1440 || r.Ours.CostRatio <= 0 || math.IsNaN(r.HPAUnder) {
			t.Fatalf("row %d: %+v", k, r)
		}
	}
}

// TestSocial5mShape: the social-5m family is counted in 5-minute buckets
// and held for their minutes, at counts of a few a minute, with its usual
// load under one replica of max/20 and bursts at the top (or the half) of
// weekday hours and a daily pattern.
func TestSocial5mShape(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		tr, err := Synthetic("social-5m", seed)
		if err != nil {
			t.Fatal(err)
		}
		d := tr.Demand
		if len(d)%social5mBucket != 0 {
			t.Fatalf("seed %d: %d minutes, not whole buckets", seed, len(d))
		}
		peak := 0.0
		for b := 0; b < len(d); b += social5mBucket {
			for i := b + 1; i < b+social5mBucket; i++ {
				if d[i] != d[b] {
					t.Fatalf("seed %d: minute %d is %v, its bucket's first minute %v", seed, i, d[i], d[b])
				}
			}
			if c := d[b] * social5mBucket; c != math.Round(c) {
				t.Fatalf("seed %d: bucket at minute %d holds %v counts, not a whole number", seed, b, c)
			}
			peak = math.Max(peak, d[b])
		}
		sorted := append([]float64(nil), d...)
		slices.Sort(sorted)
		median, capacity := sorted[len(sorted)/2], peak/20
		if median > 0.7*capacity || median <= 0 {
			t.Errorf("seed %d: median %.2f against a replica of %.2f (max/20): want the usual load under one replica", seed, median, capacity)
		}
		if median*social5mBucket > 30 {
			t.Errorf("seed %d: median %.0f counts a bucket, not a low count", seed, median*social5mBucket)
		}
		// Hours 12–23 of weekdays: the minutes after the top or the half
		// of the hour (whichever this seed posts at) against the minutes
		// 15–25 later.
		var at, after [2]float64
		var evening, night float64
		for i, v := range d {
			day, m := i/dayMin, i%dayMin
			if h := m / 60; day%7 < 5 && h >= 12 {
				for k, off := range []int{0, 30} {
					switch mm := (m - off + 60) % 60; {
					case mm < 10:
						at[k] += v
					case mm >= 15 && mm < 25:
						after[k] += v
					}
				}
			}
			switch h := m / 60; {
			case h >= 18 && h < 22:
				evening += v
			case h >= 2 && h < 6:
				night += v
			}
		}
		if math.Max(at[0]/after[0], at[1]/after[1]) < 1.15 {
			t.Errorf("seed %d: scheduled posts give %.2f and %.2f at the top and the half of the hour over later minutes", seed, at[0]/after[0], at[1]/after[1])
		}
		if evening < 2*night {
			t.Errorf("seed %d: evening %.0f, night %.0f: no daily pattern", seed, evening, night)
		}
	}
}

// TestTieSpread: the settings within NearTie of the least worst loss are
// the ones the mean log loss decides between, and a held-out row's figure
// can meet or miss its goal by that choice alone; TieSpread reports how
// far the tie reaches on the row.
func TestTieSpread(t *testing.T) {
	mk := func(fam string, u, goal float64) Result {
		return Result{Family: fam, Ours: Score{UnderPct: u, UnservedPct: u, CostRatio: 1.2}, HPAUnder: 1, HPAUnserved: 1, Goal: goal}
	}
	// Row 0 (family a, goal 0.25) is held out. On the rest, candidates 0
	// and 1 have worst losses 0.96 and 0.97 (tied), candidate 2 has 1.2.
	// Candidate 1's mean log loss is the smaller, so it is chosen, and at
	// it row 0 misses its goal (0.27/0.25); at candidate 0 it meets it.
	results := [][]Result{
		{mk("a", 0.20, 0.25), mk("b", 0.96, 0), mk("c", 0.9, 0)},
		{mk("a", 0.27, 0.25), mk("b", 0.97, 0), mk("c", 0.5, 0)},
		{mk("a", 0.10, 0.25), mk("b", 1.2, 0), mk("c", 0.1, 0)},
	}
	if got := Tied(results, 0); !reflect.DeepEqual(got, []int{0, 1}) {
		t.Fatalf("tied %v, want [0 1]", got)
	}
	if c := Choose(results, 0); c != 1 {
		t.Fatalf("chose %d, want 1 (the smaller mean log loss among the tied)", c)
	}
	lo, hi, n := TieSpread(results, 0)
	if n != 2 || math.Abs(lo-0.8) > 1e-9 || math.Abs(hi-1.08) > 1e-9 {
		t.Fatalf("spread %v–%v over %d, want 0.8–1.08 over 2", lo, hi, n)
	}
	// With nothing held out, candidate 2's 1.2 on row 1 is not tied.
	if got := Tied(results, -1); slices.Contains(got, 2) {
		t.Fatalf("tied %v includes the setting that loses", got)
	}
}
