package scrape

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Bucket is one cumulative histogram bucket: Count observations at or below
// UpperBound.
type Bucket struct {
	UpperBound float64
	Count      float64
}

// Reading is one selected series at one scrape: a counter's total or a
// gauge's value, or a histogram's cumulative buckets in ascending bound
// order, the +Inf bucket last.
type Reading struct {
	Value   float64
	Buckets []Bucket
}

// Sample is one scrape of one target reduced to what the rules select:
// for each rule (by index), the selected series keyed by their labels, and
// for ratio rules the denominator's series in Over.
type Sample struct {
	Time   time.Time
	Series []map[string]Reading
	Over   []map[string]Reading
	// NaN and Inf count the selected series left out for a NaN or an
	// infinite value (a summary quantile with no observations is NaN), for
	// the caller to count per target.
	NaN, Inf int
	// Absent names, once each and in the rules' order, the series some
	// rule reads that the answer has no family of. A gauge or histogram
	// rule on it shows nothing; a counter rule shows nothing either until
	// the target has exposed the family once, then reads no increase (a
	// counter vector that has counted nothing exposes none: see Target). A
	// misspelt series looks the same as one not counted yet, so the
	// caller says so.
	Absent []string
}

// Select reduces parsed metric families to a Sample taken at t. A family
// that is absent selects nothing (it may appear later); a family of the
// wrong type is an error naming it. A selected series whose value is NaN or
// infinite is left out and counted in the Sample's NaN or Inf.
func (m *Mapping) Select(t time.Time, fams map[string]*dto.MetricFamily) (Sample, error) {
	s := Sample{Time: t, Series: make([]map[string]Reading, len(m.rules)), Over: make([]map[string]Reading, len(m.rules))}
	for i, r := range m.rules {
		s.Series[i] = map[string]Reading{}
		if r.over != nil {
			s.Over[i] = map[string]Reading{}
		}
		fam := fams[r.Series]
		if fam == nil {
			if !slices.Contains(s.Absent, r.Series) {
				s.Absent = append(s.Absent, r.Series)
			}
			continue
		}
		typ := fam.GetType()
		switch {
		case r.Kind == KindHistogram && typ != dto.MetricType_HISTOGRAM,
			r.Kind == KindCounter && typ != dto.MetricType_COUNTER && typ != dto.MetricType_UNTYPED,
			r.Kind == KindGauge && typ != dto.MetricType_GAUGE && typ != dto.MetricType_UNTYPED && typ != dto.MetricType_COUNTER && typ != dto.MetricType_SUMMARY:
			return Sample{}, fmt.Errorf("series %s is a %s, rule %q wants a %s", r.Series, strings.ToLower(typ.String()), r.Name, r.Kind)
		}
		metrics := fam.GetMetric()
		if typ == dto.MetricType_SUMMARY {
			metrics, typ = summaryQuantiles(metrics), dto.MetricType_GAUGE
		}
		for _, met := range metrics {
			num, den := matches(r.match, met), r.over != nil && matches(r.over, met)
			if !num && !den {
				continue
			}
			var rd Reading
			switch typ {
			case dto.MetricType_COUNTER:
				rd.Value = met.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				rd.Value = met.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				rd.Value = met.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				rd.Buckets = buckets(met.GetHistogram())
			}
			if math.IsNaN(rd.Value) {
				s.NaN++
				continue
			}
			if math.IsInf(rd.Value, 0) {
				s.Inf++
				continue
			}
			if num {
				s.Series[i][seriesKey(met)] = rd
			}
			if den {
				s.Over[i][seriesKey(met)] = rd
			}
		}
	}
	return s, nil
}

// summaryQuantiles turns a summary's precomputed quantiles into gauges
// labelled quantile="0.95" and so on, so a gauge rule can select one with
// match {quantile: "0.95"}.
func summaryQuantiles(ms []*dto.Metric) []*dto.Metric {
	var out []*dto.Metric
	name := "quantile"
	for _, m := range ms {
		for _, q := range m.GetSummary().GetQuantile() {
			qs, v := strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64), q.GetValue()
			labels := append(slices.Clip(m.GetLabel()), &dto.LabelPair{Name: &name, Value: &qs})
			out = append(out, &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: &v}})
		}
	}
	return out
}

func matches(ms []matcher, met *dto.Metric) bool {
	for _, mt := range ms {
		v := ""
		for _, lp := range met.GetLabel() {
			if lp.GetName() == mt.label {
				v = lp.GetValue()
				break
			}
		}
		if !mt.re.MatchString(v) {
			return false
		}
	}
	return true
}

// seriesKey is the series' labels, sorted, as name="value" pairs.
func seriesKey(met *dto.Metric) string {
	pairs := make([]string, 0, len(met.GetLabel()))
	for _, lp := range met.GetLabel() {
		pairs = append(pairs, lp.GetName()+"="+fmt.Sprintf("%q", lp.GetValue()))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

// buckets returns a histogram's cumulative buckets in ascending order,
// ending with +Inf (the sample count when the exposition lists none).
func buckets(h *dto.Histogram) []Bucket {
	out := make([]Bucket, 0, len(h.GetBucket())+1)
	for _, b := range h.GetBucket() {
		c := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil {
			c = b.GetCumulativeCountFloat()
		}
		out = append(out, Bucket{UpperBound: b.GetUpperBound(), Count: c})
	}
	slices.SortFunc(out, func(a, b Bucket) int {
		switch {
		case a.UpperBound < b.UpperBound:
			return -1
		case a.UpperBound > b.UpperBound:
			return 1
		}
		return 0
	})
	if n := len(out); n == 0 || !math.IsInf(out[n-1].UpperBound, 1) {
		c := float64(h.GetSampleCount())
		if h.SampleCountFloat != nil {
			c = h.GetSampleCountFloat()
		}
		out = append(out, Bucket{UpperBound: math.Inf(1), Count: c})
	}
	return out
}
