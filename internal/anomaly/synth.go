package anomaly

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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
	FamilyGaps      = "synthGaps"      // hourly metrics with outages of days (opt-in)
)

// synthFamily is a family's name and generator: given the file's stream,
// its start and how many anomalies to plant, the rows' times and values
// and the anomalies' onset rows.
type synthFamily struct {
	family string
	gen    func(r *rand.Rand, start time.Time, anomalies int) ([]time.Time, []float64, []int)
}

// synthFamilies lists every family in its fixed order: a family's place
// here numbers its files' random streams (place*1000 + file), so a file
// is the same whichever other families are generated with it. The first
// four are the default corpus; FamilyGaps is generated only when
// SynthOptions.Families names it.
var synthFamilies = []synthFamily{
	{FamilyCounts, synthCounts},
	{FamilyHourly, synthHourly},
	{FamilyIrregular, synthIrregular},
	{FamilyShift, synthShift},
	{FamilyGaps, synthGaps},
}

// SynthFamilies returns every synthetic family's name, in the order the
// corpus lists them (the default four, then the opt-in ones).
func SynthFamilies() []string {
	out := make([]string, len(synthFamilies))
	for i, g := range synthFamilies {
		out[i] = g.family
	}
	return out
}

// defaultFamilies is how many of synthFamilies the zero SynthOptions
// generate.
const defaultFamilies = 4

// SynthOptions are the synthetic corpus's settings beyond its seed and
// size. The zero value is the corpus as it has always been generated.
type SynthOptions struct {
	// Phase starts each file at its own place in the week: synthStart
	// (Monday 00:00 UTC) plus a whole number of days 0–6 and a whole
	// 5-minute step of the day (a whole hour for the hourly families,
	// synthHourly and synthGaps), drawn from a random stream of the
	// file's own, so the seed and the file fix it and the series' own
	// stream is not touched. The values
	// still move with it: every family has a daily shape and all but
	// synthShift a weekend, and the counts' Poisson sampler takes as many
	// draws as its rate asks, so their noise differs after the first
	// changed rate. Real series start on any weekday at any time of
	// day; without the phase every synthetic file meets its first
	// weekend after five days and its weekly profile on a Monday.
	Phase bool
	// Families names the families to generate (from SynthFamilies, in
	// any order; the corpus keeps the fixed order). Empty means the four
	// default families, synthCounts, synthHourly, synthIrregular and
	// synthShift, the corpus as it has always been; naming FamilyGaps
	// adds the opt-in family. A name not in SynthFamilies is an error.
	Families []string
}

// SynthCorpus generates the synthetic dev corpus with the zero
// SynthOptions (every file starts on Monday 2024-03-04 00:00 UTC).
func SynthCorpus(seed uint64, perFamily int) []SynthSeries {
	out, _ := SynthCorpusWith(seed, perFamily, SynthOptions{}) // no families named: no error
	return out
}

// SynthCorpusWith generates the synthetic dev corpus: for each family
// o.Families names (the default four if none), perFamily series with
// planted anomalies and one without, all from seed. The same seed and
// options give the same corpus. Label windows follow NAB's rule: 10 % of
// the file's rows, shared among its anomalies, each window centred on its
// anomaly's onset. A family name not in SynthFamilies is an error.
func SynthCorpusWith(seed uint64, perFamily int, o SynthOptions) ([]SynthSeries, error) {
	use := make([]bool, len(synthFamilies))
	for i := range defaultFamilies {
		use[i] = len(o.Families) == 0
	}
	for _, f := range o.Families {
		i := slices.IndexFunc(synthFamilies, func(g synthFamily) bool { return g.family == f })
		if i < 0 {
			return nil, fmt.Errorf("synth: unknown family %q (want one of %s)", f, strings.Join(SynthFamilies(), ", "))
		}
		use[i] = true
	}
	var out []SynthSeries
	for gi, g := range synthFamilies {
		if !use[gi] {
			continue
		}
		for k := 0; k <= perFamily; k++ {
			r := rand.New(rand.NewPCG(seed, uint64(gi*1000+k)))
			anomalies := 1 + k%3
			name := fmt.Sprintf("%s/%s_%02d.csv", g.family, g.family[5:], k)
			if k == perFamily {
				anomalies = 0
				name = fmt.Sprintf("%s/%s_clean.csv", g.family, g.family[5:])
			}
			start := synthStart
			if o.Phase {
				start = synthPhase(seed, uint64(gi*1000+k), g.family == FamilyHourly || g.family == FamilyGaps)
			}
			ts, vs, onsets := g.gen(r, start, anomalies)
			out = append(out, SynthSeries{Name: name, Times: ts, Values: vs, Windows: nabWindows(ts, onsets)})
		}
	}
	return out, nil
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

// synthStart is the first timestamp of every synthetic series, a Monday
// (without SynthOptions.Phase).
var synthStart = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)

