package policy

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/headroomhq/headroom/internal/hpa"
)

// tier is all mutable policy state of one tier.
type tier struct {
	cfg     TierConfig
	app     *AppConfig
	horizon time.Duration
	dem     *demand
	m       machine
	// capFit learns the capacity per replica from load versus cpu.
	capFit capacityFit
	// Learned ratio to the upstream tier's load: decayed sums.
	upOwn, upLoad float64
	upN           int
	// hold learns whether the long stabilisation window pays.
	hold holdSkill
	// guard is the HPA rule at AppConfig.HPAGuardTarget (nil when off).
	guard *hpa.Autoscaler
	// sk picks the operating point by realised skill (nil when off).
	sk *skill
	// sea remembers the last days' minute peaks (nil when off).
	sea *season
	// wk is the weekly guard's memory (AppConfig.WeeklyRises; nil on a
	// tier whose lead window is a 3-minute tier's or shorter).
	wk *weekly
	// nr follows replicas that do not become ready.
	nr notReady
	// phasePend holds the hour-phase guard's expectations waiting for
	// their lead window to pass, and phaseHit the exponentially weighted
	// share of them that the load met (AppConfig.PhasePeaks).
	phasePend []phaseExp
	phaseHit  float64
	// flat follows the load's runs of one repeated value (the outage
	// hold, AppConfig.OutageHold).
	flat flatLine
	// ramp is the rise per tick the ramp guard carried on at the last
	// tick (0 when none), handed to the tiers behind this one.
	ramp float64
}

// upstream is what a tier's upstream tier shows at the same tick: its
// load (NaN when it has none) and the rise per tick its ramp guard
// carried on, in the upstream's own units.
type upstream struct {
	load, ramp float64
}

// phaseExp is a rise the hour-phase guard expected at t: a peak of at
// least need over the tier's lead window, give or take phaseJitter.
type phaseExp struct {
	t    time.Time
	need float64
}

// phaseAlpha weights a resolved expectation in the hour-phase guard's hit
// rate, and phaseMinHit is the rate below which the guard stands aside:
// a recurring rise that stopped coming (or a rise of the past hours that
// the lead window's peak does not repeat) costs replicas for nothing.
// Every tick whose window the recurring rise reaches makes an
// expectation, and a burst jittered by a few minutes meets only some of
// them, so a guard that is right about the hour is right about fewer
// than half of its ticks: at 0.5 one hour without its burst kept it
// aside for hours after (TestPhaseGuardMeetsHourlyBurst).
const (
	phaseAlpha  = 0.1
	phaseMinHit = 0.3
)

// resolvePhase scores the hour-phase guard's expectations whose lead
// window has passed by t.
func (tr *tier) resolvePhase(t time.Time) {
	done := 0
	// The window the expectation was read from: the lead window give or
	// take the guard's jitter.
	j := time.Duration(phaseJitter) * time.Minute
	for _, p := range tr.phasePend {
		end := p.t.Add(tr.horizon + j)
		if t.Before(end) {
			break
		}
		done++
		hit := 0.0
		if peak, ok := tr.sea.peak(p.t.Add(-j), end); ok && peak >= p.need {
			hit = 1
		}
		tr.phaseHit += phaseAlpha * (hit - tr.phaseHit)
	}
	tr.phasePend = append(tr.phasePend[:0], tr.phasePend[done:]...)
}

// lowestBase is the least base the peak-to-base ratios are learned and
// applied against: the lower edge of the lowest level bin. Below it, a
// ratio tells nothing (a load of a few counts peaks at a count or two
// whatever its mean, so the ratio grows without bound as the base falls),
// and the lowest bin learns the peaks themselves, in units of that edge.
func lowestBase(capacity float64) float64 {
	return math.Ldexp(capacity, minBin)
}

// sizedBase is the base a ratio is applied to: the evaluation's base, but
// no less than the lowest level bin's edge, against which that bin's
// ratios are learned (lowestBase). The live count and every skill shadow
// size from it.
func (e evaluation) sizedBase() float64 { return math.Max(e.base, lowestBase(e.capacity)) }

