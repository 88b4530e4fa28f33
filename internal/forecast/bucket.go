package forecast

import (
	"errors"
	"time"
)

// Bucket is one closed bucket: the mean of the samples whose event time lies
// in [Start, Start+step).
type Bucket struct {
	// Start is the bucket's start, a multiple of the step since the Unix
	// epoch; the bucket is stamped with it.
	Start time.Time
	// Mean is the mean of the bucket's samples.
	Mean float64
	// N is the number of samples in the bucket.
	N int
}

// ErrLate is returned by Bucketer.Add for a sample not after the previous
// one: buckets are built in event-time order only.
var ErrLate = errors.New("bucket: sample not after the previous one")

// Bucketer is the one bucketing rule shared by the live forecaster, the
// backtest (Resample) and the scaling evaluation: samples, in increasing
// event time, fold into step-wide buckets aligned on multiples of the step
// since the Unix epoch (5-minute buckets start at :00, :05, … UTC); a
// bucket's value is the mean of its samples and it is stamped with its
// start. A bucket closes when a sample of a later bucket arrives (Add) or
// when the samples end and it is complete (Flush). The first bucket is
// dropped when it is partial, that is when the first sample is later than
// its start; a bucket in which no sample fell is never reported.
//
// The zero value is not usable; make one with NewBucketer. It holds no
// slice, so a series keeps it by value at a fixed small size.
type Bucketer struct {
	step int64 // ns
	open int64 // start of the open bucket (ns since the epoch)
	last int64 // latest sample (ns since the epoch)
	sum  float64
	n    int
	// started says a sample was seen since NewBucketer.
	started bool
	// partial says the open bucket is the partial first one: it is dropped
	// when it closes.
	partial bool
}

// NewBucketer returns an empty Bucketer with buckets step wide (step > 0).
func NewBucketer(step time.Duration) Bucketer {
	return Bucketer{step: int64(step)}
}

// Step returns the bucket width.
func (b *Bucketer) Step() time.Duration { return time.Duration(b.step) }

// BucketStart returns the start of the bucket holding t under the rule.
func (b *Bucketer) BucketStart(t time.Time) time.Time {
	return time.Unix(0, floorTo(t.UnixNano(), b.step)).UTC()
}

// floorTo rounds ns down to a multiple of step.
func floorTo(ns, step int64) int64 {
	r := ns % step
	if r < 0 {
		r += step
	}
	return ns - r
}

// Started says whether a sample was seen.
func (b *Bucketer) Started() bool { return b.started }

// Open returns the start of the bucket samples are currently folded into,
// or the zero time before the first sample.
func (b *Bucketer) Open() time.Time {
	if !b.started {
		return time.Time{}
	}
	return time.Unix(0, b.open).UTC()
}

// Add folds value v at t. When t lies in a later bucket than the open one,
// the open bucket closes first and is returned with ok set, unless it is the
// partial first bucket or empty. A t not after the previous sample returns
// ErrLate and changes nothing.
func (b *Bucketer) Add(t time.Time, v float64) (closed Bucket, ok bool, err error) {
	ns := t.UnixNano()
	if b.started && ns <= b.last {
		return Bucket{}, false, ErrLate
	}
	start := floorTo(ns, b.step)
	switch {
	case !b.started:
		b.started, b.open, b.partial = true, start, ns > start
	case start > b.open:
		closed, ok = b.closeOpen()
		b.open, b.partial = start, false
	}
	b.last = ns
	b.sum += v
	b.n++
	return closed, ok, nil
}

// closeOpen reports the open bucket (unless partial-first or empty) and
// empties it.
func (b *Bucketer) closeOpen() (Bucket, bool) {
	out, ok := Bucket{Start: time.Unix(0, b.open).UTC(), N: b.n}, b.n > 0 && !b.partial
	if ok {
		out.Mean = b.sum / float64(b.n)
	}
	b.sum, b.n = 0, 0
	return out, ok
}

// Complete says whether the open bucket would be reported by Flush with the
// given sampling interval: it has samples, is not the partial first bucket,
// and its latest sample plus interval reaches its end.
func (b *Bucketer) Complete(interval time.Duration) bool {
	return b.n > 0 && !b.partial && b.last+int64(interval) >= b.open+b.step
}

// Flush ends the samples: the open bucket is returned (ok) when it is
// complete (see Complete), otherwise dropped as a partial last bucket. A
// later Add starts a new bucket, which is not treated as a first one.
func (b *Bucketer) Flush(interval time.Duration) (Bucket, bool) {
	complete := b.Complete(interval)
	out, ok := b.closeOpen()
	return out, ok && complete
}