// phaseStream sets the phase's random streams apart from the series'
// own, whose stream numbers (family*1000 + file) stay far below it.
const phaseStream = 1 << 32

// synthPhase returns a file's start under SynthOptions.Phase: synthStart
// plus 0–6 days and a 5-minute step of the day (whole hours if hourly),
// from a stream of its own so the file's value draws are untouched.
func synthPhase(seed, file uint64, hourly bool) time.Time {
	r := rand.New(rand.NewPCG(seed, phaseStream+file))
	day, step := r.IntN(7), r.IntN(288)
	if hourly {
		step -= step % 12
	}
	return synthStart.Add(time.Duration(day)*24*time.Hour + time.Duration(step)*5*time.Minute)
}

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

// synthCounts: social-media mentions per 5 minutes (NAB's realTweets), a
// month or more of them. The rate has a daily cycle and a weekend dip, its
// noise is gamma–Poisson, quiet files have runs of zeros at night, and
// news bursts of every size (a jump that decays over minutes to hours)
// come and go as part of normal. Anomalies: a burst far larger than the
// usual ones, a surge that lasts hours, or a silence in busy hours (the
// collection stopped).
func synthCounts(r *rand.Rand, start time.Time, anomalies int) ([]time.Time, []float64, []int) {
	rows := 8000 + r.IntN(4000)
	base := math.Exp(math.Log(2) + r.Float64()*math.Log(60)) // 2 .. 120 per 5 minutes
	peak := 12 + 8*r.Float64()                               // busiest hour, UTC
	depth := 0.5 + 0.45*r.Float64()                          // how far the night falls
	weekend := 0.6 + 0.4*r.Float64()
	shape := 1.5 + 4.5*r.Float64()
	newsPerDay := 0.3 + 1.2*r.Float64()
	onsets := onsetRows(r, rows, anomalies)
	kind := make([]int, anomalies)
	size := make([]float64, anomalies)
	for i := range kind {
		switch x := r.Float64(); {
		case x < 0.6:
			kind[i], size[i] = 0, 10+20*r.Float64()
		case x < 0.85:
			kind[i], size[i] = 1, 3+2*r.Float64()
		default:
			kind[i] = 2
		}
	}
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	burst, decay := 0.0, 1.0 // the normal news burst: extra rate, in units of the rate, and its decay per step
	for i := range rows {
		t := start.Add(time.Duration(i) * 5 * time.Minute)
		ts[i] = t
		h := float64(t.Hour()) + float64(t.Minute())/60
		c := math.Cos(2 * math.Pi * (h - peak) / 24)
		rate := base * (1 - depth*(1-c)/2)
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			rate *= weekend
		}
		if r.Float64() < newsPerDay/288 {
			burst += math.Exp(0.8 * r.NormFloat64()) // median 1: doubles the rate
			decay = math.Exp(-1 / (4 + 30*r.Float64()))
		}
		rate *= 1 + burst
		burst *= decay
		for j, o := range onsets {
			switch d := i - o; {
			case kind[j] == 0 && d >= 0 && d < 48: // a burst far above the usual news
				rate *= 1 + size[j]*math.Exp(-float64(d)/8)
			case kind[j] == 1 && d >= 0 && d < 72+6*j: // a surge for hours
				rate *= size[j]
			case kind[j] == 2 && d >= 0 && d < 24+12*j: // collection stopped
				rate = 0
			}
		}
		vs[i] = poisson(r, rate*gammaMean(r, shape))
	}
	return ts, vs, onsets
}

