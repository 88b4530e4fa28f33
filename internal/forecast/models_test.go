package forecast

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// forecastErr feeds y[:n] to a fresh series and returns the mean absolute
// error of a 12-step forecast against the noiseless truth of s.
func forecastErr(t *testing.T, cfg Config, s synth, y []float64, n int) float64 {
	t.Helper()
	ser := mustFeed(t, cfg, y[:n])
	pts, _, err := ser.Forecast(12)
	if err != nil {
		t.Fatal(err)
	}
	checkPoints(t, pts, t0.Add(time.Duration(n)*cfg.Step), cfg.Step)
	var sum float64
	for h, p := range pts {
		sum += math.Abs(p.Yhat - s.truth(n+h))
	}
	return sum / float64(len(pts))
}

// meanErr averages forecastErr over origins spread across the last day.
func meanErr(t *testing.T, cfg Config, s synth, y []float64) float64 {
	t.Helper()
	var sum float64
	origins := []int{len(y) - 250, len(y) - 170, len(y) - 90, len(y) - 13}
	for _, n := range origins {
		sum += forecastErr(t, cfg, s, y, n)
	}
	return sum / float64(len(origins))
}

// TestModelsRecoverSeasonalityAndTrend runs every model alone and the
// ensemble on synthetic series with known daily and weekly seasonality and
// trend: the forecasts must stay within a fraction of the noise of the
// truth (seasonal naive, which carries a day-old noisy value and no weekly
// pattern, gets a looser bound).
func TestModelsRecoverSeasonalityAndTrend(t *testing.T) {
	series := []struct {
		name  string
		s     synth
		bound map[string]float64 // MAE vs truth per model ("" = ensemble)
	}{
		{"daily+weekly", synth{level: 100, daily: 0.6, weekly: 0.3, noise: 4, seed: 2},
			map[string]float64{"": 1.5, "ets": 1.5, "mstl": 1.5, "stl": 2, "prophet": 4, "snaive": 40}},
		{"daily+trend", synth{level: 100, daily: 0.5, trend: 8, noise: 4, seed: 3},
			map[string]float64{"": 4, "ets": 4, "mstl": 4.5, "stl": 4.5, "prophet": 4, "snaive": 8}},
	}
	for _, sr := range series {
		y := sr.s.values(DefaultConfig().Window + 300)
		for _, m := range []string{"", "ets", "mstl", "stl", "prophet", "snaive"} {
			cfg := DefaultConfig()
			if m != "" {
				cfg.Models = []string{m}
			}
			name := m
			if name == "" {
				name = "ensemble"
			}
			t.Run(sr.name+"/"+name, func(t *testing.T) {
				e := meanErr(t, cfg, sr.s, y)
				t.Logf("MAE vs truth %.2f", e)
				if e > sr.bound[m] {
					t.Errorf("MAE vs truth %.2f, want <= %.1f (noise sd %.0f)", e, sr.bound[m], sr.s.noise)
				}
			})
		}
	}
}

// TestProfileRecoversShape checks the decomposition's daily profile on a
// noiseless series: it must match the true log-shape closely.
func TestProfileRecoversShape(t *testing.T) {
	s := synth{level: 100, daily: 0.5}
	y := s.values(7 * defaultDay)
	z := make([]float64, len(y))
	for i, v := range y {
		z[i] = math.Log(v)
	}
	p, _ := fitProfile(z, t0.Unix()/300, defaultDay)
	var worst float64
	for slot := 0; slot < defaultDay; slot++ {
		want := math.Log(s.truth(slot)) - meanLogTruth(s)
		worst = math.Max(worst, math.Abs(p.daily[slot]-want))
	}
	if worst > 0.03 {
		t.Errorf("worst profile error %.3f (log units), want <= 0.03", worst)
	}
}

func meanLogTruth(s synth) float64 {
	var m float64
	for i := 0; i < defaultDay; i++ {
		m += math.Log(s.truth(i))
	}
	return m / defaultDay
}

