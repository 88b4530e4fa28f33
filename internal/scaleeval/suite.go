package scaleeval

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"
)

// Prepared is a trace with everything that does not depend on the policy's
// settings computed once: the contract, the forecast tape, the oracle's cost
// and HPA's curve.
type Prepared struct {
	Trace
	// Setup is the contract the trace is scored under.
	Setup Setup
	// Tape holds the forecaster's and anomaly service's outputs at each
	// minute.
	Tape *Tape
	// OracleCost is the oracle's replica-minutes over the scored minutes.
	OracleCost float64
	// HPA is the baseline curve over HPATargets.
	HPA Curve
}

// Prepare records the forecasts and runs the HPA curve for tr under the
// DESIGN contract (C = max/20 unless o.Capacity, 3-minute boot, o.Warmup).
func Prepare(ctx context.Context, tr Trace, o Options) (*Prepared, error) {
	s := DefaultSetup(tr.Demand)
	if o.Capacity > 0 {
		s.Capacity = o.Capacity
	}
	s.Warmup = o.Warmup
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: setup: %w", tr.Name, err)
	}
	if len(tr.Demand) <= s.Warmup {
		return nil, fmt.Errorf("%s: %d minutes, none after the %d-minute warm-up", tr.Name, len(tr.Demand), s.Warmup)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tape, err := RecordTape(DefaultStages(o.Horizon), o.Tier(), tr.Times, tr.Demand)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tr.Name, err)
	}
	p := &Prepared{Trace: tr, Setup: s, Tape: tape, OracleCost: OracleCost(tr.Demand, s)}
	if p.HPA, err = RunHPACurve(tr.Times, tr.Demand, s, HPATargets(), p.OracleCost); err != nil {
		return nil, fmt.Errorf("%s: %w", tr.Name, err)
	}
	return p, nil
}

// Result is one trace's (or tier's) policy point placed against HPA's curve
// at equal cost.
type Result struct {
	// Name labels the trace or tier.
	Name string
	// Family groups rows of one kind; cross-validation leaves a whole
	// family out ("" counts as a family of its own row).
	Family string
	// Ours is the policy's score.
	Ours Score
	// HPAUnder and HPAUnserved are HPA's curve interpolated at our cost.
	HPAUnder, HPAUnserved float64
	// Inside says our cost lay within the range of HPA's curve.
	Inside bool
	// Goal is the trace's goal ratio (0 means 1).
	Goal float64
}

func (r Result) goal() float64 {
	if r.Goal > 0 {
		return r.Goal
	}
	return 1
}

// UnderRatio is our under-provisioned minutes over HPA's at equal cost
// (NaN when both are zero, +Inf when only HPA's is).
func (r Result) UnderRatio() float64 { return ratioOf(r.Ours.UnderPct, r.HPAUnder) }

// UnservedRatio is our unserved demand over HPA's at equal cost.
func (r Result) UnservedRatio() float64 { return ratioOf(r.Ours.UnservedPct, r.HPAUnserved) }

// Loses says whether the policy is worse than HPA at equal cost on either
// figure, or costs more than twice the oracle.
func (r Result) Loses() bool {
	return r.UnderRatio() > 1+1e-9 || r.UnservedRatio() > 1+1e-9 || r.Ours.CostRatio > 2
}

// Misses says whether the result misses its goal (a ratio above Goal on
// either figure, or a cost above twice the oracle's).
func (r Result) Misses() bool {
	return r.Worst() > r.goal()+1e-9 || r.Ours.CostRatio > 2
}

func ratioOf(a, b float64) float64 {
	switch {
	case b > 0:
		return a / b
	case a > 0:
		return math.Inf(1)
	default:
		return math.NaN()
	}
}

// Score runs the policy configured by o on the prepared trace.
func (p *Prepared) Score(o Options) (Result, error) {
	r, _, err := p.score(o, false)
	return r, err
}

