package scaleeval

import (
	"context"
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/internal/shop"
	"github.com/headroomhq/headroom/internal/sim"
	"github.com/headroomhq/headroom/proto"
)

// ShopLeadTimes are the boot delays of the simulated shop's tiers in the
// tier evaluation: the front's contract 3 minutes, the cache 3 and the
// database 10.
var ShopLeadTimes = map[string]time.Duration{shop.TierWeb: 3 * time.Minute, shop.TierCache: 3 * time.Minute, shop.TierDB: 10 * time.Minute}

// ShopLoads returns days of per-minute offered load of every tier of the
// simulated shop with the given seed (twice the replicas the nominal loads
// need everywhere, so each tier's load is what it would be asked to serve),
// in TierNames order.
func ShopLoads(seed int64, days int) ([]time.Time, [][]float64, error) {
	cfg := shop.DefaultConfig()
	cfg.Seed = seed
	cfg.Demand.TrendStart = synthStart
	m, err := shop.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("shop: %w", err)
	}
	n := days * dayMin
	ts := minutesFrom(synthStart, n)
	names := cfg.TierNames()
	loads := make([][]float64, len(names))
	for k := range loads {
		loads[k] = make([]float64, n)
	}
	for i, t := range ts {
		// Twice the replicas the nominal loads need: ample, and small
		// enough for the queueing formulas to stay cheap.
		for k, s := range m.Tick(t, m.InitialReplicas(t, 0.5)) {
			loads[k][i] = s.Values[shop.MetricRPS]
		}
	}
	return ts, loads, nil
}

// FrontTierLoads returns the offered load of every tier of a three-tier
// app (TierNames order: web, cache, db) whose web tier sees the given
// per-minute demand: the simulated shop's model of the given seed derives
// the back tiers' loads from it as it does from its own demand
// (shop.Model.TickWithDemand: cache operations are the web requests times
// CacheCallsPerRequest, database queries the cache's misses, with the
// shop's wandering hit ratio), every tier with twice the replicas the
// nominal loads need. The shop's own spikes and bursts are not added.
func FrontTierLoads(ts []time.Time, web []float64, seed int64) ([][]float64, error) {
	cfg := shop.DefaultConfig()
	cfg.Seed = seed
	m, err := shop.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("shop: %w", err)
	}
	names := cfg.TierNames()
	loads := make([][]float64, len(names))
	for k := range loads {
		loads[k] = make([]float64, len(web))
	}
	nominal := map[string]float64{
		shop.TierWeb:   1,
		shop.TierCache: cfg.CacheCallsPerRequest,
		shop.TierDB:    cfg.DBQueriesPerRequest * (1 - cfg.HitRatio),
	}
	ready := make(map[string]int, len(names))
	for i, t := range ts {
		for _, name := range names {
			ready[name] = m.NeededReplicas(name, web[i]*nominal[name], 0.5)
		}
		for k, s := range m.TickWithDemand(t, ready, web[i]) {
			loads[k][i] = s.Values[shop.MetricRPS]
		}
	}
	return loads, nil
}

// EvaluateShopTiers runs the three-tier policy (web → cache → db, each tier
// with its own lead time, its own forecast and its upstream's forecast
// scaled by the learned ratio) over the simulated shop and scores every
// tier against HPA run on that tier's load with the same lead time.
func EvaluateShopTiers(ctx context.Context, seed int64, days int, o Options) ([]Result, error) {
	p, err := PrepareShop(ctx, seed, days, o)
	if err != nil {
		return nil, err
	}
	return p.Score(o)
}

// PreparedShop is a three-tier app's loads (the simulated shop's, or a
// front trace's with the shop's back tiers, PrepareFrontTiers) with
// everything that does not depend on the policy's settings computed once:
// per tier the contract, the forecast tape, the oracle's cost and HPA's
// curve.
type PreparedShop struct {
	label  string // row prefix, e.g. "shop-s1"
	family string
	ts     []time.Time
	loads  [][]float64
	names  []string
	setups []Setup
	tapes  []*Tape
	curves []Curve
	oracle []float64
}

// PrepareShop builds the shop's tier loads for seed over days and
// prepares them for scoring (rows "shop-s<seed>/<tier>(<lead>)", family
// "shop").
func PrepareShop(ctx context.Context, seed int64, days int, o Options) (*PreparedShop, error) {
	ts, loads, err := ShopLoads(seed, days)
	if err != nil {
		return nil, err
	}
	return prepareTiers(ctx, fmt.Sprintf("shop-s%d", seed), "shop", ts, loads, o)
}

// PrepareFrontTiers prepares tr as the web tier of a three-tier app whose
// cache and database loads the shop's model derives from it
// (FrontTierLoads, shop seed), with the shop's lead times (ShopLeadTimes),
// for the same three-tier policy as the shop. Its rows are named
// "<trace>/<tier>(<lead>)" and belong to the trace's family, so the
// cross-validation leaves them out with it.
func PrepareFrontTiers(ctx context.Context, tr Trace, seed int64, o Options) (*PreparedShop, error) {
	loads, err := FrontTierLoads(tr.Times, tr.Demand, seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tr.Name, err)
	}
	return prepareTiers(ctx, tr.Name, tr.Family, tr.Times, loads, o)
}

