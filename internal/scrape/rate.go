package scrape

import (
	"maps"
	"math"
	"slices"
)

// Part is what one rule yields for one target between two samples.
type Part struct {
	// Rate is a counter rule's per-second increase; HasRate is false on a
	// target's first sample and while Unseen.
	Rate    float64
	HasRate bool
	// Unseen marks a counter rule whose series the target has not exposed
	// in any sample since its tracking began: its load was never observed,
	// and Combine leaves the rule out of the tier's values rather than
	// read it as 0.
	Unseen bool
	// Selected says a counter rule has selected a series of the target
	// (for a ratio, of its numerator or denominator) in some sample since
	// its tracking began. A family the target exposes, none of whose
	// series the rule's labels select, has observed nothing either (a
	// misspelt label value), unless another target's have been selected
	// (this one has not counted a 5xx yet): Combine leaves out a counter
	// rule no target that answered has Selected.
	Selected bool
	// OverRate is a ratio rule's denominator rate.
	OverRate float64
	// Buckets is a histogram rule's merged bucket increases (cumulative,
	// ascending, +Inf last); nil on a target's first sample.
	Buckets []Bucket
	// Gauges are a gauge rule's selected values.
	Gauges []float64
}

// Target follows one scrape target's successive samples. It is not safe
// for concurrent use.
//
// A counter rule whose series (its metric family) the target has never
// exposed since its tracking began (its zero Target) yields no rate, only
// Unseen: a misspelt series and a counter vector that has counted nothing
// yet look the same, and neither is an observed 0. The first sample that
// exposes the family marks it seen for good (memory: one flag per rule),
// and its series count whole, born since the previous sample. Once seen,
// an absent family reads no increase, as a family whose series all stand
// still: a restarted process whose counter vector has not counted yet
// exposes none, and the requests the old process counted after the
// previous sample are lost with it. When the family comes back its series
// count whole again, born since the previous sample, which is right after
// a restart. (A family missing from one answer of a process that did not
// restart would so count its whole total once, a spike upwards; only the
// previous sample is remembered.) It also remembers whether each counter
// rule has ever selected a series of the target (Part's Selected): a
// misspelt label value selects none of a family that is there.
type Target struct {
	last *Sample
	// seen[i] is set once rule i's family has been in a sample,
	// selected[i] once rule i has selected one of its series.
	seen, selected []bool
	// Resets counts counter and histogram resets seen.
	Resets int
}

// Observe takes the target's next sample and returns, per rule, the rates
// and bucket increases since the previous sample and the current gauges. A
// sample not later than the previous one gives gauges only and is not
// remembered. The mapping must be the one the samples were selected with.
func (tr *Target) Observe(m *Mapping, s Sample) []Part {
	parts := make([]Part, len(m.rules))
	prev := tr.last
	if prev != nil && !s.Time.After(prev.Time) {
		for i, r := range m.rules {
			if r.Kind == KindGauge {
				parts[i].Gauges = gaugeValues(s.Series[i])
			}
		}
		return parts
	}
	var secs float64
	if prev != nil {
		secs = s.Time.Sub(prev.Time).Seconds()
	}
	if len(tr.seen) != len(m.rules) {
		tr.seen, tr.selected = make([]bool, len(m.rules)), make([]bool, len(m.rules))
	}
	for i, r := range m.rules {
		cur := s.Series[i]
		switch r.Kind {
		case KindGauge:
			parts[i].Gauges = gaugeValues(cur)
		case KindCounter:
			if !slices.Contains(s.Absent, r.Series) {
				tr.seen[i] = true
			}
			if len(cur) > 0 || len(s.Over[i]) > 0 {
				tr.selected[i] = true
			}
			if !tr.seen[i] {
				parts[i].Unseen = true
				continue
			}
			parts[i].Selected = tr.selected[i]
			if prev == nil {
				continue
			}
			inc, resets := increase(prev.Series[i], cur)
			tr.Resets += resets
			parts[i].Rate, parts[i].HasRate = inc/secs, true
			if r.over != nil {
				inc, _ := increase(prev.Over[i], s.Over[i])
				parts[i].OverRate = inc / secs
			}
		case KindHistogram:
			if prev == nil {
				continue
			}
			var incs [][]Bucket
			for _, k := range slices.Sorted(maps.Keys(cur)) {
				rd := cur[k]
				old, ok := prev.Series[i][k]
				d, reset := bucketIncrease(old.Buckets, rd.Buckets, ok)
				if reset {
					tr.Resets++
				}
				incs = append(incs, d)
			}
			parts[i].Buckets = mergeBuckets(incs)
			if parts[i].Buckets == nil {
				parts[i].Buckets = []Bucket{{UpperBound: math.Inf(1)}}
			}
		}
	}
	tr.last = &s
	return parts
}

// increase sums the counters' increases from prev to cur. A series born
// since prev counts its whole value; one that went down was reset and
// counted up from zero again.
func increase(prev, cur map[string]Reading) (inc float64, resets int) {
	for _, k := range slices.Sorted(maps.Keys(cur)) { // a fixed order makes the sum reproducible
		rd := cur[k]
		old, ok := prev[k]
		switch {
		case !ok:
			inc += rd.Value
		case rd.Value < old.Value:
			inc += rd.Value
			resets++
		default:
			inc += rd.Value - old.Value
		}
	}
	return inc, resets
}

func gaugeValues(series map[string]Reading) []float64 {
	out := make([]float64, 0, len(series))
	for _, rd := range series {
		out = append(out, rd.Value)
	}
	slices.Sort(out) // map order must not change a sum's rounding
	return out
}

// bucketIncrease returns cur − old per bucket. Without an old reading, or
// when any bucket went down or the layout changed (a reset), the increase
// is cur itself.
func bucketIncrease(old, cur []Bucket, hadOld bool) (inc []Bucket, reset bool) {
	if !hadOld {
		return cur, false
	}
	if len(old) != len(cur) {
		return cur, true
	}
	inc = make([]Bucket, len(cur))
	for j := range cur {
		if old[j].UpperBound != cur[j].UpperBound || cur[j].Count < old[j].Count {
			return cur, true
		}
		inc[j] = Bucket{UpperBound: cur[j].UpperBound, Count: cur[j].Count - old[j].Count}
	}
	return inc, false
}

// mergeBuckets sums cumulative histograms over the union of their bounds. A
// histogram lacking a bound counts what it has at its next lower bound, so
// merged counts stay cumulative (differing layouts are rare; identical
// layouts merge exactly).
func mergeBuckets(hs [][]Bucket) []Bucket {
	if len(hs) == 0 {
		return nil
	}
	var bounds []float64
	for _, h := range hs {
		for _, b := range h {
			bounds = append(bounds, b.UpperBound)
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	out := make([]Bucket, len(bounds))
	for j, ub := range bounds {
		out[j].UpperBound = ub
	}
	for _, h := range hs {
		k, c := 0, 0.0
		for j, ub := range bounds {
			for k < len(h) && h[k].UpperBound <= ub {
				c = h[k].Count
				k++
			}
			out[j].Count += c
		}
	}
	return out
}
