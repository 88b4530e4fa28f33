package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/internal/scaleeval"
	"github.com/headroomhq/headroom/internal/trace"
)

// simulateCmd runs the trace-driven scaling simulation; args exclude the word "simulate".
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tracePath := fs.String("trace", "", "demand trace CSV `timestamp,value` (req/s per minute, consecutive minutes)")
	outPath := fs.String("out", "", "decisions CSV to write (`timestamp,desired`)")
	opt := scaleeval.DefaultOptions()
	registerOptions(fs, &opt)
	noHPA := fs.Bool("no-hpa", false, "skip the HPA, static and oracle baselines")
	var sf suiteFlags
	sf.register(fs)
	fs.Func("curve", "comma-separated extra quantiles to run the policy at, e.g. 0.8,0.9,p97 (our cost/quality curve)", func(v string) error {
		for _, f := range strings.Split(v, ",") {
			q, err := policy.ParseQuantile(f)
			if err != nil {
				return err
			}
			opt.Curve = append(opt.Curve, q)
		}
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sf.dir != "" || sf.synthOnly {
		return runSuite(ctx, sf, opt, stdout, stderr)
	}
	if *tracePath == "" || *outPath == "" {
		return errors.New("simulate: --trace and --out (or --suite DIR) are required")
	}
	pts, err := trace.ReadFile(*tracePath)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	times := make([]time.Time, len(pts))
	demand := make([]float64, len(pts))
	for i, p := range pts {
		times[i], demand[i] = p.Time, p.Value
	}
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d != time.Minute {
			fmt.Fprintf(stderr, "simulate: warning: rows %d and %d are %s apart; every row is simulated as one minute\n", i, i+1, d)
			break
		}
	}
	opt.HPA = !*noHPA
	rep, err := scaleeval.Evaluate(ctx, times, demand, opt)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if err := writeDecisions(*outPath, times, rep.Ours.Desired); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	rep.Print(stdout)
	return nil
}

