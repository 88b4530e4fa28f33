package forecast

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"
)

// checkPoints fails unless every point is finite, ordered
// lo95 <= lo80 <= yhat <= hi80 <= hi95, and stamped one step apart from
// first.
func checkPoints(t *testing.T, pts []Point, first time.Time, step time.Duration) {
	t.Helper()
	for i, p := range pts {
		for _, v := range []float64{p.Yhat, p.Lo80, p.Hi80, p.Lo95, p.Hi95} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("step %d: non-finite value in %+v", i, p)
			}
		}
		if !(p.Lo95 <= p.Lo80 && p.Lo80 <= p.Yhat && p.Yhat <= p.Hi80 && p.Hi80 <= p.Hi95) {
			t.Fatalf("step %d: bounds out of order: %+v", i, p)
		}
		if want := first.Add(time.Duration(i) * step); !p.Time.Equal(want) {
			t.Fatalf("step %d: time %s, want %s", i, p.Time, want)
		}
	}
}

func TestObserveErrors(t *testing.T) {
	s := NewSeries(DefaultConfig())
	if err := s.Observe(t0, 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		t    time.Time
		v    float64
	}{
		{"same bucket", t0, 2},
		{"earlier bucket", t0.Add(-5 * time.Minute), 2},
		{"not on a boundary", t0.Add(7 * time.Minute), 2},
		{"infinite value", t0.Add(5 * time.Minute), math.Inf(1)},
	} {
		if err := s.Observe(tc.t, tc.v); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d after rejected buckets, want 1", s.Len())
	}
}

func TestObserveGapsAndWindow(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Window, cfg.RefitEvery = 10, 2 // holds 12 buckets
	s := NewSeries(cfg)
	must := func(i int, v float64) {
		t.Helper()
		if err := s.Observe(t0.Add(time.Duration(i)*cfg.Step), v); err != nil {
			t.Fatal(err)
		}
	}
	must(0, 1)
	must(4, 2) // three missing buckets in between
	if s.Len() != 5 || !math.IsNaN(s.at(1)) || s.at(4) != 2 {
		t.Fatalf("after a gap: len %d, buckets %v", s.Len(), s.buf[:5])
	}
	for i := 5; i < 25; i++ {
		must(i, float64(i))
	}
	if s.Len() != 12 || s.at(0) != 13 || s.at(11) != 24 {
		t.Fatalf("rolling window: len %d, oldest %v, newest %v", s.Len(), s.at(0), s.at(11))
	}
	must(100, 7) // a gap longer than the window empties it
	if s.Len() != 1 || s.at(0) != 7 {
		t.Fatalf("after a long gap: len %d, oldest %v", s.Len(), s.at(0))
	}
}

func TestForecastShortHistory(t *testing.T) {
	cfg := DefaultConfig()
	for _, n := range []int{1, 2, 5, 30, 200, 400, 700, 2000} {
		y := busy.values(n)
		s := mustFeed(t, cfg, y)
		pts, info, err := s.Forecast(12)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		checkPoints(t, pts, t0.Add(time.Duration(n)*cfg.Step), cfg.Step)
		if info.Trained > n || info.Trained < n-cfg.RefitEvery || info.Model == "" {
			t.Errorf("n=%d: info %+v", n, info)
		}
		if n == 1 && math.Abs(pts[0].Yhat-y[0]) > 1e-9*math.Abs(y[0]) {
			t.Errorf("one bucket: yhat %v, want the value %v", pts[0].Yhat, y[0])
		}
		if n <= 30 && pts[11].Hi80-pts[11].Lo80 <= pts[0].Hi80-pts[0].Lo80 {
			t.Errorf("n=%d: interval does not widen with the horizon: %+v %+v", n, pts[0], pts[11])
		}
	}
}