// learnAlpha is the decay per tick of the online capacity and ratio sums.
const learnAlpha = 0.02

func newTier(cfg TierConfig, app *AppConfig) *tier {
	h := app.Tick + cfg.LeadTime
	keep := max(h, app.LevelWindow) + 2*app.Tick
	size := max(1, int(app.CalibrationWindow/app.Tick))
	var guard *hpa.Autoscaler
	if app.HPAGuardTarget > 0 {
		hc := hpa.DefaultConfig(app.HPAGuardTarget)
		hc.Min, hc.Max = cfg.Min, cfg.Max
		guard, _ = hpa.New(hc) // validated with the app config
	}
	var sea *season
	if app.SeasonalPeaks {
		sea = newSeason()
	}
	var wk *weekly
	if app.WeeklyRises && longLead(h) {
		wk = newWeekly(h)
		wk.fromStart = app.WeeklySchedule
	}
	return &tier{
		cfg: cfg, app: app, horizon: h, guard: guard, sk: newSkill(cfg, app, h), sea: sea, wk: wk,
		dem: newDemand(h, keep, size), phaseHit: 1,
		m: machine{
			stabilise: cfg.ScaleDownStabilization, coolUp: cfg.CooldownUp,
			coolDown: cfg.CooldownDown, maxStep: cfg.MaxStep,
		},
	}
}

// holdSkill compares, causally, what holding replicas for the full
// stabilisation window buys against holding them only for the short one:
// each tick it records the counts both windows would keep, and once the
// lead window has passed, whether the realised peak would have found each
// count short. Exponentially weighted rates of those misses and of the
// long window's extra replicas (relative to its count) decide which window
// scales down: the long one while it prevents at least HoldWorth misses
// per unit of relative extra cost, the short one otherwise.
type holdSkill struct {
	pending                    []holdRec
	missShort, missLong, extra float64
	resolved                   int
	short                      bool
}

type holdRec struct {
	t           time.Time
	short, long int
}

// holdAlpha weights a new tick in the hold skill's rates (about a day of
// one-minute ticks); holdMinTicks is how many it needs before it may
// choose the short window.
const (
	holdAlpha    = 1.0 / 1440
	holdMinTicks = 1440
)

// chooseHold updates the hold skill with the wanted count at t and sets the
// machine's window for this step.
func (tr *tier) chooseHold(t time.Time, want int, capacity float64) {
	short, long := tr.app.ShortStabilization, tr.cfg.ScaleDownStabilization
	h := &tr.hold
	if short <= 0 || short >= long {
		tr.m.window = 0
		return
	}
	per := capacity * tr.cfg.Target
	done := 0
	for _, p := range h.pending {
		end := p.t.Add(tr.horizon)
		if t.Before(end) {
			break
		}
		done++
		peak, ok := tr.dem.peak(p.t, end)
		if !ok {
			continue
		}
		need := int(math.Ceil(peak/per - 1e-9))
		b := func(x bool) float64 {
			if x {
				return 1
			}
			return 0
		}
		h.missShort += holdAlpha * (b(need > p.short) - h.missShort)
		h.missLong += holdAlpha * (b(need > p.long) - h.missLong)
		h.extra += holdAlpha * (float64(p.long-p.short)/float64(max(1, p.long)) - h.extra)
		h.resolved++
	}
	h.pending = append(h.pending[:0], h.pending[done:]...)
	h.pending = append(h.pending, holdRec{t, tr.m.maxWant(t, short, want), tr.m.maxWant(t, long, want)})
	h.short = h.resolved >= holdMinTicks && h.missShort-h.missLong < tr.app.HoldWorth*h.extra
	tr.m.window = 0
	if h.short {
		tr.m.window = short
	}
}

// capacity returns the configured or learned load per replica at 100 %.
func (tr *tier) capacity() (float64, bool) {
	if tr.cfg.Capacity > 0 {
		return tr.cfg.Capacity, true
	}
	return tr.capFit.capacity()
}