// synthHourly: an ad exchange's hourly cost per click or per thousand
// impressions (NAB's realAdExchange): 24 points a day for three to ten
// weeks, hours missing now and then and sometimes a whole day, a weak
// daily and weekly profile, noise that grows at night (fewer clicks behind
// each price) and a slow drift. Anomalies: a spike of a few hours, a
// collapse toward zero (a campaign stops), a price level that changes and
// stays (a new bid: the change is the anomaly), or a day at twice the price.
func synthHourly(r *rand.Rand, start time.Time, anomalies int) ([]time.Time, []float64, []int) {
	rows := 500 + r.IntN(1200)
	level := math.Exp(math.Log(0.05) + r.Float64()*math.Log(60)) // 0.05 .. 3
	amp := 0.4 * r.Float64()
	weekly := 0.2 * r.Float64()
	noise := 0.04 + 0.16*r.Float64()
	onsets := onsetRows(r, rows, anomalies)
	kind := make([]int, anomalies)
	for i := range kind {
		kind[i] = r.IntN(4)
	}
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	t := start
	drift := 2 * math.Pi * r.Float64()
	mult := 1.0
	for i := range rows {
		step := time.Hour
		if r.Float64() < 0.02 {
			step += time.Duration(1+r.IntN(3)) * time.Hour // hours missing
		}
		if r.Float64() < 0.002 {
			step += time.Duration(12+r.IntN(24)) * time.Hour // a day missing
		}
		if i > 0 {
			t = t.Add(step)
		}
		ts[i] = t
		h := float64(t.Hour())
		day := math.Exp(math.Log(1+amp) * math.Exp(-math.Pow((h-15)/5, 2)))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			day *= 1 - weekly
		}
		night := 1 + 0.8*math.Exp(-math.Pow((h-4)/3, 2))
		v := level * day * (1 + 0.1*math.Sin(drift+2*math.Pi*float64(i)/(24*30))) * math.Exp(noise*night*r.NormFloat64())
		for j, o := range onsets {
			switch d := i - o; {
			case kind[j] == 0 && d >= 0 && d < 1+j%3:
				v *= 2.5 + 2.5*r.Float64()
			case kind[j] == 1 && d >= 0 && d < 3+3*j:
				v *= 0.05 + 0.15*r.Float64()
			case kind[j] == 2 && d == 0:
				mult *= []float64{0.5, 1.7}[r.IntN(2)]
			case kind[j] == 3 && d >= 0 && d < 24:
				v *= 2
			}
		}
		vs[i] = math.Round(v*mult*10000) / 10000
	}
	return ts, vs, onsets
}

// synthIrregular: a road sensor (NAB's realTraffic), in turn speed (whole
// miles per hour), occupancy (a fraction in [0,1]) and travel time (whole
// seconds). Readings come about every 5 minutes with jitter, some are
// missing and the sensor goes dark for hours now and then; weekday rush
// hours slow the road. Anomalies: an incident (the road jams for an hour
// or two off-peak), a stuck sensor (one value for hours), or a change
// that stays (the sensor is moved or recalibrated).
func synthIrregular(r *rand.Rand, start time.Time, anomalies int) ([]time.Time, []float64, []int) {
	rows := 1500 + r.IntN(1100)
	kindOfSensor := r.IntN(3)
	step := 5 * time.Minute
	onsets := onsetRows(r, rows, anomalies)
	kind := make([]int, anomalies)
	for i := range kind {
		kind[i] = r.IntN(3)
	}
	am, pm := 0.3+0.4*r.Float64(), 0.3+0.4*r.Float64() // rush-hour congestion, 0..1
	noise := 0.5 + r.Float64()
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	t := start
	var stuck float64
	recal := 1.0
	free := 55 + 15*r.Float64()
	occ0 := 0.03 + 0.05*r.Float64()
	tt0 := 200 + 300*r.Float64()
	for i := range rows {
		gap := step + time.Duration(r.IntN(120)-60)*time.Second
		if r.Float64() < 0.08 {
			gap += step * time.Duration(1+r.IntN(3)) // missing readings
		}
		if r.Float64() < 0.003 {
			gap += time.Duration(1+r.IntN(12)) * time.Hour // the sensor goes dark
		}
		t = t.Add(gap)
		ts[i] = t
		h := float64(t.Hour()) + float64(t.Minute())/60
		jam := 0.0 // congestion, 0..1
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			jam = am*math.Exp(-math.Pow((h-8)/1.2, 2)) + pm*math.Exp(-math.Pow((h-17.5)/1.5, 2))
		} else {
			jam = 0.3 * pm * math.Exp(-math.Pow((h-14)/3, 2))
		}
		for j, o := range onsets {
			if d := i - o; kind[j] == 0 && d >= 0 && d < 12+6*j {
				jam = math.Max(jam, 0.8+0.15*r.Float64()) // an incident
			}
		}
		var v float64
		switch kindOfSensor {
		case 0: // speed, mph
			v = math.Max(0, math.Round(recal*free*(1-0.75*jam)+3*noise*r.NormFloat64()))
		case 1: // occupancy
			v = math.Min(1, math.Max(0, math.Round(recal*(occ0+0.5*jam*jam)*math.Exp(0.25*noise*r.NormFloat64())*10000)/10000))
		default: // travel time, s
			v = math.Max(1, math.Round(recal*tt0*(1+3*jam*jam)*math.Exp(0.08*noise*r.NormFloat64())))
		}
		for j, o := range onsets {
			switch d := i - o; {
			case kind[j] == 1 && d == 0:
				stuck = v
			case kind[j] == 1 && d > 0 && d < 24+12*j:
				v = stuck
			case kind[j] == 2 && d == 0:
				// Multiply, so a second recalibration in a file
				// changes the level too (setting the factor drew the
				// one already in force half the time).
				recal *= []float64{0.75, 1.3}[r.IntN(2)]
			}
		}
		vs[i] = v
	}
	return ts, vs, onsets
}

