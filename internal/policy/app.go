package policy

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// App holds all mutable policy state for one application. It is not safe
// for concurrent use; the decider calls Decide from one goroutine per app.
type App struct {
	cfg   AppConfig
	tiers []*tier
	order []int // tier indices, upstream before downstream
	index map[string]int
	last  time.Time
	seen  bool
	count []int // last known ready+booting per tier
}

// NewApp validates cfg and returns a fresh App.
func NewApp(cfg AppConfig) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("policy config: %w", err)
	}
	a := &App{cfg: cfg, index: map[string]int{}, count: make([]int, len(cfg.Tiers))}
	for i, tc := range cfg.Tiers {
		a.index[tc.Name] = i
	}
	for _, tc := range cfg.Tiers {
		a.tiers = append(a.tiers, newTier(tc, &a.cfg))
	}
	depth := func(i int) int {
		d := 0
		for n := cfg.Tiers[i].Upstream; n != ""; n = cfg.Tiers[a.index[n]].Upstream {
			d++
		}
		return d
	}
	for i := range cfg.Tiers {
		a.order = append(a.order, i)
	}
	sort.SliceStable(a.order, func(x, y int) bool { return depth(a.order[x]) < depth(a.order[y]) })
	return a, nil
}

// Config returns the configuration the App runs with.
func (a *App) Config() AppConfig { return a.cfg }

// Decide evaluates every tier at event time t (monotone non-decreasing) and
// returns one Decision per configured tier, in config order. A tier missing
// from in holds with a reason saying it had no data; a t earlier than the
// previous call holds every tier.
func (a *App) Decide(t time.Time, in map[string]TierInput) []Decision {
	out := make([]Decision, len(a.tiers))
	if a.seen && t.Before(a.last) {
		for i, tr := range a.tiers {
			out[i] = a.hold(i, tr, "tick at "+t.UTC().Format(time.RFC3339)+" is older than the previous one; ignored")
		}
		return out
	}
	a.last, a.seen = t, true
	fcs := make([]forecaster, len(a.tiers))
	// ramps[i] is the rise per tick tier i's ramp guard carried on at
	// this tick (its own or its upstream's, scaled), for the tiers behind
	// it (AppConfig.UpstreamSurges).
	ramps := make([]float64, len(a.tiers))
	for _, i := range a.order {
		tr := a.tiers[i]
		ti, ok := in[tr.cfg.Name]
		if !ok {
			out[i] = a.hold(i, tr, "no data for this tier at "+t.UTC().Format(time.RFC3339))
			continue
		}
		a.count[i] = ti.Ready + ti.Booting
		up := upstream{load: math.NaN()}
		var upFc forecaster
		if tr.cfg.Upstream != "" {
			u := a.index[tr.cfg.Upstream]
			if ui, ok := in[tr.cfg.Upstream]; ok {
				up.load, up.ramp = ui.Load, ramps[u]
			}
			upFc = fcs[u]
		}
		fcs[i] = a.forecasterFor(tr, ti.Forecast, upFc)
		out[i] = tr.decide(t, ti, up, fcs[i])
		ramps[i] = tr.ramp
	}
	a.applyBudget(out)
	return out
}

// Withdraw undoes the change Decide made for tier at t, which must be the
// tier's last change: the decision was dropped unstored (refused for
// itself), so nothing scaled, and it starts no up or down cool-down. Ticks
// decided after it that held (decided before the drop was known, as an
// outage's backlog is) stand as made; the tier's phase is as it was before
// t, or, behind such holds, as they would have left it. It reports whether
// it did: false when the tier's last change is not at t (a later change
// was decided from the count it set, or no change at t, or no such tier),
// which leaves the state as it is. It takes event times only, as Decide.
func (a *App) Withdraw(tier string, t time.Time) bool {
	i, ok := a.index[tier]
	if !ok {
		return false
	}
	return a.tiers[i].m.withdraw(t)
}

// forecasterFor combines a tier's own forecast with its upstream's forecast
// scaled by the learned ratio, taking the larger over any window.
func (a *App) forecasterFor(tr *tier, own *Forecast, up forecaster) forecaster {
	var derived forecaster
	if up != nil {
		if r, ok := tr.upRatio(); ok {
			derived = func(from, to time.Time) (float64, bool) {
				v, ok := up(from, to)
				return v * r, ok
			}
		}
	}
	if own == nil {
		return derived
	}
	return func(from, to time.Time) (float64, bool) {
		v, ok := forecastMax(own, from, to)
		if derived != nil {
			if w, ok2 := derived(from, to); ok2 && (!ok || w > v) {
				return w, true
			}
		}
		return v, ok
	}
}

func (a *App) hold(i int, tr *tier, why string) Decision {
	n := a.count[i]
	return Decision{
		Tier: tr.cfg.Name, From: n, To: n, Action: ActionHold,
		Reason: tr.cfg.Name + " holds: " + why, State: tr.m.phase.String(),
		Flags: []string{"no-data"},
	}
}