// learnCapacity folds one tick of load versus cpu utilisation into the
// capacity estimate.
func (tr *tier) learnCapacity(in TierInput) {
	if tr.cfg.Capacity > 0 || in.Values == nil || in.Ready <= 0 {
		return
	}
	cpu, ok := in.Values["cpu"]
	if !ok || math.IsNaN(cpu) || math.IsInf(cpu, 0) {
		return
	}
	if cpu > 1.5 {
		cpu /= 100
	}
	// A saturated tier says nothing about its capacity.
	if cpu <= 0 || cpu > 0.95 || in.Load < 0 {
		return
	}
	tr.capFit.add(in.Load/float64(in.Ready), cpu)
}

// learnUpstream folds one tick of this tier's load versus the upstream
// tier's load into the propagation ratio.
func (tr *tier) learnUpstream(own, up float64) {
	if up <= 0 || own < 0 {
		return
	}
	tr.upOwn = tr.upOwn*(1-learnAlpha) + own
	tr.upLoad = tr.upLoad*(1-learnAlpha) + up
	tr.upN++
}

// upRatio returns the learned ratio of this tier's load to its upstream's.
func (tr *tier) upRatio() (float64, bool) {
	if tr.upN < 5 || tr.upLoad <= 0 {
		return 0, false
	}
	return tr.upOwn / tr.upLoad, true
}

// forecaster gives the highest forecast median over a window of minutes.
type forecaster func(from, to time.Time) (float64, bool)

// evaluation is the numbers one tier's decision rests on.
type evaluation struct {
	load, level, fmax, fnow, rise, base, ratio, demand, capacity, ramp float64
	hasForecast, jump, guard, upRamp                                   bool
	ratioSource                                                        string
	floor, want, bin                                                   int
	// levelBin is the tick's level bin, whose ratios a tick in the rise
	// bin uses until that bin has enough of its own.
	levelBin                  int
	quantile, seasonal, phase float64
	// weekly is the weekly guard's expected rise when it set the floor,
	// weekBase the level it multiplied and weekBy what saw it (the
	// weeks, weekSeen, or a schedule, 1: weekly.rise).
	weekly, weekBase float64
	weekBy           int
	// react is the load the floor provisions for, and reactBy what set
	// it: "load", "ramp", "season" or "outage".
	react   float64
	reactBy string
}

// leadWeight returns the forecast weight w stretched to the tier's lead
// window (AppConfig.ForecastWeightLead): the level's share 1−w holds for a
// window of tick + ForecastWeightLead and shrinks geometrically over a
// longer one, since the recent level says less about a farther window.
func (tr *tier) leadWeight(w float64) float64 {
	ref := tr.app.Tick + tr.app.ForecastWeightLead
	if tr.app.ForecastWeightLead <= 0 || tr.horizon <= ref || w >= 1 {
		return w
	}
	return 1 - math.Pow(1-w, float64(tr.horizon)/float64(ref))
}

// leadWindow is the tier's lead window, but ending at most past after the
// tick (0: the whole window).
func (tr *tier) leadWindow(past time.Duration) time.Duration {
	if past > 0 && tr.app.Tick+past < tr.horizon {
		return tr.app.Tick + past
	}
	return tr.horizon
}

// rampWindow is how far the ramp guard carries a rise on: the lead window,
// but at most AppConfig.RampLead past the tick.
func (tr *tier) rampWindow() time.Duration { return tr.leadWindow(tr.app.RampLead) }

// learnWindow is the window over which a bin's ratios are learned: the
// lead window, but for the jump bins at most AppConfig.JumpLead past the
// tick, and for the plateau bin too on a tier whose lead window is at most
// skillMemoryWindow. On a long-lead tier (a database) a plateau tick's
// decision serves the whole lead window, as a level tick's does.
func (tr *tier) learnWindow(bin int) time.Duration {
	if bin >= jumpBin && bin != riseBin && !(bin == plateauBin && longLead(tr.horizon)) {
		return tr.leadWindow(tr.app.JumpLead)
	}
	return tr.horizon
}