// registerOptions binds the policy and contract flags to opt.
func registerOptions(fs *flag.FlagSet, opt *scaleeval.Options) {
	fs.Float64Var(&opt.Capacity, "capacity", 0, "load per replica (0: max(trace)/20)")
	fs.Float64Var(&opt.Target, "target", opt.Target, "target utilisation of the policy")
	fs.Func("quantile", fmt.Sprintf("upper quantile of the lead-window peak to provision for, e.g. 0.95 or p95 (default %g)", opt.Quantile), func(v string) (err error) {
		opt.Quantile, err = policy.ParseQuantile(v)
		return err
	})
	fs.DurationVar(&opt.Stabilization, "stabilization", opt.Stabilization, "scale-down stabilisation window")
	fs.DurationVar(&opt.LevelWindow, "level-window", opt.LevelWindow, "span of the recent-level mean, counted in the load's own samples (a load counted in buckets averages as many buckets as the span has ticks, at most 30m unless the span is longer)")
	fs.DurationVar(&opt.CalibrationWindow, "calibration", opt.CalibrationWindow, "span of the peak-ratio calibration")
	fs.Float64Var(&opt.ForecastWeight, "forecast-weight", opt.ForecastWeight, "weight of the forecast against the recent level in the base (0: the larger)")
	fs.DurationVar(&opt.ForecastWeightLead, "forecast-lead", opt.ForecastWeightLead, "lead time the forecast weight is meant for; tiers with longer leads weight the forecast more (0: the same weight everywhere)")
	fs.Float64Var(&opt.RampSigmas, "ramp-sigmas", opt.RampSigmas, "ramp guard: carry on rises above this many typical one-minute changes over the lead time (0: off)")
	fs.Float64Var(&opt.JumpSigmas, "jump-sigmas", opt.JumpSigmas, "jump guard: the base is at least the current load less this many typical one-minute changes (0: off)")
	fs.Float64Var(&opt.HPAGuardTarget, "hpa-guard", opt.HPAGuardTarget, "never want fewer replicas than the HPA rule at this target (0: off)")
	fs.DurationVar(&opt.ShortStabilization, "short-stabilization", opt.ShortStabilization, "adaptive hold: scale down after this shorter window while the full one does not pay (0: off)")
	fs.Float64Var(&opt.HoldWorth, "hold-worth", opt.HoldWorth, "adaptive hold: misses the full window must prevent per unit of relative extra replicas")
	fs.Func("skill", "choose each tier's operating point by realised skill against HPA among the quantile and these quantiles, separated by commas or colons (\"off\": no)", func(v string) error {
		opt.SkillQuantiles = nil
		if v == "off" {
			return nil
		}
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ':' }) {
			q, err := policy.ParseQuantile(f)
			if err != nil {
				return err
			}
			opt.SkillQuantiles = append(opt.SkillQuantiles, q)
		}
		return nil
	})
	fs.BoolFunc("seasonal", fmt.Sprintf("seasonal guard: expect again a rise seen at this time of day on each of the last two days; false turns the hour-phase guard off too (default %v)", opt.SeasonalPeaks), func(v string) error {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		opt.SeasonalPeaks = on
		opt.PhasePeaks = opt.PhasePeaks && on
		return nil
	})
	fs.BoolVar(&opt.PhasePeaks, "phase", opt.PhasePeaks, "hour-phase guard: expect again a rise seen at this minute of the hour in at least 8 of the last 24 hours (needs --seasonal)")
	fs.BoolVar(&opt.WeeklyRises, "weekly", opt.WeeklyRises, "weekly guard on a tier with a lead longer than 3 minutes: expect again a rise of a level bin's width seen at this time of the week in each of the last two weeks")
	fs.BoolVar(&opt.WeeklySchedule, "weekly-schedule", opt.WeeklySchedule, "weekly guard: also expect a rise seen a week ago when another remembered day saw one at this time of day (more days than chance explains, and only where the last such schedule tested at that time of day came), and read rises against the level at the start of their 5-minute bucket")
	fs.DurationVar(&opt.OutageHold, "outage-hold", opt.OutageHold, "keep the replicas while the load repeats the same value (a flat line: an outage), for at most this long (0: off)")
	fs.DurationVar(&opt.RampLead, "ramp-lead", opt.RampLead, "ramp guard: carry a rise on over the lead window but no further than this past the tick (0: the whole window)")
	fs.BoolVar(&opt.UpstreamSurges, "upstream-surges", opt.UpstreamSurges, "tiers behind the front carry on their upstream's ramp too, scaled by the learned ratio of the loads")
	fs.BoolVar(&opt.JumpBin, "jump-bin", opt.JumpBin, "calibrate the ticks the jump guard lifts apart from the others")
	fs.DurationVar(&opt.JumpLead, "jump-lead", opt.JumpLead, "jump guard: learn how far a fresh jump goes on rising over the lead window but no further than this past the tick (0: the whole window)")
	fs.Float64Var(&opt.RiseBin, "rise-bin", opt.RiseBin, "calibrate apart ticks whose forecast expects a rise over the lead window beyond this share of the base (0: off)")
	fs.BoolVar(&opt.JumpFallBin, "jump-fall-bin", opt.JumpFallBin, "calibrate jumped ticks whose load fell since the tick before apart from those still rising")
	fs.Float64Var(&opt.ReactiveHeadroom, "reactive-headroom", opt.ReactiveHeadroom, "least headroom over the current load (e.g. 1.1; 0: none)")
	fs.IntVar(&opt.Horizon, "horizon", opt.Horizon, "forecast horizon in 5-minute buckets (0: no forecast)")
	fs.IntVar(&opt.Warmup, "warmup", opt.Warmup, "leading minutes simulated but not scored")
}

// writeDecisions writes one `timestamp,desired` row per trace minute.
func writeDecisions(path string, times []time.Time, desired []int) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	w := csv.NewWriter(f)
	if err := w.Write([]string{"timestamp", "desired"}); err != nil {
		return err
	}
	for i, t := range times {
		if err := w.Write([]string{t.UTC().Format(time.RFC3339), strconv.Itoa(desired[i])}); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
