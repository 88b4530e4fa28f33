package proto

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// DefaultPrefix is the first subject token unless configured otherwise, so two
// installations can share one NATS system under different prefixes.
const DefaultPrefix = "apm"

// Kind names a family of subjects and the stream that records it.
type Kind string

// The subject families. Each is published as <prefix>.<kind>.<app>.<tier>,
// except dead letters, published as <prefix>.dlq.<service>.
const (
	// KindMetrics carries one tick of a tier's metrics; published by the collector.
	KindMetrics Kind = "metrics"
	// KindForecast carries a forecast of one metric; published by the forecaster.
	KindForecast Kind = "forecast"
	// KindAnomaly carries scores and incident events; published by the anomaly service.
	KindAnomaly Kind = "anomaly"
	// KindDecision carries a scaling decision; published by the decider.
	KindDecision Kind = "decision"
	// KindScaling carries what the executor did; published by the executor.
	KindScaling Kind = "scaling"
	// KindDLQ carries messages a service could not handle; published by any service.
	KindDLQ Kind = "dlq"
)

// Kinds lists every subject family in pipeline order.
var Kinds = []Kind{KindMetrics, KindForecast, KindAnomaly, KindDecision, KindScaling, KindDLQ}

// Stream is the JetStream stream name recording the family under the default
// prefix: METRICS, FORECASTS, ANOMALIES, DECISIONS, SCALING, DLQ.
func (k Kind) Stream() string {
	switch k {
	case KindMetrics:
		return "METRICS"
	case KindForecast:
		return "FORECASTS"
	case KindAnomaly:
		return "ANOMALIES"
	case KindDecision:
		return "DECISIONS"
	case KindScaling:
		return "SCALING"
	case KindDLQ:
		return "DLQ"
	}
	return strings.ToUpper(string(k))
}

// StreamName is the stream recording kind k under prefix: the bare name for
// the default prefix, else the upper-cased prefix, "_" and the bare name
// (prefix "staging" records metrics in STAGING_METRICS).
func StreamName(prefix string, k Kind) string {
	if prefix == DefaultPrefix {
		return k.Stream()
	}
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(prefix)) + "_" + k.Stream()
}

// ErrBadToken reports an app, tier or service name outside [a-z0-9_-]{1,64}.
var ErrBadToken = errors.New("bad token: want 1 to 64 characters of [a-z0-9_-]")

// ErrBadSubject reports a subject that is not of the expected form.
var ErrBadSubject = errors.New("bad subject")

// ValidToken reports whether s may be used as an app, tier or service name:
// 1 to 64 characters of [a-z0-9_-]. (Checked by hand: it runs for every
// message decoded, where a regexp costs more than the decoding.)
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckToken returns nil for a valid token, else an error naming what (e.g.
// "app") and the offending value, wrapping ErrBadToken.
func CheckToken(what, s string) error {
	if ValidToken(s) {
		return nil
	}
	return fmt.Errorf("%s %q: %w", what, s, ErrBadToken)
}

var prefixRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// CheckPrefix validates a subject prefix: one token of 1 to 32 characters of
// [a-z0-9-]. The prefix also names the streams, the replica bucket and the
// service groups (StreamName: upper-cased, "-" as "_"); so that two
// installations sharing one NATS never share those, prefixes that would
// name them alike (differing in case, "_" against "-", or dots) are not
// valid.
func CheckPrefix(prefix string) error {
	if !prefixRE.MatchString(prefix) {
		return fmt.Errorf("subject prefix %q: want one token of 1 to 32 characters of [a-z0-9-] (it names the streams too, so case, '_' and '.' are not allowed)", prefix)
	}
	return nil
}

// Subject builds <prefix>.<kind>.<app>.<tier>. It does not validate; callers
// at the edge validate tokens with CheckToken first.
func Subject(prefix string, k Kind, app, tier string) string {
	return prefix + "." + string(k) + "." + app + "." + tier
}

// MetricsSubject is the subject of app's tier metrics, e.g. apm.metrics.shop.web.
func MetricsSubject(prefix, app, tier string) string { return Subject(prefix, KindMetrics, app, tier) }

// ForecastSubject is the subject of a tier's forecasts, e.g. apm.forecast.shop.web.
func ForecastSubject(prefix, app, tier string) string {
	return Subject(prefix, KindForecast, app, tier)
}

// AnomalySubject is the subject of a tier's anomaly scores and incidents.
func AnomalySubject(prefix, app, tier string) string { return Subject(prefix, KindAnomaly, app, tier) }

// DecisionSubject is the subject of a tier's scaling decisions.
func DecisionSubject(prefix, app, tier string) string {
	return Subject(prefix, KindDecision, app, tier)
}

// ScalingSubject is the subject of a tier's scaling events.
func ScalingSubject(prefix, app, tier string) string { return Subject(prefix, KindScaling, app, tier) }

// DLQSubject is the dead-letter subject of a service, e.g. apm.dlq.forecaster.
func DLQSubject(prefix, service string) string { return prefix + "." + string(KindDLQ) + "." + service }

// Filter matches every subject of kind k, as published and as stored (a
// partitioned stream stores a trailing partition token, see SplitStored):
// <prefix>.<kind>.> (or <prefix>.dlq.* for dead letters).
func Filter(prefix string, k Kind) string {
	if k == KindDLQ {
		return prefix + ".dlq.*"
	}
	return prefix + "." + string(k) + ".>"
}

// PublishFilter matches the subjects kind k is published on,
// <prefix>.<kind>.*.* (or <prefix>.dlq.*): the subjects its stream takes in.
func PublishFilter(prefix string, k Kind) string {
	if k == KindDLQ {
		return prefix + ".dlq.*"
	}
	return prefix + "." + string(k) + ".*.*"
}

// AppFilter matches every subject of kind k for one app, as published and
// as stored: <prefix>.<kind>.<app>.>.
func AppFilter(prefix string, k Kind, app string) string {
	return prefix + "." + string(k) + "." + app + ".>"
}

// AllFilter matches every Headroom subject under prefix: <prefix>.>.
func AllFilter(prefix string) string { return prefix + ".>" }

// ParseSubject splits <prefix>.<kind>.<app>.<tier> into its parts, checking
// the prefix, the kind and both tokens. A stored subject's trailing partition
// token (see SplitStored) is accepted and dropped.
func ParseSubject(prefix, subject string) (k Kind, app, tier string, err error) {
	subject, _ = SplitStored(prefix, subject)
	rest, ok := strings.CutPrefix(subject, prefix+".")
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q does not start with %q", ErrBadSubject, subject, prefix+".")
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: %q: want %s.<kind>.<app>.<tier>", ErrBadSubject, subject, prefix)
	}
	k = Kind(parts[0])
	switch k {
	case KindMetrics, KindForecast, KindAnomaly, KindDecision, KindScaling:
	default:
		return "", "", "", fmt.Errorf("%w: %q: unknown kind %q", ErrBadSubject, subject, parts[0])
	}
	if err := CheckToken("app", parts[1]); err != nil {
		return "", "", "", fmt.Errorf("%w: %q: %w", ErrBadSubject, subject, err)
	}
	if err := CheckToken("tier", parts[2]); err != nil {
		return "", "", "", fmt.Errorf("%w: %q: %w", ErrBadSubject, subject, err)
	}
	return k, parts[1], parts[2], nil
}
