package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/forecast"
	"github.com/headroomhq/headroom/internal/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// readCSV returns the rows of a CSV file, header included.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// TestBacktestGolden runs the backtest on 20 days of the NASA trace (with
// the splice of 07-28 and the 38-hour outage of 07-29/30 inside the default
// evaluation range) and compares the forecasts with the stored ones. Values
// are compared with a small relative tolerance so that a platform that
// fuses multiply-adds differently still passes; run with -update to
// rewrite the golden file after an intended change.
func TestBacktestGolden(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.csv")
	var stdout, stderr bytes.Buffer
	err := backtestCmd(context.Background(), []string{"--trace", "testdata/nasa_slice.csv", "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	t.Log("\n" + stdout.String())
	golden := "testdata/nasa_slice.golden.csv"
	if *update {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, want := readCSV(t, out), readCSV(t, golden)
	if strings.Join(got[0], ",") != "origin,target,yhat,lo80,hi80" {
		t.Fatalf("header %v", got[0])
	}
	// 28 origins (00/06/12/18 UTC over 7 days), 12 steps each.
	if len(got) != 1+28*12 || len(got) != len(want) {
		t.Fatalf("got %d rows, golden %d, want %d", len(got), len(want), 1+28*12)
	}
	for i := 1; i < len(got); i++ {
		g, w := got[i], want[i]
		if g[0] != w[0] || g[1] != w[1] {
			t.Fatalf("row %d: %v, golden %v", i, g[:2], w[:2])
		}
		o, _ := time.Parse(time.RFC3339, g[0])
		tg, _ := time.Parse(time.RFC3339, g[1])
		if step := tg.Sub(o) / (5 * time.Minute); step != time.Duration((i-1)%12) {
			t.Fatalf("row %d: target %s is step %d of origin %s", i, g[1], step, g[0])
		}
		for j := 2; j < 5; j++ {
			a, err1 := strconv.ParseFloat(g[j], 64)
			b, err2 := strconv.ParseFloat(w[j], 64)
			if err1 != nil || err2 != nil || math.Abs(a-b) > 1e-6*math.Max(1, math.Abs(b)) {
				t.Fatalf("row %d col %d: %s, golden %s", i, j, g[j], w[j])
			}
		}
	}
}

func TestBacktestFlags(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "f.csv")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no trace", []string{"--out", out}, "required"},
		{"missing file", []string{"--trace", filepath.Join(dir, "none.csv"), "--out", out}, "none.csv"},
		{"bad start", []string{"--trace", "testdata/nasa_slice.csv", "--out", out, "--eval-start", "yesterday"}, "eval-start"},
		{"empty range", []string{"--trace", "testdata/nasa_slice.csv", "--out", out, "--eval-start", "1995-08-01T00:00:00Z", "--eval-end", "1995-08-01T00:30:00Z"}, "no origin"},
		{"unknown model", []string{"--trace", "testdata/nasa_slice.csv", "--out", out, "--models", "arima"}, "unknown model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := backtestCmd(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBacktestTrace runs the backtest on the trace named by FORECAST_TRACE
// (for evaluation on full traces, which are not in the repository); it is
// skipped otherwise. FORECAST_OUT, FORECAST_EVAL_START, FORECAST_EVAL_END
// and FORECAST_MODELS map to the command's flags.
func TestBacktestTrace(t *testing.T) {
	path := os.Getenv("FORECAST_TRACE")
	if path == "" {
		t.Skip("FORECAST_TRACE not set")
	}
	out := filepath.Join(t.TempDir(), "f.csv")
	if o := os.Getenv("FORECAST_OUT"); o != "" {
		out = o
	}
	var stdout, stderr bytes.Buffer
	args := []string{"--trace", path, "--out", out}
	for env, flag := range map[string]string{"FORECAST_EVAL_START": "--eval-start", "FORECAST_EVAL_END": "--eval-end", "FORECAST_MODELS": "--models"} {
		if s := os.Getenv(env); s != "" {
			args = append(args, flag, s)
		}
	}
	if err := backtestCmd(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	t.Log("\n" + stdout.String())
}

// TestBacktestStage runs the backtest through the live forecaster's stage
// on the same slice: every origin gets its 12 rows, every origin whose
// bucket has samples is forecast by a model, and the stage's forecasts
// beat the seasonal-naive forecast (MASE below 1), as the fresh fits do.
func TestBacktestStage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.csv")
	var stdout, stderr bytes.Buffer
	if err := backtestCmd(context.Background(), []string{"--trace", "testdata/nasa_slice.csv", "--out", out, "--stage"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	t.Log("\n" + stdout.String())
	rows := readCSV(t, out)
	fresh := readCSV(t, "testdata/nasa_slice.golden.csv")
	if len(rows) != len(fresh) {
		t.Fatalf("%d rows through the stage, %d from fresh fits", len(rows), len(fresh))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i][0] != fresh[i][0] || rows[i][1] != fresh[i][1] {
			t.Fatalf("row %d is origin %s target %s, want %s %s", i, rows[i][0], rows[i][1], fresh[i][0], fresh[i][1])
		}
	}
	var mase float64
	lines := strings.Split(stdout.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "MASE") && i+1 < len(lines) {
			f := strings.Fields(lines[i+1])
			var err error
			if mase, err = strconv.ParseFloat(f[0], 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !(mase > 0 && mase < 1) {
		t.Fatalf("MASE %v through the stage, want in (0, 1)", mase)
	}
}

// writeSynthTrace writes a per-minute trace of a daily cycle to a file in
// dir: a minute for every span of spans, each [from, to) in days after
// 2024-01-01 UTC, and nothing between them.
func writeSynthTrace(t *testing.T, dir string, spans [][2]float64) string {
	t.Helper()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var sb strings.Builder
	sb.WriteString("timestamp,value\n")
	for _, sp := range spans {
		for m := int(sp[0] * 1440); m < int(sp[1]*1440); m++ {
			v := 100 + 40*math.Sin(2*math.Pi*float64(m)/1440) + float64(m%7)
			sb.WriteString(t0.Add(time.Duration(m)*time.Minute).Format(time.RFC3339) + "," + strconv.FormatFloat(v, 'f', 3, 64) + "\n")
		}
	}
	path := filepath.Join(dir, "synth.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBacktestNoForecastNaNRows: an origin in the evaluation range with no
// observed bucket in the 14 days before it (before a trace shorter than the
// default 7-day range starts, or after an outage longer than the training
// window) has no forecast. It keeps its 12 rows (one per origin and step),
// each value NaN, a missing value to a scorer; the summary counts it apart
// and scores it nowhere; every other row holds finite numbers. Fresh fits
// and the stage alike.
func TestBacktestNoForecastNaNRows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spans [][2]float64
		// forecast and missed origins of the fresh fits (the stage's
		// may differ; their sum is the 28 origins of 7 days).
		forecast, missed int
	}{
		// Default range [12-27, 01-03): the origins up to 01-01 00:00
		// have nothing before them.
		{"two days", [][2]float64{{0, 2}}, 7, 21},
		// Range [01-12 12:00, 01-19 12:00); from 01-16 00:00 to 01-18
		// 00:00 the 14 days before an origin hold nothing.
		{"16-day outage", [][2]float64{{0, 1}, {17, 18.5}}, 19, 9},
		{"whole week", [][2]float64{{0, 9}}, 28, 0},
	} {
		for _, stage := range []bool{false, true} {
			name := tc.name
			if stage {
				name += "/stage"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				out := filepath.Join(dir, "f.csv")
				args := []string{"--trace", writeSynthTrace(t, dir, tc.spans), "--out", out}
				if stage {
					args = append(args, "--stage")
				}
				var stdout, stderr bytes.Buffer
				if err := backtestCmd(context.Background(), args, &stdout, &stderr); err != nil {
					t.Fatalf("%v\n%s", err, stderr.String())
				}
				t.Log("\n" + stdout.String() + stderr.String())
				rows := readCSV(t, out)[1:]
				nanRows := 0
				for i, r := range rows {
					nan := 0
					for j := 2; j < 5; j++ {
						v, err := strconv.ParseFloat(r[j], 64)
						switch {
						case err != nil || math.IsInf(v, 0):
							t.Fatalf("row %d (origin %s target %s) column %d is %q, want a finite number or NaN", i+1, r[0], r[1], j, r[j])
						case math.IsNaN(v):
							nan++
						}
					}
					switch nan {
					case 0:
					case 3:
						nanRows++
					default:
						t.Fatalf("row %d (origin %s target %s) %v: some values NaN, not all", i+1, r[0], r[1], r)
					}
				}
				var origins, missed int
				first := strings.SplitN(stdout.String(), "\n", 2)[0]
				if _, err := fmt.Sscanf(first[strings.Index(first, "origins "):], "origins %d", &origins); err != nil {
					t.Fatalf("summary %q: %v", first, err)
				}
				if k := strings.Index(first, "(and "); k >= 0 {
					if _, err := fmt.Sscanf(first[k:], "(and %d with no forecast", &missed); err != nil {
						t.Fatalf("summary %q: %v", first, err)
					}
				}
				if len(rows) != 12*28 || origins+missed != 28 || nanRows != 12*missed {
					t.Fatalf("%d rows (%d NaN), %d origins forecast and %d not, want 12 rows for each of 28 origins, NaN those of the origins not forecast", len(rows), nanRows, origins, missed)
				}
				if !stage && (origins != tc.forecast || missed != tc.missed) {
					t.Errorf("%d origins forecast and %d not, want %d and %d", origins, missed, tc.forecast, tc.missed)
				}
			})
		}
	}
}

// TestBacktestTimesForecastsOnly: the median and fastest fit+predict times
// are over the origins forecast. An origin with nothing before it costs
// next to nothing, and on a trace shorter than the range most origins are
// such: timing them too reported 0.002 ms as the median fit+predict of the
// first 5,000 minutes of ClarkNet, where its 13 fits take 0.137 ms.
func TestBacktestTimesForecastsOnly(t *testing.T) {
	pts, err := trace.ReadFile(writeSynthTrace(t, t.TempDir(), [][2]float64{{0, 2}}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := forecast.DefaultConfig()
	b, err := resamplePoints(pts, cfg.Step)
	if err != nil {
		t.Fatal(err)
	}
	origins := forecast.Origins(b.End().Add(-backtestDefault), b.End(), backtestEvery, backtestSteps*cfg.Step)
	res, err := runBacktest(context.Background(), b, cfg, origins, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.scores.Missed == 0 || res.nTimed != res.scores.Origins {
		t.Fatalf("%d times for %d origins forecast (%d without a forecast), want one per origin forecast", res.nTimed, res.scores.Origins, res.scores.Missed)
	}
}
