package proto

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Decision actions.
const (
	ActionUp   = "up"
	ActionDown = "down"
	ActionHold = "hold"
)

// Decision is the decider's verdict for one tier at one evaluation: a change
// or a hold, with the inputs it used and a plain-language reason. Published by
// the decider on <prefix>.decision.<app>.<tier>; consumed by the executor and
// the gateway; recorded in DECISIONS.
type Decision struct {
	V    int    `msgpack:"v"`
	ID   string `msgpack:"id"`
	App  string `msgpack:"app"`
	Tier string `msgpack:"tier"`
	TS   int64  `msgpack:"ts"`
	// From is the replica count (ready + booting) when deciding; To the count wanted.
	From   int    `msgpack:"from"`
	To     int    `msgpack:"to"`
	Action string `msgpack:"action"`
	Reason string `msgpack:"reason"`
	// Inputs holds the numbers behind the decision (load, forecast quantile, capacity, target, …).
	Inputs Floats `msgpack:"inputs"`
	// State is the policy state machine's state after deciding (e.g. "steady", "cooldown").
	State string `msgpack:"state"`
	// Flags marks conditions such as "performance-incident" or "budget-capped".
	Flags []string `msgpack:"flags,omitempty"`
	// TickMS is the app's tick: the decision stands for the tiers' ticks
	// within half a tick of TS, and is made once a tick of the next
	// interval comes, so it is that old already (0 from deciders before
	// the field).
	TickMS int64 `msgpack:"tick_ms,omitempty"`
}

// FlagReplayedInput marks a decision taken on a replayed tick
// (SourceReplay): it is decided and shown, and a real driver never acts on
// it, whatever the app's mode.
const FlagReplayedInput = "replayed-input"

// FlagAnomalyMissing and FlagForecastMissing mark a decision the decider
// took without its tick's anomaly message or without the forecast of its
// tick's bucket: the tick waited until the decider's backlog of ticks was
// full (an upstream stage down or far behind), or until the input timeout
// (FlagInputTimeout), and was decided on what had arrived (no incidents,
// or with the timeout the tier's latest incidents if recent; the latest
// earlier forecast, if any), as a reactive controller would, so the tier
// stays scaled.
const (
	FlagAnomalyMissing  = "anomaly-missing"
	FlagForecastMissing = "forecast-missing"
)

// FlagInputTimeout marks a decision taken without its tick's anomaly
// message or forecast (flagged as above) because they had not come within
// the decider's -decider.input-timeout of wall-clock time (an upstream
// stage down or slow) while the tick's decision could still be acted on,
// or, an older tick, because it went with such a tick. Unlike every other
// decision, which ticks are so decided depends on when the decider read
// its inputs, not on the recorded streams alone; a replay may decide such
// a tick otherwise.
const FlagInputTimeout = "input-timeout"

// DecisionID is the deterministic id of a tier's decision at ts.
func DecisionID(app, tier string, ts int64) string { return fmt.Sprintf("d.%s.%s.%d", app, tier, ts) }

// DecisionTime returns the event time (Unix ms) a DecisionID names, and
// false for an id not of that form.
func DecisionTime(id string) (int64, bool) {
	i := strings.LastIndexByte(id, '.')
	if !strings.HasPrefix(id, "d.") || i < 0 {
		return 0, false
	}
	ts, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil || id[i+1] == '+' || id[i+1] == '-' {
		return 0, false
	}
	return ts, true
}

// MsgID returns the message id.
func (d *Decision) MsgID() string { return d.ID }

// EventTime returns the event time the decision was taken at.
func (d *Decision) EventTime() time.Time { return Time(d.TS) }

// Validate checks the field rules.
func (d *Decision) Validate() error {
	if err := checkHeader(d.V, d.ID, d.TS); err != nil {
		return err
	}
	if err := checkAppTier(d.App, d.Tier); err != nil {
		return err
	}
	if d.From < 0 || d.To < 0 {
		return fmt.Errorf("%w: from=%d to=%d", ErrInvalid, d.From, d.To)
	}
	if d.TickMS < 0 {
		return fmt.Errorf("%w: tick_ms=%d", ErrInvalid, d.TickMS)
	}
	switch d.Action {
	case ActionUp, ActionDown, ActionHold:
	default:
		return fmt.Errorf("%w: action %q", ErrInvalid, d.Action)
	}
	for k, v := range d.Inputs {
		if err := checkFinite("inputs."+k, v); err != nil {
			return err
		}
	}
	return nil
}