func TestForecastNoData(t *testing.T) {
	s := NewSeries(DefaultConfig())
	if _, _, err := s.Forecast(12); !errors.Is(err, ErrNoData) {
		t.Errorf("empty series: err = %v, want ErrNoData", err)
	}
	if err := s.Observe(t0, math.NaN()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Forecast(12); !errors.Is(err, ErrNoData) {
		t.Errorf("only missing buckets: err = %v, want ErrNoData", err)
	}
	if err := s.Observe(t0.Add(5*time.Minute), 3); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Forecast(0); err == nil {
		t.Error("horizon 0: want an error")
	}
}

func TestRefitSchedule(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(cfg.Window + 40)
	s := mustFeed(t, cfg, y[:cfg.Window])
	_, info, err := s.Forecast(12)
	if err != nil || !info.Refit {
		t.Fatalf("first forecast: refit %v, err %v", info.Refit, err)
	}
	for i := cfg.Window; i < cfg.Window+cfg.RefitEvery; i++ {
		if err := s.Observe(t0.Add(time.Duration(i)*cfg.Step), y[i]); err != nil {
			t.Fatal(err)
		}
		pts, info, err := s.Forecast(12)
		if err != nil {
			t.Fatal(err)
		}
		checkPoints(t, pts, t0.Add(time.Duration(i+1)*cfg.Step), cfg.Step)
		if wantRefit := i+1-cfg.Window >= cfg.RefitEvery; info.Refit != wantRefit {
			t.Fatalf("bucket %d: refit %v, want %v", i, info.Refit, wantRefit)
		}
	}
	// A longer horizon than calibrated forces a refit.
	if _, info, _ := s.Forecast(2 * cfg.Horizon); !info.Refit {
		t.Error("longer horizon: want a refit")
	}
	// An offset moves the refit points.
	cfg.RefitOffset = 5
	s = mustFeed(t, cfg, y[:cfg.Window])
	refits := 0
	for i := cfg.Window; i < cfg.Window+cfg.RefitEvery; i++ {
		if err := s.Observe(t0.Add(time.Duration(i)*cfg.Step), y[i]); err != nil {
			t.Fatal(err)
		}
		_, info, err := s.Forecast(12)
		if err != nil {
			t.Fatal(err)
		}
		if info.Refit {
			refits++
			if i > cfg.Window && (i+1+cfg.RefitOffset)%cfg.RefitEvery != 0 {
				t.Errorf("offset %d: refit after bucket %d", cfg.RefitOffset, i)
			}
		}
	}
	if refits != 2 { // the first forecast and one refit point
		t.Errorf("offset %d: %d refits over one period, want 2", cfg.RefitOffset, refits)
	}
}

func TestDeterminism(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(cfg.Window)
	y[100], y[2000] = math.NaN(), 5*y[2000]
	var first []Point
	for run := 0; run < 3; run++ {
		s := mustFeed(t, cfg, y)
		pts, _, err := s.Forecast(24)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = pts
		} else if !reflect.DeepEqual(first, pts) {
			t.Fatalf("run %d differs:\n%+v\n%+v", run, first[0], pts[0])
		}
	}
}

// TestRestartDeterminism checks that forecasts depend only on the data: a
// series created late and fed only the last Window + RefitEvery buckets
// forecasts exactly like one that has run all along, at every phase of the
// refit schedule.
func TestRestartDeterminism(t *testing.T) {
	cfg := DefaultConfig()
	pre := cfg.Window + cfg.RefitEvery
	y := busy.values(pre + 3*cfg.RefitEvery)
	long := mustFeed(t, cfg, y[:pre])
	if _, _, err := long.Forecast(12); err != nil {
		t.Fatal(err)
	}
	for i := pre; i < len(y); i++ {
		if err := long.Observe(t0.Add(time.Duration(i)*cfg.Step), y[i]); err != nil {
			t.Fatal(err)
		}
		want, _, err := long.Forecast(12)
		if err != nil {
			t.Fatal(err)
		}
		if (i+1)%5 != 0 {
			continue // restart at a few phases only, to stay fast
		}
		fresh := NewSeries(cfg)
		for j := i + 1 - cfg.Window - cfg.RefitEvery; j <= i; j++ {
			if err := fresh.Observe(t0.Add(time.Duration(j)*cfg.Step), y[j]); err != nil {
				t.Fatal(err)
			}
		}
		got, _, err := fresh.Forecast(12)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("bucket %d: restarted series differs:\n%+v\n%+v", i, got[0], want[0])
		}
	}
}

