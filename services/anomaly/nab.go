package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/nab"
	"github.com/headroomhq/headroom/internal/trace"
)

// nabDetectorName names the results folder and file prefix.
const nabDetectorName = "headroom"

// nabSeries is one corpus file with its original timestamp text.
type nabSeries struct {
	rel    string   // "<category>/<file>.csv"
	stamps []string // timestamp text as read
	texts  []string // value text as read
	times  []time.Time
	values []float64
	scores []float64
}

// nabOptions are the nab command's settings.
type nabOptions struct {
	data, out, windows     string
	perFile                bool
	override, grid         string
	labelFree, labelFreeRt float64
	synth                  string
	seed                   uint64
	perFamily              int
	synthOpts              anomaly.SynthOptions
	calibration            bool
}

// nabCmd runs the NAB corpus through the live detector; args exclude the word "nab".
func nabCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o nabOptions
	fs.StringVar(&o.data, "data", "", "NAB data folder holding <category>/<file>.csv")
	fs.StringVar(&o.out, "out", "", "results folder; writes <out>/"+nabDetectorName+"/<category>/"+nabDetectorName+"_<file>.csv")
	fs.StringVar(&o.windows, "windows", "", "optional NAB label windows JSON (combined_windows.json); scores the results")
	fs.BoolVar(&o.perFile, "per-file", false, "with -windows, also print each file's raw standard score")
	fs.StringVar(&o.override, "config", "", "optional JSON object overriding detector settings, e.g. {\"Holdoff\":100}")
	fs.StringVar(&o.grid, "grid", "", "optional JSON list of further setting overrides, each a candidate the cross-validation may choose on its training files")
	fs.Float64Var(&o.labelFree, "label-free", -1, "threshold for the label-free column (default: the detector's AlarmLevel)")
	fs.Float64Var(&o.labelFreeRt, "label-free-rate", 0, "if > 0, choose the label-free threshold from the scores alone: the lowest with at most this many detections per day of data after probation, capped at the detector's AlarmLevel")
	fs.StringVar(&o.synth, "synth", "", "write the generated synthetic corpus (NAB layout: data/ and labels/combined_windows.json) to this folder and, unless -data is given, evaluate it")
	fs.Uint64Var(&o.seed, "seed", 1, "with -synth, the generator's seed")
	seeds := fs.String("seeds", "", "with -synth and -out, evaluate a fresh corpus for each seed of FIRST-LAST (in <synth>/seed-N, results in <out>/seed-N) and print the mean table")
	seedCSV := fs.String("seed-csv", "", "with -seeds, also write every seed's score per profile, protocol and part at full precision to this CSV file (seed,profile,protocol,part,score,fp), for paired comparisons of two builds seed by seed")
	fs.IntVar(&o.perFamily, "per-family", 6, "with -synth, series with planted anomalies per family (each family also gets one clean series)")
	fs.BoolVar(&o.synthOpts.Phase, "synth-phase", false, "with -synth, start each file on its own weekday and time of day (fixed by the seed and the file) instead of Monday 00:00 UTC")
	families := fs.String("synth-families", "", "with -synth, the comma-separated families to generate, of "+strings.Join(anomaly.SynthFamilies(), ",")+" (default: all but synthGaps, the corpus as it has always been)")
	fs.BoolVar(&o.calibration, "calibration", false, "with -windows, also print each category's own best threshold and its standard score at thresholds "+calibrationGridText+" (with -seeds: per seed, then the mean)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *families != "" {
		// Checked here, before -seeds opens its CSV or a corpus is
		// written: a misspelt family would otherwise surface at the first
		// seed, after -seed-csv had emptied an earlier run's file.
		if o.synth == "" {
			return errors.New("nab: -synth-families needs -synth")
		}
		for _, f := range strings.Split(*families, ",") {
			f = strings.TrimSpace(f)
			if !slices.Contains(anomaly.SynthFamilies(), f) {
				return fmt.Errorf("nab: -synth-families: unknown family %q (want one of %s)", f, strings.Join(anomaly.SynthFamilies(), ","))
			}
			o.synthOpts.Families = append(o.synthOpts.Families, f)
		}
	}
	if *seeds != "" {
		return nabSeeds(ctx, o, *seeds, *seedCSV, stdout, stderr)
	}
	if *seedCSV != "" {
		return errors.New("nab: -seed-csv needs -seeds")
	}
	_, _, err := runNAB(ctx, o, stdout, stderr)
	return err
}

