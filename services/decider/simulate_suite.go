package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/headroomhq/headroom/internal/scaleeval"
	"github.com/headroomhq/headroom/internal/trace"
)

// surgeTiersFamily is the synthetic family the suite runs as a three-tier
// app by default (scaleeval.PrepareFrontTiers; --tier-families names
// others): the one whose front sees scheduled surges.
const surgeTiersFamily = "surges"

// suiteFlags are the flags of `decider simulate --suite DIR`.
type suiteFlags struct {
	dir       string
	synthOnly bool
	seeds     []uint64
	families  []string
	cv        bool
	tiers     bool
	workers   int
	grid      string
	writeDir  string
	goal      float64
	shopSeeds []int64
	// tierFamilies are the synthetic families whose traces also run as
	// the web tier of a three-tier app.
	tierFamilies []string
	// breakdown also prints where each row's minutes are lost, ours
	// beside HPA's (scaleeval.Breakdown).
	breakdown bool
	// synth are the synthetic traces' generator options
	// (scaleeval.SynthOptions: --synth-phase).
	synth scaleeval.SynthOptions
}

// rowScorer is a suite job: a prepared trace (one row) or three-tier app
// (a row per tier), scored at a setting, with each row's breakdown when
// asked.
type rowScorer interface {
	Rows(o scaleeval.Options, split bool) ([]scaleeval.Result, []scaleeval.Breakdown, error)
}

// seedList returns a flag.Func that sets *dst to a comma-separated list of
// seeds, each read by parse; "none" empties the list. what names a seed in
// errors.
func seedList[T any](dst *[]T, what string, parse func(string) (T, error)) func(string) error {
	return func(v string) error {
		*dst = nil
		if v == "none" {
			return nil
		}
		for _, f := range strings.Split(v, ",") {
			n, err := parse(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("%s %q: %w", what, f, err)
			}
			*dst = append(*dst, n)
		}
		return nil
	}
}

func (sf *suiteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.dir, "suite", "", "score every trace CSV in `DIR` plus the built-in synthetic families against HPA at equal cost")
	fs.BoolVar(&sf.synthOnly, "synthetic", false, "score the built-in synthetic families only (no --suite DIR needed)")
	sf.seeds = []uint64{1, 2}
	sf.shopSeeds = []int64{1, 2}
	fs.Func("shop-seeds", "comma-separated seeds of the simulated shop's three-tier rows (default 1,2; \"none\" leaves them out)",
		seedList(&sf.shopSeeds, "shop seed", func(f string) (int64, error) { return strconv.ParseInt(f, 10, 64) }))
	fs.Func("seeds", "comma-separated seeds of the synthetic families (default 1,2; \"none\" leaves them out)",
		seedList(&sf.seeds, "seed", func(f string) (uint64, error) { return strconv.ParseUint(f, 10, 64) }))
	fs.Func("families", "comma-separated synthetic families (default all)", func(v string) error {
		sf.families = strings.Split(v, ",")
		return nil
	})
	sf.tierFamilies = []string{surgeTiersFamily}
	fs.Func("tier-families", "comma-separated synthetic families whose traces also run as the web tier of a three-tier app with the shop's back tiers (default surges; \"none\": no such apps)", func(v string) error {
		sf.tierFamilies = nil
		if v == "none" {
			return nil
		}
		for _, f := range strings.Split(v, ",") {
			sf.tierFamilies = append(sf.tierFamilies, strings.TrimSpace(f))
		}
		return nil
	})
	fs.BoolVar(&sf.cv, "cv", false, "also choose the setting by leave-one-family-out over the suite and print the cross-validated figures")
	fs.BoolVar(&sf.tiers, "tiers", true, "also score the three-tier apps (web, cache and db with 3, 3 and 10-minute lead times): the simulated shop and the surges family's traces as its web tier")
	fs.IntVar(&sf.workers, "workers", 2, "traces evaluated in parallel")
	fs.StringVar(&sf.writeDir, "write-synthetic", "", "also write every synthetic trace of the suite to `DIR` as timestamp,value CSV")
	fs.Float64Var(&sf.goal, "recorded-goal", 0.25, "goal ratio to HPA of the recorded traces in DIR (issue 13: 0.25 on NASA and ClarkNet); synthetic traces must reach 1")
	fs.BoolVar(&sf.breakdown, "breakdown", false, "also print, for every row at the shipped setting, where its minutes are lost: under-provisioned minutes (and the small ones), unserved demand and cost on climbing, steady and falling load, ours beside HPA at the target nearest our cost, and the operating points (quantile/window) the row ran, with the day of every switch")
	fs.BoolVar(&sf.synth.Phase, "synth-phase", false, "start each synthetic trace at its own seeded point of the week (0–6 days and a minute of the day after Monday 00:00 UTC), its demand drawn from there, rather than every trace on a Monday at midnight")
	fs.StringVar(&sf.grid, "grid", "", "candidate settings for --cv (or, without --cv, to print side by side): `knob=v1,v2;knob2=…`, knobs named as the flags (default: quantile=0.9,…,0.995)")
}

