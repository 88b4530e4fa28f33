package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/headroomhq/headroom/internal/anomaly"
)

// Timestamp layouts of NAB data files and label windows.
const (
	nabTimeLayout   = "2006-01-02 15:04:05"
	nabWindowLayout = "2006-01-02 15:04:05.000000"
)

// writeSynthCorpus generates the synthetic dev corpus and writes it in NAB's
// layout: <dir>/data/<family>/<file>.csv and <dir>/labels/combined_windows.json.
// It returns the data folder and the windows file.
func writeSynthCorpus(dir string, seed uint64, perFamily int) (string, string, error) {
	data := filepath.Join(dir, "data")
	labels := map[string][][2]string{}
	for _, s := range anomaly.SynthCorpus(seed, perFamily) {
		p := filepath.Join(data, filepath.FromSlash(s.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", "", fmt.Errorf("synth: create folder: %w", err)
		}
		f, err := os.Create(p)
		if err != nil {
			return "", "", fmt.Errorf("synth: %w", err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprintln(w, "timestamp,value")
		for i, t := range s.Times {
			fmt.Fprintf(w, "%s,%s\n", t.UTC().Format(nabTimeLayout), strconv.FormatFloat(s.Values[i], 'f', -1, 64))
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return "", "", fmt.Errorf("synth: write %s: %w", p, err)
		}
		if err := f.Close(); err != nil {
			return "", "", fmt.Errorf("synth: close %s: %w", p, err)
		}
		ws := make([][2]string, 0, len(s.Windows))
		for _, win := range s.Windows {
			ws = append(ws, [2]string{win[0].UTC().Format(nabWindowLayout), win[1].UTC().Format(nabWindowLayout)})
		}
		labels[s.Name] = ws
	}
	js, err := json.MarshalIndent(labels, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("synth: encode windows: %w", err)
	}
	windows := filepath.Join(dir, "labels", "combined_windows.json")
	if err := os.MkdirAll(filepath.Dir(windows), 0o755); err != nil {
		return "", "", fmt.Errorf("synth: create labels folder: %w", err)
	}
	if err := os.WriteFile(windows, js, 0o644); err != nil {
		return "", "", fmt.Errorf("synth: write windows: %w", err)
	}
	return data, windows, nil
}
