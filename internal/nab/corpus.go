package nab

// Result is one profile's score over a corpus.
type Result struct {
	// Profile is the cost profile the result is for.
	Profile Profile
	// Threshold is the corpus-optimal threshold.
	Threshold float64
	// Raw is the detector's raw NAB score at Threshold.
	Raw float64
	// Null is the null detector's raw score (constant 0.5, optimised too).
	Null float64
	// Perfect is the raw score of a detector that hits every window at its start.
	Perfect float64
	// Score is the normalised score: 100·(Raw−Null)/(Perfect−Null).
	Score float64
	// TP, TN, FP and FN count rows at Threshold.
	TP, TN, FP, FN int
	// Windows is the number of windows in the corpus.
	Windows int
}

// sweepCorpus sweeps every file for profile p into one row list.
func sweepCorpus(files []File, p Profile, probation float64) []Row {
	var all []Row
	next := 0
	for _, f := range files {
		rows, used := Sweep(f, p, probation, next)
		next += used
		all = append(all, rows...)
	}
	return all
}

// Optimize finds the corpus-wide threshold that maximises the raw score for
// profile p (NAB's optimizeThreshold).
func Optimize(files []File, p Profile, probation float64) ThresholdScore {
	return Best(ScoreByThreshold(sweepCorpus(files, p, probation), p))
}

// NullFiles returns files with every score replaced by NAB's null detector's
// constant 0.5.
func NullFiles(files []File) []File {
	out := make([]File, len(files))
	for i, f := range files {
		s := make([]float64, len(f.Scores))
		for j := range s {
			s[j] = 0.5
		}
		out[i] = File{Name: f.Name, Times: f.Times, Scores: s, Windows: f.Windows}
	}
	return out
}

// Score scores a corpus for every profile: threshold optimisation, then
// normalisation against the null and perfect detectors on the same windows.
func Score(files []File, profiles []Profile, probation float64) []Result {
	windows := 0
	for _, f := range files {
		windows += len(f.Windows)
	}
	null := NullFiles(files)
	out := make([]Result, 0, len(profiles))
	for _, p := range profiles {
		best := Optimize(files, p, probation)
		nullRaw := Optimize(null, p, probation).Score
		perfect := float64(windows) * p.TP
		r := Result{
			Profile: p, Threshold: best.Threshold, Raw: best.Score,
			Null: nullRaw, Perfect: perfect,
			TP: best.TP, TN: best.TN, FP: best.FP, FN: best.FN, Windows: windows,
		}
		r.Score = normalise(best.Score, nullRaw, perfect)
		out = append(out, r)
	}
	return out
}

// FileScores returns each file's raw score at threshold t for profile p, in
// file order, so a report can show where points were won and lost.
func FileScores(files []File, p Profile, probation, t float64) []float64 {
	out := make([]float64, len(files))
	for i, f := range files {
		rows, _ := Sweep(f, p, probation, 0)
		out[i] = At(ScoreByThreshold(rows, p), t).Score
	}
	return out
}
