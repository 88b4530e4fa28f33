package policy

import (
	"time"

	"github.com/headroomhq/headroom/internal/forecast"
)

// Forecast is the latest forecast of a tier's load: Points[i] is the mean
// over the bucket [Points[i].Time, Points[i].Time+Step).
type Forecast struct {
	// Origin is the start of the first forecast bucket.
	Origin time.Time
	// Step is the bucket width.
	Step time.Duration
	// Points are the forecast buckets in time order.
	Points []forecast.Point
}

// TierInput is what the decider knows about one tier at a tick.
type TierInput struct {
	// Load is the current observed load (the tier's LoadMetric).
	Load float64
	// Values holds the tick's other metrics (cpu, latency, …); may be nil.
	// "cpu" is read as the mean utilisation of ready replicas, as a fraction
	// in [0, 1] (values above 1.5 are taken as percent).
	Values map[string]float64
	// Ready and Booting are the replica counts at the tick.
	Ready, Booting int
	// Desired, when positive, is the total the tier is held at: the count
	// the executor has committed to (or the last change decided and not yet
	// committed). It differs from Ready+Booting while a scale-down is
	// pending, and the policy decides from it so a change is never emitted
	// twice.
	Desired int
	// Absent is how many of Desired the executor's record has neither
	// ready nor booting: a change acknowledged without acting (a dry-run
	// or unauthorised app), or replicas the simulated cluster failed. They
	// are counted in Booting (Desired less the tick's ready) but wait for
	// nothing, so they never count as replicas not becoming ready.
	Absent int
	// Forecast is the latest forecast of Load, nil when none exists yet.
	Forecast *Forecast
	// Incidents lists the open incident kinds on this tier: "load",
	// "performance", "errors", "drop".
	Incidents []string
}

// Current is the tier's total replica count to decide from: a decision's
// From. The decider reads it to check a rebuilt tier against the count its
// last stored decision was decided from.
func (in TierInput) Current() int {
	if in.Desired > 0 {
		return in.Desired
	}
	return in.Ready + in.Booting
}

// Decision is the policy's verdict for one tier at one tick.
type Decision struct {
	// Tier is the tier name.
	Tier string
	// From is the current replica count (ready plus booting); To the count
	// wanted from now on.
	From, To int
	// Action is "up", "down" or "hold".
	Action string
	// Reason says in plain language why, with the numbers behind it.
	Reason string
	// Inputs holds the numbers the decision used.
	Inputs map[string]float64
	// State is the tier's state-machine state after the decision.
	State string
	// Flags marks notable conditions, e.g. "performance-incident",
	// "budget-capped", "load-incident", "capacity-unknown".
	Flags []string
}

// FlagBadInput marks a hold because the tier's load was missing or not a
// finite non-negative number: the policy neither scaled nor learned.
const FlagBadInput = "bad-input"

// Incident kinds understood by the policy.
const (
	IncidentLoad        = "load"
	IncidentPerformance = "performance"
	IncidentErrors      = "errors"
	IncidentDrop        = "drop"
)

// Actions a Decision can carry.
const (
	ActionUp   = "up"
	ActionDown = "down"
	ActionHold = "hold"
)