// nabSeeds evaluates one synthetic corpus per seed of first-last and
// prints each seed's standard score over the corpus, then the mean table.
// Given seedCSV, it also writes every seed's scores there at full
// precision (writeSeedRows).
func nabSeeds(ctx context.Context, o nabOptions, seeds, seedCSV string, stdout, stderr io.Writer) (err error) {
	var first, last uint64
	if _, err := fmt.Sscanf(seeds, "%d-%d", &first, &last); err != nil || last < first {
		return fmt.Errorf("nab: -seeds %q: want FIRST-LAST", seeds)
	}
	if o.synth == "" || o.out == "" || o.data != "" {
		return errors.New("nab: -seeds needs -synth and -out, and no -data")
	}
	var rows *csv.Writer
	if seedCSV != "" {
		f, err := os.Create(seedCSV)
		if err != nil {
			return fmt.Errorf("nab: -seed-csv: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("nab: -seed-csv: %w", cerr)
			}
		}()
		rows = csv.NewWriter(f)
		if err := rows.Write([]string{"seed", "profile", "protocol", "part", "score", "fp"}); err != nil {
			return fmt.Errorf("nab: -seed-csv: %w", err)
		}
	}
	var runs [][]nab.Evaluation
	var cals [][]nab.Calibration
	synth, out := o.synth, o.out
	standard := nab.Profiles()[0].Name
	fmt.Fprintf(stdout, "seed  standard over the corpus: in-sample / leave-cat-out / leave-file-out / label-free\n")
	for sd := first; sd <= last; sd++ {
		o.seed = sd
		o.synth = filepath.Join(synth, fmt.Sprintf("seed-%d", sd))
		o.out = filepath.Join(out, fmt.Sprintf("seed-%d", sd))
		evals, cal, err := runNAB(ctx, o, io.Discard, stderr)
		if err != nil {
			return fmt.Errorf("nab: seed %d: %w", sd, err)
		}
		fmt.Fprintf(stdout, "%4d ", sd)
		for _, e := range evals {
			if e.Profile.Name == standard {
				fmt.Fprintf(stdout, " %6.2f", e.Parts[len(e.Parts)-1].Score)
			}
		}
		if cal != nil {
			fmt.Fprintf(stdout, "   best alone:")
			for _, c := range cal {
				fmt.Fprintf(stdout, " %s %.3f", c.Name, c.Best)
			}
			for _, e := range evals {
				if e.Profile.Name != standard || e.Protocol != nab.LOCO {
					continue
				}
				fmt.Fprintf(stdout, "   held out at:")
				for _, p := range e.Parts[:len(e.Parts)-1] {
					fmt.Fprintf(stdout, " %.3f", p.Thresholds[0])
				}
			}
		}
		fmt.Fprintln(stdout)
		if rows != nil {
			if err := writeSeedRows(rows, sd, evals); err != nil {
				return fmt.Errorf("nab: -seed-csv: %w", err)
			}
		}
		runs = append(runs, evals)
		if cal != nil {
			cals = append(cals, cal)
		}
	}
	mean, err := nab.Mean(runs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nmean over seeds %d-%d: normalised score (files, windows and thresholds of every seed)\n\n", first, last)
	nab.WriteTable(stdout, mean)
	if len(cals) > 0 {
		mean, err := nab.MeanCalibration(cals)
		if err != nil {
			return err
		}
		writeCalibration(stdout, mean, fmt.Sprintf("mean over seeds %d-%d", first, last))
	}
	return nil
}

// writeSeedRows writes one CSV row per profile, protocol and part of one
// seed's evaluations, the score in Go's shortest exact form (the printed
// tables round to two decimals, too coarse to pair two builds seed by
// seed), and flushes them so a run cut short keeps its finished seeds.
func writeSeedRows(w *csv.Writer, seed uint64, evals []nab.Evaluation) error {
	sd := strconv.FormatUint(seed, 10)
	for _, e := range evals {
		for _, p := range e.Parts {
			score := strconv.FormatFloat(p.Score, 'g', -1, 64)
			if err := w.Write([]string{sd, e.Profile.Name, e.Protocol, p.Name, score, strconv.Itoa(p.FP)}); err != nil {
				return err
			}
		}
	}
	w.Flush()
	return w.Error()
}

// calibrationGrid holds the thresholds at which -calibration prints each
// category's score.
var calibrationGrid = []float64{0.28, 0.30, 0.32, 0.34, 0.36, 0.37, 0.38, 0.40, 0.42, 0.45}

const calibrationGridText = "0.28-0.45"

// writeCalibration prints each part's best threshold and its score (and
// false-positive rows) at the calibration grid.
func writeCalibration(w io.Writer, cal []nab.Calibration, what string) {
	fmt.Fprintf(w, "calibration (standard, %s): each category scored on its own\n%-16s %6s %7s", what, "category", "best@", "score")
	for _, t := range calibrationGrid {
		fmt.Fprintf(w, " %7.2f", t)
	}
	fmt.Fprintln(w)
	for _, c := range cal {
		fmt.Fprintf(w, "%-16s %6.3f %7.2f", c.Name, c.Best, c.BestScore)
		for _, a := range c.At {
			fmt.Fprintf(w, " %7.2f", a)
		}
		fmt.Fprintf(w, "\n%-16s %6s %7s", "", "", "fp rows")
		for _, f := range c.FP {
			fmt.Fprintf(w, " %7d", f)
		}
		fmt.Fprintln(w)
	}
}

// decodeSettings overlays the JSON object raw on cfg. A field the
// detector's Config does not have is an error, not silently ignored: a
// misspelt or stale setting would otherwise score the defaults under the
// experiment's name.
func decodeSettings(raw []byte, cfg *anomaly.Config) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the settings object")
	}
	return nil
}

