package main

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/anomaly"
	"github.com/headroomhq/headroom/internal/trace"
)

// FuzzReadNABFile feeds the nab command's three readers: a data file
// (readNABSeries), the label windows (nabWindows) and a settings object
// (decodeSettings). A refusal must say why. An accepted data file must
// keep, per row, timestamp and value text that parse to its time and
// value, and write back (writeNABRows) to a file that reads the same; rows
// stay in file order, as real NAB files step back at clock changes. Accepted
// windows must each end no earlier than they start. Accepted settings must
// re-encode to settings that decode the same.
func FuzzReadNABFile(f *testing.F) {
	f.Add([]byte("timestamp,value\n2014-04-01 00:00:00,50.000\n2014-04-01 00:05:00,51.250\n2014-04-01 00:05:00,49.5\n2014-04-01 00:10:00,110.0\n"),
		[]byte(`{"cat/f.csv": [["2014-04-01 00:05:00.000000", "2014-04-01 00:10:00.000000"]]}`), []byte(`{"Holdoff":100}`))
	f.Add([]byte("timestamp,value\n2014-04-01T00:00:00Z,1\n"), []byte(`{"cat/f.csv": []}`), []byte(`{"Holdof":100}`))
	f.Add([]byte("timestamp\n"), []byte(`{"other.csv": [["a"]]}`), []byte(`{"Holdoff":100} {}`))
	f.Add([]byte("timestamp,value\n2014-04-01 00:00:00,NaN\n"), []byte(`[]`), []byte(`{"Nope":1}`))
	f.Fuzz(func(t *testing.T, data, windows, settings []byte) {
		s, err := readNABSeries(bytes.NewReader(data), "f.csv")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("data refused with an empty error")
			}
			s = &nabSeries{stamps: []string{"2014-04-01 00:00:00"}, texts: []string{"1"}, values: []float64{1}}
			s.times = []time.Time{time.Date(2014, 4, 1, 0, 0, 0, 0, time.UTC)}
		} else {
			checkNABSeries(t, s)
		}
		s.rel, s.scores = "cat/f.csv", s.values
		files, err := nabWindows(windows, "windows.json", []*nabSeries{s})
		switch {
		case err != nil && err.Error() == "":
			t.Fatal("windows refused with an empty error")
		case err == nil:
			if len(files) != 1 || len(files[0].Times) != len(s.times) {
				t.Fatalf("%d files for one series", len(files))
			}
			for i, w := range files[0].Windows {
				if w.End.Before(w.Start) {
					t.Fatalf("window %d ends at %v before it starts at %v", i, w.End, w.Start)
				}
			}
		}
		cfg := anomaly.DefaultConfig()
		if err := decodeSettings(settings, &cfg); err != nil {
			if err.Error() == "" {
				t.Fatal("settings refused with an empty error")
			}
			return
		}
		raw, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", cfg, err)
		}
		again := anomaly.DefaultConfig()
		if err := decodeSettings(raw, &again); err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("settings %s do not round-trip: %v\n%+v\n%+v", raw, err, cfg, again)
		}
	})
}

// checkNABSeries checks an accepted series row by row, then writes it as a
// result file and reads that back.
func checkNABSeries(t *testing.T, s *nabSeries) {
	t.Helper()
	n := len(s.times)
	if n == 0 || len(s.stamps) != n || len(s.texts) != n || len(s.values) != n {
		t.Fatalf("series of %d times, %d stamps, %d texts, %d values", n, len(s.stamps), len(s.texts), len(s.values))
	}
	for i := range n {
		ts, err := trace.ParseTime(s.stamps[i])
		if err != nil || !ts.Equal(s.times[i]) {
			t.Fatalf("row %d: stamp %q gives %v, %v; kept %v", i, s.stamps[i], ts, err, s.times[i])
		}
		v, err := strconv.ParseFloat(s.texts[i], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v != s.values[i] {
			t.Fatalf("row %d: text %q gives %v, %v; kept %v", i, s.texts[i], v, err, s.values[i])
		}
	}
	s.scores = s.values
	var out bytes.Buffer
	if err := writeNABRows(&out, s); err != nil {
		t.Fatal(err)
	}
	back, err := readNABSeries(&out, "result.csv")
	if err != nil {
		t.Fatalf("result of %q does not read back: %v", s.stamps, err)
	}
	if !reflect.DeepEqual(back.stamps, s.stamps) || !reflect.DeepEqual(back.texts, s.texts) || !reflect.DeepEqual(back.values, s.values) {
		t.Fatalf("result reads back differently:\n%q %q\n%q %q", s.stamps, s.texts, back.stamps, back.texts)
	}
	for i := range n {
		if !back.times[i].Equal(s.times[i]) {
			t.Fatalf("row %d: time %v reads back as %v", i, s.times[i], back.times[i])
		}
	}
}
