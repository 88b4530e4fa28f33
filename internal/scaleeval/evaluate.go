package scaleeval

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/proto"
)

// Options moves the policy's operating point and the evaluation's contract.
type Options struct {
	// AppConfig holds the policy's app-wide settings (its guards, the
	// forecast weight, the skill selector, the outage hold), read from
	// policy.DefaultAppConfig by DefaultOptions so the simulation runs
	// what the live decider runs. Its Tiers are not used: Policy and
	// TiersConfig build the tiers from the operating point below.
	policy.AppConfig
	// Capacity is C; 0 means max(trace)/20.
	Capacity float64
	// Target is the web tier's target utilisation.
	Target float64
	// Quantile is the upper quantile of the lead-window peak provisioned for.
	Quantile float64
	// Stabilization is how long wants must stay lower before a scale-down.
	Stabilization time.Duration
	// CooldownUp and CooldownDown are the policy's cool-downs.
	CooldownUp, CooldownDown time.Duration
	// MaxStep caps the replicas one decision may add or remove (0: none).
	MaxStep int
	// Horizon is the forecast horizon in buckets; 0 runs without forecasts.
	Horizon int
	// Warmup is the number of leading minutes not scored.
	Warmup int
	// HPA also runs the HPA curve, static peak provisioning and the oracle
	// as baselines.
	HPA bool
	// Curve lists further quantiles to run the policy at, each scored on
	// its own row, to draw our cost/quality curve.
	Curve []float64
}

// DefaultOptions returns the operating point `decider simulate` uses:
// provision for the p95 of the lead-window peak at full capacity (the
// contract's C is the whole capacity, so the quantile is the headroom),
// scale down after 15 minutes of lower wants, weight the forecast 0.25
// against the recent level in the base at a 3-minute lead (more at longer
// leads, policy.AppConfig.ForecastWeightLead), carry on ramps that rise
// beyond 3 typical one-minute changes (the ramp guard) for at most 3
// minutes past the tick (policy.AppConfig.RampLead) and hand them to the
// tiers behind (policy.AppConfig.UpstreamSurges), lift the base to a
// load that jumped beyond 3 typical changes and calibrate such ticks apart
// (the jump guard), expect again a rise seen at this time of day on the
// last two days (the seasonal guard) or at this minute of the hour in a
// third of the last 24 hours (the hour-phase guard), keep the replicas for up to 6 hours
// while the load flat-lines near nothing (the outage hold), and pick each
// tier's operating point by realised skill against the HPA rule among the
// p90, p95 and p98 and a 15- or 3-minute scale-down window (the skill
// selector, policy.AppConfig.SkillQuantiles). The settings were compared
// over the trace suite and checked by leave-one-family-out (SuiteGrid,
// `decider simulate --suite DIR --cv`).
func DefaultOptions() Options {
	// The app-wide settings are the policy's own defaults, read from
	// there so the simulation runs what the live decider runs; only the
	// tier's operating point and the evaluation's settings are its own.
	return Options{
		AppConfig:     policy.DefaultAppConfig(),
		Target:        1,
		Quantile:      0.95,
		Stabilization: 15 * time.Minute,
		Horizon:       12,
		Warmup:        1440,
		HPA:           true,
	}
}

// Policy returns the single-tier policy configuration the simulation runs
// for capacity c and boot delay boot: o's app-wide settings with one tier,
// the policy's default tier at o's operating point.
func (o Options) Policy(c float64, boot time.Duration) policy.AppConfig {
	app := o.AppConfig
	web := policy.DefaultAppConfig().Tiers[0]
	web.Capacity = c
	web.Target, web.Quantile = o.Target, o.Quantile
	web.LeadTime = boot
	web.ScaleDownStabilization = o.Stabilization
	web.CooldownUp, web.CooldownDown, web.MaxStep = o.CooldownUp, o.CooldownDown, o.MaxStep
	web.Min, web.Max = 1, 200
	app.Tiers = []policy.TierConfig{web}
	return app
}

