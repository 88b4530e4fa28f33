package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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