// runNAB scores one corpus (a data folder, or the synthetic corpus it
// writes first) and, given windows, prints and returns its evaluations.
// With o.calibration it also returns each category's calibration.
func runNAB(ctx context.Context, o nabOptions, stdout, stderr io.Writer) ([]nab.Evaluation, []nab.Calibration, error) {
	if o.synth != "" {
		d, w, stale, err := writeSynthCorpus(o.synth, o.seed, o.perFamily, o.synthOpts)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stderr, "nab: synthetic corpus in %s, windows %s\n", d, w)
		if stale > 0 {
			fmt.Fprintf(stderr, "nab: removed %d stale files from %s (not in this corpus)\n", stale, d)
		}
		if o.data == "" {
			o.data, o.windows = d, w
		}
		if o.out == "" {
			return nil, nil, nil
		}
	}
	if o.data == "" || o.out == "" {
		return nil, nil, errors.New("nab: -data and -out are required")
	}
	paths, err := corpusFiles(o.data)
	if err != nil {
		return nil, nil, err
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("no %s/<category>/<file>.csv files", o.data)
	}
	sort.Strings(paths)
	cfg := anomaly.DefaultConfig()
	if o.override != "" {
		if err := decodeSettings([]byte(o.override), &cfg); err != nil {
			return nil, nil, fmt.Errorf("nab: -config: %w", err)
		}
	}
	var extra []anomaly.Config
	if o.grid != "" {
		var overrides []json.RawMessage
		if err := json.Unmarshal([]byte(o.grid), &overrides); err != nil {
			return nil, nil, fmt.Errorf("nab: -grid: %w", err)
		}
		for i, ov := range overrides {
			c := cfg
			if err := decodeSettings(ov, &c); err != nil {
				return nil, nil, fmt.Errorf("nab: -grid item %d: %w", i, err)
			}
			extra = append(extra, c)
		}
	}
	if o.labelFree < 0 {
		o.labelFree = cfg.AlarmLevel
	}
	var corpus []*nabSeries
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		s, err := readNABFile(p)
		if err != nil {
			return nil, nil, err
		}
		s.rel = filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(p)), filepath.Base(p)))
		if s.scores, err = detectSeries(cfg, s); err != nil {
			return nil, nil, fmt.Errorf("nab: %w", err)
		}
		dst := filepath.Join(o.out, nabDetectorName, filepath.Base(filepath.Dir(p)), nabDetectorName+"_"+filepath.Base(p))
		if err := writeNABResult(dst, s); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stderr, "nab: %s: %d rows -> %s\n", s.rel, len(s.values), dst)
		corpus = append(corpus, s)
	}
	if o.windows == "" {
		return nil, nil, nil
	}
	files, err := nabFiles(o.windows, corpus)
	if err != nil {
		return nil, nil, err
	}
	printNABScores(stdout, files, o.perFile)
	cands := [][]nab.File{files}
	for _, c := range extra {
		alt := make([]nab.File, len(files))
		for i, f := range files {
			if f.Scores, err = detectSeries(c, corpus[i]); err != nil {
				return nil, nil, fmt.Errorf("nab: %w", err)
			}
			alt[i] = f
		}
		cands = append(cands, alt)
	}
	how := "fixed"
	if o.labelFreeRt > 0 {
		t, _ := nab.RateThreshold(files, nab.DefaultProbation, o.labelFreeRt)
		// Never above the detector's own alarm level: an alarm starts
		// the holdoff that damps what follows, so a threshold above it
		// would let undetected alarms hide the events after them.
		o.labelFree = min(t, cfg.AlarmLevel)
		how = fmt.Sprintf("%.4f for %.3g detections per day, capped at the alarm level %.2f", t, o.labelFreeRt, cfg.AlarmLevel)
	}
	evals, err := nab.Evaluate(cands, nab.Profiles(), nab.DefaultProbation, o.labelFree)
	if err != nil {
		return nil, nil, err
	}
	n, days := nab.RateAt(files, nab.DefaultProbation, o.labelFree)
	fmt.Fprintf(stdout, "\nlabel-free threshold %.4f (%s): %d detections in %.1f days of data after probation, %.3f per day\n", o.labelFree, how, n, days, float64(n)/days)
	fmt.Fprintf(stdout, "\nper category: normalised score @ threshold (raw score marked r where a category has no windows)\n\n")
	nab.WriteTable(stdout, evals)
	var cal []nab.Calibration
	if o.calibration {
		cal = nab.Calibrate(files, nab.Profiles()[0], nab.DefaultProbation, calibrationGrid)
		writeCalibration(stdout, cal, "this corpus")
	}
	return evals, cal, nil
}

