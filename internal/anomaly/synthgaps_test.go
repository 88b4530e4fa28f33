package anomaly

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustSynth generates a corpus, failing the test on an error.
func mustSynth(t *testing.T, seed uint64, perFamily int, o SynthOptions) []SynthSeries {
	t.Helper()
	out, err := SynthCorpusWith(seed, perFamily, o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// synthDigest is a sha256 over every series' name, times, values and
// windows, in order: equal digests mean the same corpus to the byte that
// "anomaly nab -synth" writes.
func synthDigest(c []SynthSeries) string {
	h := sha256.New()
	var b [8]byte
	put := func(x uint64) {
		binary.LittleEndian.PutUint64(b[:], x)
		h.Write(b[:])
	}
	for _, s := range c {
		h.Write([]byte(s.Name))
		put(uint64(len(s.Times)))
		for i, t := range s.Times {
			put(uint64(t.Unix()))
			put(math.Float64bits(s.Values[i]))
		}
		put(uint64(len(s.Windows)))
		for _, w := range s.Windows {
			put(uint64(w[0].Unix()))
			put(uint64(w[1].Unix()))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestSynthDefaultCorpusUnchanged checks that the default corpus, plain
// and phased, is the one generated before the opt-in gaps family existed
// (digests computed with main's generator at 21691a6, per family 12), and
// that naming the four default families gives the same corpus.
func TestSynthDefaultCorpusUnchanged(t *testing.T) {
	want := map[string]string{
		"1":         "bc684d021d1978359964243105fc1b36d70344af99b6eb09b48cbf01e7d6a261",
		"5":         "4b882832d1bf81e7c0fd734078c30217163a0d7c7bc4233841eb033192b3773d",
		"17":        "f2e5e5b2d94278067322258d5e67012e6a5eb2ff4edcde98e373ef37954309a1",
		"30":        "421f318270c5cc75a2bce98e9a2660e5aac2381a8f51b1deb7c6501a5ea5b6a0",
		"1 phased":  "756622027ebbdfcdebcfbed985572a80f68a56a4a16a8d9dbf835b175fed258a",
		"5 phased":  "6f3c6972b87ac75ee6344a3a73f2570aa052b90beda7e66c81c1c1d6a57db391",
		"17 phased": "edf9c568a845988f4641360b0af3fc97ed560963dd98aec8d882c6b4c3d66622",
		"30 phased": "b1005e1e11fcef19173606469e9a467cefe9246967aafb374d00abd45aba90fc",
	}
	four := []string{FamilyCounts, FamilyHourly, FamilyIrregular, FamilyShift}
	for _, seed := range []uint64{1, 5, 17, 30} {
		for _, phase := range []bool{false, true} {
			key := fmt.Sprint(seed)
			if phase {
				key += " phased"
			}
			got := synthDigest(mustSynth(t, seed, 12, SynthOptions{Phase: phase}))
			if got != want[key] {
				t.Errorf("seed %s: digest %s, want %s", key, got, want[key])
			}
			if named := synthDigest(mustSynth(t, seed, 12, SynthOptions{Phase: phase, Families: four})); named != got {
				t.Errorf("seed %s: the four families named give digest %s, the default %s", key, named, got)
			}
		}
	}
}

// TestSynthGaps checks the opt-in gaps family: absent by default, the same
// bytes for the same seed (and the same files whether or not the default
// families come with it), outages of 1 to 7 days with no rows (steps of 25
// to 169 hours) and at least two per file, hourly steps otherwise, label
// windows on existing rows, and both kinds of outage present across the
// corpus: ones a planted anomaly follows and ones the series simply
// resumes after.
func TestSynthGaps(t *testing.T) {
	for _, s := range SynthCorpus(7, 3) {
		if strings.HasPrefix(s.Name, FamilyGaps) {
			t.Fatalf("default corpus holds %s", s.Name)
		}
	}
	if _, err := SynthCorpusWith(7, 3, SynthOptions{Families: []string{"synthNope"}}); err == nil {
		t.Error("unknown family: no error")
	}
	gaps := mustSynth(t, 7, 6, SynthOptions{Families: []string{FamilyGaps}})
	if !reflect.DeepEqual(gaps, mustSynth(t, 7, 6, SynthOptions{Families: []string{FamilyGaps}})) {
		t.Fatal("same seed gave a different gaps family")
	}
	if synthDigest(gaps) == synthDigest(mustSynth(t, 8, 6, SynthOptions{Families: []string{FamilyGaps}})) {
		t.Error("another seed gave the same gaps family")
	}
	all := mustSynth(t, 7, 6, SynthOptions{Families: SynthFamilies()})
	if len(all) != 5*7 || !reflect.DeepEqual(all[4*7:], gaps) {
		t.Fatalf("five families: %d series, the gaps family's not the same as alone", len(all))
	}
	if !reflect.DeepEqual(all[:4*7], SynthCorpus(7, 6)) {
		t.Error("with the gaps family, the default families changed")
	}
	if len(gaps) != 7 || gaps[6].Name != "synthGaps/Gaps_clean.csv" || len(gaps[6].Windows) != 0 {
		t.Fatalf("gaps family: %d series, last %s with %d windows", len(gaps), gaps[6].Name, len(gaps[6].Windows))
	}
	minGap, maxGap := 1000*time.Hour, time.Duration(0)
	for _, s := range gaps {
		rows := map[time.Time]bool{}
		outages := 0
		for i, ts := range s.Times {
			rows[ts] = true
			if i == 0 {
				continue
			}
			switch d := ts.Sub(s.Times[i-1]); {
			case d == time.Hour:
			case d >= 25*time.Hour && d <= 169*time.Hour:
				outages++
				minGap, maxGap = min(minGap, d), max(maxGap, d)
			default:
				t.Fatalf("%s row %d: step %v, want an hour or 25 to 169 hours", s.Name, i, d)
			}
		}
		if outages < 2 {
			t.Errorf("%s: %d outages, want at least 2", s.Name, outages)
		}
		for _, w := range s.Windows {
			if !rows[w[0]] || !rows[w[1]] || !w[0].Before(w[1]) {
				t.Errorf("%s: window %v does not start and end on rows", s.Name, w)
			}
		}
	}
	if minGap > 48*time.Hour || maxGap < 120*time.Hour {
		t.Errorf("outage steps from %v to %v, want them spread over 25 to 169 hours", minGap, maxGap)
	}

	// Onsets after an outage and outages with none, from the generator.
	after, resumed := 0, 0
	for k := range 30 {
		r := rand.New(rand.NewPCG(7, uint64(4000+k)))
		ts, _, onsets := synthGaps(r, synthStart, 1+k%3)
		at := map[int]bool{}
		for _, o := range onsets {
			at[o] = true
		}
		for i := 1; i < len(ts); i++ {
			if ts[i].Sub(ts[i-1]) > time.Hour {
				if at[i] {
					after++
				} else {
					resumed++
				}
			}
		}
	}
	if after < 10 || resumed < 2*30 {
		t.Errorf("in 30 files, %d onsets right after an outage and %d outages the series resumes after; want at least 10 and 60", after, resumed)
	}
	t.Logf("in 30 files, %d onsets right after an outage, %d outages the series resumes after; outage steps %v to %v", after, resumed, minGap, maxGap)
}
