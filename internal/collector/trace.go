package collector

import (
	"fmt"
	"slices"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/shop"
	"github.com/headroomhq/headroom/internal/trace"
)

// newTrace builds a trace source: the file's demand column, scaled and
// optionally shifted to start at a chosen time, becomes the shop model's
// web demand, one live tick per row, at the trace's speed. The model (seeded
// as the sim would be) computes every other metric from that demand and the
// executor's replicas, so the whole pipeline runs on the recorded load. A
// negative demand refuses the file, naming the line and the value.
func (s *Service) newTrace(a config.App) (*simSource, error) {
	tab, err := trace.ReadTableFile(a.Trace.File)
	if err != nil {
		return nil, fmt.Errorf("app %s: trace: %w", a.Name, err)
	}
	col := a.Trace.Column
	if col == "" {
		col = tab.Names[0]
	}
	if !slices.Contains(tab.Names, col) {
		return nil, fmt.Errorf("app %s: trace %s has no column %q (has %v)", a.Name, a.Trace.File, col, tab.Names)
	}
	scale := a.Trace.Scale
	if scale == 0 {
		scale = 1
	}
	times := slices.Clone(tab.Times)
	if !a.Trace.Start.IsZero() {
		shift := a.Trace.Start.Sub(times[0])
		for i := range times {
			times[i] = times[i].Add(shift)
		}
	}
	demand := make([]float64, len(times))
	for i, v := range tab.Columns[col] {
		if v < 0 {
			// Demand cannot be negative: a wrong column or a broken
			// export, not something to clamp to zero unseen.
			return nil, fmt.Errorf("app %s: trace %s: line %d, column %q: demand %v is negative", a.Name, a.Trace.File, tab.Lines[i], col, v)
		}
		demand[i] = v * scale
	}
	shopCfg := shop.DefaultConfig()
	if s.cfg.Shop != nil {
		shopCfg = *s.cfg.Shop
	}
	shopCfg.App, shopCfg.Seed = a.Name, s.cfg.Seed
	model, err := shop.New(shopCfg)
	if err != nil {
		return nil, fmt.Errorf("app %s: shop model: %w", a.Name, err)
	}
	return &simSource{s: s, app: a.Name, source: "trace", model: model, tick: s.cfg.Tick, backfillTick: s.cfg.BackfillTick,
		start: times[0], speed: a.Trace.Speed, times: times, demand: demand}, nil
}
