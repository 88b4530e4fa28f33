package anomaly

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// SynthSeries is one generated series with its planted anomaly windows, in
// the shape of a Numenta Anomaly Benchmark file.
type SynthSeries struct {
	// Name is "<family>/<file>.csv".
	Name string
	// Times are the (strictly increasing) timestamps, whole seconds, UTC.
	Times []time.Time
	// Values are the observations.
	Values []float64
	// Windows holds each planted anomaly's label window [start, end].
	Windows [][2]time.Time
}

// Synthetic family names: the kinds of series the NAB subset lacks.
const (
	FamilyCounts    = "synthCounts"    // bursty counts per 5 minutes
	FamilyHourly    = "synthHourly"    // hourly business metrics, 24 points a day
	FamilyIrregular = "synthIrregular" // sensors with jittered steps and gaps
	FamilyShift     = "synthShift"     // level shifts that become the new normal
)

// SynthCorpus generates the synthetic dev corpus: for each family, perFamily
// series with planted anomalies and one without, all from seed. The same
// seed gives the same corpus. Label windows follow NAB's rule: 10 % of the
// file's rows, shared among its anomalies, each window centred on its
// anomaly's onset.
func SynthCorpus(seed uint64, perFamily int) []SynthSeries {
	var out []SynthSeries
	gens := []struct {
		family string
		gen    func(r *rand.Rand, anomalies int) ([]time.Time, []float64, []int)
	}{
		{FamilyCounts, synthCounts},
		{FamilyHourly, synthHourly},
		{FamilyIrregular, synthIrregular},
		{FamilyShift, synthShift},
	}
	for gi, g := range gens {
		for k := 0; k <= perFamily; k++ {
			r := rand.New(rand.NewPCG(seed, uint64(gi*1000+k)))
			anomalies := 1 + k%3
			name := fmt.Sprintf("%s/%s_%02d.csv", g.family, g.family[5:], k)
			if k == perFamily {
				anomalies = 0
				name = fmt.Sprintf("%s/%s_clean.csv", g.family, g.family[5:])
			}
			ts, vs, onsets := g.gen(r, anomalies)
			out = append(out, SynthSeries{Name: name, Times: ts, Values: vs, Windows: nabWindows(ts, onsets)})
		}
	}
	return out
}

// nabWindows places NAB-style windows around the onset rows.
func nabWindows(ts []time.Time, onsets []int) [][2]time.Time {
	if len(onsets) == 0 {
		return nil
	}
	w := len(ts) / 10 / len(onsets)
	var out [][2]time.Time
	for _, o := range onsets {
		a, b := max(o-w/2, 0), min(o+w/2, len(ts)-1)
		out = append(out, [2]time.Time{ts[a], ts[b]})
	}
	return out
}

// synthStart is the first timestamp of every synthetic series.
var synthStart = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)

// onsetRows spreads n anomaly onsets over the part of a file after NAB's
// probation and the detector's first two days, keeping them apart.
func onsetRows(r *rand.Rand, rows, n int) []int {
	lo := max(rows*15/100, 600)
	if lo > rows*6/10 {
		lo = rows * 3 / 10
	}
	span := (rows - lo - rows/20) / max(n, 1)
	var out []int
	for i := range n {
		out = append(out, lo+i*span+span/4+r.IntN(max(span/2, 1)))
	}
	return out
}

// poisson draws a Poisson variate (normal approximation above 50).
func poisson(r *rand.Rand, mean float64) float64 {
	if mean <= 0 {
		return 0
	}
	if mean > 50 {
		return math.Max(0, math.Round(mean+math.Sqrt(mean)*r.NormFloat64()))
	}
	l, k, p := math.Exp(-mean), 0.0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// gammaMean draws a gamma variate with mean 1 and shape k (k >= 1), for
// negative-binomial (gamma–Poisson) overdispersion.
func gammaMean(r *rand.Rand, k float64) float64 {
	// Marsaglia–Tsang.
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := r.Float64(); math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v / k
		}
	}
}

// synthCounts: social-media mentions per 5 minutes. A daily rate profile
// with a low base, gamma–Poisson noise, night-time zero runs, a burst that
// recurs at the same hour every day (normal), and rare short viral bursts
// (normal too, if small). Anomalies: a sustained surge of several times the
// rate, or a silence (a run of zeros in busy hours).
func synthCounts(r *rand.Rand, anomalies int) ([]time.Time, []float64, []int) {
	const rows = 4032
	base := 2 + 10*r.Float64()
	recurHour := 6 + r.IntN(12)
	shape := 2 + 3*r.Float64()
	onsets := onsetRows(r, rows, anomalies)
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	kind := make([]int, anomalies)
	for i := range kind {
		kind[i] = r.IntN(3)
	}
	for i := range rows {
		t := synthStart.Add(time.Duration(i) * 5 * time.Minute)
		ts[i] = t
		h := float64(t.Hour()) + float64(t.Minute())/60
		rate := base * (0.3 + 0.7*math.Max(0, math.Sin(math.Pi*(h-6)/16)))
		if h < 5 {
			rate *= 0.15 // night: mostly zeros
		}
		if t.Hour() == recurHour && t.Minute() < 20 {
			rate *= 4 // the daily digest: a recurring spike
		}
		if r.Float64() < 0.004 {
			rate *= 3 // small viral blips, part of normal
		}
		for j, o := range onsets {
			switch d := i - o; {
			case kind[j] == 0 && d >= 0 && d < 24: // surge for two hours
				rate *= 6
			case kind[j] == 1 && d >= 0 && d < 36: // silence
				rate = 0
			case kind[j] == 2 && d >= 0 && d < 3: // huge spike
				rate = rate*20 + 40
			}
		}
		vs[i] = poisson(r, rate*gammaMean(r, shape))
	}
	return ts, vs, onsets
}

