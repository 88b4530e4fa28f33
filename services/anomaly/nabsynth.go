package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
// Every file is written to a temporary name and renamed into place, so a
// run reading the folder while another rewrites it (the same seed gives the
// same bytes) never reads a part-written file; CSV files under data/ that
// the corpus does not hold (left by a larger -per-family, or an older
// generator) are removed, since the scorer reads every file there. It
// returns the data folder, the windows file and how many stale files it
// removed.
func writeSynthCorpus(dir string, seed uint64, perFamily int, so anomaly.SynthOptions) (string, string, int, error) {
	data := filepath.Join(dir, "data")
	labels := map[string][][2]string{}
	keep := map[string]bool{}
	corpus, err := anomaly.SynthCorpusWith(seed, perFamily, so)
	if err != nil {
		return "", "", 0, err
	}
	for _, s := range corpus {
		p := filepath.Join(data, filepath.FromSlash(s.Name))
		var b bytes.Buffer
		b.WriteString("timestamp,value\n")
		for i, t := range s.Times {
			b.WriteString(t.UTC().Format(nabTimeLayout))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(s.Values[i], 'f', -1, 64))
			b.WriteByte('\n')
		}
		if err := writeFileAtomic(p, b.Bytes()); err != nil {
			return "", "", 0, fmt.Errorf("synth: %w", err)
		}
		keep[p] = true
		ws := make([][2]string, 0, len(s.Windows))
		for _, win := range s.Windows {
			ws = append(ws, [2]string{win[0].UTC().Format(nabWindowLayout), win[1].UTC().Format(nabWindowLayout)})
		}
		labels[s.Name] = ws
	}
	js, err := json.MarshalIndent(labels, "", "  ")
	if err != nil {
		return "", "", 0, fmt.Errorf("synth: encode windows: %w", err)
	}
	windows := filepath.Join(dir, "labels", "combined_windows.json")
	if err := writeFileAtomic(windows, js); err != nil {
		return "", "", 0, fmt.Errorf("synth: windows: %w", err)
	}
	old, err := corpusFiles(data)
	if err != nil {
		return "", "", 0, fmt.Errorf("synth: %w", err)
	}
	removed := 0
	for _, p := range old {
		if keep[p] {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", "", removed, fmt.Errorf("synth: remove stale %s: %w", p, err)
		}
		removed++
	}
	return data, windows, removed, nil
}

// corpusFiles lists a NAB data folder's series, <data>/<category>/<file>.csv:
// the files the scorer reads, and so the ones a rewritten corpus must own.
func corpusFiles(data string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(data, "*", "*.csv"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", data, err)
	}
	return paths, nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// folder and a rename, creating the folder if needed.
func writeFileAtomic(path string, b []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create folder: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("rename into %s: %w", path, err)
	}
	return nil
}