// TestMemoryPerSeries checks the live budget of 64 KB per series with a
// full window and a fitted ensemble.
func TestMemoryPerSeries(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(cfg.Window)
	const n = 20
	series := make([]*Series, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range series {
		series[i] = mustFeed(t, cfg, y)
		if _, _, err := series[i].Forecast(12); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes per live series", per)
	if per > 64<<10 {
		t.Errorf("%d bytes per series, budget 65536", per)
	}
	runtime.KeepAlive(series)
}

// TestOtherSteps runs a full window with 1-minute and 1-hour buckets: the
// day length, the regression's block size and its changepoint cap all
// follow the step.
func TestOtherSteps(t *testing.T) {
	for _, step := range []time.Duration{time.Minute, time.Hour} {
		cfg := DefaultConfig()
		cfg.Step = step
		day := int(24 * time.Hour / step)
		cfg.Holdout = 3 * day
		s := NewSeries(cfg)
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < cfg.Window; i++ {
			v := 100 + 40*math.Sin(2*math.Pi*float64(i%day)/float64(day))
			if err := s.Observe(start.Add(time.Duration(i)*step), v); err != nil {
				t.Fatal(err)
			}
		}
		pts, info, err := s.Forecast(12)
		if err != nil {
			t.Fatalf("step %s: %v", step, err)
		}
		checkPoints(t, pts, start.Add(time.Duration(cfg.Window)*step), step)
		for h, p := range pts {
			want := 100 + 40*math.Sin(2*math.Pi*float64((cfg.Window+h)%day)/float64(day))
			if math.Abs(p.Yhat-want) > 2 {
				t.Errorf("step %s, h=%d: yhat %.2f, want %.2f (%s)", step, h, p.Yhat, want, info.Model)
				break
			}
		}
	}
}

// TestLongerHorizonKeepsFirstSteps checks that asking for more steps does
// not change the first Horizon ones.
func TestLongerHorizonKeepsFirstSteps(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(cfg.Window)
	short, _, err := mustFeed(t, cfg, y).Forecast(cfg.Horizon)
	if err != nil {
		t.Fatal(err)
	}
	long, _, err := mustFeed(t, cfg, y).Forecast(3 * cfg.Horizon)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(short, long[:cfg.Horizon]) {
		t.Errorf("first steps differ:\n%+v\n%+v", short[0], long[0])
	}
}

// TestDataOnlyAtTheEnd covers a window whose older part is all missing:
// the models must pick up the recent values.
func TestDataOnlyAtTheEnd(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(cfg.Window)
	for i := 0; i < cfg.Window-30; i++ {
		y[i] = math.NaN()
	}
	s := mustFeed(t, cfg, y)
	pts, _, err := s.Forecast(12)
	if err != nil {
		t.Fatal(err)
	}
	checkPoints(t, pts, t0.Add(time.Duration(cfg.Window)*cfg.Step), cfg.Step)
	if last := y[len(y)-1]; math.Abs(pts[0].Yhat-last) > 0.2*last {
		t.Errorf("yhat %v far from the last value %v", pts[0].Yhat, last)
	}
}

// TestYoungSeriesDeterminism checks that a series too young to have passed
// a refit point forecasts from its data alone too: one asked for a forecast
// after every bucket and one asked only after the last (a stage that took
// the series over and replayed its history) agree at every bucket, before
// the first refit point and after it, at every phase of the refit clock,
// with missing values and skipped buckets, and when a gap longer than the
// series holds makes it young again.
func TestYoungSeriesDeterminism(t *testing.T) {
	cfg := DefaultConfig()
	n := 3 * cfg.RefitEvery
	restart := cfg.Window + cfg.RefitEvery + 3 // buckets skipped before the second life
	tests := []struct {
		name    string
		missing []int // buckets observed as NaN
		skipped []int // buckets never observed
		life2   bool  // the last n/2 buckets come after a gap that empties the series
	}{
		{name: "whole"},
		{name: "missing and skipped buckets", missing: []int{2, 3, 7}, skipped: []int{4, 5, 13}},
		{name: "first buckets missing", missing: []int{0, 1}},
		{name: "young again after a long gap", life2: true},
	}
	for _, tt := range tests {
		for off := range cfg.RefitEvery {
			cfg.RefitOffset = off
			y := busy.values(n)
			for _, i := range tt.missing {
				y[i] = math.NaN()
			}
			var at []time.Time
			var vals []float64
			for i := range n {
				if slices.Contains(tt.skipped, i) {
					continue
				}
				k := i
				if tt.life2 && i >= n/2 {
					k += restart
				}
				at, vals = append(at, t0.Add(time.Duration(k)*cfg.Step)), append(vals, y[i])
			}
			live := NewSeries(cfg)
			for i := range at {
				if err := live.Observe(at[i], vals[i]); err != nil {
					t.Fatal(err)
				}
				want, _, wantErr := live.Forecast(12)
				if wantErr != nil && !errors.Is(wantErr, ErrNoData) {
					t.Fatal(wantErr)
				}
				replayed := NewSeries(cfg)
				for j := 0; j <= i; j++ {
					if err := replayed.Observe(at[j], vals[j]); err != nil {
						t.Fatal(err)
					}
				}
				got, _, err := replayed.Forecast(12)
				if !errors.Is(err, wantErr) {
					t.Fatalf("%s, offset %d, observation %d: error %v, want %v", tt.name, off, i, err, wantErr)
				}
				if wantErr == nil && !reflect.DeepEqual(got, want) {
					t.Fatalf("%s, offset %d, observation %d: a series forecast only now differs from one forecast at every bucket:\n%+v\n%+v", tt.name, off, i, got[0], want[0])
				}
			}
		}
	}
}

// TestLongerForecastDoesNotChangeTheFit checks that a forecast over more
// than Horizon steps leaves no trace in the forecasts after it. The
// forecaster asks for Horizon plus the missing buckets when ticks skip
// buckets; a stage that took the series over replayed those buckets
// without forecasting and fits at Horizon. Both must agree at the next
// bucket, for series young enough that their holdout is only a few
// horizons long (the fallback threshold) and gaps that pass no refit point.
func TestLongerForecastDoesNotChangeTheFit(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(140)
	for _, gap := range []int{1, 2, 4} {
		for n := 90; n < 130; n++ {
			live := NewSeries(cfg)
			for i := range n {
				if err := live.Observe(t0.Add(time.Duration(i)*cfg.Step), y[i]); err != nil {
					t.Fatal(err)
				}
				if i < n-2*cfg.RefitEvery {
					continue
				}
				h := cfg.Horizon
				if i == n-1 {
					h += gap // the next tick skips gap buckets
				}
				if _, _, err := live.Forecast(h); err != nil {
					t.Fatal(err)
				}
			}
			replayed := mustFeed(t, cfg, y[:n])
			at := t0.Add(time.Duration(n+gap) * cfg.Step)
			for _, s := range []*Series{live, replayed} {
				if err := s.Observe(at, y[n+gap]); err != nil {
					t.Fatal(err)
				}
			}
			want, _, err := live.Forecast(cfg.Horizon)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := replayed.Forecast(cfg.Horizon)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("gap %d after %d buckets: the series that forecast %d steps first differs from one that did not:\n%+v\n%+v",
					gap, n, cfg.Horizon+gap, want[0], got[0])
			}
		}
	}
}

// TestYoungIntervalsHaveWidth checks that a series whose holdout is only a
// few horizons long still forecasts intervals of some width: a holdout too
// short to calibrate them falls back to the level model's intervals rather
// than leaving them at zero.
func TestYoungIntervalsHaveWidth(t *testing.T) {
	cfg := DefaultConfig()
	y := busy.values(200)
	for n := 2; n <= len(y); n++ {
		pts, info, err := mustFeed(t, cfg, y[:n]).Forecast(cfg.Horizon)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pts {
			if !(p.Hi95 > p.Lo95) {
				t.Fatalf("%d buckets (model %s, holdout %d): step %d's 95 %% interval is [%g, %g]", n, info.Model, info.Holdout, i, p.Lo95, p.Hi95)
			}
		}
	}
}
