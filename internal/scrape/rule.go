package scrape

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/headroomhq/headroom/proto"
)

// Kind says how a rule turns series into a value.
type Kind string

// The rule kinds.
const (
	// KindCounter sums the selected counters' increases and divides by the
	// seconds between two samples: a per-second rate (http_requests_total →
	// rps). A counter that goes down was reset; its new value is the increase.
	KindCounter Kind = "counter"
	// KindGauge takes the selected gauges as they are, aggregated by Agg.
	// It also reads a summary's quantiles, each a series labelled
	// quantile="0.95" and so on (select one with Match).
	KindGauge Kind = "gauge"
	// KindHistogram merges the selected histograms' bucket increases between
	// two samples and takes the Quantile of them (latency_p95_ms).
	KindHistogram Kind = "histogram"
)

// Aggregations for gauges across series and targets.
const (
	AggAvg = "avg"
	AggSum = "sum"
	AggMax = "max"
	AggMin = "min"
)

// ReplicasName is the rule name whose value (rounded) is used as the tier's
// ready replicas instead of a metric value.
const ReplicasName = "replicas"

// Rule maps Prometheus series to one named Headroom value.
type Rule struct {
	// Name is the Headroom value name ("rps", "latency_p95_ms"), or
	// ReplicasName for the ready replica count.
	Name string
	// Series is the Prometheus metric family name, e.g. "http_requests_total"
	// (for a histogram the family name without _bucket).
	Series string
	// Kind is counter, gauge or histogram.
	Kind Kind
	// Match filters series by label: each value is a regular expression the
	// label's value must match in full (a missing label is ""). Empty
	// selects every series of the family.
	Match map[string]string
	// Over, when not nil, makes a counter rule a ratio: the rate of the
	// series Match selects divided by the rate of the family's series Over
	// selects (same syntax; empty selects them all), e.g. error_rate as 5xx
	// over all requests. With no traffic the ratio is 0.
	Over map[string]string
	// Quantile is the histogram quantile in (0, 1), e.g. 0.95.
	Quantile float64
	// Scale multiplies the value (1000 turns seconds into milliseconds); 0
	// means 1.
	Scale float64
	// Agg aggregates gauges across series and targets: avg (default), sum,
	// max or min. Counters and histograms always sum.
	Agg string
}

// Validate reports what is wrong with the rule, naming the field.
func (r Rule) Validate() error {
	var errs []error
	if r.Name != ReplicasName && !proto.MetricNameRE.MatchString(r.Name) {
		errs = append(errs, fmt.Errorf("name %q: want [a-z][a-z0-9_]{0,63}", r.Name))
	}
	if r.Series == "" {
		errs = append(errs, errors.New("series is empty"))
	}
	switch r.Kind {
	case KindCounter, KindGauge:
		if r.Quantile != 0 {
			errs = append(errs, fmt.Errorf("quantile: only for histograms, not %s", r.Kind))
		}
	case KindHistogram:
		if !(r.Quantile > 0 && r.Quantile < 1) {
			errs = append(errs, fmt.Errorf("quantile %v: want a value in (0, 1)", r.Quantile))
		}
	default:
		errs = append(errs, fmt.Errorf("kind %q: want counter, gauge or histogram", r.Kind))
	}
	if r.Name == ReplicasName && r.Kind != KindGauge {
		errs = append(errs, fmt.Errorf("kind %q: the replicas rule must be a gauge", r.Kind))
	}
	if r.Scale < 0 {
		errs = append(errs, fmt.Errorf("scale %v: want a positive factor", r.Scale))
	}
	switch r.Agg {
	case "", AggAvg, AggSum, AggMax, AggMin:
	default:
		errs = append(errs, fmt.Errorf("agg %q: want avg, sum, max or min", r.Agg))
	}
	for k, v := range r.Match {
		if _, err := regexp.Compile("^(?:" + v + ")$"); err != nil {
			errs = append(errs, fmt.Errorf("match.%s: %w", k, err))
		}
	}
	for k, v := range r.Over {
		if _, err := regexp.Compile("^(?:" + v + ")$"); err != nil {
			errs = append(errs, fmt.Errorf("over.%s: %w", k, err))
		}
	}
	if r.Over != nil && r.Kind != KindCounter {
		errs = append(errs, fmt.Errorf("over: only counters make ratios, not %s", r.Kind))
	}
	return errors.Join(errs...)
}

type matcher struct {
	label string
	re    *regexp.Regexp
}

type compiled struct {
	Rule
	match []matcher
	over  []matcher // nil unless a ratio
	scale float64
}

func matchers(m map[string]string) []matcher {
	labels := make([]string, 0, len(m))
	for k := range m {
		labels = append(labels, k)
	}
	slices.Sort(labels)
	out := make([]matcher, 0, len(labels))
	for _, k := range labels {
		out = append(out, matcher{label: k, re: regexp.MustCompile("^(?:" + m[k] + ")$")})
	}
	return out
}

// Mapping is a validated, compiled list of rules. It is safe for
// concurrent use.
type Mapping struct {
	rules []compiled
}

// NewMapping validates and compiles rules. Names must be unique.
func NewMapping(rules []Rule) (*Mapping, error) {
	m := &Mapping{}
	seen := map[string]bool{}
	var errs []error
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("rule %d (%s): %w", i, r.Name, err))
			continue
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("rule %d: name %q used twice", i, r.Name))
		}
		seen[r.Name] = true
		if r.Kind == KindHistogram {
			// The family is named without the suffix its bucket lines carry.
			r.Series = strings.TrimSuffix(r.Series, "_bucket")
		}
		c := compiled{Rule: r, scale: r.Scale}
		if c.scale == 0 {
			c.scale = 1
		}
		c.match = matchers(r.Match)
		if r.Over != nil {
			c.over = matchers(r.Over) // never nil: marks a ratio
		}
		m.rules = append(m.rules, c)
	}
	if len(rules) == 0 {
		errs = append(errs, errors.New("no rules"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// Rules returns the mapping's rules in order.
func (m *Mapping) Rules() []Rule {
	out := make([]Rule, len(m.rules))
	for i, r := range m.rules {
		out[i] = r.Rule
	}
	return out
}
