package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/scaleeval"
)

// TestSuiteCommand scores the testdata directory (three days of NASA) with
// leave-one-family-out over a two-setting grid and checks the table's shape.
func TestSuiteCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--suite", "testdata", "--seeds", "none", "--tiers=false", "--cv", "--grid", "hold-worth=0.03,0.1"}
	if err := simulateCmd(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"nasa_3d", "cvUnder×", "setting chosen when each trace's family is left out", "rows lose to HPA"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestSuiteBreakdown checks --breakdown, with and without --cv (whose
// grid puts the shipped setting at its own index): every row gets its
// split beside an HPA run, and the operating points it ran, after the
// table.
func TestSuiteBreakdown(t *testing.T) {
	for _, extra := range [][]string{nil, {"--cv", "--grid", "hold-worth=0.03,0.1"}} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"--suite", "testdata", "--seeds", "none", "--tiers=false", "--breakdown"}, extra...)
		if err := simulateCmd(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("simulate %v: %v\n%s", args, err, stderr.String())
		}
		out := stdout.String()
		table, split, ok := strings.Cut(out, "where the minutes are lost")
		if !ok || !strings.Contains(table, "rows lose to HPA") {
			t.Fatalf("%v: no breakdown after the table:\n%s", args, out)
		}
		for _, want := range []string{"nasa_3d beside hpa@", "climbing", "steady", "falling", "points (days at each): "} {
			if !strings.Contains(split, want) {
				t.Fatalf("%v: breakdown lacks %q:\n%s", args, want, split)
			}
		}
	}
}

func TestParseGrid(t *testing.T) {
	base := scaleeval.DefaultOptions()
	g, err := parseGrid("hold-worth=0.03,0.1; ramp-sigmas=0,3", base)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Options) != 5 || g.Default != 0 {
		t.Fatalf("grid %v", g.Names)
	}
	if o := g.Options[4]; o.HoldWorth != 0.1 || o.RampSigmas != 3 || o.Quantile != base.Quantile {
		t.Fatalf("last candidate %+v", o)
	}
	if _, err := parseGrid("nope=1", base); err == nil {
		t.Fatal("unknown knob accepted")
	}
	if _, err := parseGrid("hold-worth", base); err == nil {
		t.Fatal("knob without values accepted")
	}
}

// TestShopSeedsFlag checks --shop-seeds: the simulated shop's seeds for the
// three-tier rows (1 and 2 unless told), none, or an error for a bad seed.
func TestShopSeedsFlag(t *testing.T) {
	parse := func(args ...string) (suiteFlags, error) {
		var sf suiteFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf.register(fs)
		return sf, fs.Parse(args)
	}
	if sf, err := parse(); err != nil || !slices.Equal(sf.shopSeeds, []int64{1, 2}) {
		t.Fatalf("default shop seeds %v (%v), want [1 2]", sf.shopSeeds, err)
	}
	if sf, err := parse("--shop-seeds", "3, 4"); err != nil || !slices.Equal(sf.shopSeeds, []int64{3, 4}) {
		t.Fatalf("--shop-seeds 3,4: %v (%v)", sf.shopSeeds, err)
	}
	if sf, err := parse("--shop-seeds", "none"); err != nil || len(sf.shopSeeds) != 0 {
		t.Fatalf("--shop-seeds none: %v (%v)", sf.shopSeeds, err)
	}
	if _, err := parse("--shop-seeds", "x"); err == nil {
		t.Fatal("--shop-seeds x accepted")
	}
	// --seeds reads the same list, of unsigned seeds.
	if sf, err := parse("--seeds", "5,6"); err != nil || !slices.Equal(sf.seeds, []uint64{5, 6}) || !slices.Equal(sf.shopSeeds, []int64{1, 2}) {
		t.Fatalf("--seeds 5,6: %v, shop %v (%v)", sf.seeds, sf.shopSeeds, err)
	}
	if _, err := parse("--seeds", "-1"); err == nil {
		t.Fatal("--seeds -1 accepted")
	}
}

