package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestBacktestTrace runs the backtest on the trace named by
// FORECAST_TRACE (for manual evaluation on full traces); it is skipped
// otherwise.
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
	if s := os.Getenv("FORECAST_EVAL_START"); s != "" {
		args = append(args, "--eval-start", s)
	}
	if s := os.Getenv("FORECAST_EVAL_END"); s != "" {
		args = append(args, "--eval-end", s)
	}
	if s := os.Getenv("FORECAST_MODELS"); s != "" {
		args = append(args, "--models", s)
	}
	if err := backtestCmd(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	t.Log("\n" + stdout.String())
}