// detectSeries scores s through the live anomaly stage.
func detectSeries(cfg anomaly.Config, s *nabSeries) ([]float64, error) {
	return detector.ScoreSeries(cfg, s.rel, s.times, s.values)
}

// printNABScores scores the corpus for the three NAB profiles and prints
// one line per profile (and per file, for the standard profile, if asked).
func printNABScores(w io.Writer, files []nab.File, perFile bool) {
	results := nab.Score(files, nab.Profiles(), nab.DefaultProbation)
	for _, r := range results {
		fmt.Fprintf(w, "%-20s score %6.2f  (raw %8.3f, null %8.3f, perfect %6.1f, threshold %.6f, fp rows %d)\n",
			r.Profile.Name, r.Score, r.Raw, r.Null, r.Perfect, r.Threshold, r.FP)
	}
	if perFile {
		std := results[0]
		per := nab.FileScores(files, std.Profile, nab.DefaultProbation, std.Threshold)
		for i, f := range files {
			fmt.Fprintf(w, "  %8.3f  %d windows  %s\n", per[i], len(f.Windows), f.Name)
		}
	}
}

// readNABFile reads a timestamp,value CSV keeping each timestamp's text.
func readNABFile(path string) (*nabSeries, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open nab file: %w", err)
	}
	defer f.Close()
	return readNABSeries(bufio.NewReader(f), path)
}