// levelWindow is the span the current level averages: LevelWindow's worth
// of the load's own samples (flatLine.sample), so that a load counted in
// 5-minute buckets and held for each of its minutes averages five of its
// buckets, as a per-minute load averages five of its minutes, not one
// bucket and a minute of the one before; but no longer than the level
// window the seasonal memory reads (levelCapMinutes), unless LevelWindow
// itself is. The load incident's recent peak, dailyRise and expectedJump
// still read LevelWindow itself.
func (tr *tier) levelWindow() time.Duration {
	lw := tr.app.LevelWindow
	n := time.Duration(tr.flat.sample())
	if n <= 1 {
		return lw
	}
	most := max(lw, levelCapMinutes*time.Minute)
	if lw > most/n { // lw·n is past the cap (and may overflow)
		return most
	}
	return lw * n
}

// evaluate computes the wanted replica count at t.
func (tr *tier) evaluate(t time.Time, in TierInput, up upstream, fc forecaster, capacity float64) evaluation {
	e := evaluation{load: in.Load, capacity: capacity}
	lw := tr.levelWindow()
	tr.dem.keep = max(tr.horizon, lw) + 2*tr.app.Tick
	e.level = tr.dem.level(t, lw)
	from, to := t.Add(tr.app.Tick), t.Add(tr.horizon)
	if fc != nil {
		e.fmax, e.hasForecast = fc(from, to)
	}
	e.base = e.level
	if e.hasForecast {
		if w := tr.app.ForecastWeight; w > 0 {
			w = tr.leadWeight(w)
			// Blend the level with the forecast of the current bucket, then
			// add any rise the forecast expects over the lead window.
			now, ok := fc(t, t)
			if !ok {
				now = e.fmax
			}
			e.fnow, e.rise = now, math.Max(0, e.fmax-now)
			e.base = (1-w)*e.level + w*now + e.rise
		} else if e.fmax > e.base {
			e.base = e.fmax
		}
	}
	bin := tr.jumpGuard(in.Load, &e, capacity)
	e.levelBin = bin
	if e.jump && longLead(tr.horizon) && !tr.expectedJump(t, e.base) {
		// A fresh jump no remembered day saw coming ends the windows of
		// the level-bin ticks before it (demand.cutAt).
		tr.dem.cutAt(t, e.base, capacity)
	}
	if k := tr.app.RiseBin; k > 0 && bin < jumpBin && e.rise > k*(e.base-e.rise) && e.rise > riseSigmas*tr.dem.absDiff {
		// A forecast surge: how far its peak lands from the forecast's
		// rise is learned apart (AppConfig.RiseBin).
		bin = riseBin
	}
	e.quantile, e.bin = tr.cfg.Quantile, bin
	if tr.sk != nil {
		e.quantile = tr.sk.quantile()
	}
	e.ratio, e.ratioSource = tr.dem.binRatio(bin, e.levelBin, e.quantile, tr.app.MinCalibration, tr.app.DefaultHeadroom)
	tr.dem.record(t, e.base, bin, tr.learnWindow(bin))
	e.demand = e.sizedBase() * e.ratio
	per := capacity * tr.cfg.Target
	react := in.Load * math.Max(1, tr.app.ReactiveHeadroom)
	e.reactBy = "load"
	s := tr.dem.rampRise(tr.app.RampSigmas)
	if tr.app.UpstreamSurges && up.ramp > 0 {
		// A surge ramping at the tier in front is this tier's surge
		// too, in its own units (the learned ratio of the loads): carried
		// on over this tier's own, maybe longer, lead window.
		if r, ok := tr.upRatio(); ok && up.ramp*r > s {
			s, e.upRamp = up.ramp*r, true
		}
	}
	if s > 0 {
		e.ramp, tr.ramp = s, s
		if r := in.Load + s*float64(tr.rampWindow()/tr.app.Tick); r > react {
			react, e.reactBy = r, "ramp"
		}
	}
	if tr.sea != nil {
		// The seasonal guard: a rise that came at this time of day on
		// each remembered day is expected again.
		if r, ok := tr.sea.ratio(t, tr.horizon, lw); ok && r > 1 {
			if s := e.level * r; s > react {
				react, e.seasonal, e.reactBy = s, r, "season"
			}
		}
		if tr.app.PhasePeaks {
			// The hour-phase guard: a rise that came at this minute of
			// the hour in at least phaseSeen of the last phaseHours hours is
			// expected again (season.phase).
			// Only a rise beyond phaseSigmas typical one-tick changes
			// counts: the peak of a few noisy minutes is always a little
			// above their mean.
			// It keeps its word: each expectation is checked against the
			// peak that came, and the guard only acts while the recent
			// ones' hit rate (weighted by phaseAlpha) is at least
			// phaseMinHit.
			if r, ok := tr.sea.phase(t, tr.horizon, lw); ok && (r-1)*e.level > phaseSigmas*tr.dem.absDiff {
				tr.phasePend = append(tr.phasePend, phaseExp{t, e.level * (1 + (r-1)/2)})
				if s := e.level * r; s > react && tr.phaseHit >= phaseMinHit {
					react, e.phase, e.reactBy = s, r, "phase"
				}
			}
		}
	}
	if tr.wk != nil {
		// The weekly guard: a rise of a level bin's width that came at
		// this time of the week in each of the last two weeks is
		// expected again, unless the seasonal memory saw such a rise
		// at this time of day on any remembered day (dailyRise): a
		// daily rise (a daily sale) is the seasonal guard's, which
		// expects the smaller of two days' rises where the larger of
		// two weeks' would add to its cost.
		tr.wk.observe(t, e.level, tr.horizon, tr.dem.peak)
		lv := tr.wk.base(e.level)
		if r, by := tr.wk.rise(t, tr.app.WeeklySchedule); by > 0 && !tr.dailyRise(t) && (r-1)*lv > riseSigmas*tr.dem.absDiff {
			if s := lv * r; s > react {
				react, e.weekly, e.weekBase, e.weekBy, e.reactBy = s, r, lv, by, "week"
			}
		}
	}
	e.floor, e.react = int(math.Ceil(react/per-1e-9)), react
	e.want = max(int(math.Ceil(e.demand/per-1e-9)), e.floor)
	e.want = max(tr.cfg.Min, min(tr.cfg.Max, e.want))
	return e
}

