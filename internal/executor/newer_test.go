package executor

import (
	"math/rand/v2"
	"testing"
)

// TestAfterScanFindsWhatAFullReadFinds: judging decisions of a tier in
// stream order (and now and then one again, redelivered), with what was
// read kept between judgements (afterScan) and only what was stored since
// read, finds the same superseding decision as reading every message
// after each one: the last stored after it with a later time, among
// messages that are no decision (ts 0 here), decisions with times before
// and after it, and copies of older ones.
func TestAfterScanFindsWhatAFullReadFinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 56))
	for round := range 2000 {
		// ts[i] is the time of the message at seq i+1; 0: no decision.
		n := 1 + rng.IntN(60)
		ts := make([]int64, n)
		var t0 int64
		for i := range ts {
			switch rng.IntN(4) {
			case 0: // junk, or a decision on replayed input
			case 1: // a copy of an older decision, or one from the past
				ts[i] = 1 + rng.Int64N(t0+1)
			default: // the decider's next tick
				t0 += 1 + rng.Int64N(3)
				ts[i] = t0
			}
		}
		full := func(seq, last uint64, at int64) (afterDecision, bool) {
			for s := last; s > seq; s-- {
				if x := ts[s-1]; x > at {
					return afterDecision{seq: s, ts: x}, true
				}
			}
			return afterDecision{}, false
		}
		var kept afterScan
		var have bool
		seq := uint64(0)
		for range 20 {
			// The next decision judged, the last stored then.
			if rng.IntN(5) == 0 && seq > 1 {
				seq -= uint64(1 + rng.IntN(int(seq-1))) // a redelivery
			} else {
				seq += uint64(1 + rng.IntN(5))
			}
			if seq > uint64(n) {
				break
			}
			at := ts[seq-1]
			if at == 0 {
				continue // only decisions are judged
			}
			last := seq + uint64(rng.IntN(n-int(seq)+1))
			a := kept
			if !have || !a.covers("s", seq, at, last) {
				a = afterScan{subject: "s", from: seq + 1, to: seq, floor: at}
			}
			a = a.past(seq, at)
			for s := a.to + 1; s <= last; s++ {
				if x := ts[s-1]; x > a.floor {
					a = a.add(afterDecision{seq: s, ts: x})
				}
				a.to = s
			}
			a.to = max(a.to, last)
			kept, have = a, true
			got, gotOK := a.latest()
			want, wantOK := full(seq, last, at)
			if gotOK != wantOK || got.seq != want.seq || got.ts != want.ts {
				t.Fatalf("round %d, times %v: decision at seq %d (time %d), last %d: found %+v (%v), a full read %+v (%v)",
					round, ts, seq, at, last, got, gotOK, want, wantOK)
			}
			for i := 1; i < len(a.chain); i++ {
				// One decision per time, which bounds the chain.
				if c := a.chain; c[i].ts >= c[i-1].ts || c[i].seq <= c[i-1].seq {
					t.Fatalf("round %d: chain %+v: times do not fall, or sequences do not rise", round, c)
				}
			}
		}
	}
}