// TestRobustness corrupts the training window and checks the forecast
// stays close to the clean truth.
func TestRobustness(t *testing.T) {
	s := synth{level: 100, daily: 0.6, weekly: 0.3, noise: 4, seed: 5}
	n := DefaultConfig().Window + 100
	clean := s.values(n + 12)
	r := rand.New(rand.NewPCG(9, 9))
	cases := []struct {
		name    string
		corrupt func(y []float64)
		bound   float64
	}{
		{"clean", func([]float64) {}, 1.5},
		{"10% missing and a 6-hour gap", func(y []float64) {
			for i := range y {
				if r.Float64() < 0.1 {
					y[i] = math.NaN()
				}
			}
			for i := 2000; i < 2072; i++ {
				y[i] = math.NaN()
			}
		}, 2.5},
		{"1% spikes x10", func(y []float64) {
			for i := range y {
				if r.Float64() < 0.01 {
					y[i] *= 10
				}
			}
		}, 1.5},
		{"38-hour outage of zeros", func(y []float64) {
			for i := 2500; i < 2500+38*12; i++ {
				y[i] = 0
			}
		}, 2},
		{"level shift x1.5 two days before the end", func(y []float64) {
			for i := len(y) - 2*defaultDay; i < len(y); i++ {
				y[i] *= 1.5
			}
		}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y := append([]float64(nil), clean[:n]...)
			tc.corrupt(y)
			ser := mustFeed(t, DefaultConfig(), y)
			pts, _, err := ser.Forecast(12)
			if err != nil {
				t.Fatal(err)
			}
			checkPoints(t, pts, t0.Add(time.Duration(n)*5*time.Minute), 5*time.Minute)
			var sum float64
			for h, p := range pts {
				want := s.truth(n + h)
				if tc.name[:5] == "level" {
					want *= 1.5
				}
				sum += math.Abs(p.Yhat - want)
			}
			e := sum / 12
			t.Logf("MAE vs truth %.2f", e)
			if e > tc.bound {
				t.Errorf("MAE vs truth %.2f, want <= %.1f", e, tc.bound)
			}
		})
	}
}

// TestSparseAndSignedSeries covers series the log transform must not
// break: many zeros, a constant, negative values.
func TestSparseAndSignedSeries(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n := 3 * defaultDay
	sparse := make([]float64, n)
	for i := range sparse {
		if r.Float64() < 0.2 {
			sparse[i] = float64(1 + r.IntN(3))
		}
	}
	constant := make([]float64, n)
	for i := range constant {
		constant[i] = 42
	}
	signed := synth{level: 0, daily: 0, trend: 0, noise: 1, seed: 8}.values(n)
	for i := range signed {
		signed[i] += 10 * math.Sin(2*math.Pi*float64(i)/defaultDay)
	}
	for _, tc := range []struct {
		name string
		y    []float64
	}{{"sparse counts", sparse}, {"constant", constant}, {"signed", signed}} {
		t.Run(tc.name, func(t *testing.T) {
			ser := mustFeed(t, DefaultConfig(), tc.y)
			pts, _, err := ser.Forecast(12)
			if err != nil {
				t.Fatal(err)
			}
			checkPoints(t, pts, t0.Add(time.Duration(n)*5*time.Minute), 5*time.Minute)
			if tc.name == "constant" && math.Abs(pts[5].Yhat-42) > 1e-6 {
				t.Errorf("constant: yhat %v, want 42", pts[5].Yhat)
			}
		})
	}
}

func TestMaskOutages(t *testing.T) {
	y := []float64{5, 6, 0, 0, 0, 0, 7, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 0, 0, 0}
	got := maskOutages(y, 3)
	for i, v := range got {
		switch {
		case i >= 2 && i < 6:
			if !math.IsNaN(v) {
				t.Errorf("bucket %d: %v, want masked", i, v)
			}
			continue
		case math.IsNaN(v):
			t.Errorf("bucket %d masked, want %v (short run or trailing run)", i, y[i])
		}
	}
	// Where zeros are common they are data, not outages.
	common := []float64{0, 1, 0, 2, 0, 0, 0, 0, 3, 0}
	for i, v := range maskOutages(common, 3) {
		if math.IsNaN(v) {
			t.Errorf("common zeros: bucket %d masked", i)
		}
	}
}