// Report is the outcome of an evaluation.
type Report struct {
	// Setup is the contract the runs used.
	Setup Setup
	// Ours is the policy's run.
	Ours Run
	// Score is the policy's score.
	Score Row
	// Curve holds the policy's score at each of Options.Curve.
	Curve []Row
	// HPA is the baseline curve over HPATargets.
	HPA Curve
	// MaxHold is the reactive "max of the last 30 minutes, held 30 minutes"
	// baseline.
	MaxHold Row
	// Static is peak provisioning all along.
	Static Row
	// Oracle is the cheapest schedule that serves everything.
	Oracle Row
	// HPAUnder and HPAUnserved are HPA's curve interpolated at our cost.
	HPAUnder, HPAUnserved float64
	// Inside says our cost lay within the range of HPA's curve.
	Inside bool
}

// checkMinutes checks that a trace's times are whole minutes, each after
// the one before: the evaluation decides one tick a minute, and the decider
// joins a tick at the multiple of its tick nearest its time, so a row at a
// minute and a half, or two rows in one minute, would be decided at another
// time than its own, or not at all. It names the first row at fault
// (counting from 1). RecordTape, where every evaluation's times enter,
// calls it.
func checkMinutes(times []time.Time) error {
	for i, t := range times {
		if !t.Equal(t.Truncate(time.Minute)) {
			return fmt.Errorf("data row %d: time %s is not a whole minute (the evaluation decides one tick a minute)", i+1, t.Format(time.RFC3339Nano))
		}
		if i > 0 && !t.After(times[i-1]) {
			return fmt.Errorf("data row %d: time %s is not after data row %d's", i+1, t.Format(time.RFC3339), i)
		}
	}
	return nil
}

