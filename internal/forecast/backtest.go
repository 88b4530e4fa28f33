package forecast

import (
	"math"
	"time"
)

// FitBefore is one origin of the backtest protocol: a fresh Series with
// cfg, trained on the cfg.Window buckets of b before origin o, forecasts h
// buckets from o. It returns the points, the ensemble's Info and lo, the
// first bucket trained on (for ScoreOrigin). An origin past the end of b
// is forecast from it all the same: the buckets up to the origin are
// missing. ErrNoData says no bucket was observed before o.
func FitBefore(b Buckets, cfg Config, o time.Time, h int) ([]Point, Info, int, error) {
	i := b.Index(o)
	lo := max(0, i-cfg.Window)
	s := NewSeries(cfg)
	for j := lo; j < min(i, len(b.Values)); j++ {
		if err := s.Observe(b.Time(j), b.Values[j]); err != nil {
			return nil, Info{}, lo, err
		}
	}
	if i > len(b.Values) && lo < len(b.Values) {
		if err := s.Observe(o.Add(-cfg.Step), math.NaN()); err != nil {
			return nil, Info{}, lo, err
		}
	}
	pts, info, err := s.Forecast(h)
	return pts, info, lo, err
}

// Actuals returns b's value at each point's time, NaN where b has none.
func (b Buckets) Actuals(pts []Point) []float64 {
	out := make([]float64, len(pts))
	for k, p := range pts {
		out[k] = math.NaN()
		if j := b.Index(p.Time); j >= 0 && j < len(b.Values) {
			out[k] = b.Values[j]
		}
	}
	return out
}

// ScoreOrigin adds origin o's forecast pts to s, against b's actuals and
// scaled by the seasonal-naive error (lag season buckets) of the buckets
// trained on, from lo to the origin.
func (s *Scorer) ScoreOrigin(b Buckets, season, lo int, o time.Time, pts []Point) {
	i := b.Index(o)
	s.Add(SeasonalNaiveMAE(b.Values[lo:min(max(i, lo), len(b.Values))], season), b.Actuals(pts), pts)
}
