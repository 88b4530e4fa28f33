package forecast

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// synth describes a synthetic series:
// level·(1 + daily·sin)·(1 − weekly on weekends) + trend·days, plus Gaussian
// noise, in 5-minute buckets starting on a Monday at midnight UTC.
type synth struct {
	level, daily, weekly, trend, noise float64
	seed                               uint64
}

// t0 is the start of every synthetic series (a Monday).
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// truth returns the noiseless value of bucket i.
func (s synth) truth(i int) float64 {
	d := float64(i%defaultDay) / defaultDay
	w := float64(i%defaultWeek) / defaultWeek
	wk := 1.0
	if w >= 5.0/7 {
		wk = 1 - s.weekly
	}
	return s.level*(1+s.daily*math.Sin(2*math.Pi*(d-0.25)))*wk + s.trend*float64(i)/defaultDay
}

// values returns n buckets of the series with noise.
func (s synth) values(n int) []float64 {
	r := rand.New(rand.NewPCG(s.seed, 7))
	y := make([]float64, n)
	for i := range y {
		y[i] = s.truth(i) + s.noise*r.NormFloat64()
	}
	return y
}

// mustFeed returns a series fed with y from t0 on.
func mustFeed(tb testing.TB, cfg Config, y []float64) *Series {
	tb.Helper()
	s := NewSeries(cfg)
	for i, v := range y {
		if err := s.Observe(t0.Add(time.Duration(i)*cfg.Step), v); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// busy is a web-like series: strong daily and weekly seasonality, noise.
var busy = synth{level: 100, daily: 0.6, weekly: 0.3, trend: 0, noise: 6, seed: 1}
