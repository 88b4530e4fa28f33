package proto

import (
	"fmt"
	"math"
	"regexp"
	"time"
)

// Well-known metric names. A tick may carry any other name matching MetricNameRE.
const (
	MetricRPS        = "rps"            // demand: requests (or operations, queries) per second
	MetricCPU        = "cpu"            // CPU utilisation, 0..1
	MetricMem        = "mem"            // memory utilisation, 0..1
	MetricLatencyP50 = "latency_p50_ms" // median latency, milliseconds
	MetricLatencyP95 = "latency_p95_ms" // 95th percentile latency, milliseconds
	MetricLatencyP99 = "latency_p99_ms" // 99th percentile latency, milliseconds
	MetricErrorRate  = "error_rate"     // share of requests failing, 0..1
	MaxMetricValues  = 64               // most values one tick may carry
	MaxMetricLabels  = 16               // most labels one tick may carry
	// MaxReplicas is the most replicas a tier is counted with where nothing
	// configures fewer: the push API's default bound on a tick's replicas,
	// and the executor's cap on a tier without configured bounds.
	MaxReplicas        = 100000
	maxLabelTextLength = 256
)

// MetricNameRE is the rule for metric value names; ValidMetricName checks it
// faster.
var MetricNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidMetricName reports whether s matches MetricNameRE: a lower-case letter
// then up to 63 of [a-z0-9_].
func ValidMetricName(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Metrics is one tick of one tier's metrics. Published by the collector on
// <prefix>.metrics.<app>.<tier>; consumed by the forecaster, the anomaly
// service, the decider and the gateway; recorded in METRICS.
type Metrics struct {
	V    int    `msgpack:"v"`
	ID   string `msgpack:"id"`
	App  string `msgpack:"app"`
	Tier string `msgpack:"tier"`
	TS   int64  `msgpack:"ts"`
	// Source names where the tick came from ("sim", "scrape", "push",
	// "trace", SourceReplay, …).
	Source string `msgpack:"source"`
	// Replicas is the count of ready replicas serving the tier at TS.
	Replicas int `msgpack:"replicas"`
	// Values maps metric names (MetricRPS, MetricCPU, …) to finite values.
	Values Floats `msgpack:"values"`
	// Labels carries optional free-form context (e.g. scrape target).
	Labels map[string]string `msgpack:"labels,omitempty"`
	// Committed is the executor's replica state for the tier as the
	// collector read it from the replica bucket when it made the tick; nil
	// when the executor has recorded none. A replayed tick (SourceReplay)
	// keeps the one the recorded tick carries: the recorded app's state
	// then, not the replaying app's, so a replay decides from the counts
	// the recorded app ran and, under the same policy, makes the
	// decisions it made. The decider decides from it, so a change the
	// executor has not committed yet is never emitted twice.
	Committed *Committed `msgpack:"committed,omitempty"`
}

// Committed is the part of a tier's ReplicaState a tick carries.
type Committed struct {
	// Desired is the total (ready + booting) the executor holds the tier
	// at: the last change it acted on, or for a dry-run or unauthorised
	// app the last change it acknowledged without acting (not for a tier
	// the configuration file names live held by -executor.modes, whose
	// driver cannot read the count back: that keeps the count it runs).
	Desired int `msgpack:"desired"`
	// Ready and Booting are the executor's counts.
	Ready   int `msgpack:"ready"`
	Booting int `msgpack:"booting"`
	// DecisionTS is the event time of the last decision the executor handled.
	DecisionTS int64 `msgpack:"decision_ts"`
}

// NewMetrics returns a tick with the version, id and event time filled in.
func NewMetrics(app, tier string, t time.Time, replicas int, values map[string]float64) *Metrics {
	ts := Millis(t)
	return &Metrics{V: SchemaVersion, ID: MetricsID(app, tier, ts), App: app, Tier: tier, TS: ts, Replicas: replicas, Values: values}
}

// SourceReplay is the Metrics.Source of a tick republished from the
// recording by a replay (collector replay).
const SourceReplay = "replay"

// MetricsID is the deterministic id of a tier's tick at ts: one tick per tier
// per millisecond, so a re-sent tick is dropped as a duplicate.
func MetricsID(app, tier string, ts int64) string { return fmt.Sprintf("m.%s.%s.%d", app, tier, ts) }

// MsgID returns the message id.
func (m *Metrics) MsgID() string { return m.ID }

// EventTime returns the time of the data.
func (m *Metrics) EventTime() time.Time { return Time(m.TS) }

// Validate checks the field rules.
func (m *Metrics) Validate() error {
	if err := checkHeader(m.V, m.ID, m.TS); err != nil {
		return err
	}
	if err := checkAppTier(m.App, m.Tier); err != nil {
		return err
	}
	if m.Replicas < 0 {
		return fmt.Errorf("%w: replicas=%d is negative", ErrInvalid, m.Replicas)
	}
	if len(m.Values) == 0 {
		return fmt.Errorf("%w: no values", ErrInvalid)
	}
	if len(m.Values) > MaxMetricValues {
		return fmt.Errorf("%w: %d values, at most %d allowed", ErrInvalid, len(m.Values), MaxMetricValues)
	}
	for k, v := range m.Values {
		if !ValidMetricName(k) {
			return fmt.Errorf("%w: value name %q: want [a-z][a-z0-9_]{0,63}", ErrInvalid, k)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) { // the field's name is built only for the error
			return checkFinite("values."+k, v)
		}
	}
	if c := m.Committed; c != nil && (c.Desired < 0 || c.Ready < 0 || c.Booting < 0 || c.DecisionTS < 0) {
		return fmt.Errorf("%w: committed state has a negative count or time", ErrInvalid)
	}
	if len(m.Labels) > MaxMetricLabels {
		return fmt.Errorf("%w: %d labels, at most %d allowed", ErrInvalid, len(m.Labels), MaxMetricLabels)
	}
	for k, v := range m.Labels {
		if len(k) == 0 || len(k) > maxLabelTextLength || len(v) > maxLabelTextLength {
			return fmt.Errorf("%w: label %q: names 1..%d and values 0..%d bytes", ErrInvalid, k, maxLabelTextLength, maxLabelTextLength)
		}
	}
	return nil
}
