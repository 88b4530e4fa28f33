package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/trace"
	"github.com/headroomhq/headroom/proto"
)

// Backtest protocol constants from DESIGN.md "Forecasts".
const (
	backtestEvery   = 6 * time.Hour
	backtestSteps   = 12
	backtestDefault = 7 * 24 * time.Hour
)

const backtestUsage = `usage: forecaster backtest --trace T.csv --out F.csv [--eval-start RFC3339] [--eval-end RFC3339] [--stage]

Runs the live forecasting code on a per-minute trace (CSV timestamp,value):
resamples it to 5-minute means, and for every 00/06/12/18 UTC origin in the
evaluation range trains a fresh series on the 4032 buckets before the origin
and forecasts 12 buckets. Writes origin,target,yhat,lo80,hi80 and prints
MASE, sMAPE, interval coverage and width, and the median fit+predict time
of the origins forecast.

Missing minutes inside a bucket are averaged over the present ones; a bucket
with none is missing, and the models skip it. In training, a run of at least
an hour of exact zeros in a series where zeros are otherwise rare is taken
for a collection outage and treated as missing too, unless it is still
going on at the origin. Every origin gets 12 rows (one per origin and
step); points whose actual bucket is missing are not scored. An origin
with no observed bucket in the 4032 before it (one before the trace
starts, as the default range of 7 days has on a shorter trace, or after an
outage of more than 14 days) has no forecast: its rows hold NaN (a missing
value to a scorer reading the CSV, as pandas reads it), and the summary
counts it apart ("no forecast"), out of every score and time. MASE leaves
out origins with less than a day and a bucket to train on (no
seasonal-naive scale); the summary says on how many points it is measured
when that is fewer than all.

With --stage the trace is streamed instead, minute by minute, through the
live forecaster's stage (forecaster.Tiers, as the service runs it: one
series per tier, incremental updates between refits on its own schedule),
and each origin is scored on the forecast the stage made when the origin's
bucket opened; an origin whose bucket has no sample gets no forecast (NaN
rows, counted as above). Same output and scores, so the two can be
compared.
`

