package forecast

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Buckets is a regular series of bucket means: Values[i] covers
// [Start + i·Step, Start + (i+1)·Step). A NaN value is a bucket in which no
// sample fell.
type Buckets struct {
	// Start is the start of the first bucket.
	Start time.Time
	// Step is the bucket width.
	Step time.Duration
	// Values holds one mean per bucket, NaN when the bucket had no sample.
	Values []float64
}

// Time returns the start of bucket i.
func (b Buckets) Time(i int) time.Time { return b.Start.Add(time.Duration(i) * b.Step) }

// End returns the end of the last bucket.
func (b Buckets) End() time.Time { return b.Time(len(b.Values)) }

// Index returns the index of the bucket starting at t, which may lie outside
// [0, len(Values)); t is truncated down to a bucket boundary.
func (b Buckets) Index(t time.Time) int {
	d := t.Sub(b.Start)
	i := int(d / b.Step)
	if d < 0 && d%b.Step != 0 {
		i--
	}
	return i
}

// ErrTooShort is returned by Resample when no whole bucket remains.
var ErrTooShort = errors.New("resample: no whole bucket in the samples")

// Resample turns samples (strictly increasing times) into bucket means
// aligned to multiples of step since the Unix epoch (so 5-minute buckets
// start at :00, :05, … UTC). A bucket's value is the mean of the samples
// inside it; a bucket with none is NaN.
//
// The first bucket is dropped when it is partial, that is when the first
// sample is later than the bucket start; the last bucket is dropped when the
// last sample plus the sampling interval (the median spacing of the samples)
// falls short of the bucket end.
func Resample(times []time.Time, values []float64, step time.Duration) (Buckets, error) {
	if len(times) != len(values) {
		return Buckets{}, fmt.Errorf("resample: %d times but %d values", len(times), len(values))
	}
	if step <= 0 {
		return Buckets{}, fmt.Errorf("resample: step %s must be positive", step)
	}
	if len(times) == 0 {
		return Buckets{}, ErrTooShort
	}
	for i := 1; i < len(times); i++ {
		if !times[i].After(times[i-1]) {
			return Buckets{}, fmt.Errorf("resample: sample %d at %s is not after the previous one", i, times[i].UTC().Format(time.RFC3339))
		}
	}
	interval := medianSpacing(times)
	first := times[0].UTC().Truncate(step)
	if times[0].After(first) {
		first = first.Add(step)
	}
	lastT := times[len(times)-1].UTC()
	end := lastT.Truncate(step)
	if !lastT.Add(interval).Before(end.Add(step)) {
		end = end.Add(step)
	}
	if !end.After(first) {
		return Buckets{}, ErrTooShort
	}
	n := int(end.Sub(first) / step)
	sums := make([]float64, n)
	counts := make([]int, n)
	for i, t := range times {
		d := t.Sub(first)
		if d < 0 {
			continue
		}
		k := int(d / step)
		if k >= n {
			break
		}
		sums[k] += values[i]
		counts[k]++
	}
	for k := range sums {
		if counts[k] == 0 {
			sums[k] = math.NaN()
		} else {
			sums[k] /= float64(counts[k])
		}
	}
	return Buckets{Start: first, Step: step, Values: sums}, nil
}

// medianSpacing returns the median gap between consecutive samples, or zero
// for a single sample.
func medianSpacing(times []time.Time) time.Duration {
	if len(times) < 2 {
		return 0
	}
	gaps := make([]time.Duration, len(times)-1)
	for i := range gaps {
		gaps[i] = times[i+1].Sub(times[i])
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}
