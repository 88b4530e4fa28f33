package anomaly

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSynthCorpusShape(t *testing.T) {
	a := SynthCorpus(7, 3)
	if len(a) != 4*4 {
		t.Fatalf("got %d series, want 16", len(a))
	}
	if !reflect.DeepEqual(a, SynthCorpus(7, 3)) {
		t.Fatal("same seed gave a different corpus")
	}
	names := map[string]bool{}
	for _, s := range a {
		if names[s.Name] {
			t.Errorf("duplicate name %s", s.Name)
		}
		names[s.Name] = true
		if len(s.Times) != len(s.Values) || len(s.Times) < 500 {
			t.Errorf("%s: %d times, %d values", s.Name, len(s.Times), len(s.Values))
		}
		for i := 1; i < len(s.Times); i++ {
			if !s.Times[i].After(s.Times[i-1]) {
				t.Fatalf("%s: time %d not after %d", s.Name, i, i-1)
			}
		}
		for _, w := range s.Windows {
			if w[1].Before(w[0]) || w[0].Before(s.Times[0]) || w[1].After(s.Times[len(s.Times)-1]) {
				t.Errorf("%s: window %v outside the series", s.Name, w)
			}
		}
	}
}

// TestSynthPhase checks SynthOptions.Phase: each file starts at its own
// day of the first week and time of day (whole hours for the hourly
// family), the same for the same seed and different for another; only the
// clock moves (every file keeps its steps between readings); and without
// it every file starts at synthStart (the irregular sensors one jittered
// step later).
func TestSynthPhase(t *testing.T) {
	plain := SynthCorpus(7, 3)
	phased := mustSynth(t, 7, 3, SynthOptions{Phase: true})
	if !reflect.DeepEqual(phased, mustSynth(t, 7, 3, SynthOptions{Phase: true})) {
		t.Fatal("same seed gave a different phased corpus")
	}
	other := mustSynth(t, 8, 3, SynthOptions{Phase: true})
	starts, moved := map[time.Duration]bool{}, 0
	for i, s := range phased {
		p := plain[i]
		if p.Name != s.Name || len(p.Times) != len(s.Times) {
			t.Fatalf("%s: %d rows with the phase, %s %d without", s.Name, len(s.Times), p.Name, len(p.Times))
		}
		if d := p.Times[0].Sub(synthStart); d < 0 || d >= time.Hour || (d > 0 && !strings.HasPrefix(p.Name, FamilyIrregular)) {
			t.Errorf("%s starts at %v without the phase, want %v", p.Name, p.Times[0], synthStart)
		}
		off := s.Times[0].Sub(p.Times[0])
		if off < 0 || off >= 7*24*time.Hour || off%(5*time.Minute) != 0 {
			t.Errorf("%s: phase %v, want whole 5-minute steps within a week", s.Name, off)
		}
		if strings.HasPrefix(s.Name, FamilyHourly) && s.Times[0].Minute() != 0 {
			t.Errorf("%s starts at %v, want a whole hour", s.Name, s.Times[0])
		}
		for j := range s.Times {
			if s.Times[j].Sub(p.Times[j]) != off {
				t.Fatalf("%s row %d: moved by %v, the first row by %v", s.Name, j, s.Times[j].Sub(p.Times[j]), off)
			}
		}
		starts[off] = true
		if other[i].Times[0] != s.Times[0] {
			moved++
		}
	}
	if len(starts) < len(phased)-2 || moved < len(phased)-2 {
		t.Errorf("%d distinct phases in %d files, %d moved by another seed", len(starts), len(phased), moved)
	}
}

// TestSynthFamiliesAreFound runs the detector over the synthetic corpus,
// as generated from Monday 00:00 and with each file's own start phase, and
// checks that at least three in four planted windows hold an alarm (with
// seed 3 at AlarmLevel 0.37: 22 of 24 from Monday, 21 phased; 12
// from Monday before the count scale and the stuck detector).
func TestSynthFamiliesAreFound(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    SynthOptions
	}{{"monday", SynthOptions{}}, {"phased", SynthOptions{Phase: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			found, total := 0, 0
			for _, s := range mustSynth(t, 3, 3, tc.o) {
				d := NewDetector(DefaultConfig())
				scores := make([]float64, len(s.Values))
				for i, v := range s.Values {
					scores[i] = d.Observe(s.Times[i], v).Value
				}
				for _, w := range s.Windows {
					total++
					in := 0.0
					for i, t := range s.Times {
						if i < len(s.Times)*15/100 {
							continue
						}
						if !t.Before(w[0]) && !t.After(w[1]) {
							in = max(in, scores[i])
						}
					}
					if in >= DefaultConfig().AlarmLevel {
						found++
					}
				}
			}
			if found*4 < total*3 {
				t.Errorf("alarms in %d of %d planted windows, want at least 75 %%", found, total)
			}
			t.Logf("alarms in %d of %d planted windows", found, total)
		})
	}
}

