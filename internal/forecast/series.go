package forecast

import (
	"fmt"
	"math"
	"time"
)

// Point is one forecast step.
type Point struct {
	// Time is the start of the forecast bucket.
	Time time.Time
	// Yhat is the median forecast.
	Yhat float64
	// Lo80 and Hi80 bound the central 80 % interval.
	Lo80, Hi80 float64
	// Lo95 and Hi95 bound the central 95 % interval.
	Lo95, Hi95 float64
}

// Info describes how a forecast was made.
type Info struct {
	// Model names the models combined, heaviest weight first, joined by "+".
	Model string
	// Refit reports whether this call refitted the models.
	Refit bool
	// Trained is the number of observed (non-missing) buckets in the window
	// at the last refit.
	Trained int
	// Holdout is the number of buckets held out at the last refit to weigh
	// the models and calibrate the intervals (0: normal intervals from the
	// one-step noise, widened).
	Holdout int
	// Weights maps each model in use to its combination weight.
	Weights map[string]float64
	// Errors maps each candidate model to its held-out mean absolute error
	// at the last refit.
	Errors map[string]float64
}

// Series is one live series: a rolling window of closed buckets and its
// fitted models. It is not safe for concurrent use.
//
// Refits happen at fixed points of the bucket clock, after each bucket whose
// absolute index + 1 + RefitOffset is a multiple of RefitEvery (the absolute
// index counts steps since the Unix epoch), and always use the Window
// buckets up to that point; the buckets since are then stepped through. A
// series too young to hold a refit point treats its first observed bucket
// as one: it fits on the buckets up to it and steps through the rest. So a
// forecast depends only on the data, not on when the series was created
// or how often Forecast was called: a service restarted with the last
// Window + RefitEvery buckets replayed gives exactly the forecasts of one
// that never stopped.
type Series struct {
	cfg  Config
	buf  []float64 // ring of the last cfg.Window + cfg.RefitEvery buckets, grown as they arrive
	n    int       // buckets held
	head int       // index in buf of the oldest bucket
	last int64     // absolute index of the last observed bucket
	ens  *ensemble
	key  int64 // refit point the ensemble belongs to
}

// NewSeries returns an empty series. An invalid cfg is replaced field by
// field with defaults, so that NewSeries never fails; call cfg.Validate first
// to reject bad settings.
func NewSeries(cfg Config) *Series {
	d := DefaultConfig()
	if cfg.Step <= 0 || (24*time.Hour)%cfg.Step != 0 {
		cfg.Step = d.Step
	}
	if cfg.Window < 2 {
		cfg.Window = d.Window
	}
	if cfg.Horizon < 1 {
		cfg.Horizon = d.Horizon
	}
	if cfg.RefitEvery < 1 {
		cfg.RefitEvery = d.RefitEvery
	}
	if cfg.Holdout < 0 {
		cfg.Holdout = d.Holdout
	}
	if cfg.OutageRun < 2 {
		cfg.OutageRun = d.OutageRun
	}
	return &Series{cfg: cfg}
}

// Len returns the number of buckets held, missing ones included: at most
// Window + RefitEvery (the window of the last refit plus the buckets since).
func (s *Series) Len() int { return s.n }

// index returns the absolute bucket index of t, which must be aligned.
func (s *Series) index(t time.Time) (int64, error) {
	ns := t.UnixNano()
	step := int64(s.cfg.Step)
	if ns%step != 0 {
		return 0, fmt.Errorf("bucket time %s is not a multiple of %s", t.UTC().Format(time.RFC3339Nano), s.cfg.Step)
	}
	return ns / step, nil
}

// Observe appends the closed bucket starting at t with mean value v (NaN =
// missing). Buckets must arrive in increasing t; a gap of k buckets is filled
// with k missing values; a t not after the last bucket, a t not on a bucket
// boundary, and an infinite v are errors.
func (s *Series) Observe(t time.Time, v float64) error {
	if math.IsInf(v, 0) {
		return fmt.Errorf("observe %s: value is infinite", t.UTC().Format(time.RFC3339))
	}
	k, err := s.index(t)
	if err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	if s.n > 0 && k <= s.last {
		return fmt.Errorf("observe %s: not after the last bucket %s", t.UTC().Format(time.RFC3339), s.timeOf(s.last).Format(time.RFC3339))
	}
	if s.n > 0 {
		gap := k - s.last - 1
		if gap >= int64(s.cfg.Window+s.cfg.RefitEvery) {
			// Nothing held survives the gap.
			s.n, s.head, s.ens = 0, 0, nil
		} else {
			for i := int64(0); i < gap; i++ {
				s.push(math.NaN())
			}
		}
	}
	s.push(v)
	s.last = k
	return nil
}

