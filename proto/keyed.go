package proto

import (
	"errors"
	"fmt"
)

// TierKey is what names the app and tier a per-tier subject must carry.
type TierKey interface {
	Key() (app, tier string)
}

// Keyed is implemented by the per-tier payloads (Metrics, Forecast, Anomaly,
// Decision, Scaling): they name the app and tier their subject must carry.
type Keyed interface {
	Message
	TierKey
}

// Key returns the tick's app and tier.
func (m *Metrics) Key() (string, string) { return m.App, m.Tier }

// Key returns the forecast's app and tier.
func (f *Forecast) Key() (string, string) { return f.App, f.Tier }

// Key returns the anomaly message's app and tier.
func (a *Anomaly) Key() (string, string) { return a.App, a.Tier }

// Key returns the decision's app and tier.
func (d *Decision) Key() (string, string) { return d.App, d.Tier }

// Key returns the scaling event's app and tier.
func (s *Scaling) Key() (string, string) { return s.App, s.Tier }

// ErrSubjectMismatch reports a payload whose app or tier differs from the
// subject it arrived on: a forgery or a bug upstream, never processed.
var ErrSubjectMismatch = errors.New("subject does not match payload")

// DecodeOn decodes data received on subject into m and checks that the
// subject is <prefix>.<k>.<app>.<tier> with the payload's own app and tier.
// Every consumer decodes this way, so a tick naming app "victim" published on
// apm.metrics.shop.web is refused instead of being processed as "victim".
func DecodeOn(prefix string, k Kind, subject string, data []byte, m Keyed) error {
	if err := Decode(data, m); err != nil {
		return err
	}
	return CheckSubject(prefix, k, subject, m)
}

// CheckSubject reports whether subject is m's subject of kind k under prefix.
func CheckSubject(prefix string, k Kind, subject string, m TierKey) error {
	sk, sapp, stier, err := ParseSubject(prefix, subject)
	if err != nil {
		return err
	}
	app, tier := m.Key()
	if sk != k || sapp != app || stier != tier {
		return fmt.Errorf("%w: %s carries %s %s.%s", ErrSubjectMismatch, subject, k, app, tier)
	}
	return nil
}