// synthShift: a 5-minute metric with a daily profile and noise whose level
// (or spread) changes at some point and stays changed: the change is the
// anomaly, the new level is the new normal. Anomalies: a step up, a step
// down, or a doubled spread.
func synthShift(r *rand.Rand, start time.Time, anomalies int) ([]time.Time, []float64, []int) {
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
		t := start.Add(time.Duration(i) * 5 * time.Minute)
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

// synthGaps: a building's electricity use per hour (kWh, two decimals),
// 70 to 105 days of readings with a working-day profile, a weekend dip, a
// slow random-walk drift that goes on while the meter is dark, and
// outages of 1 to 7 days with no rows: 2 to 4 after which the series
// simply resumes, and one more before each anomaly of the first kind.
// Anomalies, with their rates fixed before the detector ran on the
// family: half are a level that changed while the meter was dark (its
// first reading after an outage is 0.65 or 1.5 times the level, and it
// stays: the change is the anomaly); the other half, a sixth each, are a
// spike of 2 to 4 times for 1 to 3 hours, a collapse to 5–20 % for 6 to
// 18 hours, and the same lasting level change without an outage.
func synthGaps(r *rand.Rand, start time.Time, anomalies int) ([]time.Time, []float64, []int) {
	rows := 1680 + r.IntN(841)
	level := math.Exp(math.Log(20) + r.Float64()*math.Log(25)) // 20 .. 500 kWh
	amp := 0.3 + 0.9*r.Float64()                               // the working day's rise
	weekend := 0.55 + 0.35*r.Float64()
	noise := 0.04 + 0.06*r.Float64()
	const drift = 0.003 // the random walk's step per hour, log scale
	onsets := onsetRows(r, rows, anomalies)
	kind := make([]int, anomalies)
	factor := make([]float64, anomalies)
	dur := make([]int, anomalies)
	for i := range kind {
		switch x := r.Float64(); {
		case x < 0.5:
			kind[i] = 0
		case x < 4.0/6:
			kind[i] = 1
		case x < 5.0/6:
			kind[i] = 2
		default:
			kind[i] = 3
		}
		factor[i] = []float64{0.65, 1.5}[r.IntN(2)]
		dur[i] = r.IntN(3)
	}
	// dark[i] > 0: the meter was dark for dark[i] hours before row i.
	dark := make([]int, rows)
	outage := func() int { return 24 + r.IntN(145) } // 1 to 7 days
	for j, o := range onsets {
		if kind[j] == 0 {
			dark[o] = outage()
		}
	}
	half := 0 // half a window, in rows
	if anomalies > 0 {
		half = rows / 10 / anomalies / 2
	}
	benign := 2 + r.IntN(3)
	for try := 0; benign > 0 && try < 200; try++ {
		g := rows*15/100 + r.IntN(rows-48-rows*15/100)
		ok := true
		for _, o := range onsets {
			ok = ok && (g < o-half-24 || g > o+half+24)
		}
		for k := max(g-48, 0); k < min(g+48, rows); k++ {
			ok = ok && dark[k] == 0
		}
		if ok {
			dark[g] = outage()
			benign--
		}
	}
	ts := make([]time.Time, rows)
	vs := make([]float64, rows)
	t := start
	walk, mult := 0.0, 1.0
	for i := range rows {
		if i > 0 {
			t = t.Add(time.Hour)
		}
		for range dark[i] {
			walk += drift * r.NormFloat64()
			t = t.Add(time.Hour)
		}
		walk += drift * r.NormFloat64()
		ts[i] = t
		h := float64(t.Hour())
		v := level * math.Exp(walk) * (1 + amp*math.Exp(-math.Pow((h-13)/4, 2)))
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			v *= weekend
		}
		v *= math.Exp(noise * r.NormFloat64())
		for j, o := range onsets {
			switch d := i - o; {
			case (kind[j] == 0 || kind[j] == 3) && d == 0:
				mult *= factor[j]
			case kind[j] == 1 && d >= 0 && d < 1+dur[j]:
				v *= 2 + 2*r.Float64()
			case kind[j] == 2 && d >= 0 && d < 6+6*dur[j]:
				v *= 0.05 + 0.15*r.Float64()
			}
		}
		vs[i] = math.Max(0.01, math.Round(v*mult*100)/100)
	}
	return ts, vs, onsets
}
