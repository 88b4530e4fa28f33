package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimulateTrace runs the command on the trace named by
// HEADROOM_SIM_TRACE (extra flags in HEADROOM_SIM_FLAGS) and prints the
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
