package forecast

import (
	"errors"
	"testing"
	"time"
)

// TestBucketer walks the one bucketing rule through a partial first bucket,
// a gap, a late sample and both ends of Flush.
func TestBucketer(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	b := NewBucketer(5 * time.Minute)
	type res struct {
		start time.Time
		mean  float64
		ok    bool
		err   error
	}
	steps := []struct {
		min  int
		v    float64
		want res
	}{
		{3, 99, res{}},                     // partial first bucket [0,5)
		{4, 99, res{}},                     //
		{5, 10, res{}},                     // closes [0,5): dropped, partial
		{7, 20, res{}},                     //
		{6, 1, res{err: ErrLate}},          // not after the previous sample
		{21, 3, res{at(5), 15, true, nil}}, // a gap: closes [5,10) with the mean of 10 and 20
		{24, 5, res{}},                     //
		{25, 7, res{at(20), 4, true, nil}}, // [15,20) had no sample and is not reported
	}
	for i, s := range steps {
		c, ok, err := b.Add(at(s.min), s.v)
		got := res{ok: ok, err: err}
		if ok {
			got.start, got.mean = c.Start, c.Mean
		}
		if got.start != s.want.start || got.mean != s.want.mean || got.ok != s.want.ok || !errors.Is(got.err, s.want.err) {
			t.Fatalf("step %d (minute %d): got %+v, want %+v", i, s.min, got, s.want)
		}
	}
	if !b.Open().Equal(at(25)) {
		t.Fatalf("open bucket %s", b.Open())
	}
	if b.Complete(time.Minute) {
		t.Fatal("[25,30) with one sample at 25 is complete")
	}
	for m := 26; m < 30; m++ {
		if _, _, err := b.Add(at(m), 7); err != nil {
			t.Fatal(err)
		}
	}
	if c, ok := b.Flush(time.Minute); !ok || !c.Start.Equal(at(25)) || c.N != 5 {
		t.Fatalf("flush of a complete bucket: %+v %v", c, ok)
	}
	// A first bucket starting on its boundary is whole.
	b = NewBucketer(5 * time.Minute)
	b.Add(at(10), 1)
	if c, ok, _ := b.Add(at(15), 2); !ok || !c.Start.Equal(at(10)) || c.Mean != 1 {
		t.Fatalf("aligned first bucket: %+v %v", c, ok)
	}
	if _, ok := b.Flush(time.Minute); ok {
		t.Fatal("flushed a partial last bucket")
	}
}

// TestSeriesGrowsWithData checks that the ring is allocated as buckets
// arrive, never beyond Window + RefitEvery.
func TestSeriesGrowsWithData(t *testing.T) {
	cfg := DefaultConfig()
	s := NewSeries(cfg)
	full := cfg.Window + cfg.RefitEvery
	for i := range full + 100 {
		if err := s.Observe(t0.Add(time.Duration(i)*cfg.Step), float64(i)); err != nil {
			t.Fatal(err)
		}
		switch {
		case i == 9 && cap(s.buf) > minGrow:
			t.Fatalf("10 buckets hold a ring of %d", cap(s.buf))
		case i == 2015 && cap(s.buf) > 2048:
			t.Fatalf("a week of buckets holds a ring of %d", cap(s.buf))
		}
	}
	if cap(s.buf) != full || s.Len() != full || s.at(0) != 100 {
		t.Fatalf("ring cap %d len %d oldest %v, want %d, %d, 100", cap(s.buf), s.Len(), s.at(0), full, full)
	}
}