// loadSuite reads every *.csv of dir (sorted) and generates the synthetic
// traces.
func loadSuite(sf suiteFlags) ([]scaleeval.Trace, error) {
	var out []scaleeval.Trace
	if sf.dir != "" {
		paths, err := filepath.Glob(filepath.Join(sf.dir, "*.csv"))
		if err != nil {
			return nil, fmt.Errorf("suite %s: %w", sf.dir, err)
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("suite %s: no *.csv traces", sf.dir)
		}
		sort.Strings(paths)
		for _, p := range paths {
			pts, err := trace.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("suite: %w", err)
			}
			name := strings.TrimSuffix(filepath.Base(p), ".csv")
			tr := scaleeval.Trace{Name: name, Family: name, Goal: sf.goal, Times: make([]time.Time, len(pts)), Demand: make([]float64, len(pts))}
			for i, pt := range pts {
				tr.Times[i], tr.Demand[i] = pt.Time, pt.Value
			}
			out = append(out, tr)
		}
	}
	fams := sf.families
	if fams == nil {
		fams = scaleeval.SyntheticFamilies()
	}
	for _, f := range fams {
		for _, s := range sf.seeds {
			tr, err := scaleeval.SyntheticWith(strings.TrimSpace(f), s, sf.synth)
			if err != nil {
				return nil, fmt.Errorf("suite: %w", err)
			}
			out = append(out, tr)
		}
	}
	return out, nil
}

