package scrape

import (
	"math"
	"slices"
)

// Combine merges the parts of a tier's targets (one []Part per target, as
// Observe returns them) into the tier's named values. Counter rates add up
// across targets; histogram bucket increases merge before the quantile is
// taken; gauges aggregate by the rule's Agg. A rule with nothing to show
// (a first sample, no observations, no matching histogram or gauge series)
// is left out; a counter rule matching no series of a target reads 0 for
// it, no traffic, once it has been seen as below. A counter rule is left out
// too while any target that answered has never exposed its family (Part's
// Unseen): the sum of the others would read that target's load as 0; and
// while none that answered has ever had a series it selects (Part's
// Selected): a misspelt label value, or a counter of events none has
// counted yet, has observed nothing. (One target whose selection is empty
// beside others' reads 0: it has not counted a 5xx yet, say.) A ratio
// rule counts once its denominator selects a series. The
// replicas rule's value is returned apart, rounded, with hasReplicas set.
// A rule whose combined value is not finite (finite samples whose sum or
// scaling overflows) is left out too, and named in nonFinite for the caller
// to count.
func (m *Mapping) Combine(targets [][]Part) (values map[string]float64, replicas int, hasReplicas bool, nonFinite []string) {
	values = map[string]float64{}
	for i, r := range m.rules {
		var v float64
		var ok bool
		switch r.Kind {
		case KindCounter:
			if slices.ContainsFunc(targets, func(ps []Part) bool { return ps[i].Unseen }) ||
				!slices.ContainsFunc(targets, func(ps []Part) bool { return ps[i].Selected }) {
				continue
			}
			var over float64
			for _, ps := range targets {
				if ps[i].HasRate {
					v += ps[i].Rate
					over += ps[i].OverRate
					ok = true
				}
			}
			if r.over != nil && ok {
				if over > 0 {
					v /= over
				} else {
					v = 0 // no traffic, no errors
				}
			}
		case KindHistogram:
			var hs [][]Bucket
			for _, ps := range targets {
				if ps[i].Buckets != nil {
					hs = append(hs, ps[i].Buckets)
				}
			}
			v, ok = Quantile(r.Quantile, mergeBuckets(hs))
		case KindGauge:
			var all []float64
			for _, ps := range targets {
				all = append(all, ps[i].Gauges...)
			}
			v, ok = aggregate(r.Agg, all)
		}
		if !ok {
			continue
		}
		v *= r.scale
		if math.IsNaN(v) || math.IsInf(v, 0) {
			nonFinite = append(nonFinite, r.Name)
			continue
		}
		if r.Name == ReplicasName {
			replicas, hasReplicas = max(0, int(math.Round(v))), true
			continue
		}
		values[r.Name] = v
	}
	return values, replicas, hasReplicas, nonFinite
}

func aggregate(agg string, vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	vs = slices.Clone(vs)
	slices.Sort(vs) // a fixed order makes sums reproducible
	switch agg {
	case AggSum:
		s := 0.0
		for _, v := range vs {
			s += v
		}
		return s, true
	case AggMax:
		return vs[len(vs)-1], true
	case AggMin:
		return vs[0], true
	}
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs)), true
}
