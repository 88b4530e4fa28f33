package anomaly

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Incident kinds, as the decider consumes them.
const (
	// KindLoad is demand up, with latency possibly following.
	KindLoad = "load"
	// KindPerformance is latency (or CPU) up without a demand change.
	KindPerformance = "performance"
	// KindErrors is the error rate up.
	KindErrors = "errors"
	// KindDrop is traffic falling off a cliff.
	KindDrop = "drop"
)

// Incident states.
const (
	// StateOpen marks the tick an incident starts.
	StateOpen = "open"
	// StateUpdate marks a tick where an open incident grew or gained evidence.
	StateUpdate = "update"
	// StateClosed marks the tick an incident ends.
	StateClosed = "closed"
)

// DemandMetric is the metric that measures demand.
const DemandMetric = "rps"

// Incident is a correlated event on one tier.
type Incident struct {
	// ID is deterministic: the kind and the start time in unix milliseconds.
	ID string
	// Kind is one of KindLoad, KindPerformance, KindErrors, KindDrop.
	Kind string
	// State is StateOpen, StateUpdate or StateClosed.
	State string
	// Start is the event time of the first anomalous tick.
	Start time.Time
	// End is the event time of the last anomalous tick; zero while open.
	End time.Time
	// Severity is the largest score seen in the incident, in [0,1].
	Severity float64
	// Evidence lists the anomalous metrics with numbers, sorted by metric.
	Evidence []string
}

// ClassifierConfig tunes how metric scores become incidents.
type ClassifierConfig struct {
	// Level is the score at or above which a metric counts as anomalous.
	Level float64
	// CloseAfter is how many quiet ticks close an incident.
	CloseAfter int
	// UpdateStep is the severity rise that triggers an update.
	UpdateStep float64
	// SustainDeviation keeps an open incident alive while one of its
	// metrics still deviates this many error scales in the incident's
	// direction: scores are sparse (high at an onset, damped after), the
	// condition they announced may last.
	SustainDeviation float64
	// MinChange is the smallest relative change, |observed − expected| /
	// |expected|, that lets an anomalous score count: a significant but
	// tiny change (latency 6.7 ms against 5.9 ms at night) is not an
	// incident.
	MinChange float64
	// OpenDeviation lets a metric whose score the detector's holdoff
	// damped (Score.Held: it alarmed a little earlier, on something
	// small) count as anomalous when it deviates this many error scales
	// (Score.Deviation): a far larger event must not hide behind a small
	// one. Zero switches it off.
	OpenDeviation float64
	// MinErrorRate is the smallest absolute rise of error_rate that counts.
	MinErrorRate float64
}

// DefaultClassifierConfig returns the settings used live.
func DefaultClassifierConfig() ClassifierConfig {
	return ClassifierConfig{Level: 0.38, CloseAfter: 5, UpdateStep: 0.05, SustainDeviation: 3, MinChange: 0.4, MinErrorRate: 0.005, OpenDeviation: 12}
}

// openIncident is the classifier's state for one kind.
type openIncident struct {
	inc      Incident
	lastSeen time.Time
	quiet    int
	metrics  map[string]bool
}

// Classifier correlates one tier's metric scores into incidents. Keep one per
// tier; it is not safe for concurrent use.
type Classifier struct {
	cfg  ClassifierConfig
	open map[string]*openIncident
}

// NewClassifier returns a classifier with no open incidents.
func NewClassifier(cfg ClassifierConfig) *Classifier {
	return &Classifier{cfg: cfg, open: map[string]*openIncident{}}
}

func isLatency(name string) bool { return strings.HasPrefix(name, "latency") }