func prepareTiers(ctx context.Context, label, family string, ts []time.Time, loads [][]float64, o Options) (*PreparedShop, error) {
	names := shop.DefaultConfig().TierNames()
	p := &PreparedShop{
		label: label, family: family, ts: ts, loads: loads, names: names,
		setups: make([]Setup, len(names)), tapes: make([]*Tape, len(names)),
		curves: make([]Curve, len(names)), oracle: make([]float64, len(names)),
	}
	for k, name := range names {
		s := DefaultSetup(loads[k])
		s.BootDelay, s.Warmup = ShopLeadTimes[name], o.Warmup
		p.setups[k] = s
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		if p.tapes[k], err = RecordTape(DefaultStages(o.Horizon), name, ts, loads[k]); err != nil {
			return nil, fmt.Errorf("%s %s: %w", label, name, err)
		}
		p.oracle[k] = OracleCost(loads[k], s)
		if p.curves[k], err = RunHPACurve(ts, loads[k], s, HPATargets(), p.oracle[k]); err != nil {
			return nil, fmt.Errorf("%s %s: %w", label, name, err)
		}
	}
	return p, nil
}

// Score runs the three-tier policy configured by o over the prepared app
// and places every tier against its HPA curve at equal cost.
func (p *PreparedShop) Score(o Options) ([]Result, error) {
	rs, _, err := p.score(o, false)
	return rs, err
}

// Rows is Score and, with split, from the same runs every tier's
// Breakdown: where its minutes are lost against HPA's on that tier.
func (p *PreparedShop) Rows(o Options, split bool) ([]Result, []Breakdown, error) {
	return p.score(o, split)
}

// score runs the three-tier policy once, places every tier on its HPA
// curve and, with split, breaks each tier's minutes down.
func (p *PreparedShop) score(o Options, split bool) ([]Result, []Breakdown, error) {
	log, hook := splitLog(split, p.ts)
	runs, err := p.runs(o, hook)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Result, len(p.names))
	var bs []Breakdown
	for k := range p.names {
		sc := ScoreRun(p.loads[k], runs[k], p.setups[k], p.oracle[k])
		r := Result{Name: p.rowName(k), Family: p.family, Ours: sc}
		r.HPAUnder, r.HPAUnserved, r.Inside = p.curves[k].At(sc.CostRatio)
		out[k] = r
		if split {
			b, err := breakdown(r.Name, p.curves[k], p.ts, p.loads[k], p.setups[k], runs[k], sc.CostRatio)
			if err != nil {
				return nil, nil, err
			}
			if log != nil {
				b.Points = log.spans(p.names[k])
			}
			bs = append(bs, b)
		}
	}
	return out, bs, nil
}

// Runs runs the three-tier policy configured by o over the prepared app
// and returns every tier's run, in TierNames order.
func (p *PreparedShop) Runs(o Options) ([]Run, error) {
	return p.runs(o, nil)
}

// runs is Runs handing every decision to onDecision (when not nil).
func (p *PreparedShop) runs(o Options, onDecision func(*proto.Decision)) ([]Run, error) {
	runs, err := SimulateTiers(p.ts, p.loads, p.setups, p.tapes, o.TiersConfig(p.names, p.setups), o.Horizon, onDecision)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.label, err)
	}
	return runs, nil
}

func fmtLead(d time.Duration) string { return fmt.Sprintf("%gm", d.Minutes()) }

// rowName labels tier k's row, e.g. "shop-s1/db(10m)".
func (p *PreparedShop) rowName(k int) string {
	return fmt.Sprintf("%s/%s(%s)", p.label, p.names[k], fmtLead(p.setups[k].BootDelay))
}

// TiersConfig returns the policy of an app whose tiers are names, in
// order, each behind the one before it (its Upstream), with o's settings
// and each tier's capacity and lead time from setups.
func (o Options) TiersConfig(names []string, setups []Setup) policy.AppConfig {
	app := o.Policy(setups[0].Capacity, setups[0].BootDelay)
	base := app.Tiers[0]
	app.Tiers = nil
	for k, name := range names {
		tc := base
		tc.Name, tc.Capacity, tc.LeadTime = name, setups[k].Capacity, setups[k].BootDelay
		if k > 0 {
			tc.Upstream = names[k-1]
		}
		app.Tiers = append(app.Tiers, tc)
	}
	return app
}

// SimulateTiers drives the live decider's stage, deciding by cfg, over
// every tier's simulated cluster in lockstep: one app whose tiers (those of
// the tapes, in cfg's order) are joined as the live decider joins them. It
// hands every decision to onDecision (when not nil).
func SimulateTiers(ts []time.Time, loads [][]float64, setups []Setup, tapes []*Tape, cfg policy.AppConfig, horizon int, onDecision func(*proto.Decision)) ([]Run, error) {
	st, err := DefaultStages(horizon).NewDeciderStage(cfg, tapes)
	if err != nil {
		return nil, err
	}
	st.OnDecision = onDecision
	n := len(ts)
	runs := make([]Run, len(loads))
	cls := make([]*sim.Cluster, len(loads))
	for k := range loads {
		runs[k] = Run{Desired: make([]int, n), Ready: make([]int, n), Booting: make([]int, n)}
		cls[k] = sim.NewCluster(sim.Config{BootDelay: setups[k].BootDelay}, ts[0], setups[k].clamp(needed(loads[k][0], setups[k].Capacity)))
	}
	load := make([]float64, len(loads))
	ready := make([]int, len(loads))
	for i, t := range ts {
		for k := range loads {
			r, booting := cls[k].Advance(t)
			runs[k].Ready[i], runs[k].Booting[i] = r, booting
			load[k], ready[k] = loads[k][i], r
		}
		want, err := st.Minute(i, t, load, ready)
		if err != nil {
			return nil, fmt.Errorf("minute %d: %w", i, err)
		}
		for k, w := range want {
			w = setups[k].clamp(w)
			runs[k].Desired[i] = w
			cls[k].SetDesired(t.Add(time.Minute), w)
		}
	}
	return runs, nil
}