// decide runs one tick for the tier. up is the upstream tier's current load
// (NaN when none) and fc the forecast to use (nil when none).
func (tr *tier) decide(t time.Time, in TierInput, up upstream, fc forecaster) Decision {
	current := in.Current()
	tr.nr.observe(t, in, current)
	tr.ramp = 0
	d := tr.decideCounts(t, in, current, up, fc)
	if n, waited := tr.nr.stuck(t, in, tr.stuckAfter()); n > 0 {
		// The rule for replicas that never become ready: the decision
		// stands as made from the count held (they are neither replaced
		// nor ignored), and it says so.
		d.Flags = append(d.Flags, "replicas-not-ready")
		d.Reason += tr.notReadyText(n, current, waited, d.Action)
		if d.Inputs != nil {
			d.Inputs["not_ready_stuck"] = float64(n)
		}
	}
	return d
}

// decideCounts is decide's policy proper.
func (tr *tier) decideCounts(t time.Time, in TierInput, current int, up upstream, fc forecaster) Decision {
	if math.IsNaN(in.Load) || math.IsInf(in.Load, 0) || in.Load < 0 {
		return Decision{
			Tier: tr.cfg.Name, From: current, To: current, Action: ActionHold, State: tr.m.phase.String(),
			Reason: fmt.Sprintf("%s holds %d: load %v is not a finite non-negative number", tr.cfg.Name, current, in.Load),
			Flags:  []string{FlagBadInput},
		}
	}
	perf := slices.Contains(in.Incidents, IncidentPerformance)
	loadInc := slices.Contains(in.Incidents, IncidentLoad)
	if !perf {
		// A slow tier's cpu per request is not its capacity: learning it
		// would scale up blindly on a performance incident.
		tr.learnCapacity(in)
	}
	if tr.cfg.Upstream != "" && !math.IsNaN(up.load) && !math.IsInf(up.load, 0) {
		tr.learnUpstream(in.Load, up.load)
	}
	capacity, known := tr.capacity()
	floorLoad := lowestBase(capacity)
	if !known {
		floorLoad = 1e-9
	}
	tr.dem.observe(t, in.Load, floorLoad)
	if tr.sea != nil {
		tr.sea.observe(t, in.Load)
		tr.resolvePhase(t)
	}
	tr.flat.observe(t, in.Load)
	d := Decision{Tier: tr.cfg.Name, From: current, To: current, Action: ActionHold}
	if perf {
		d.Flags = append(d.Flags, "performance-incident")
	}
	if loadInc {
		d.Flags = append(d.Flags, "load-incident")
	}
	if !known {
		tr.dem.record(t, math.Max(in.Load, floorLoad), minBin, tr.learnWindow(minBin))
		d.Flags = append(d.Flags, "capacity-unknown")
		d.State = tr.m.phase.String()
		d.Reason = tr.cfg.Name + " holds " + itoa(current) + ": capacity per replica not learned yet (needs cpu with load)"
		d.Inputs = map[string]float64{"load": in.Load, "ready": float64(in.Ready), "booting": float64(in.Booting)}
		return d
	}
	e := tr.evaluate(t, in, up, fc, capacity)
	// held says whether the outage hold keeps count replicas this tick,
	// above the floor before the hold: the load a recognised flat line,
	// within OutageHold, next to nothing for count replicas. It holds the
	// live count here and each skill shadow's own count in its wantFor
	// below, as the run pinned to the shadow's point would be held.
	floor := e.floor
	flat := tr.app.OutageHold > 0 && tr.flat.recognised() && t.Sub(tr.flat.since) < tr.app.OutageHold
	held := func(count int) bool { return flat && count > floor && outageLevel(in.Load, count, capacity) }
	if held(current) {
		// The outage hold: a load that repeats the very same value tick
		// after tick, next to nothing for the replicas held, is a feed
		// or the traffic cut off, not demand; keep what served the
		// demand until it moves again.
		e.floor, e.reactBy = current, "outage"
		e.want = max(e.want, min(tr.cfg.Max, current))
	}
	if e.ratioSource == "default" {
		d.Flags = append(d.Flags, "calibrating")
	}
	if loadInc {
		// A load incident: provision for the recent peak too, at once.
		peak, _ := tr.dem.peak(t.Add(-tr.app.LevelWindow), t)
		if urgent := int(math.Ceil(peak * e.ratio / (capacity * tr.cfg.Target))); urgent > e.want {
			e.want = max(tr.cfg.Min, min(tr.cfg.Max, urgent))
		}
	}
	if tr.guard != nil && in.Ready > 0 {
		// The HPA guard: never below what the Kubernetes rule would ask
		// for at the guard target, given the same replicas.
		g := tr.guard.Decide(t, current, in.Ready, in.Load/(float64(in.Ready)*capacity))
		if g > e.want {
			e.want, e.guard = min(g, tr.cfg.Max), true
		}
	}
	if tr.sk != nil {
		per := capacity * tr.cfg.Target
		tr.sk.step(t, in.Load, in.Ready, in.Ready+in.Booting, capacity, func(q float64, paid int) int {
			// A shadow wants what the tier could be given: within its
			// bounds, like the live count (the floor, the reactive need
			// or an outage's held count, may lie above Max). Under the
			// outage hold it keeps its own count, paid, not the live
			// tier's: the run pinned to its point holds what it pays for.
			demand := e.demand
			if q != e.quantile {
				r, _ := tr.dem.binRatio(e.bin, e.levelBin, q, tr.app.MinCalibration, tr.app.DefaultHeadroom)
				demand = e.sizedBase() * r
			}
			f := floor
			if held(paid) {
				f = paid
			}
			w := max(int(math.Ceil(demand/per-1e-9)), f)
			return max(tr.cfg.Min, min(tr.cfg.Max, w))
		})
		tr.m.window = 0
		if w := tr.sk.window(); w < tr.cfg.ScaleDownStabilization {
			tr.m.window = w
		}
	} else {
		tr.chooseHold(t, e.want, capacity)
	}
	tr.bridgeFlat(in.Load, current, capacity)
	v := tr.m.step(t, current, e.want, loadInc, perf)
	d.To, d.Action, d.State = v.to, v.action, tr.m.phase.String()
	d.Inputs = e.inputs(in, tr.cfg, v)
	if tr.m.window > 0 {
		d.Inputs["stabilisation_s"] = tr.m.window.Seconds()
	} else {
		d.Inputs["stabilisation_s"] = tr.cfg.ScaleDownStabilization.Seconds()
	}
	d.Reason = tr.reason(e, current, v, perf, loadInc)
	return d
}

