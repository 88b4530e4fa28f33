package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/nab"
)

// writeCorpus builds a tiny NAB-shaped corpus: two categories, one file with
// a spike inside a window, one clean file, and a repeated timestamp as real
// NAB files have at clock changes.
func writeCorpus(t *testing.T) (data, windows string) {
	t.Helper()
	root := t.TempDir()
	data = filepath.Join(root, "data")
	t0 := time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)
	files := map[string]int{"catA/spiky.csv": 1500, "catB/calm.csv": -1}
	for rel, spike := range files {
		var b strings.Builder
		b.WriteString("timestamp,value\n")
		for i := 0; i < 2000; i++ {
			ts := t0.Add(time.Duration(i) * 5 * time.Minute)
			if i == 1000 {
				ts = t0.Add(999 * 5 * time.Minute) // repeated stamp
			}
			v := 50 + 10*math.Sin(2*math.Pi*float64(i%288)/288) + float64((i*7919)%13)/13
			if i == spike {
				v += 60
			}
			fmt.Fprintf(&b, "%s,%s\n", ts.Format("2006-01-02 15:04:05"), strconv.FormatFloat(v, 'f', 3, 64))
		}
		p := filepath.Join(data, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ws := t0.Add(1450 * 5 * time.Minute).Format("2006-01-02 15:04:05.000000")
	we := t0.Add(1550 * 5 * time.Minute).Format("2006-01-02 15:04:05.000000")
	windows = filepath.Join(root, "windows.json")
	js := fmt.Sprintf(`{"catA/spiky.csv": [["%s", "%s"]], "catB/calm.csv": []}`, ws, we)
	if err := os.WriteFile(windows, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	return data, windows
}

func TestNABCommand(t *testing.T) {
	data, windows := writeCorpus(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := nabCmd(context.Background(), []string{"-data", data, "-out", out, "-windows", windows}, &stdout, &stderr); err != nil {
		t.Fatalf("nab: %v\n%s", err, stderr.String())
	}
	res := filepath.Join(out, "headroom", "catA", "headroom_spiky.csv")
	f, err := os.Open(res)
	if err != nil {
		t.Fatalf("result file: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2001 || strings.Join(rows[0], ",") != "timestamp,value,anomaly_score" {
		t.Fatalf("got %d rows, header %v", len(rows), rows[0])
	}
	if rows[1][0] != "2014-04-01 00:00:00" || rows[1][1] != "50.000" {
		t.Errorf("first row %q, want the input's timestamp and value text", rows[1][:2])
	}
	best, bestAt := 0.0, 0
	for i, r := range rows[1:] {
		s, err := strconv.ParseFloat(r[2], 64)
		if err != nil || s < 0 || s > 1 {
			t.Fatalf("row %d score %q not in [0,1]", i, r[2])
		}
		if i > 600 && s > best {
			best, bestAt = s, i
		}
	}
	if bestAt != 1500 {
		t.Errorf("highest score %.3f at row %d, want the spike at 1500", best, bestAt)
	}
	if _, err := os.Stat(filepath.Join(out, "headroom", "catB", "headroom_calm.csv")); err != nil {
		t.Errorf("calm result missing: %v", err)
	}
	text := stdout.String()
	for _, p := range []string{"standard", "reward_low_FP_rate", "reward_low_FN_rate"} {
		if !strings.Contains(text, p) {
			t.Errorf("output lacks profile %s:\n%s", p, text)
		}
	}
	// One window hit early with no false positives is a near-perfect score.
	if !strings.Contains(text, "standard             score  9") && !strings.Contains(text, "standard             score 100") {
		t.Errorf("standard score not >= 90:\n%s", text)
	}
	if !strings.Contains(stderr.String(), "catA/spiky.csv: 2000 rows") {
		t.Errorf("no per-file progress on stderr:\n%s", stderr.String())
	}
}

func TestNABCommandErrors(t *testing.T) {
	data, _ := writeCorpus(t)
	reversed := filepath.Join(t.TempDir(), "reversed.json")
	if err := os.WriteFile(reversed, []byte(`{"catA/spiky.csv": [["2014-04-02 00:00:00", "2014-04-01 00:00:00"]], "catB/calm.csv": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"-data", data}, "required"},
		{"empty corpus", []string{"-data", t.TempDir(), "-out", t.TempDir()}, "no "},
		{"bad windows", []string{"-data", data, "-out", t.TempDir(), "-windows", filepath.Join(t.TempDir(), "nope.json")}, "read windows"},
		{"unknown setting", []string{"-data", data, "-out", t.TempDir(), "-config", `{"Holdof":100}`}, `unknown field "Holdof"`},
		{"unknown grid setting", []string{"-data", data, "-out", t.TempDir(), "-grid", `[{"Holdoff":100},{"Nope":1}]`}, `grid item 1: json: unknown field "Nope"`},
		{"reversed window", []string{"-data", data, "-out", t.TempDir(), "-windows", reversed}, "catA/spiky.csv window 0: ends at 2014-04-01 00:00:00, before it starts at 2014-04-02 00:00:00"},
		{"trailing settings", []string{"-data", data, "-out", t.TempDir(), "-config", `{"Holdoff":100} {}`}, "trailing data"},
	}
	for _, c := range cases {
		err := nabCmd(context.Background(), c.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestNABCorpus runs the real corpus when NAB_DATA points at it (a folder
// holding data/ and labels/); it is skipped otherwise.
func TestNABCorpus(t *testing.T) {
	dir := os.Getenv("NAB_DATA")
	if dir == "" {
		t.Skip("NAB_DATA not set")
	}
	var out, errb bytes.Buffer
	outDir := os.Getenv("NAB_OUT")
	if outDir == "" {
		outDir = t.TempDir()
	}
	args := []string{"-data", filepath.Join(dir, "data"), "-out", outDir, "-windows", filepath.Join(dir, "labels", "combined_windows.json")}
	if c := os.Getenv("NAB_CONFIG"); c != "" {
		args = append(args, "-config", c)
	}
	if os.Getenv("NAB_PER_FILE") != "" {
		args = append(args, "-per-file")
	}
	if err := nabCmd(context.Background(), args, &out, &errb); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
}

// TestNABSynth writes the synthetic corpus in NAB layout and scores it,
// with the label-free threshold chosen from an alarm budget.
func TestNABSynth(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-synth", dir, "-per-family", "1", "-out", t.TempDir(), "-label-free-rate", "0.1"}
	if err := nabCmd(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("nab -synth: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "labels", "combined_windows.json")); err != nil {
		t.Fatalf("windows file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "synthCounts", "Counts_00.csv")); err != nil {
		t.Fatalf("data file: %v", err)
	}
	text := stdout.String()
	for _, want := range []string{"leave-cat-out", "leave-file-out", "label-free", "synthIrregular", "detections per day"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// TestNABSynthFamilies checks -synth-families: naming the gaps family
// alone writes and scores only its files, naming all five adds it to the
// default four, whose files are the same bytes as without the flag, and an
// unknown name is refused.
func TestNABSynthFamilies(t *testing.T) {
	run := func(args ...string) (string, string, error) {
		dir := t.TempDir()
		var stdout, stderr bytes.Buffer
		args = append([]string{"-synth", dir, "-per-family", "1", "-out", t.TempDir(), "-label-free-rate", "0.1"}, args...)
		err := nabCmd(context.Background(), args, &stdout, &stderr)
		return dir, stdout.String(), err
	}
	dir, text, err := run("-synth-families", "synthGaps")
	if err != nil {
		t.Fatalf("nab -synth-families synthGaps: %v", err)
	}
	files, err := corpusFiles(filepath.Join(dir, "data"))
	if err != nil || len(files) != 2 || !strings.Contains(text, "synthGaps") || strings.Contains(text, "synthCounts") {
		t.Errorf("gaps alone: files %v (%v), output:\n%s", files, err, text)
	}
	plain, _, err := run()
	if err != nil {
		t.Fatal(err)
	}
	five, text, err := run("-synth-families", strings.Join(anomaly.SynthFamilies(), ","))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "synthGaps") || !strings.Contains(text, "synthShift") {
		t.Errorf("five families: output lacks a family:\n%s", text)
	}
	want, _ := corpusFiles(filepath.Join(plain, "data"))
	got, _ := corpusFiles(filepath.Join(five, "data"))
	if len(want) != 8 || len(got) != 10 {
		t.Fatalf("%d files by default, %d with five families; want 8 and 10", len(want), len(got))
	}
	for _, p := range want {
		a, errA := os.ReadFile(p)
		b, errB := os.ReadFile(filepath.Join(five, "data", strings.TrimPrefix(p, filepath.Join(plain, "data"))))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs with five families (%v, %v)", p, errA, errB)
		}
	}
	if _, _, err := run("-synth-families", "synthNope"); err == nil || !strings.Contains(err.Error(), "synthNope") {
		t.Errorf("unknown family: error %v", err)
	}
}

// TestNABSynthFamiliesFlag checks that -synth-families is checked before
// any work: a misspelt family with -seeds and -seed-csv leaves an earlier
// run's CSV as it was and names the flag, the flag without -synth (where it
// would do nothing) is refused, and spaces after the commas are allowed.
func TestNABSynthFamiliesFlag(t *testing.T) {
	csvPath := filepath.Join(t.TempDir(), "seeds.csv")
	const earlier = "seed,profile,protocol,part,score,fp\n1,standard,in-sample,all,75.0,3\n"
	if err := os.WriteFile(csvPath, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"misspelt with seeds", `-synth-families: unknown family "synthGap"`,
			[]string{"-synth", t.TempDir(), "-out", t.TempDir(), "-seeds", "1-2", "-seed-csv", csvPath, "-synth-families", "synthCounts,synthGap"}},
		{"empty name", `-synth-families: unknown family ""`,
			[]string{"-synth", t.TempDir(), "-out", t.TempDir(), "-synth-families", "synthGaps,"}},
		{"without synth", "-synth-families needs -synth",
			[]string{"-data", t.TempDir(), "-out", t.TempDir(), "-synth-families", "synthGaps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := nabCmd(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if b, err := os.ReadFile(csvPath); err != nil || string(b) != earlier {
		t.Errorf("the earlier seed CSV was rewritten: %q (%v)", b, err)
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := nabCmd(context.Background(), []string{"-synth", dir, "-per-family", "1", "-synth-families", "synthShift, synthGaps"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("spaces after the comma: %v", err)
	}
	files, err := corpusFiles(filepath.Join(dir, "data"))
	if err != nil || len(files) != 4 {
		t.Errorf("spaces after the comma: files %v (%v), want the two families' 4", files, err)
	}
}

// TestNABSynthRewrite writes a corpus over a larger one in the same folder:
// the files the smaller corpus does not hold are removed (the scorer reads
// every file under data/), and every data file left has its windows.
func TestNABSynthRewrite(t *testing.T) {
	dir := t.TempDir()
	if _, _, n, err := writeSynthCorpus(dir, 7, 2, anomaly.SynthOptions{}); err != nil || n != 0 {
		t.Fatalf("first corpus: %d stale, %v", n, err)
	}
	data, windows, n, err := writeSynthCorpus(dir, 7, 1, anomaly.SynthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(data, "*", "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(windows)
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]json.RawMessage
	if err := json.Unmarshal(js, &labels); err != nil {
		t.Fatal(err)
	}
	if len(files) != len(labels) || n == 0 {
		t.Fatalf("%d data files and %d labelled after rewriting with fewer, %d removed", len(files), len(labels), n)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(data, f)
		if _, ok := labels[filepath.ToSlash(rel)]; !ok {
			t.Errorf("%s has no windows: a stale file", rel)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(data, "*", ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestNABSynthConcurrentRead rewrites a corpus while a reader reads one of
// its files: every read sees the whole file, never a truncated one (two
// runs sharing a -synth folder used to corrupt each other's reads).
func TestNABSynthConcurrentRead(t *testing.T) {
	dir := t.TempDir()
	data, _, _, err := writeSynthCorpus(dir, 3, 1, anomaly.SynthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(data, "synthCounts", "Counts_00.csv")
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const rewrites = 20
	done := make(chan error, 1)
	go func() {
		for range rewrites {
			if _, _, _, err := writeSynthCorpus(dir, 3, 1, anomaly.SynthOptions{}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d reads during %d rewrites, all whole", reads, rewrites)
			return
		default:
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read during a rewrite: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d of %d bytes during a rewrite", len(got), len(want))
		}
		reads++
	}
}

// TestNABSynthSeeds scores a fresh synthetic corpus per seed and prints
// each seed's line and the mean table; -seed-csv writes every seed's
// scores at full precision, agreeing with the printed per-seed line.
func TestNABSynthSeeds(t *testing.T) {
	var stdout, stderr bytes.Buffer
	csvPath := filepath.Join(t.TempDir(), "seeds.csv")
	args := []string{"-synth", t.TempDir(), "-seeds", "2-3", "-per-family", "1", "-out", t.TempDir(), "-seed-csv", csvPath}
	if err := nabCmd(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("nab -seeds: %v\n%s", err, stderr.String())
	}
	text := stdout.String()
	for _, want := range []string{"\n   2 ", "\n   3 ", "mean over seeds 2-3", "synthShift", "leave-cat-out"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	checkSeedCSV(t, csvPath, text, []string{"2", "3"})
	for _, bad := range [][]string{
		{"-seeds", "3-2", "-synth", t.TempDir(), "-out", t.TempDir()},
		{"-synth", t.TempDir(), "-out", t.TempDir(), "-seed-csv", filepath.Join(t.TempDir(), "x.csv")},
		{"-synth", t.TempDir(), "-seeds", "2-2", "-per-family", "1", "-out", t.TempDir(), "-seed-csv", filepath.Join(t.TempDir(), "no", "such", "x.csv")},
	} {
		if err := nabCmd(context.Background(), bad, &stdout, &stderr); err == nil {
			t.Errorf("nab %q accepted", bad)
		}
	}
}

// checkSeedCSV reads a -seed-csv file and checks its header, that every
// seed has one row per profile, protocol and part, and that each seed's
// standard score over the corpus, rounded, is the one its stdout line
// printed (in-sample, leave-cat-out, leave-file-out, label-free).
func checkSeedCSV(t *testing.T, path, stdout string, seeds []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open -seed-csv: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read -seed-csv: %v", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "seed,profile,protocol,part,score,fp" {
		t.Fatalf("-seed-csv header = %v", recs)
	}
	rows := map[string]int{}
	all := map[string]map[string]float64{} // seed -> protocol -> standard score over the corpus
	for _, r := range recs[1:] {
		rows[r[0]]++
		score, err := strconv.ParseFloat(r[4], 64)
		if err != nil {
			t.Fatalf("-seed-csv row %v: %v", r, err)
		}
		if _, err := strconv.Atoi(r[5]); err != nil {
			t.Fatalf("-seed-csv row %v: fp: %v", r, err)
		}
		if r[1] == nab.Profiles()[0].Name && r[3] == "all" {
			if all[r[0]] == nil {
				all[r[0]] = map[string]float64{}
			}
			all[r[0]][r[2]] = score
		}
	}
	// 3 profiles x 4 protocols x (4 families + "all").
	const perSeed = 3 * 4 * 5
	if len(rows) != len(seeds) {
		t.Errorf("-seed-csv seeds = %v, want %v", rows, seeds)
	}
	for _, sd := range seeds {
		if rows[sd] != perSeed {
			t.Errorf("-seed-csv seed %s: %d rows, want %d", sd, rows[sd], perSeed)
		}
		a := all[sd]
		line := fmt.Sprintf("\n%4s  %6.2f %6.2f %6.2f %6.2f", sd, a[nab.InSample], a[nab.LOCO], a[nab.LOFO], a[nab.LabelFree])
		if !strings.Contains(stdout, line) {
			t.Errorf("-seed-csv seed %s gives %q, not a printed line:\n%s", sd, line, stdout)
		}
	}
}

// TestNABSynthPhase writes the synthetic corpus with -synth-phase: its
// files start on several days and times, not all at Monday 00:00 UTC, and
// the corpus without the flag is the one the generator has always written.
func TestNABSynthPhase(t *testing.T) {
	firsts := func(args ...string) map[string]bool {
		t.Helper()
		dir := t.TempDir()
		var stdout, stderr bytes.Buffer
		if err := nabCmd(context.Background(), append([]string{"-synth", dir, "-seed", "3", "-per-family", "2"}, args...), &stdout, &stderr); err != nil {
			t.Fatalf("nab -synth %v: %v\n%s", args, err, stderr.String())
		}
		files, err := filepath.Glob(filepath.Join(dir, "data", "*", "*.csv"))
		if err != nil || len(files) != 12 {
			t.Fatalf("%d files, %v", len(files), err)
		}
		days := map[string]bool{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rows := strings.SplitN(string(b), "\n", 3)
			days[rows[1][:13]] = true // the first row's date and hour
		}
		return days
	}
	if plain := firsts(); len(plain) > 1 {
		t.Errorf("without -synth-phase the files start at %v, want 2024-03-04 00", plain)
	}
	if phased := firsts("-synth-phase"); len(phased) < 6 {
		t.Errorf("with -synth-phase the 12 files start in %d distinct hours (%v), want them spread", len(phased), phased)
	}
}