// Rows is Score as the suite's rows: the trace's one row and, with
// split, from the same run its Breakdown (where its minutes are lost
// against HPA's). PreparedShop.Rows gives a three-tier app's the same way.
func (p *Prepared) Rows(o Options, split bool) ([]Result, []Breakdown, error) {
	r, b, err := p.score(o, split)
	if err != nil || !split {
		return []Result{r}, nil, err
	}
	return []Result{r}, []Breakdown{b}, nil
}

// score runs the policy once, places it on HPA's curve and, with split,
// breaks its minutes down.
func (p *Prepared) score(o Options, split bool) (Result, Breakdown, error) {
	log, hook := splitLog(split, p.Times)
	run, err := SimulateStage(p.Times, p.Demand, p.Setup, o, p.Tape, hook)
	if err != nil {
		return Result{}, Breakdown{}, fmt.Errorf("%s: %w", p.Name, err)
	}
	sc := ScoreRun(p.Demand, run, p.Setup, p.OracleCost)
	r := Result{Name: p.Name, Family: p.Family, Ours: sc, Goal: p.Goal}
	r.HPAUnder, r.HPAUnserved, r.Inside = p.HPA.At(sc.CostRatio)
	if !split {
		return r, Breakdown{}, nil
	}
	b, err := breakdown(p.Name, p.HPA, p.Times, p.Demand, p.Setup, run, sc.CostRatio)
	if log != nil {
		b.Points = log.spans(o.Tier())
	}
	return r, b, err
}

// PrintResults writes the suite table: per trace our point, HPA at equal
// cost and the ratios, flagging every loss. cv, when non-nil, holds the
// cross-validated result of each row (same order) printed beside it.
func PrintResults(w io.Writer, rs []Result, cv []Result) {
	fmt.Fprintf(w, "%-22s %8s %9s %8s %9s %8s %8s %7s", "trace", "under%", "hpaUnder%", "unserv%", "hpaUnsv%", "under×", "unserv×", "cost÷o")
	if cv != nil {
		fmt.Fprintf(w, " | %8s %8s %7s", "cvUnder×", "cvUnsv×", "cvCost")
	}
	fmt.Fprintln(w)
	losses := 0
	for i, r := range rs {
		flag := ""
		if r.Loses() {
			flag = "  LOSES"
			losses++
		} else if r.Misses() {
			flag = fmt.Sprintf("  MISSES GOAL %.2f", r.goal())
		}
		if !r.Inside {
			flag += " (cost outside HPA's range)"
		}
		fmt.Fprintf(w, "%-22s %8.3f %9.3f %8.4f %9.4f %8s %8s %7.3f", r.Name, r.Ours.UnderPct, r.HPAUnder, r.Ours.UnservedPct, r.HPAUnserved,
			fmtRatio(r.UnderRatio()), fmtRatio(r.UnservedRatio()), r.Ours.CostRatio)
		if cv != nil {
			c := cv[i]
			if c.Loses() {
				flag += "  CV-LOSES"
			} else if c.Misses() {
				flag += fmt.Sprintf("  CV-MISSES-GOAL %.2f", c.goal())
			}
			fmt.Fprintf(w, " | %8s %8s %7.3f", fmtRatio(c.UnderRatio()), fmtRatio(c.UnservedRatio()), c.Ours.CostRatio)
		}
		fmt.Fprintln(w, flag)
	}
	fmt.Fprintf(w, "%d of %d rows lose to HPA at equal cost (or cost > 2× oracle)\n", losses, len(rs))
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) {
		return "tie(0)"
	}
	if math.IsInf(x, 1) {
		return "inf"
	}
	return fmt.Sprintf("%.3f", x)
}

// Worst is the largest of a result's two ratios (a tie at zero counts 0).
func (r Result) Worst() float64 {
	w := 0.0
	for _, x := range []float64{r.UnderRatio(), r.UnservedRatio()} {
		if !math.IsNaN(x) {
			w = math.Max(w, x)
		}
	}
	return w
}

// minutesFrom stamps n minutes from t.
func minutesFrom(t time.Time, n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = t.Add(time.Duration(i) * time.Minute)
	}
	return ts
}
