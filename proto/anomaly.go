package proto

import (
	"fmt"
	"time"
)

// Incident kinds, as classified per tier.
const (
	IncidentLoad        = "load"        // demand up, latency following: scale
	IncidentPerformance = "performance" // latency or errors up without more demand: alert, do not scale blindly
	IncidentErrors      = "errors"      // error rate up
	IncidentDrop        = "drop"        // traffic fell off a cliff
)

// Incident states.
const (
	IncidentOpen   = "open"
	IncidentUpdate = "update"
	IncidentClosed = "closed"
)

// Score is the anomaly score of one metric at one tick.
type Score struct {
	Metric string `msgpack:"metric"`
	// Score is the calibrated anomaly score in [0,1].
	Score    float64 `msgpack:"score"`
	Anomaly  bool    `msgpack:"anomaly"`
	Observed float64 `msgpack:"observed"`
	Expected float64 `msgpack:"expected"`
	// Detector names the detector that drove the score.
	Detector string `msgpack:"detector"`
	// Direction is +1 above expectation, -1 below, 0 none.
	Direction int `msgpack:"direction"`
}

// Incident is a correlated event on one tier.
type Incident struct {
	ID       string   `msgpack:"id"`
	Kind     string   `msgpack:"kind"`
	State    string   `msgpack:"state"`
	Start    int64    `msgpack:"start"`
	End      int64    `msgpack:"end"` // 0 while open
	Severity float64  `msgpack:"severity"`
	Evidence []string `msgpack:"evidence"`
}

// Anomaly carries the scores of one tick of one tier and the incidents that
// opened, changed or closed at that tick. Published by the anomaly service on
// <prefix>.anomaly.<app>.<tier> once per metrics tick; consumed by the decider
// and the gateway; recorded in ANOMALIES.
type Anomaly struct {
	V         int        `msgpack:"v"`
	ID        string     `msgpack:"id"`
	App       string     `msgpack:"app"`
	Tier      string     `msgpack:"tier"`
	TS        int64      `msgpack:"ts"`
	Scores    []Score    `msgpack:"scores"`
	Incidents []Incident `msgpack:"incidents,omitempty"`
	// Open lists the kinds of the tier's incidents still open after this tick.
	Open []string `msgpack:"open,omitempty"`
}

// AnomalyID is the deterministic id of the anomaly message for a tier's tick at ts.
func AnomalyID(app, tier string, ts int64) string { return fmt.Sprintf("a.%s.%s.%d", app, tier, ts) }

// MsgID returns the message id.
func (a *Anomaly) MsgID() string { return a.ID }

// EventTime returns the time of the scored tick.
func (a *Anomaly) EventTime() time.Time { return Time(a.TS) }

// Validate checks the field rules.
func (a *Anomaly) Validate() error {
	if err := checkHeader(a.V, a.ID, a.TS); err != nil {
		return err
	}
	if err := checkAppTier(a.App, a.Tier); err != nil {
		return err
	}
	for i, s := range a.Scores {
		if s.Score < 0 || s.Score > 1 {
			return fmt.Errorf("%w: scores[%d].score=%v outside [0,1]", ErrInvalid, i, s.Score)
		}
		if err := checkFinite(fmt.Sprintf("scores[%d].observed", i), s.Observed); err != nil {
			return err
		}
		if err := checkFinite(fmt.Sprintf("scores[%d].expected", i), s.Expected); err != nil {
			return err
		}
	}
	for i, in := range a.Incidents {
		switch in.Kind {
		case IncidentLoad, IncidentPerformance, IncidentErrors, IncidentDrop:
		default:
			return fmt.Errorf("%w: incidents[%d].kind %q", ErrInvalid, i, in.Kind)
		}
		switch in.State {
		case IncidentOpen, IncidentUpdate, IncidentClosed:
		default:
			return fmt.Errorf("%w: incidents[%d].state %q", ErrInvalid, i, in.State)
		}
	}
	return nil
}
