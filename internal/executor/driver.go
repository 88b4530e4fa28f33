package executor

import (
	"context"
	"errors"
	"time"
)

// Names of the drivers -executor.driver selects.
const (
	DriverSim     = "sim"     // the simulated cluster (default)
	DriverCommand = "command" // runs a program from an argument template, no shell
	DriverWebhook = "webhook" // POSTs JSON to a URL
)

// Request asks a driver to set a tier's total replica count.
type Request struct {
	App, Tier  string
	Replicas   int
	DecisionID string
	// Time is the decision's event time.
	Time time.Time
	// Reason is the decision's plain-language reason (informational).
	Reason string
	// Judged says the executor judged the decision from a count of the
	// tier's, JudgedFrom: the workload's desired count (spec.replicas)
	// where the driver reads it (Observe, Result.Cluster), else the count
	// the executor last set. A driver that reads the workload back (the
	// kubernetes driver) changes it only while its desired count is still
	// JudgedFrom, and otherwise changes nothing and returns an error
	// wrapping ErrMovedSinceJudged. Unset (no count on record: a tier's
	// first decision), it acts whatever count runs.
	Judged     bool
	JudgedFrom int
}

// ErrMovedSinceJudged is wrapped by the error of a driver that found the
// tier's desired count other than the one the request was judged from
// (Request.JudgedFrom) and changed nothing: someone changed it meanwhile
// (another executor member, kubectl scale). The executor judges the
// decision again from the count now running; a request already at its
// count is a success, not this error.
var ErrMovedSinceJudged = errors.New("desired replicas changed since the decision was judged")

// Result is what a driver reports after a request or an Observe.
type Result struct {
	Ready, Booting int
	// Failed counts replicas that failed to boot since the driver last
	// reported on this tier (the simulated cluster's failure injection).
	Failed int
	// Cluster marks counts read from the system that runs the tier (the
	// kubernetes driver): Ready+Booting is then the workload's own desired
	// count (spec.replicas), which the executor records as the tier's
	// desired count in place of its bookkeeping, so a change made by
	// someone else shows in the next state.
	Cluster bool
}

// Driver changes the replica count of a tier. Scale is called by one
// goroutine at a time, bounded by ctx and the driver's own timeouts.
// Implementations must be safe to call again with the same request: the
// executor acts once per decision, but a crash between acting and recording
// the new state repeats the call on redelivery.
type Driver interface {
	Scale(ctx context.Context, r Request) (Result, error)
}

// Observer is implemented by drivers that can report a tier's counts as event
// time advances without a change (the simulated cluster); for the others the
// executor assumes the requested count is what runs.
type Observer interface {
	Observe(app, tier string, t time.Time) (Result, bool)
}

// readsBack is implemented by drivers that read a tier's desired count
// back from the system that runs it (Observe reports it, Result.Cluster:
// the kubernetes driver): the executor records that count as the tier's
// at every live judgement, so no count only acknowledged meanwhile (a
// brake of -executor.modes) outlives the next one. The command and
// webhook drivers cannot read it back; the executor's record of what it
// asked of them is all there is (see Service.braked).
type readsBack interface {
	readsCountBack()
}