// TestSeasonalFlagTakesThePhaseGuard checks that --seasonal=false turns
// the hour-phase guard off too (it reads the seasonal guard's memory), and
// that asking for the phase guard without the seasonal one is refused by
// the policy's validation rather than run as if it were on.
func TestSeasonalFlagTakesThePhaseGuard(t *testing.T) {
	parse := func(args ...string) (scaleeval.Options, error) {
		o := scaleeval.DefaultOptions()
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		registerOptions(fs, &o)
		return o, fs.Parse(args)
	}
	if o, err := parse(); err != nil || !o.SeasonalPeaks || !o.PhasePeaks {
		t.Fatalf("defaults: seasonal %v, phase %v (%v); want both on", o.SeasonalPeaks, o.PhasePeaks, err)
	}
	if o, err := parse("--seasonal=false"); err != nil || o.SeasonalPeaks || o.PhasePeaks {
		t.Fatalf("--seasonal=false: seasonal %v, phase %v (%v); want both off", o.SeasonalPeaks, o.PhasePeaks, err)
	}
	if _, err := parse("--seasonal=maybe"); err == nil {
		t.Fatal("--seasonal=maybe accepted")
	}
	o, err := parse("--seasonal=false", "--phase")
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Policy(100, 3*time.Minute).Validate(); err == nil || !strings.Contains(err.Error(), "SeasonalPeaks") {
		t.Fatalf("--seasonal=false --phase: validation %v, want a refusal naming SeasonalPeaks", err)
	}
}

// TestShopRowsAlone checks that the shop's rows run without any trace
// (--synthetic --seeds none --shop-seeds …): the suite is empty only when
// no three-tier app is left either. The context is cancelled, so the
// shop's preparation stops after making its loads (no policy or HPA run):
// reaching it is what counts.
func TestShopRowsAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	err := simulateCmd(ctx, []string{"--synthetic", "--seeds", "none", "--shop-seeds", "3"}, &stdout, &stderr)
	if err == nil || strings.Contains(err.Error(), "empty") {
		t.Fatalf("shop rows alone: %v, want the cancelled shop run", err)
	}
	err = simulateCmd(context.Background(), []string{"--synthetic", "--seeds", "none", "--shop-seeds", "none"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("no rows at all: %v, want an empty suite", err)
	}
}

// TestSynthPhaseFlag checks --synth-phase: off by default (the synthetic
// traces start on Monday 2026-01-05 00:00 UTC), and on it loads the
// phased traces of scaleeval.SyntheticWith.
func TestSynthPhaseFlag(t *testing.T) {
	load := func(args ...string) []scaleeval.Trace {
		t.Helper()
		var sf suiteFlags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		sf.register(fs)
		if err := fs.Parse(append([]string{"--synthetic", "--families", "surges,bursty", "--seeds", "1"}, args...)); err != nil {
			t.Fatal(err)
		}
		trs, err := loadSuite(sf)
		if err != nil {
			t.Fatal(err)
		}
		return trs
	}
	monday := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for _, tr := range load() {
		if !tr.Times[0].Equal(monday) {
			t.Errorf("%s starts at %v without --synth-phase, want %v", tr.Name, tr.Times[0], monday)
		}
	}
	for _, tr := range load("--synth-phase") {
		want, err := scaleeval.SyntheticWith(tr.Family, tr.Seed, scaleeval.SynthOptions{Phase: true})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Times[0].Equal(monday) || !tr.Times[0].Equal(want.Times[0]) || !slices.Equal(tr.Demand, want.Demand) {
			t.Errorf("%s starts at %v with --synth-phase, want the phased trace's %v", tr.Name, tr.Times[0], want.Times[0])
		}
	}
}

// TestThreeTierNote: the suite's header names the three-tier apps it runs,
// not always the shop and the surges family.
func TestThreeTierNote(t *testing.T) {
	for _, c := range []struct {
		shops  int
		fronts []string
		want   string
	}{
		{2, []string{"surges"}, "the shop, and the surges traces with the shop's back tiers; "},
		{0, []string{"daily-sales"}, "the daily-sales traces with the shop's back tiers; "},
		{2, nil, "the shop; "},
		{0, nil, "none"},
	} {
		if got := threeTierNote(c.shops, c.fronts); !strings.HasPrefix(got, c.want) || strings.Contains(got, "surges") != slices.Contains(c.fronts, "surges") {
			t.Errorf("threeTierNote(%d, %v) = %q, want it to begin %q", c.shops, c.fronts, got, c.want)
		}
	}
}