func (e evaluation) inputs(in TierInput, cfg TierConfig, v verdict) map[string]float64 {
	m := map[string]float64{
		"load": e.load, "level": e.level, "base": e.base, "ratio_q": e.ratio,
		"demand_q": e.demand, "capacity": e.capacity, "target": cfg.Target,
		"quantile": e.quantile, "lead_s": cfg.LeadTime.Seconds(),
		"floor": float64(e.floor), "want": float64(e.want), "stabilised": float64(v.stabilised),
		"ready": float64(in.Ready), "booting": float64(in.Booting),
	}
	if e.hasForecast {
		m["forecast_max"] = e.fmax
	}
	if e.ramp > 0 {
		m["ramp_per_tick"] = e.ramp
	}
	if e.upRamp {
		m["upstream_ramp"] = 1
	}
	if e.jump {
		m["jump"] = 1
	}
	if e.guard {
		m["hpa_guard"] = 1
	}
	if e.seasonal > 0 {
		m["seasonal_ratio"] = e.seasonal
	}
	if e.phase > 0 {
		m["phase_ratio"] = e.phase
	}
	if e.weekly > 0 {
		m["weekly_ratio"] = e.weekly
	}
	return m
}

// dailyRise reports whether the seasonal memory saw a rise of a level
// bin's width (weekMinRise) at this time of day on any remembered day
// (one day with it is enough to call it daily), over a lead window either
// side of t, as expectedJump reads, and a bucket more ahead: the weekly
// code of t's bucket holds the rises over the lead windows of all its
// ticks, up to a bucket past t's own.
func (tr *tier) dailyRise(t time.Time) bool {
	if tr.sea == nil {
		return false
	}
	r, ok := tr.sea.rise(t.Add(-tr.horizon), 2*tr.horizon+weekBucket*time.Minute, tr.app.LevelWindow, 1440, seasonDays, 1, 0)
	return ok && r >= weekMinRise
}

// expectedJump reports whether the seasonal memory saw, on every day it
// remembers so far (at least one), a rise from the level before t to
// jumped within a lead window either side of t's time of day. Such a rise
// (a daily sale, a scheduled job) is expected again, and the level-bin
// ticks before it rightly learn it. With no day remembered, or with no
// seasonal memory, nothing is expected.
func (tr *tier) expectedJump(t time.Time, jumped float64) bool {
	if tr.sea == nil {
		return false
	}
	before := tr.dem.level(t.Add(-tr.app.Tick), tr.app.LevelWindow)
	r, ok := tr.sea.seen(t.Add(-tr.horizon), 2*tr.horizon, tr.app.LevelWindow)
	return ok && r*before >= jumped
}
