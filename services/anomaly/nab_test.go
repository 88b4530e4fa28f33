package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestNABCorpus runs the real corpus when NAB_DATA points at it (a folder
// holding data/ and labels/); it is skipped otherwise.
func TestNABCorpus(t *testing.T) {
	dir := os.Getenv("NAB_DATA")
	if dir == "" {
		t.Skip("NAB_DATA not set")
	}
	var out, errb bytes.Buffer
	outDir := os.Getenv("NAB_OUT")
	if outDir == "" {
		outDir = t.TempDir()
	}
	args := []string{"-data", filepath.Join(dir, "data"), "-out", outDir, "-windows", filepath.Join(dir, "labels", "combined_windows.json")}
	if os.Getenv("NAB_PER_FILE") != "" {
		args = append(args, "-per-file")
	}
	if err := nabCmd(context.Background(), args, &out, &errb); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
}