// kindsAt names the kinds active at one tick and, for each, the metrics
// that support it.
func (c *Classifier) kindsAt(scores map[string]Score, names []string) map[string][]string {
	hot := func(name string, dir int) bool {
		s, ok := scores[name]
		if !ok || s.Direction != dir {
			return false
		}
		// A score damped by the detector's holdoff (it alarmed a little
		// earlier on something small) still counts when the raw
		// deviation is extreme.
		if s.Value < c.cfg.Level && !(s.Held && c.cfg.OpenDeviation > 0 && math.Abs(s.Deviation) >= c.cfg.OpenDeviation) {
			return false
		}
		change := math.Abs(s.Observed - s.Expected)
		if name == "error_rate" {
			return change >= c.cfg.MinErrorRate
		}
		return change >= c.cfg.MinChange*math.Abs(s.Expected)
	}
	var latency, resources []string
	for _, n := range names {
		switch {
		case isLatency(n) && hot(n, 1):
			latency = append(latency, n)
		case (n == "cpu" || n == "mem") && hot(n, 1):
			resources = append(resources, n)
		}
	}
	out := map[string][]string{}
	demandUp, demandDown := hot(DemandMetric, 1), hot(DemandMetric, -1)
	// While a load incident is open and demand is still above what was
	// expected, latency or resources rising later are that load
	// following, not a separate performance problem.
	loadGoing := c.open[KindLoad] != nil && scores[DemandMetric].Deviation >= c.cfg.SustainDeviation
	errorsUp := hot("error_rate", 1)
	switch {
	case demandDown:
		out[KindDrop] = append([]string{DemandMetric}, latency...)
	case demandUp:
		out[KindLoad] = append(append([]string{DemandMetric}, latency...), resources...)
	case loadGoing && (len(latency) > 0 || len(resources) > 0):
		out[KindLoad] = append(append([]string{DemandMetric}, latency...), resources...)
	case len(latency) > 0 || len(resources) > 0:
		out[KindPerformance] = append(latency, resources...)
	}
	switch {
	case errorsUp && out[KindLoad] != nil:
		// Failures under a surge of demand are the load's doing.
		out[KindLoad] = append(out[KindLoad], "error_rate")
	case errorsUp:
		out[KindErrors] = []string{"error_rate"}
	}
	return out
}

// Observe takes one tick of a tier: its metric values and their scores, and
// returns the incidents that opened, changed or closed at this tick, in kind
// order. Ticks must come in event-time order.
func (c *Classifier) Observe(t time.Time, values map[string]float64, scores map[string]Score) []Incident {
	names := make([]string, 0, len(scores))
	for n := range scores {
		names = append(names, n)
	}
	sort.Strings(names)
	active := c.kindsAt(scores, names)

	kinds := []string{KindDrop, KindErrors, KindLoad, KindPerformance}
	var out []Incident
	for _, k := range kinds {
		metrics, on := active[k]
		o := c.open[k]
		if !on {
			if o == nil {
				continue
			}
			if c.sustained(k, o, scores) {
				o.quiet = 0
				o.lastSeen = t
				continue
			}
			o.quiet++
			if o.quiet >= c.cfg.CloseAfter {
				o.inc.State = StateClosed
				o.inc.End = o.lastSeen
				out = append(out, o.inc)
				delete(c.open, k)
			}
			continue
		}
		sev := 0.0
		for _, m := range metrics {
			sev = math.Max(sev, scores[m].Value)
		}
		if o == nil {
			o = &openIncident{
				inc: Incident{
					ID: fmt.Sprintf("%s-%d", k, t.UnixMilli()), Kind: k, State: StateOpen,
					Start: t, Severity: sev,
				},
				metrics: map[string]bool{},
			}
			for _, m := range metrics {
				o.metrics[m] = true
			}
			o.inc.Evidence = evidence(metrics, values, scores)
			o.lastSeen = t
			c.open[k] = o
			out = append(out, o.inc)
			continue
		}
		o.quiet = 0
		o.lastSeen = t
		grew := sev >= o.inc.Severity+c.cfg.UpdateStep
		joined := false
		for _, m := range metrics {
			if !o.metrics[m] {
				o.metrics[m] = true
				joined = true
			}
		}
		if grew || joined {
			o.inc.Severity = math.Max(o.inc.Severity, sev)
			o.inc.Evidence = evidence(metrics, values, scores)
			o.inc.State = StateUpdate
			out = append(out, o.inc)
		}
	}
	return out
}

// sustained says whether an open incident's metrics still deviate in its
// direction (down for a drop, up otherwise).
func (c *Classifier) sustained(kind string, o *openIncident, scores map[string]Score) bool {
	dir := 1.0
	if kind == KindDrop {
		dir = -1
	}
	for m := range o.metrics {
		if s, ok := scores[m]; ok && dir*s.Deviation >= c.cfg.SustainDeviation {
			return true
		}
	}
	return false
}

// evidence describes each metric: observed vs expected and the score.
func evidence(metrics []string, values map[string]float64, scores map[string]Score) []string {
	ms := append([]string(nil), metrics...)
	sort.Strings(ms)
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		s := scores[m]
		v, ok := values[m]
		if !ok {
			v = s.Observed
		}
		out = append(out, fmt.Sprintf("%s %.4g vs expected %.4g (score %.2f, %s)", m, v, s.Expected, s.Value, s.Detector))
	}
	return out
}