// minGrow is the ring's first allocation, in buckets.
const minGrow = 64

// push appends one bucket to the ring. The ring grows with the data (by
// doubling, up to Window + RefitEvery buckets) instead of being allocated
// whole, so a young series holds only what it has seen. While it grows,
// head is 0 and the buckets fill buf from its start.
func (s *Series) push(v float64) {
	full := s.cfg.Window + s.cfg.RefitEvery
	if s.n == len(s.buf) && s.n < full {
		if s.n == cap(s.buf) {
			nb := make([]float64, s.n, min(full, max(minGrow, 2*cap(s.buf))))
			copy(nb, s.buf)
			s.buf = nb
		}
		s.buf = s.buf[:s.n+1]
	}
	w := len(s.buf)
	if s.n < w {
		s.buf[(s.head+s.n)%w] = v
		s.n++
	} else {
		s.buf[s.head] = v
		s.head = (s.head + 1) % w
	}
}

// timeOf returns the start time of absolute bucket k.
func (s *Series) timeOf(k int64) time.Time {
	return time.Unix(0, k*int64(s.cfg.Step)).UTC()
}

// at returns the i-th held bucket, oldest first.
func (s *Series) at(i int) float64 { return s.buf[(s.head+i)%len(s.buf)] }

// firstObserved returns the absolute index of the first bucket held from
// first on that has a value, and false if none has.
func (s *Series) firstObserved(first int64) (int64, bool) {
	for k := first; k <= s.last; k++ {
		if !math.IsNaN(s.atAbs(k)) {
			return k, true
		}
	}
	return 0, false
}

// atAbs returns the held bucket with absolute index k.
func (s *Series) atAbs(k int64) float64 { return s.at(s.n - 1 - int(s.last-k)) }

// Forecast predicts h buckets starting at the bucket after the last observed
// one. It refits when no model is fitted yet, when a refit point (see
// Series) has passed since the last refit or when h exceeds the calibrated
// horizon; otherwise it advances the fitted models over the new buckets
// only. It fails only when h < 1 or when no bucket in the window was
// observed.
func (s *Series) Forecast(h int) ([]Point, Info, error) {
	if h < 1 {
		return nil, Info{}, fmt.Errorf("forecast: horizon %d must be at least 1", h)
	}
	if s.n == 0 {
		return nil, Info{}, ErrNoData
	}
	key := s.last - int64(mod(s.last+1+int64(s.cfg.RefitOffset), s.cfg.RefitEvery))
	first := s.last - int64(s.n) + 1
	if key < first {
		// Young: no refit point yet. Its first observed bucket stands for
		// one, so the fit does not depend on which buckets were forecast
		// before (a stage that takes the series over replays them without
		// forecasting).
		var ok bool
		if key, ok = s.firstObserved(first); !ok {
			return nil, Info{}, ErrNoData
		}
	}
	refit := s.ens == nil || s.key != key || h > len(s.ens.qs)
	if refit {
		end := key
		start := max(first, end-int64(s.cfg.Window)+1)
		y := make([]float64, end-start+1)
		for i := range y {
			y[i] = s.atAbs(start + int64(i))
		}
		s.ens, s.key = fitEnsemble(y, start, s.cfg, max(h, s.cfg.Horizon)), key
		if s.ens == nil {
			return nil, Info{}, ErrNoData
		}
	}
	for k := s.ens.next; k <= s.last; k++ {
		s.ens.step(s.atAbs(k))
	}
	yhat, b := s.ens.predict(h)
	pts := make([]Point, h)
	for i := range pts {
		pts[i] = Point{
			Time: s.timeOf(s.last + 1 + int64(i)),
			Yhat: yhat[i],
			Lo95: b[i][0], Lo80: b[i][1], Hi80: b[i][2], Hi95: b[i][3],
		}
	}
	return pts, s.info(refit), nil
}

// info describes the current ensemble.
func (s *Series) info(refit bool) Info {
	e := s.ens
	in := Info{Model: e.label(), Refit: refit, Trained: e.trained, Holdout: e.holdout,
		Weights: make(map[string]float64, len(e.models)), Errors: make(map[string]float64, len(e.names))}
	for k, m := range e.models {
		in.Weights[m.name()] = e.weights[k]
	}
	for k, nm := range e.names {
		in.Errors[nm] = e.scores[k]
	}
	return in
}