// parallel runs f(i) for i in 0..n-1 on at most workers goroutines and
// returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	sem := make(chan struct{}, max(1, workers))
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// runSuite scores the suite with the one configuration opt and, with --cv,
// beside the leave-one-family-out choice over scaleeval.SuiteGrid (the shop's tiers are rows of the suite).
func runSuite(ctx context.Context, sf suiteFlags, opt scaleeval.Options, stdout, stderr io.Writer) error {
	traces, err := loadSuite(sf)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if sf.writeDir != "" {
		if err := writeTraces(sf.writeDir, traces); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
	}
	if len(traces) == 0 && (!sf.tiers || len(sf.shopSeeds) == 0) {
		return fmt.Errorf("simulate: the suite is empty")
	}
	start := time.Now()
	preps := make([]*scaleeval.Prepared, len(traces))
	if err := parallel(len(traces), sf.workers, func(i int) (err error) {
		preps[i], err = scaleeval.Prepare(ctx, traces[i], opt)
		return err
	}); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	// The three-tier apps: the simulated shop's two seeds, and every
	// trace of the surges family as the web tier of an app whose back
	// tiers the shop's model derives from it (forecastable surges to
	// propagate).
	var shops []*scaleeval.PreparedShop
	var shopApps int    // the simulated shop's apps among them
	var fronts []string // the families whose traces front the others
	if sf.tiers {
		type app struct {
			seed int64
			tr   *scaleeval.Trace
		}
		var apps []app
		for _, sd := range sf.shopSeeds {
			apps = append(apps, app{seed: sd})
		}
		shopApps = len(apps)
		for i := range traces {
			if slices.Contains(sf.tierFamilies, traces[i].Family) {
				if !slices.Contains(fronts, traces[i].Family) {
					fronts = append(fronts, traces[i].Family)
				}
				// The shop's model (its hit ratio's wander) seeded as the
				// trace, so another seed of the front is another back.
				apps = append(apps, app{seed: int64(traces[i].Seed), tr: &traces[i]})
			}
		}
		shops = make([]*scaleeval.PreparedShop, len(apps))
		if err := parallel(len(apps), sf.workers, func(i int) (err error) {
			if a := apps[i]; a.tr != nil {
				shops[i], err = scaleeval.PrepareFrontTiers(ctx, *a.tr, a.seed, opt)
			} else {
				shops[i], err = scaleeval.PrepareShop(ctx, a.seed, 21, opt)
			}
			return err
		}); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
	}
	fmt.Fprintf(stderr, "simulate: prepared %d traces and %d three-tier apps in %s\n", len(preps), len(shops), time.Since(start).Round(time.Millisecond))
	grid := scaleeval.SuiteGrid(opt)
	if sf.grid != "" {
		if grid, err = parseGrid(sf.grid, opt); err != nil {
			return fmt.Errorf("simulate: --grid: %w", err)
		}
	}
	cands := []scaleeval.Options{opt}
	if sf.cv || sf.grid != "" {
		cands = grid.Options
	}
	// results[c][t]: candidate c on row t (the traces, then every shop's
	// tiers).
	jobs := len(preps) + len(shops)
	scored := make([][][]scaleeval.Result, len(cands))
	for c := range cands {
		scored[c] = make([][]scaleeval.Result, jobs)
	}
	// With --breakdown, the shipped setting's runs also say where each
	// row's minutes are lost (breakdowns[j], the row's job).
	shipped := 0
	if len(cands) > 1 {
		shipped = grid.Default
	}
	var breakdowns [][]scaleeval.Breakdown
	if sf.breakdown {
		breakdowns = make([][]scaleeval.Breakdown, jobs)
	}
	if err := parallel(jobs*len(cands), sf.workers, func(k int) error {
		c, j := k/jobs, k%jobs
		split := sf.breakdown && c == shipped
		var job rowScorer
		if j < len(preps) {
			job = preps[j]
		} else {
			job = shops[j-len(preps)]
		}
		rs, bs, err := job.Rows(cands[c], split)
		scored[c][j] = rs
		if split {
			breakdowns[j] = bs
		}
		return err
	}); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	results := make([][]scaleeval.Result, len(cands))
	for c := range cands {
		for _, rs := range scored[c] {
			results[c] = append(results[c], rs...)
		}
	}
	hts := scaleeval.HPATargets()
	fmt.Fprintf(stdout, "suite: %d traces + %d three-tier apps' tiers (%s), %d settings; capacity max/20, boot %s, first %d minutes unscored; HPA targets %.2f–%.2f at every %.2f\n\n",
		len(preps), len(shops), threeTierNote(shopApps, fronts), len(cands), scaleeval.DefaultSetup(nil).BootDelay, opt.Warmup, hts[0], hts[len(hts)-1], hts[1]-hts[0])
	inSample := results[0]
	switch {
	case !sf.cv && sf.grid != "":
		for c := range cands {
			fmt.Fprintf(stdout, "\n%s:\n", grid.Names[c])
			scaleeval.PrintResults(stdout, results[c], nil)
		}
	case !sf.cv:
		scaleeval.PrintResults(stdout, inSample, nil)
	default:
		def := grid.Default
		inSample = results[def]
		chosen := scaleeval.LeaveOneOut(results)
		cv := make([]scaleeval.Result, len(inSample))
		for t, c := range chosen {
			cv[t] = results[c][t]
		}
		fmt.Fprintf(stdout, "in-sample: the shipped setting (%s); cv: leave-one-family-out choice over %d settings of %s\n", grid.Names[def], len(cands), grid.Knob)
		scaleeval.PrintResults(stdout, inSample, cv)
		fmt.Fprintf(stdout, "\nsetting chosen when each trace's family is left out (near tie: the settings within %g %% of the least worst loss, between which the mean log loss chooses, and this row's loss over them, 1 at its goal):\n", 100*scaleeval.NearTie)
		for t, c := range chosen {
			lo, hi, n := scaleeval.TieSpread(results, t)
			flag := ""
			if hi > 1 {
				flag = "  misses its goal at a tied setting"
			}
			fmt.Fprintf(stdout, "  %-22s %-40s near tie %d: %.3f–%.3f%s\n", inSample[t].Name, grid.Names[c], n, lo, hi, flag)
		}
		fmt.Fprintf(stdout, "setting chosen on the whole suite: %s\n", grid.Names[scaleeval.Choose(results, -1)])
		fmt.Fprintln(stdout, "worst loss of each setting over the whole suite (ratio over the trace's goal, or cost over 2× oracle):")
		for c := range cands {
			l, at := scaleeval.WorstLoss(results[c], -1)
			fmt.Fprintf(stdout, "  %-40s %.3f (%s)\n", grid.Names[c], l, at)
		}
	}
	if sf.breakdown {
		fmt.Fprintln(stdout)
		scaleeval.PrintBreakdowns(stdout, slices.Concat(breakdowns...))
	}
	fmt.Fprintf(stderr, "simulate: suite done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// parseGrid builds the cartesian product of "knob=v1,v2;knob2=…" over
// base, the shipped setting first (its index is Default).
func parseGrid(spec string, base scaleeval.Options) (scaleeval.Grid, error) {
	g := scaleeval.Grid{Knob: spec, Names: []string{"shipped"}, Options: []scaleeval.Options{base}}
	combos := [][]string{nil}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		knob, vals, ok := strings.Cut(part, "=")
		if !ok {
			return g, fmt.Errorf("%q: want knob=v1,v2", part)
		}
		var next [][]string
		for _, c := range combos {
			for _, v := range strings.Split(vals, ",") {
				next = append(next, append(append([]string(nil), c...), "--"+strings.TrimSpace(knob)+"="+strings.TrimSpace(v)))
			}
		}
		combos = next
	}
	for _, args := range combos {
		o := base
		fs := flag.NewFlagSet("grid", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		registerOptions(fs, &o)
		o.Capacity = base.Capacity
		if err := fs.Parse(args); err != nil {
			return g, fmt.Errorf("%v: %w", args, err)
		}
		g.Names = append(g.Names, strings.Join(args, " "))
		g.Options = append(g.Options, o)
	}
	return g, nil
}

// writeTraces writes the synthetic traces (recorded ones have a file
// already) as timestamp,value CSVs.
func writeTraces(dir string, traces []scaleeval.Trace) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, tr := range traces {
		if tr.Family == tr.Name {
			continue
		}
		var b strings.Builder
		b.WriteString("timestamp,value\n")
		for i, t := range tr.Times {
			b.WriteString(t.UTC().Format(time.RFC3339))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(tr.Demand[i], 'f', 4, 64))
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, tr.Name+".csv"), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", tr.Name, err)
		}
	}
	return nil
}

// threeTierNote says what the suite's three-tier apps are: the simulated
// shop's (shops of them) and the traces of the fronts families run as the
// web tier in front of the shop's back tiers.
func threeTierNote(shops int, fronts []string) string {
	var parts []string
	if shops > 0 {
		parts = append(parts, "the shop")
	}
	if len(fronts) > 0 {
		parts = append(parts, "the "+strings.Join(fronts, ", ")+" traces with the shop's back tiers")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", and ") + "; web boot 3 min, cache 3, db 10; the policy propagates the web forecast"
}