// synthHourly: an hourly cost metric (cost per click), 24 points a day, with
// a business-hours profile, a weekend dip, multiplicative noise and a slow
// drift. Anomalies: a spike, a day stuck at the night level, or a day at
// twice the usual level.
func synthHourly(r *rand.Rand, anomalies int) ([]time.Time, []float64, []int) {
	const rows = 1700
	level := 0.5 + 2*r.Float64()
	noise := 0.05 + 0.1*r.Float64()
	onsets := onsetRows(r, rows, anomalies)
	kind := make([]int, anomalies)
	for i := range kind {
		kind[i] = r.IntN(3)
	}
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	for i := range rows {
		t := synthStart.Add(time.Duration(i) * time.Hour)
		ts[i] = t
		h := float64(t.Hour())
		day := 0.6 + 0.8*math.Exp(-math.Pow((h-14)/4, 2))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			day *= 0.75
		}
		v := level * day * (1 + 0.1*math.Sin(2*math.Pi*float64(i)/(24*40))) * math.Exp(noise*r.NormFloat64())
		for j, o := range onsets {
			switch d := i - o; {
			case kind[j] == 0 && d == 0:
				v *= 3 + 2*r.Float64()
			case kind[j] == 1 && d >= 0 && d < 24:
				v = level * 0.6 * math.Exp(noise*r.NormFloat64())
			case kind[j] == 2 && d >= 0 && d < 24:
				v *= 2
			}
		}
		vs[i] = math.Round(v*1000) / 1000
	}
	return ts, vs, onsets
}

// synthIrregular: a road sensor's speed. Steps jitter around 5 minutes,
// some readings are missing and there are gaps of hours; a morning and an
// evening rush slow traffic on weekdays. Anomalies: an incident (speed
// collapses for about an hour off-peak) or a stuck sensor (a constant value
// for hours).
func synthIrregular(r *rand.Rand, anomalies int) ([]time.Time, []float64, []int) {
	const rows = 2500
	free := 55 + 15*r.Float64()
	step := time.Duration(3+r.IntN(5)) * time.Minute
	onsets := onsetRows(r, rows, anomalies)
	kind := make([]int, anomalies)
	for i := range kind {
		kind[i] = r.IntN(2)
	}
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	t := synthStart
	var stuck float64
	for i := range rows {
		gap := step + time.Duration(r.IntN(90)-45)*time.Second
		if r.Float64() < 0.05 {
			gap += step * time.Duration(1+r.IntN(3)) // missing readings
		}
		if r.Float64() < 0.004 {
			gap += time.Duration(1+r.IntN(6)) * time.Hour // an outage
		}
		t = t.Add(gap)
		ts[i] = t
		h := float64(t.Hour()) + float64(t.Minute())/60
		slow := 0.0
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			slow = 0.45*math.Exp(-math.Pow((h-8)/1.2, 2)) + 0.35*math.Exp(-math.Pow((h-17.5)/1.5, 2))
		}
		v := free*(1-slow) + 3*r.NormFloat64()
		for j, o := range onsets {
			switch d := i - o; {
			case kind[j] == 0 && d >= 0 && d < 12:
				v = free*0.25 + 2*r.NormFloat64()
			case kind[j] == 1 && d == 0:
				stuck = math.Round(v)
				v = stuck
			case kind[j] == 1 && d > 0 && d < 60:
				v = stuck
			}
		}
		vs[i] = math.Max(0, math.Round(v*10)/10)
	}
	return ts, vs, onsets
}

// synthShift: a 5-minute metric with a daily profile and noise whose level
// (or spread) changes at some point and stays changed: the change is the
// anomaly, the new level is the new normal. Anomalies: a step up, a step
// down, or a doubled spread.
func synthShift(r *rand.Rand, anomalies int) ([]time.Time, []float64, []int) {
	const rows = 4032
	level := 20 + 80*r.Float64()
	amp := level * (0.1 + 0.2*r.Float64())
	sd := level * (0.02 + 0.03*r.Float64())
	onsets := onsetRows(r, rows, anomalies)
	kind := make([]int, anomalies)
	for i := range kind {
		kind[i] = r.IntN(3)
	}
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	shift, spread := 0.0, 1.0
	for i := range rows {
		t := synthStart.Add(time.Duration(i) * 5 * time.Minute)
		ts[i] = t
		for j, o := range onsets {
			if i == o {
				switch kind[j] {
				case 0:
					shift += 6*sd + 0.3*amp
				case 1:
					shift -= 6*sd + 0.3*amp
				case 2:
					spread *= 3
				}
			}
		}
		h := float64(t.Hour()) + float64(t.Minute())/60
		v := level + shift + amp*math.Sin(2*math.Pi*(h-9)/24) + spread*sd*r.NormFloat64()
		vs[i] = math.Round(v*100) / 100
	}
	return ts, vs, onsets
}
