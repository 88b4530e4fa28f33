package bus

import (
	"testing"
	"time"
)

// TestGapTracker: a jump in the consumer sequence is a gap, unless it is
// the first delivery this process sees or the sequence went back (a
// durable recreated). A gap stays open until a top-up closes it.
func TestGapTracker(t *testing.T) {
	type delivery struct {
		dseq uint64
		gap  bool
	}
	now := time.Unix(0, 0)
	for _, c := range []struct {
		name       string
		deliveries []delivery
		open       bool
	}{
		{name: "in order", deliveries: []delivery{{dseq: 7}, {dseq: 8}, {dseq: 9}}},
		{name: "first seen late", deliveries: []delivery{{dseq: 40}, {dseq: 41}}},
		{name: "lost one", deliveries: []delivery{{dseq: 1}, {dseq: 3, gap: true}, {dseq: 4}}, open: true},
		{name: "two losses, one gap open", deliveries: []delivery{{dseq: 1}, {dseq: 3, gap: true}, {dseq: 6, gap: true}}, open: true},
		{name: "durable recreated", deliveries: []delivery{{dseq: 50}, {dseq: 1}, {dseq: 2}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newGapTracker(ConsumerSpec{AckWait: time.Second, MaxDeliver: 5})
			for i, d := range c.deliveries {
				if got := g.delivered(d.dseq, now); got != d.gap {
					t.Errorf("delivery %d (consumer seq %d): gap %v, want %v", i, d.dseq, got, d.gap)
				}
			}
			if g.lost != c.open {
				t.Errorf("gap open %v, want %v", g.lost, c.open)
			}
		})
	}
}

// TestGapTrackerForgetsOldFills: the stream sequences topped up are kept
// for their late redeliveries, and dropped once older than keep, so a
// consumer that tops up often holds a bounded set.
func TestGapTrackerForgetsOldFills(t *testing.T) {
	g := newGapTracker(ConsumerSpec{AckWait: time.Second, MaxDeliver: 5})
	start := time.Unix(0, 0)
	for seq := uint64(1); seq <= 10_000; seq++ {
		g.fill(seq, start.Add(time.Duration(seq)*time.Second))
	}
	if !g.wasFilled(10_000) || g.wasFilled(1) {
		t.Errorf("filled 10000: %v, filled 1: %v; want the newest kept, the oldest dropped", g.wasFilled(10_000), g.wasFilled(1))
	}
	if max := int(g.keep/time.Second) + 256; len(g.filled) > max {
		t.Errorf("%d sequences held, want at most %d", len(g.filled), max)
	}
}