// TestIntervalCalibration slides one live series through five days of a
// synthetic series with Gaussian noise and checks the coverage of the
// intervals over many forecasts.
func TestIntervalCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s := synth{level: 100, daily: 0.5, weekly: 0.2, noise: 5, seed: 11}
	cfg := DefaultConfig()
	y := s.values(cfg.Window + 5*defaultDay)
	ser := mustFeed(t, cfg, y[:cfg.Window])
	var sc Scorer
	for i := cfg.Window; i+12 <= len(y); i++ {
		if (i-cfg.Window)%29 == 0 {
			pts, _, err := ser.Forecast(12)
			if err != nil {
				t.Fatal(err)
			}
			sc.Add(1, y[i:i+12], pts)
		}
		if err := ser.Observe(t0.Add(time.Duration(i)*cfg.Step), y[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := sc.Scores()
	t.Logf("%d points: coverage80 %.3f coverage95 %.3f", got.Points, got.Coverage80, got.Coverage95)
	if got.Coverage80 < 0.72 || got.Coverage80 > 0.88 {
		t.Errorf("80%% coverage %.3f, want within [0.72, 0.88]", got.Coverage80)
	}
	if got.Coverage95 < 0.89 || got.Coverage95 > 0.99 {
		t.Errorf("95%% coverage %.3f, want within [0.89, 0.99]", got.Coverage95)
	}
}

// TestRegressEvalRange checks the rotation-based sequential evaluation of
// the regression against the direct one.
func TestRegressEvalRange(t *testing.T) {
	y := busy.values(4032)
	z := make([]float64, len(y))
	wt := make([]float64, len(y))
	for i, v := range y {
		z[i], wt[i] = math.Log(v+5), 1
	}
	const abs0 = 12345678
	m := &regress{}
	m.fit(newWindow(z, wt, abs0, defaultDay, 12))
	out := make([]float64, 5000)
	m.evalRange(abs0-100, out)
	for i, v := range out {
		if d := math.Abs(v - m.eval(abs0-100+int64(i))); d > 1e-9 {
			t.Fatalf("position %d: sequential and direct values differ by %g", i, d)
		}
	}
}

// TestProfileFill checks the sequential profile evaluation against the
// direct one.
func TestProfileFill(t *testing.T) {
	y := busy.values(10 * defaultDay)
	z := make([]float64, len(y))
	for i, v := range y {
		z[i] = math.Log(v + 5)
	}
	const abs0 = 12345678
	p, _ := fitProfile(z, abs0, defaultDay)
	if p.weekly == nil {
		t.Fatal("no weekly correction on 10 days of data")
	}
	out := make([]float64, 3000)
	p.fill(abs0-7, out, false)
	for i, v := range out {
		if d := math.Abs(v - p.at(abs0-7+int64(i))); d > 1e-12 {
			t.Fatalf("position %d: fill and at differ by %g", i, d)
		}
	}
}

func TestNewTransform(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		y    []float64
		log  bool
	}{
		{"positive", []float64{1, 2, 3, nan, 4}, true},
		{"few zeros", []float64{0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"on/off", []float64{0, 0, 3, 0, 5, 0, 7, 0}, false},
		{"negative", []float64{1, -2, 3}, false},
		{"all zero", []float64{0, 0}, false},
	} {
		tr := newTransform(tc.y)
		if tr.log != tc.log {
			t.Errorf("%s: log %v, want %v", tc.name, tr.log, tc.log)
		}
		for _, v := range tc.y {
			if !math.IsNaN(v) && math.Abs(tr.inv(tr.fwd(v))-v) > 1e-12 {
				t.Errorf("%s: inv(fwd(%v)) = %v", tc.name, v, tr.inv(tr.fwd(v)))
			}
		}
	}
}