// Evaluate runs the live policy (and, with o.HPA, the baselines) over the
// trace and scores everything.
func Evaluate(ctx context.Context, times []time.Time, demand []float64, o Options) (*Report, error) {
	s := DefaultSetup(demand)
	if o.Capacity > 0 {
		s.Capacity = o.Capacity
	}
	s.Warmup = o.Warmup
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	if len(demand) <= s.Warmup {
		return nil, fmt.Errorf("trace has %d minutes, none after the %d-minute warm-up", len(demand), s.Warmup)
	}
	tape, err := RecordTape(DefaultStages(o.Horizon), o.Tier(), times, demand)
	if err != nil {
		return nil, err
	}
	oc := OracleCost(demand, s)
	run, sc, err := RunPolicy(times, demand, s, o, tape, oc)
	if err != nil {
		return nil, err
	}
	rep := &Report{Setup: s, Ours: run, Score: Row{Name: "headroom", Score: sc}}
	for _, q := range o.Curve {
		oq := o
		oq.Quantile = q
		_, sq, err := RunPolicy(times, demand, s, oq, tape, oc)
		if err != nil {
			return nil, err
		}
		rep.Curve = append(rep.Curve, Row{Name: fmt.Sprintf("headroom@p%g", q*100), Score: sq})
	}
	if !o.HPA {
		return rep, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rep.HPA, err = RunHPACurve(times, demand, s, HPATargets(), oc); err != nil {
		return nil, err
	}
	peak := 0
	for _, d := range demand {
		peak = max(peak, needed(d, s.Capacity))
	}
	st, err := Simulate(times, demand, s, Static(peak))
	if err != nil {
		return nil, err
	}
	rep.Static = Row{Name: fmt.Sprintf("static-peak(%d)", s.clamp(peak)), Score: ScoreRun(demand, st, s, oc)}
	mh, err := Simulate(times, demand, s, NewMaxHold(30, 30, s.Capacity))
	if err != nil {
		return nil, err
	}
	rep.MaxHold = Row{Name: "max30+hold30", Score: ScoreRun(demand, mh, s, oc)}
	or := Oracle(demand, s)
	orRun := Run{Desired: or, Ready: make([]int, len(or)), Booting: make([]int, len(or))}
	for i := range or {
		// Ready is what serves: enough for the minute's demand.
		orRun.Ready[i] = min(or[i], s.clamp(needed(demand[i], s.Capacity)))
		orRun.Booting[i] = or[i] - orRun.Ready[i]
	}
	rep.Oracle = Row{Name: "oracle", Score: ScoreRun(demand, orRun, s, oc)}
	rep.HPAUnder, rep.HPAUnserved, rep.Inside = rep.HPA.At(rep.Score.CostRatio)
	return rep, nil
}

// Tier is the name of the simulation's one tier.
func (o Options) Tier() string { return policy.DefaultAppConfig().Tiers[0].Name }

// RunPolicy simulates the live decider's stage, deciding by the policy
// configured by o, on the forecasts and anomaly messages of tape (made by
// the live stages, RecordTape) and scores it against oracleCost.
func RunPolicy(times []time.Time, demand []float64, s Setup, o Options, tape *Tape, oracleCost float64) (Run, Score, error) {
	run, err := SimulateStage(times, demand, s, o, tape, nil)
	if err != nil {
		return Run{}, Score{}, err
	}
	return run, ScoreRun(demand, run, s, oracleCost), nil
}

// SimulateStage runs the decider's stage as the controller of Simulate and
// hands every decision it makes to onDecision (when not nil).
func SimulateStage(times []time.Time, demand []float64, s Setup, o Options, tape *Tape, onDecision func(*proto.Decision)) (Run, error) {
	ds, err := DefaultStages(o.Horizon).NewDeciderStage(o.Policy(s.Capacity, s.BootDelay), []*Tape{tape})
	if err != nil {
		return Run{}, fmt.Errorf("policy: %w", err)
	}
	ds.OnDecision = onDecision
	run, err := Simulate(times, demand, s, ds)
	if err != nil {
		return Run{}, fmt.Errorf("policy: %w", err)
	}
	return run, nil
}

// Print writes the comparison table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "capacity C = %.4g per replica, boot %s, %d scored minutes\n\n", r.Setup.Capacity, r.Setup.BootDelay, r.Score.Minutes)
	fmt.Fprintf(w, "%-18s %10s %10s %10s\n", "controller", "under %", "unserved %", "cost/oracle")
	line := func(x Row) {
		fmt.Fprintf(w, "%-18s %10.3f %10.4f %10.3f\n", x.Name, x.UnderPct, x.UnservedPct, x.CostRatio)
	}
	line(r.Score)
	for _, x := range r.Curve {
		line(x)
	}
	if len(r.HPA) == 0 {
		return
	}
	for k, x := range r.HPA {
		if k%hpaListEvery == 0 {
			line(x)
		}
	}
	line(r.MaxHold)
	line(r.Static)
	line(r.Oracle)
	note := ""
	if !r.Inside {
		note = " (outside HPA's cost range: nearest end)"
	}
	fmt.Fprintf(w, "\nHPA at our cost %.3f%s: under %.3f %%, unserved %.4f %%\n", r.Score.CostRatio, note, r.HPAUnder, r.HPAUnserved)
	fmt.Fprintf(w, "ours / HPA at equal cost: under %s, unserved %s (target <= 0.25); cost/oracle %.3f (target <= 2)\n",
		ratio(r.Score.UnderPct, r.HPAUnder), ratio(r.Score.UnservedPct, r.HPAUnserved), r.Score.CostRatio)
	for _, x := range r.Curve {
		u, us, in := r.HPA.At(x.CostRatio)
		note := ""
		if !in {
			note = " (outside HPA's cost range)"
		}
		fmt.Fprintf(w, "%s / HPA at equal cost %.3f: under %s, unserved %s%s\n", x.Name, x.CostRatio, ratio(x.UnderPct, u), ratio(x.UnservedPct, us), note)
	}
}

func ratio(a, b float64) string {
	if b <= 0 || math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", a/b)
}
