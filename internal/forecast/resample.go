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

// Resample turns samples (strictly increasing times) into bucket means by
// the Bucketer's rule, the one the live forecaster uses: buckets aligned to
// multiples of step since the Unix epoch (so 5-minute buckets start at :00,
// :05, … UTC), each the mean of the samples inside it and stamped with its
// start; a bucket with none is NaN.
//
// The first bucket is dropped when it is partial, that is when the first
// sample is later than the bucket start; the last bucket is dropped when the
// last sample plus the sampling interval (the median spacing of the samples)
// falls short of the bucket end. Buckets[0] is the first bucket reported and
// the last value the last one, so neither end is NaN.
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
	var out Buckets
	put := func(c Bucket) {
		if out.Values == nil {
			out = Buckets{Start: c.Start, Step: step, Values: make([]float64, 0, int(times[len(times)-1].Sub(c.Start)/step)+1)}
		}
		for out.End().Before(c.Start) {
			out.Values = append(out.Values, math.NaN())
		}
		out.Values = append(out.Values, c.Mean)
	}
	b := NewBucketer(step)
	for i, t := range times {
		c, ok, err := b.Add(t, values[i])
		if err != nil {
			return Buckets{}, fmt.Errorf("resample: sample %d: %w", i, err)
		}
		if ok {
			put(c)
		}
	}
	if c, ok := b.Flush(medianSpacing(times)); ok {
		put(c)
	}
	if len(out.Values) == 0 {
		return Buckets{}, ErrTooShort
	}
	return out, nil
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