// backtestCmd runs the forecast backtest; args exclude the word "backtest".
func backtestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backtestUsage); fs.PrintDefaults() }
	tracePath := fs.String("trace", "", "per-minute trace CSV (timestamp,value)")
	outPath := fs.String("out", "", "forecast CSV to write")
	evalStart := fs.String("eval-start", "", "start of the evaluation range (RFC 3339); default: 7 days before its end")
	evalEnd := fs.String("eval-end", "", "end of the evaluation range (RFC 3339, exclusive); default: end of the last whole bucket")
	stage := fs.Bool("stage", false, "stream the trace through the live forecaster stage instead of a fresh fit per origin")
	models := fs.String("models", "", "comma-separated models to restrict the ensemble to (default all: "+strings.Join(forecast.ModelNames(), ",")+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tracePath == "" || *outPath == "" {
		fs.Usage()
		return errors.New("backtest: --trace and --out are required")
	}
	pts, err := trace.ReadFile(*tracePath)
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	cfg := forecast.DefaultConfig()
	if *models != "" {
		cfg.Models = strings.Split(*models, ",")
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	b, err := resamplePoints(pts, cfg.Step)
	if err != nil {
		return fmt.Errorf("backtest: %s: %w", *tracePath, err)
	}
	end := b.End()
	if *evalEnd != "" {
		if end, err = time.Parse(time.RFC3339, *evalEnd); err != nil {
			return fmt.Errorf("backtest: --eval-end: %w", err)
		}
	}
	start := end.Add(-backtestDefault)
	if *evalStart != "" {
		if start, err = time.Parse(time.RFC3339, *evalStart); err != nil {
			return fmt.Errorf("backtest: --eval-start: %w", err)
		}
	}
	if !start.Before(end) {
		return fmt.Errorf("backtest: evaluation range [%s, %s) is empty", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	origins := forecast.Origins(start, end, backtestEvery, backtestSteps*cfg.Step)
	if len(origins) == 0 {
		return fmt.Errorf("backtest: no origin in [%s, %s)", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	f, err := os.Create(*outPath)
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	var res backtestResult
	if *stage {
		res, err = runStageBacktest(ctx, pts, b, cfg, origins, f, stderr)
	} else {
		res, err = runBacktest(ctx, b, cfg, origins, f, stderr)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backtest: %s: %w", *outPath, err)
	}
	printSummary(stdout, *tracePath, start, end, res)
	return nil
}

// backtestResult is what a backtest run measured.
type backtestResult struct {
	scores  forecast.Scores
	median  time.Duration
	fastest time.Duration
	used    map[string]int // origins whose ensemble included the model
	lead    map[string]int // origins where the model had the largest weight
	timed   string         // what median and fastest time
	nTimed  int            // how many times median and fastest are over
}

// runBacktest forecasts from every origin with a fresh series trained on the
// window before it, writes the CSV rows to w and scores them.
//
// It runs the live model (forecast.Series) on buckets made by the live
// bucketing rule (forecast.Resample is forecast.Bucketer), but not the
// forecaster's stage (forecaster.Tiers): the protocol trains a fresh
// series on exactly the window before each origin, where the stage keeps
// one series per tier and refits it on its own schedule between
// incremental updates. internal/forecaster's TestLiveAndOfflineBucketAlike
// checks that the stage and a series fed from Resample forecast alike.
func runBacktest(ctx context.Context, b forecast.Buckets, cfg forecast.Config, origins []time.Time, w io.Writer, stderr io.Writer) (backtestResult, error) {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("origin,target,yhat,lo80,hi80\n"); err != nil {
		return backtestResult{}, err
	}
	res := backtestResult{used: map[string]int{}, lead: map[string]int{}}
	var sc forecast.Scorer
	times := make([]time.Duration, 0, len(origins))
	day := int(24 * time.Hour / cfg.Step)
	for k, o := range origins {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		began := time.Now()
		pts, info, lo, err := forecast.FitBefore(b, cfg, o, backtestSteps)
		took := time.Since(began)
		if errors.Is(err, forecast.ErrNoData) {
			// Nothing observed in the window before this origin: no
			// forecast to score or time; its rows say so.
			sc.Miss()
			if err := writeMissing(bw, o, cfg.Step); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			return res, fmt.Errorf("origin %s: %w", o.Format(time.RFC3339), err)
		}
		times = append(times, took)
		for m := range info.Weights {
			res.used[m]++
		}
		res.lead[strings.SplitN(info.Model, "+", 2)[0]]++
		if err := writeOrigin(bw, &sc, b, day, lo, o, pts); err != nil {
			return res, err
		}
		if len(origins) >= 40 && (k+1)%20 == 0 {
			fmt.Fprintf(stderr, "backtest: %d/%d origins\n", k+1, len(origins))
		}
	}
	res.scores, res.timed = sc.Scores(), "fit+predict"
	if res.scores.Missed > 0 {
		fmt.Fprintf(stderr, "backtest: %d origin(s) had no observed bucket in the window before them; their rows hold NaN, unscored\n", res.scores.Missed)
	}
	res.setTimes(times)
	return res, bw.Flush()
}

// setTimes sets the median and fastest of times, the forecasts' own.
func (r *backtestResult) setTimes(times []time.Duration) {
	r.nTimed = len(times)
	if len(times) > 0 {
		slices.Sort(times)
		r.median, r.fastest = times[len(times)/2], times[0]
	}
}

// writeOrigin writes origin o's rows and adds them to sc
// (forecast.Scorer.ScoreOrigin, lo the first bucket trained on).
func writeOrigin(bw *bufio.Writer, sc *forecast.Scorer, b forecast.Buckets, day, lo int, o time.Time, pts []forecast.Point) error {
	for _, p := range pts {
		row := o.UTC().Format(time.RFC3339) + "," + p.Time.UTC().Format(time.RFC3339) + "," +
			num(p.Yhat) + "," + num(p.Lo80) + "," + num(p.Hi80) + "\n"
		if _, err := bw.WriteString(row); err != nil {
			return err
		}
	}
	sc.ScoreOrigin(b, day, lo, o, pts)
	return nil
}

// writeMissing writes origin o's rows without a forecast: one per step,
// its values NaN, as the output's one row per origin and step asks.
func writeMissing(bw *bufio.Writer, o time.Time, step time.Duration) error {
	for h := range backtestSteps {
		row := o.UTC().Format(time.RFC3339) + "," + o.Add(time.Duration(h)*step).UTC().Format(time.RFC3339) + ",NaN,NaN,NaN\n"
		if _, err := bw.WriteString(row); err != nil {
			return err
		}
	}
	return nil
}

// runStageBacktest streams the trace's samples, in time order, through the
// live forecaster's stage and scores, at every origin, the forecast the
// stage made when the origin's bucket opened: the live service's own
// forecasts, not a fresh fit per origin.
func runStageBacktest(ctx context.Context, pts []trace.Point, b forecast.Buckets, cfg forecast.Config, origins []time.Time, w io.Writer, stderr io.Writer) (backtestResult, error) {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("origin,target,yhat,lo80,hi80\n"); err != nil {
		return backtestResult{}, err
	}
	fc := forecaster.Config{Metric: proto.MetricRPS, Horizon: backtestSteps, Model: cfg}
	if err := fc.Validate(); err != nil {
		return backtestResult{}, err
	}
	lim := config.DefaultLimits()
	lim.IdleAfter = 0 // one tier, never idle
	st := forecaster.NewTiers(fc, lim, zerolog.Nop())
	var times []time.Duration
	st.FitTime = func(d time.Duration) { times = append(times, d) }
	made := make(map[int64]*proto.Forecast, len(origins))
	want := make(map[int64]bool, len(origins))
	for _, o := range origins {
		want[proto.Millis(o)] = true
	}
	// A trace's points are in strictly increasing time, each finite
	// (package trace), as the stage wants its ticks.
	for k, p := range pts {
		if k%100000 == 0 {
			if err := ctx.Err(); err != nil {
				return backtestResult{}, err
			}
		}
		f, _, err := st.Step(proto.NewMetrics("trace", "web", p.Time, 1, map[string]float64{proto.MetricRPS: p.Value}))
		if err != nil {
			return backtestResult{}, fmt.Errorf("sample at %s: %w", p.Time.Format(time.RFC3339), err)
		}
		if f != nil && want[f.TS] {
			made[f.TS] = f
		}
	}
	res := backtestResult{used: map[string]int{}, lead: map[string]int{}}
	var sc forecast.Scorer
	day := int(24 * time.Hour / cfg.Step)
	for _, o := range origins {
		f := made[proto.Millis(o)]
		if f == nil || len(f.Points) < backtestSteps {
			sc.Miss()
			if err := writeMissing(bw, o, cfg.Step); err != nil {
				return res, err
			}
			continue
		}
		fpts := make([]forecast.Point, backtestSteps)
		for h := range fpts {
			p := f.Points[h]
			fpts[h] = forecast.Point{Time: proto.Time(p.TS), Yhat: p.Yhat, Lo80: p.Lo80, Hi80: p.Hi80, Lo95: p.Lo95, Hi95: p.Hi95}
		}
		names := strings.Split(f.Model, "+")
		for _, m := range names {
			res.used[m]++
		}
		res.lead[names[0]]++
		if err := writeOrigin(bw, &sc, b, day, max(0, b.Index(o)-cfg.Window), o, fpts); err != nil {
			return res, err
		}
	}
	res.scores, res.timed = sc.Scores(), "forecast (update or refit)"
	if res.scores.Missed > 0 {
		fmt.Fprintf(stderr, "backtest: %d origin(s) got no model forecast from the stage (no sample in their bucket, or nothing before); their rows hold NaN, unscored\n", res.scores.Missed)
	}
	res.setTimes(times)
	return res, bw.Flush()
}

// resamplePoints turns trace samples into bucket means.
func resamplePoints(pts []trace.Point, step time.Duration) (forecast.Buckets, error) {
	ts := make([]time.Time, len(pts))
	vs := make([]float64, len(pts))
	for i, p := range pts {
		ts[i], vs[i] = p.Time, p.Value
	}
	return forecast.Resample(ts, vs, step)
}

// num formats a value for the CSV: shortest exact decimal, no exponent.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// printSummary writes the scores as a small table.
func printSummary(w io.Writer, tracePath string, start, end time.Time, r backtestResult) {
	s := r.scores
	fmt.Fprintf(w, "trace %s  range [%s, %s)  origins %d", tracePath, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), s.Origins)
	if s.Missed > 0 {
		fmt.Fprintf(w, " (and %d with no forecast, NaN rows)", s.Missed)
	}
	fmt.Fprintf(w, "  points %d", s.Points)
	if s.MASEPoints < s.Points {
		fmt.Fprintf(w, " (MASE on %d)", s.MASEPoints)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-8s %-8s %-8s %-8s %-10s %s\n", "MASE", "sMAPE%", "cov80%", "cov95%", "width80", "median "+r.timed)
	fmt.Fprintf(w, "%-8.3f %-8.2f %-8.1f %-8.1f %-10.4g %.3f ms (fastest %.3f ms)\n",
		s.MASE, s.SMAPE, 100*s.Coverage80, 100*s.Coverage95, s.Width80,
		float64(r.median.Nanoseconds())/1e6, float64(r.fastest.Nanoseconds())/1e6)
	fmt.Fprint(w, "cov80% by step:")
	for _, c := range s.StepCoverage80 {
		fmt.Fprintf(w, " %.0f", 100*c)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "models (origins in the ensemble / origins as heaviest):")
	for _, m := range forecast.ModelNames() {
		if r.used[m] > 0 {
			fmt.Fprintf(w, " %s %d/%d", m, r.used[m], r.lead[m])
		}
	}
	fmt.Fprintln(w)
}