// TestCountsScale checks that a series of non-negative integers is scored
// on the square-root scale while reporting values in its own units, and
// that a series with fractions is not.
func TestCountsScale(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cnt := NewDetector(DefaultConfig())
	flt := NewDetector(DefaultConfig())
	var last Score
	for i := range 3000 {
		ts := synthStart.Add(time.Duration(i) * 5 * time.Minute)
		v := poisson(r, 20)
		last = cnt.Observe(ts, v)
		flt.Observe(ts, v+0.5)
	}
	if !cnt.counts || flt.counts {
		t.Fatalf("counts mode: integer series %v, fractional series %v; want true, false", cnt.counts, flt.counts)
	}
	if last.Expected < 15 || last.Expected > 25 {
		t.Errorf("expected %.2f, want about 20 in the series' own units", last.Expected)
	}
	// A burst of 80 on a rate of 20 is an anomaly.
	s := cnt.Observe(synthStart.Add(3000*5*time.Minute), 80)
	if !s.Anomaly || s.Direction != 1 {
		t.Errorf("burst score %+v, want an upward anomaly", s)
	}
}

// BenchmarkObserveSynth streams the synthetic corpus (counts on the
// square-root scale, hourly, irregular steps with gaps, level shifts)
// through fresh detectors: the cost per observation off the happy path.
func BenchmarkObserveSynth(b *testing.B) {
	corpus := SynthCorpus(1, 2)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		for _, s := range corpus {
			d := NewDetector(DefaultConfig())
			for i, v := range s.Values {
				d.Observe(s.Times[i], v)
			}
			n += len(s.Values)
			if n >= b.N {
				break
			}
		}
	}
}

// TestStuckRun checks that a counter that falls silent (a run of zeros on
// a busy count series) is flagged while it lasts, by the stuck detector.
func TestStuckRun(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	d := NewDetector(DefaultConfig())
	i := 0
	for ; i < 3000; i++ {
		d.Observe(synthStart.Add(time.Duration(i)*5*time.Minute), poisson(r, 30))
	}
	var got Score
	for k := 0; k < 30 && !got.Anomaly; k++ {
		got = d.Observe(synthStart.Add(time.Duration(i+k)*5*time.Minute), 0)
	}
	if !got.Anomaly {
		t.Fatalf("silent counter not flagged: last score %+v", got)
	}
	t.Logf("flagged by %s at score %.2f", got.Detector, got.Value)
}

// TestStuckSensor checks that a sensor whose readings never repeat and
// then freeze at an ordinary value is flagged by the stuck detector while
// the residual stays small.
func TestStuckSensor(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	d := NewDetector(DefaultConfig())
	i := 0
	for ; i < 3000; i++ {
		d.Observe(synthStart.Add(time.Duration(i)*5*time.Minute), 50+5*r.NormFloat64())
	}
	for k := 0; k < 60; k++ {
		s := d.Observe(synthStart.Add(time.Duration(i+k)*5*time.Minute), 50)
		if s.Anomaly {
			if s.Detector != DetectorStuck {
				t.Errorf("flagged by %s, want %s: %+v", s.Detector, DetectorStuck, s)
			}
			t.Logf("flagged after %d repeats at score %.2f", k, s.Value)
			return
		}
	}
	t.Error("stuck sensor not flagged within 60 readings")
}

// TestFlatLineQuiet checks that a series that never moves raises nothing:
// its one long run began before the warm-up ended.
func TestFlatLineQuiet(t *testing.T) {
	d := NewDetector(DefaultConfig())
	for i := range 5000 {
		if s := d.Observe(synthStart.Add(time.Duration(i)*5*time.Minute), 12.5); s.Anomaly {
			t.Fatalf("flat line alarmed at %d: %+v", i, s)
		}
	}
}
