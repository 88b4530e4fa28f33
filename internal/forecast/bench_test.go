package forecast

import (
	"testing"
	"time"
)

// BenchmarkFit measures a full refit and a 12-step forecast on 14 days of
// 5-minute buckets, the backtest's fit+predict.
func BenchmarkFit(b *testing.B) {
	cfg := DefaultConfig()
	y := busy.values(cfg.Window)
	s := mustFeed(b, cfg, y)
	b.ReportAllocs()
	for b.Loop() {
		s.ens = nil
		if _, _, err := s.Forecast(12); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate measures the live path between refits: one new bucket and
// a 12-step forecast that only advances the fitted models.
func BenchmarkUpdate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.RefitEvery = 1 << 30
	// The last bucket fed is the refit point, so the fit is on the whole
	// window (a series without one fits on its first bucket) and no other
	// refit follows.
	last := t0.UnixNano()/int64(cfg.Step) + int64(cfg.Window) - 1
	cfg.RefitOffset = cfg.RefitEvery - int((last+1)%int64(cfg.RefitEvery))
	y := busy.values(cfg.Window + 1<<16)
	s := mustFeed(b, cfg, y[:cfg.Window])
	if _, _, err := s.Forecast(12); err != nil {
		b.Fatal(err)
	}
	i := cfg.Window
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Observe(t0.Add(time.Duration(i)*cfg.Step), y[i%len(y)]); err != nil {
			b.Fatal(err)
		}
		i++
		if _, info, err := s.Forecast(12); err != nil || info.Refit {
			b.Fatal(err, info.Refit)
		}
	}
}

// BenchmarkPredict measures a 12-step forecast with nothing new to absorb.
func BenchmarkPredict(b *testing.B) {
	cfg := DefaultConfig()
	s := mustFeed(b, cfg, busy.values(cfg.Window))
	if _, _, err := s.Forecast(12); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Forecast(12); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkYoungSeries measures a new series' first two refit periods,
// each bucket observed and forecast, from an empty series: its young phase
// (one fit on its first bucket, stepped) and its first refit (the op is
// the whole run).
func BenchmarkYoungSeries(b *testing.B) {
	cfg := DefaultConfig()
	y := busy.values(2 * cfg.RefitEvery)
	b.ReportAllocs()
	for b.Loop() {
		s := NewSeries(cfg)
		for i, v := range y {
			if err := s.Observe(t0.Add(time.Duration(i)*cfg.Step), v); err != nil {
				b.Fatal(err)
			}
			if _, _, err := s.Forecast(cfg.Horizon); err != nil {
				b.Fatal(err)
			}
		}
	}
}