// readNABSeries reads a timestamp,value CSV keeping each timestamp's text;
// errors start with name. Rows stay in file order: real NAB files repeat or
// step back a timestamp at clock changes (see nab.spans), which is why this
// is not trace.ReadTable.
func readNABSeries(r io.Reader, name string) (*nabSeries, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", name, err)
	}
	if len(head) < 2 {
		return nil, fmt.Errorf("%s: header needs timestamp,value", name)
	}
	s := &nabSeries{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("%s: line %d: want timestamp,value", name, line)
		}
		ts, err := trace.ParseTime(rec[0])
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: line %d: value %q is not a finite number", name, line, rec[1])
		}
		s.stamps = append(s.stamps, rec[0])
		s.texts = append(s.texts, strings.TrimSpace(rec[1]))
		s.times = append(s.times, ts)
		s.values = append(s.values, v)
	}
	if len(s.times) == 0 {
		return nil, fmt.Errorf("%s: %w", name, trace.ErrEmpty)
	}
	return s, nil
}

// writeNABResult writes timestamp,value,anomaly_score, keeping the input's
// timestamp and value text as they were.
func writeNABResult(path string, s *nabSeries) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create results folder: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create result: %w", err)
	}
	if err := writeNABRows(f, s); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// writeNABRows writes s as timestamp,value,anomaly_score rows under a header.
// The CSV writer quotes a kept text only where the input had to (a quoted
// timestamp holding a line break reads as valid, ParseTime trims it), so
// every result reads back as the rows it was written from.
func writeNABRows(dst io.Writer, s *nabSeries) error {
	w := csv.NewWriter(dst)
	if err := w.Write([]string{"timestamp", "value", "anomaly_score"}); err != nil {
		return err
	}
	for i := range s.values {
		if err := w.Write([]string{s.stamps[i], s.texts[i], strconv.FormatFloat(s.scores[i], 'g', -1, 64)}); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// nabFiles pairs every scored series with its label windows.
func nabFiles(path string, corpus []*nabSeries) ([]nab.File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	return nabWindows(raw, path, corpus)
}

// nabWindows pairs every scored series with its label windows, read from
// raw (NAB's combined_windows.json); errors name path. A window that ends
// before it starts is refused: the scorer would find no rows in it and
// silently drop a labelled anomaly.
func nabWindows(raw []byte, path string, corpus []*nabSeries) ([]nab.File, error) {
	var labels map[string][][]string
	if err := json.Unmarshal(raw, &labels); err != nil {
		return nil, fmt.Errorf("parse windows %s: %w", path, err)
	}
	files := make([]nab.File, 0, len(corpus))
	for _, s := range corpus {
		ws, ok := labels[s.rel]
		if !ok {
			return nil, fmt.Errorf("windows %s: no entry for %s", path, s.rel)
		}
		f := nab.File{Name: s.rel, Times: s.times, Scores: s.scores}
		for i, w := range ws {
			if len(w) != 2 {
				return nil, fmt.Errorf("windows %s: %s window %d: want [start, end]", path, s.rel, i)
			}
			a, err := trace.ParseTime(w[0])
			if err != nil {
				return nil, fmt.Errorf("windows %s: %s window %d: %w", path, s.rel, i, err)
			}
			b, err := trace.ParseTime(w[1])
			if err != nil {
				return nil, fmt.Errorf("windows %s: %s window %d: %w", path, s.rel, i, err)
			}
			if b.Before(a) {
				return nil, fmt.Errorf("windows %s: %s window %d: ends at %s, before it starts at %s", path, s.rel, i, w[1], w[0])
			}
			f.Windows = append(f.Windows, nab.Window{Start: a, End: b})
		}
		files = append(files, f)
	}
	return files, nil
}
