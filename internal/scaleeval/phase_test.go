package scaleeval

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"
)

// demandHash is a trace's demand and timestamps as a short hex digest.
func demandHash(tr Trace) string {
	h := sha256.New()
	var b [8]byte
	for i, v := range tr.Demand {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
		binary.LittleEndian.PutUint64(b[:], uint64(tr.Times[i].Unix()))
		h.Write(b[:])
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

// TestSynthPhaseOffIsUnchanged: without SynthOptions.Phase every trace is
// the one generated before the option existed (digests of demand and
// timestamps taken from main at 97425d8).
func TestSynthPhaseOffIsUnchanged(t *testing.T) {
	for _, c := range []struct {
		family string
		seed   uint64
		want   string
	}{
		{"smooth-growth", 1, "bbec4493068472e3"},
		{"surges", 1, "2aed299d3a551d3f"},
		{"surges", 11, "87657df0d3ab3a8e"},
		{"jumps", 1, "3cebf22afe62c162"},
		{"batch", 2, "1da14ccda31c8a59"},
		{"diurnal-low", 1, "bbfbf79d635ecc28"},
		{"diurnal-high", 2, "45a1bd68cc778b7c"},
		{"drift", 1, "5264c921b76c13ba"},
		{"bursty", 1, "063418ba6a4d43a8"},
		{"bursty-hourly", 2, "911fd35790321f6f"},
		{"social-5m", 1, "0c127d22f927e6af"},
		{"social-5m", 11, "9186428f99797986"},
		{"daily-sales", 1, "5fea7bdbbf3494e3"},
	} {
		a, err := Synthetic(c.family, c.seed)
		if err != nil {
			t.Fatal(err)
		}
		b, err := SyntheticWith(c.family, c.seed, SynthOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s-s%d: Synthetic and SyntheticWith without options differ", c.family, c.seed)
		}
		if got := demandHash(a); got != c.want {
			t.Errorf("%s-s%d: digest %s, want %s (the unphased trace changed)", c.family, c.seed, got, c.want)
		}
	}
}

// TestSynthPhase checks SynthOptions.Phase: each trace starts 0–6 days
// and a whole minute of the day after synthStart, the same for the same
// seed and another for another seed, keeps its length, and its demand
// follows its clock (the weekend dip falls on the timestamps' Saturdays
// and Sundays, the night trough at the unphased trace's hour, the weekly
// matches on Wednesdays and Saturdays and the daily sales at one minute
// of the day, both at the unphased trace's times), which relabelled
// timestamps alone would not give.
func TestSynthPhase(t *testing.T) {
	ph := SynthOptions{Phase: true}
	offs := map[time.Duration]bool{}
	n := 0
	for _, f := range append(SyntheticFamilies(), OptionalFamilies()...) {
		for _, seed := range []uint64{1, 2, 3} {
			plain, err := Synthetic(f, seed)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := SyntheticWith(f, seed, ph)
			b, _ := SyntheticWith(f, seed, ph)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: same seed, two phased traces", a.Name)
			}
			if a.Name != plain.Name || len(a.Demand) != len(plain.Demand) || len(a.Times) != len(a.Demand) {
				t.Fatalf("%s: %d minutes phased, %s %d unphased", a.Name, len(a.Demand), plain.Name, len(plain.Demand))
			}
			off := a.Times[0].Sub(synthStart)
			if off < 0 || off >= 7*24*time.Hour || off%time.Minute != 0 {
				t.Errorf("%s: starts %v after synthStart, want whole minutes within a week", a.Name, off)
			}
			for i := 1; i < len(a.Times); i++ {
				if a.Times[i].Sub(a.Times[i-1]) != time.Minute {
					t.Fatalf("%s: minute %d at %v after %v", a.Name, i, a.Times[i], a.Times[i-1])
				}
			}
			if reflect.DeepEqual(a.Demand, plain.Demand) {
				t.Errorf("%s: the phased demand is the unphased one", a.Name)
			}
			offs[off] = true
			n++
		}
	}
	if len(offs) < n-2 {
		t.Errorf("%d distinct starts among %d phased traces", len(offs), n)
	}

	// The demand follows the clock: diurnal-high's weekends (0.6×) fall on
	// the timestamps' Saturdays and Sundays, and its night trough at the
	// unphased trace's hour of the day.
	for _, seed := range []uint64{1, 2, 3} {
		plain, _ := Synthetic("diurnal-high", seed)
		a, _ := SyntheticWith("diurnal-high", seed, ph)
		if r := weekendRatio(a); r < 0.5 || r > 0.7 {
			t.Errorf("%s phased: weekend at %.2f× the weekdays by its timestamps, want about 0.6", a.Name, r)
		}
		if h, hp := troughHour(a), troughHour(plain); (h-hp+24)%24 > 1 && (hp-h+24)%24 > 1 {
			t.Errorf("%s: night trough at %d:00 phased, %d:00 unphased", a.Name, h, hp)
		}
	}
	// The weekly matches stay on Wednesdays and Saturdays at the unphased
	// trace's hour, and the daily sales at its minute of the day.
	for _, seed := range []uint64{1, 2, 3} {
		hour := (SurgeSchedule(seed)[0].Start % dayMin) / 60
		a, _ := SyntheticWith("surges", seed, ph)
		weekly := 0
		for _, s := range surgeLogOf("surges", seed, ph) {
			if s.Start < 30 || s.Start+30 > len(a.Demand) {
				continue
			}
			if during, before := mean(a.Demand[s.Start+12:s.Start+30]), mean(a.Demand[s.Start-30:s.Start]); during < 1.8*before {
				t.Errorf("%s: surge %+v at %v: %.0f over %.0f before, no surge", a.Name, s, a.Times[s.Start], during, before)
			}
			if !s.Weekly {
				continue
			}
			weekly++
			at := a.Times[s.Start]
			if wd := at.Weekday(); (wd != time.Wednesday && wd != time.Saturday) || at.Hour() != hour {
				t.Errorf("%s: weekly match at %v, want Wednesday or Saturday %d:00", a.Name, at, hour)
			}
		}
		if weekly < 5 {
			t.Errorf("%s: %d weekly matches in the trace", a.Name, weekly)
		}
		at := SaleSchedule(seed)[0].Start
		d, _ := SyntheticWith("daily-sales", seed, ph)
		sales := surgeLogOf("daily-sales", seed, ph)
		if len(sales) < salesDays {
			t.Errorf("%s: %d sales over %d days", d.Name, len(sales), salesDays)
		}
		for _, s := range sales {
			if s.Start < 0 {
				continue
			}
			if tm := d.Times[s.Start]; tm.Hour()*60+tm.Minute() != at {
				t.Errorf("%s: sale at %v, want %d:%02d", d.Name, tm, at/60, at%60)
			}
		}
	}
}

// weekendRatio is a trace's mean demand on Saturdays and Sundays over its
// mean on weekdays, by its timestamps.
func weekendRatio(tr Trace) float64 {
	var sum [2]float64
	var cnt [2]int
	for i, tm := range tr.Times {
		k := 0
		if wd := tm.Weekday(); wd == time.Saturday || wd == time.Sunday {
			k = 1
		}
		sum[k] += tr.Demand[i]
		cnt[k]++
	}
	return sum[1] / float64(cnt[1]) / (sum[0] / float64(cnt[0]))
}

// troughHour is the hour of the day (by a trace's timestamps) of its
// lowest mean demand.
func troughHour(tr Trace) int {
	var sum [24]float64
	for i, tm := range tr.Times {
		sum[tm.Hour()] += tr.Demand[i]
	}
	lo := 0
	for h := range sum {
		if sum[h] < sum[lo] {
			lo = h
		}
	}
	return lo
}
