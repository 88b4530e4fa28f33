package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateSimulate = flag.Bool("update-simulate", false, "rewrite the simulate golden files")

// TestSimulateGolden runs the command on three days of the NASA trace and
// compares the table and the decisions with the stored expectation. The
// golden run leaves the forecast out (--horizon 0) so that it pins the
// policy, the simulator and the baselines, not the forecaster's current
// models; TestSimulateWithForecast covers the full path.
func TestSimulateGolden(t *testing.T) {
	in := filepath.Join("testdata", "nasa_3d.csv")
	out := filepath.Join(t.TempDir(), "d.csv")
	var stdout, stderr bytes.Buffer
	if err := simulateCmd(context.Background(), []string{"--trace", in, "--out", out, "--horizon", "0"}, &stdout, &stderr); err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkDecisions(t, in, got)
	for _, g := range []struct {
		path string
		data []byte
	}{
		{filepath.Join("testdata", "nasa_3d.table.golden"), stdout.Bytes()},
		{filepath.Join("testdata", "nasa_3d.decisions.golden"), got},
	} {
		if *updateSimulate {
			if err := os.WriteFile(g.path, g.data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(g.path)
		if err != nil {
			t.Fatalf("%v (run with -update-simulate to create it)", err)
		}
		if !bytes.Equal(want, g.data) {
			t.Errorf("%s differs from this run (rerun with -update-simulate if the change is intended); got:\n%s", g.path, head(g.data, 40))
		}
	}
}

// TestSimulateWithForecast runs the full path (live forecaster included) on
// the slice and checks the contract and the comparison with HPA.
func TestSimulateWithForecast(t *testing.T) {
	in := filepath.Join("testdata", "nasa_3d.csv")
	out := filepath.Join(t.TempDir(), "d.csv")
	var stdout, stderr bytes.Buffer
	if err := simulateCmd(context.Background(), []string{"--trace", in, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkDecisions(t, in, got)
	var under, unserved, cost, hUnder, hUnserved float64
	for _, line := range strings.Split(stdout.String(), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "headroom":
			under, _ = strconv.ParseFloat(f[1], 64)
			unserved, _ = strconv.ParseFloat(f[2], 64)
			cost, _ = strconv.ParseFloat(f[3], 64)
		case strings.HasPrefix(line, "HPA at our cost"):
			fmt.Sscanf(line[strings.Index(line, "under"):], "under %f %%, unserved %f", &hUnder, &hUnserved)
		}
	}
	if cost <= 1 || cost > 2 || hUnder == 0 || under > 0.5*hUnder || unserved > 0.5*hUnserved {
		t.Fatalf("ours under %.3f unserved %.4f cost %.3f vs HPA at equal cost %.3f / %.4f\n%s", under, unserved, cost, hUnder, hUnserved, stdout.String())
	}
}

// checkDecisions asserts the output contract: a header, then one row per
// trace minute with the same timestamp and a count in 1..200.
func checkDecisions(t *testing.T, tracePath string, got []byte) {
	t.Helper()
	tr, err := os.ReadFile(tracePath)
	if err != nil {
		t.Fatal(err)
	}
	trRows, err := csv.NewReader(bytes.NewReader(tr)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(trRows) || strings.Join(rows[0], ",") != "timestamp,desired" {
		t.Fatalf("%d output rows (header %v) for %d trace rows", len(rows), rows[0], len(trRows))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i][0] != trRows[i][0] {
			t.Fatalf("row %d stamped %s, trace row %s", i, rows[i][0], trRows[i][0])
		}
		n, err := strconv.Atoi(rows[i][1])
		if err != nil || n < 1 || n > 200 {
			t.Fatalf("row %d: desired %q", i, rows[i][1])
		}
	}
}

func head(b []byte, lines int) string {
	s := strings.SplitN(string(b), "\n", lines+1)
	if len(s) > lines {
		s = s[:lines]
	}
	return strings.Join(s, "\n")
}

func TestSimulateFlags(t *testing.T) {
	cases := [][]string{
		{},
		{"--trace", "testdata/nasa_3d.csv"},
		{"--trace", "testdata/missing.csv", "--out", filepath.Join(t.TempDir(), "x.csv")},
		{"--trace", "testdata/nasa_3d.csv", "--out", filepath.Join(t.TempDir(), "x.csv"), "--quantile", "1.5"},
		{"--bogus"},
		{"--trace", "testdata/nasa_3d.csv", "--out", filepath.Join(t.TempDir(), "x.csv"), "--curve", "0.5,2"},
	}
	for _, args := range cases {
		var o, e bytes.Buffer
		if err := simulateCmd(context.Background(), args, &o, &e); err == nil {
			t.Errorf("simulate %v: no error", args)
		}
	}
}

// TestSimulateRefusesRowsOffTheMinute: a trace whose rows are not whole
// minutes, or not each after the one before, is refused, naming the row
// (the decider would join such a row at another minute than its own, or
// not decide it at all), by the single-trace and the suite commands.
func TestSimulateRefusesRowsOffTheMinute(t *testing.T) {
	rows, err := os.ReadFile("testdata/nasa_3d.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"half a minute", "1995-07-03T00:01:00Z", "1995-07-03T00:01:30Z", "data row 2: time 1995-07-03T00:01:30Z is not a whole minute"},
		{"twice a minute", "1995-07-03T00:02:00Z", "1995-07-03T00:01:00Z", "line 4: timestamp 1995-07-03T00:01:00Z is not after the previous row's"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "trace.csv")
			if err := os.WriteFile(path, bytes.Replace(rows, []byte(c.old), []byte(c.new), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"--trace", path, "--out", filepath.Join(dir, "d.csv")},
				{"--suite", dir, "--seeds", "none", "--shop-seeds", "none"},
			} {
				var o, e bytes.Buffer
				if err := simulateCmd(context.Background(), args, &o, &e); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("simulate %v: error %v, want one saying %q", args, err, c.want)
				}
			}
		})
	}
}

// TestSimulateTrace runs the command on the trace named by
// HEADROOM_SIM_TRACE (extra flags in HEADROOM_SIM_FLAGS) and logs the
// table; it is skipped when the variable is unset.
func TestSimulateTrace(t *testing.T) {
	path := os.Getenv("HEADROOM_SIM_TRACE")
	if path == "" {
		t.Skip("HEADROOM_SIM_TRACE not set")
	}
	args := []string{"--trace", path, "--out", filepath.Join(t.TempDir(), "d.csv")}
	args = append(args, strings.Fields(os.Getenv("HEADROOM_SIM_FLAGS"))...)
	var out, errb bytes.Buffer
	if err := simulateCmd(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("simulate: %v\n%s", err, errb.String())
	}
	t.Log("\n" + out.String())
}
