package nab

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// Category returns the part of a file name before its first slash
// ("realKnownCause/nyc_taxi.csv" → "realKnownCause"), or the whole name.
func Category(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return name
}

// categories returns the distinct categories of files, sorted.
func categories(files []File) []string {
	var names []string
	for _, f := range files {
		if c := Category(f.Name); !slices.Contains(names, c) {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	return names
}

// normalise is NAB's normalised score, 100·(raw−null)/(perfect−null); 0 for
// a group without windows and without false positives to lose, whose
// perfect score equals the null's.
func normalise(raw, null, perfect float64) float64 {
	if perfect == null {
		return 0
	}
	return 100 * (raw - null) / (perfect - null)
}

// Part is one group of files (a category, or the whole corpus) scored at
// one threshold.
type Part struct {
	// Name is the group's name: a category, or "all" for the corpus.
	Name string
	// Files is how many files the group holds.
	Files int
	// Windows is how many label windows the group holds.
	Windows int
	// Raw is the group's raw score.
	Raw float64
	// Null is the null detector's raw score on the group.
	Null float64
	// Perfect is the perfect detector's raw score on the group.
	Perfect float64
	// Score is 100·(Raw−Null)/(Perfect−Null); 0 when the group has no
	// windows and no false positives to lose, since perfect equals null.
	Score float64
	// Thresholds lists the threshold(s) the group was scored at: one for
	// in-sample and label-free scoring, one per fold for cross-validation.
	Thresholds []float64
	// Candidates lists the candidate index chosen for each fold (0 when
	// there is one candidate).
	Candidates []int
	// FP counts false-positive rows at the thresholds used.
	FP int
}

// Evaluation is one profile's scores per category and over the corpus
// under one protocol.
type Evaluation struct {
	// Protocol names how thresholds were chosen: "in-sample",
	// "leave-one-category-out", "leave-one-file-out" or "label-free".
	Protocol string
	// Profile is the NAB cost profile.
	Profile Profile
	// Parts holds one entry per category, in name order, then "all".
	Parts []Part
}

// Protocol names.
const (
	InSample  = "in-sample"
	LOCO      = "leave-one-category-out"
	LOFO      = "leave-one-file-out"
	LabelFree = "label-free"
)

// addPick records that the part was scored at threshold t with candidate
// k, unless that pair is listed already.
func (p *Part) addPick(t float64, k int) {
	for i := range p.Thresholds {
		if p.Thresholds[i] == t && p.Candidates[i] == k {
			return
		}
	}
	p.Thresholds = append(p.Thresholds, t)
	p.Candidates = append(p.Candidates, k)
}

// curve is one file's raw score as a function of the threshold.
type curve struct {
	ts  []ThresholdScore
	nul float64
	win int
}

// fileCurves sweeps each file once for profile p.
func fileCurves(files []File, p Profile, probation float64) []curve {
	out := make([]curve, len(files))
	for i, f := range files {
		rows, _ := Sweep(f, p, probation, 0)
		out[i] = curve{ts: ScoreByThreshold(rows, p), win: len(f.Windows)}
		nrows, _ := Sweep(NullFiles([]File{f})[0], p, probation, 0)
		out[i].nul = Best(ScoreByThreshold(nrows, p)).Score
	}
	return out
}

// table is one candidate's curves evaluated at every distinct threshold of
// the corpus, highest first, with the corpus sum at each, so the best
// threshold on any subset is the corpus sum minus the left-out files.
type table struct {
	curves []curve
	ths    []float64
	sum    []float64
}

func newTable(curves []curve) *table {
	tb := &table{curves: curves}
	for _, c := range curves {
		for _, s := range c.ts {
			tb.ths = append(tb.ths, s.Threshold)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(tb.ths)))
	tb.ths = compactDesc(tb.ths)
	tb.sum = make([]float64, len(tb.ths))
	for i := range curves {
		tb.addFile(i, tb.sum, 1)
	}
	return tb
}

func compactDesc(x []float64) []float64 {
	out := x[:0]
	for i, v := range x {
		if i == 0 || v != x[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// addFile adds sign times file i's raw score at every threshold to acc.
func (tb *table) addFile(i int, acc []float64, sign float64) {
	c := tb.curves[i].ts
	cur := 0
	for j, t := range tb.ths {
		for cur+1 < len(c) && c[cur+1].Threshold >= t {
			cur++
		}
		acc[j] += sign * c[cur].Score
	}
}

// bestWithout returns the threshold maximising the raw score summed over
// every file but those listed (NAB's corpus-wide threshold optimisation on
// that subset), and that score. Ties go to the higher threshold.
func (tb *table) bestWithout(out []int) (float64, float64) {
	acc := append([]float64(nil), tb.sum...)
	for _, i := range out {
		tb.addFile(i, acc, -1)
	}
	bt, bs := tb.ths[0], acc[0]
	for j := 1; j < len(acc); j++ {
		if acc[j] > bs {
			bt, bs = tb.ths[j], acc[j]
		}
	}
	return bt, bs
}

// scoreAt returns file i's raw score and false-positive rows at threshold t.
func (c curve) scoreAt(t float64) (float64, int) {
	a := At(c.ts, t)
	return a.Score, a.FP
}

// Evaluate scores a corpus under the four protocols for each profile.
// cands holds one or more candidate scorings of the same files (say,
// several detector settings), each in the same file order; a protocol that
// tunes picks the candidate and threshold that score best on its training
// files, so a tuned setting is cross-validated together with the threshold.
// In-sample tunes on the whole corpus; leave-one-category-out trains on the
// other categories and scores the held-out one; leave-one-file-out trains
// on the other files. Label-free scores candidate 0 at the fixed threshold
// given. Held-out raw scores add up over the corpus, which is normalised
// once against its own null and perfect scores, as NAB does.
func Evaluate(cands [][]File, profiles []Profile, probation, labelFree float64) ([]Evaluation, error) {
	if len(cands) == 0 || len(cands[0]) == 0 {
		return nil, fmt.Errorf("nab: nothing to evaluate")
	}
	n := len(cands[0])
	for k, c := range cands {
		if len(c) != n {
			return nil, fmt.Errorf("nab: candidate %d has %d files, want %d", k, len(c), n)
		}
		for i := range c {
			if c[i].Name != cands[0][i].Name {
				return nil, fmt.Errorf("nab: candidate %d file %d is %s, want %s", k, i, c[i].Name, cands[0][i].Name)
			}
		}
	}
	files := cands[0]
	catNames := categories(files)

	var out []Evaluation
	for _, p := range profiles {
		curves := make([][]curve, len(cands))
		tables := make([]*table, len(cands))
		for k, c := range cands {
			curves[k] = fileCurves(c, p, probation)
			tables[k] = newTable(curves[k])
		}
		// choose picks the best candidate and threshold on every file but
		// those left out.
		choose := func(out []int) (int, float64) {
			bk, bt, bs := 0, 1.1, 0.0
			for k := range tables {
				t, s := tables[k].bestWithout(out)
				if k == 0 || s > bs {
					bk, bt, bs = k, t, s
				}
			}
			return bk, bt
		}
		// perFile holds, for each protocol, the candidate and threshold
		// each file is scored with.
		type pick struct {
			k int
			t float64
		}
		k0, t0 := choose(nil)
		in := make([]pick, n)
		free := make([]pick, n)
		loco := make([]pick, n)
		lofo := make([]pick, n)
		for i := range in {
			in[i] = pick{k0, t0}
			free[i] = pick{0, labelFree}
		}
		for _, c := range catNames {
			var held []int
			for i := range files {
				if Category(files[i].Name) == c {
					held = append(held, i)
				}
			}
			k, t := choose(held)
			for _, i := range held {
				loco[i] = pick{k, t}
			}
		}
		for j := range files {
			k, t := choose([]int{j})
			lofo[j] = pick{k, t}
		}
		for _, proto := range []struct {
			name  string
			picks []pick
		}{{InSample, in}, {LOCO, loco}, {LOFO, lofo}, {LabelFree, free}} {
			ev := Evaluation{Protocol: proto.name, Profile: p}
			for _, c := range append(append([]string(nil), catNames...), "all") {
				part := Part{Name: c}
				for i, f := range files {
					if c != "all" && Category(f.Name) != c {
						continue
					}
					pk := proto.picks[i]
					raw, fp := curves[pk.k][i].scoreAt(pk.t)
					part.Files++
					part.Windows += curves[0][i].win
					part.Raw += raw
					part.FP += fp
					part.Null += curves[0][i].nul
					part.addPick(pk.t, pk.k)
				}
				part.Perfect = float64(part.Windows) * p.TP
				part.Score = normalise(part.Raw, part.Null, part.Perfect)
				ev.Parts = append(ev.Parts, part)
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// WriteTable prints evaluations as one table per profile: a row per
// category and the corpus, a column per protocol, each cell the normalised
// score (the raw score for a group without windows, marked "r") and, for
// the protocols that choose one, the threshold(s) used.
func WriteTable(w io.Writer, evals []Evaluation) {
	type key struct{ profile, proto string }
	by := map[key]Evaluation{}
	var profiles []Profile
	var protos []string
	for _, e := range evals {
		if !slices.ContainsFunc(profiles, func(q Profile) bool { return q.Name == e.Profile.Name }) {
			profiles = append(profiles, e.Profile)
		}
		if !slices.Contains(protos, e.Protocol) {
			protos = append(protos, e.Protocol)
		}
		by[key{e.Profile.Name, e.Protocol}] = e
	}
	short := map[string]string{InSample: "in-sample", LOCO: "leave-cat-out", LOFO: "leave-file-out", LabelFree: "label-free"}
	for _, p := range profiles {
		fmt.Fprintf(w, "%s\n%-22s %5s %4s", p.Name, "category", "files", "win")
		for _, pr := range protos {
			fmt.Fprintf(w, "  %-22s", short[pr])
		}
		fmt.Fprintln(w)
		parts := by[key{p.Name, protos[0]}].Parts
		for i := range parts {
			fmt.Fprintf(w, "%-22s %5d %4d", parts[i].Name, parts[i].Files, parts[i].Windows)
			for _, pr := range protos {
				pt := by[key{p.Name, pr}].Parts[i]
				cell := fmt.Sprintf("%6.2f", pt.Score)
				if pt.Perfect == pt.Null {
					cell = fmt.Sprintf("%6.2fr", pt.Raw)
				}
				th := ""
				switch {
				case len(pt.Thresholds) == 1:
					th = fmt.Sprintf("@%.3f", pt.Thresholds[0])
				case len(pt.Thresholds) > 1:
					lo, hi := slices.Min(pt.Thresholds), slices.Max(pt.Thresholds)
					th = fmt.Sprintf("@%.2f-%.2f", lo, hi)
				}
				fmt.Fprintf(w, "  %-7s %-14s", cell, th)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

// RateThreshold returns the lowest threshold at which the scored rows
// (those after each file's probation) hold at most perDay detections per
// day of data: a threshold chosen from the scores alone, without labels.
// It also returns the days of data counted.
func RateThreshold(files []File, probation, perDay float64) (float64, float64) {
	var scores []float64
	days := scoredDays(files, probation, func(s []float64) { scores = append(scores, s...) })
	sort.Sort(sort.Reverse(sort.Float64Slice(scores)))
	budget := int(perDay * days)
	if budget >= len(scores) {
		return 0, days
	}
	// Detections are scores >= t: take the threshold just above the
	// (budget+1)-th highest score, so ties do not overshoot the budget.
	t := scores[budget]
	return math.Nextafter(t, math.Inf(1)), days
}

// RateAt counts the detections (scores at or above t) after each file's
// probation and returns them with the days of data they cover: the rate a
// fixed threshold gives, as RateThreshold measures it.
func RateAt(files []File, probation, t float64) (int, float64) {
	n := 0
	days := scoredDays(files, probation, func(s []float64) {
		for _, v := range s {
			if v >= t {
				n++
			}
		}
	})
	return n, days
}

// scoredDays hands each file's scores after its probation to each and
// returns the days of data they cover.
func scoredDays(files []File, probation float64, each func(scores []float64)) float64 {
	days := 0.0
	for _, f := range files {
		prob := ProbationLength(len(f.Times), probation)
		if prob >= len(f.Times) {
			continue
		}
		days += f.Times[len(f.Times)-1].Sub(f.Times[prob]).Hours() / 24
		each(f.Scores[prob:])
	}
	return days
}

// Mean averages several runs of Evaluate over different corpora of the
// same shape (say, synthetic corpora drawn from several seeds): each part's
// normalised score is the mean of the runs' scores, its raw, null and
// perfect scores, files, windows and false positives are the runs' sums,
// and its thresholds and candidates are every run's (each pair once). Runs must list the
// same profiles, protocols and parts in the same order.
func Mean(runs [][]Evaluation) ([]Evaluation, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("nab: no runs to average")
	}
	out := make([]Evaluation, len(runs[0]))
	for i, e := range runs[0] {
		out[i] = Evaluation{Protocol: e.Protocol, Profile: e.Profile, Parts: make([]Part, len(e.Parts))}
		for j, p := range e.Parts {
			out[i].Parts[j].Name = p.Name
		}
	}
	for r, run := range runs {
		if len(run) != len(out) {
			return nil, fmt.Errorf("nab: run %d has %d evaluations, want %d", r, len(run), len(out))
		}
		for i, e := range run {
			o := &out[i]
			if e.Protocol != o.Protocol || e.Profile.Name != o.Profile.Name || len(e.Parts) != len(o.Parts) {
				return nil, fmt.Errorf("nab: run %d evaluation %d is %s/%s, want %s/%s", r, i, e.Profile.Name, e.Protocol, o.Profile.Name, o.Protocol)
			}
			for j, p := range e.Parts {
				q := &o.Parts[j]
				if p.Name != q.Name {
					return nil, fmt.Errorf("nab: run %d part %d is %s, want %s", r, j, p.Name, q.Name)
				}
				q.Files += p.Files
				q.Windows += p.Windows
				q.Raw += p.Raw
				q.Null += p.Null
				q.Perfect += p.Perfect
				q.FP += p.FP
				q.Score += p.Score / float64(len(runs))
				for k, t := range p.Thresholds {
					q.addPick(t, p.Candidates[k])
				}
			}
		}
	}
	return out, nil
}

// Calibration is one group of files (a category, or "all") scored on its
// own: the threshold best for it alone and its score at given thresholds.
// Where the categories' best thresholds lie apart, one threshold cannot
// serve them all, whatever the protocol that chooses it.
type Calibration struct {
	// Name is the category, or "all" for the corpus.
	Name string
	// Best is the threshold that scores best on the group alone (ties go
	// to the higher threshold).
	Best float64
	// BestScore is the group's normalised score at Best.
	BestScore float64
	// At holds the group's normalised score at each threshold asked for.
	At []float64
	// FP holds the group's false-positive rows at each threshold asked for.
	FP []int
}

// Calibrate scores each category, and then the whole corpus, on its own
// for profile p: its best threshold and its normalised score at each of
// ths. Each file is swept once, as Evaluate does.
func Calibrate(files []File, p Profile, probation float64, ths []float64) []Calibration {
	curves := fileCurves(files, p, probation)
	names := append(categories(files), "all")
	out := make([]Calibration, 0, len(names))
	for _, name := range names {
		var group []curve
		for i, f := range files {
			if name == "all" || Category(f.Name) == name {
				group = append(group, curves[i])
			}
		}
		null, windows := 0.0, 0
		for _, c := range group {
			null += c.nul
			windows += c.win
		}
		perfect := float64(windows) * p.TP
		best, raw := newTable(group).bestWithout(nil)
		c := Calibration{Name: name, Best: best, BestScore: normalise(raw, null, perfect)}
		for _, t := range ths {
			raw, fp := 0.0, 0
			for _, g := range group {
				r, f := g.scoreAt(t)
				raw += r
				fp += f
			}
			c.At = append(c.At, normalise(raw, null, perfect))
			c.FP = append(c.FP, fp)
		}
		out = append(out, c)
	}
	return out
}

// MeanCalibration averages several corpora's calibrations part by part
// (their best thresholds and scores, and the score at each threshold) and
// sums their false-positive rows. Runs must list the same parts at the
// same thresholds.
func MeanCalibration(runs [][]Calibration) ([]Calibration, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("nab: no calibrations to average")
	}
	out := make([]Calibration, len(runs[0]))
	for i, c := range runs[0] {
		out[i] = Calibration{Name: c.Name, At: make([]float64, len(c.At)), FP: make([]int, len(c.FP))}
	}
	n := float64(len(runs))
	for r, run := range runs {
		if len(run) != len(out) {
			return nil, fmt.Errorf("nab: calibration run %d has %d parts, want %d", r, len(run), len(out))
		}
		for i, c := range run {
			o := &out[i]
			if c.Name != o.Name || len(c.At) != len(o.At) || len(c.FP) != len(o.FP) {
				return nil, fmt.Errorf("nab: calibration run %d part %d is %s at %d thresholds, want %s at %d", r, i, c.Name, len(c.At), o.Name, len(o.At))
			}
			o.Best += c.Best / n
			o.BestScore += c.BestScore / n
			for j := range c.At {
				o.At[j] += c.At[j] / n
			}
			for j := range c.FP {
				o.FP[j] += c.FP[j]
			}
		}
	}
	return out, nil
}
