package executor

import (
	"context"
	"time"
)

// Request asks a driver to set a tier's total replica count.
type Request struct {
	App, Tier  string
	Replicas   int
	DecisionID string
	// Time is the decision's event time.
	Time time.Time
}

// Result is what a driver reports after a request or an Observe.
type Result struct {
	Ready, Booting int
}

// Driver changes the replica count of a tier. Implementations must be safe
// to call again with the same request (the executor avoids it, but a crash
// between acting and recording can repeat one).
type Driver interface {
	Scale(ctx context.Context, r Request) (Result, error)
}

// Observer is implemented by drivers that can report a tier's counts as event
// time advances without a change (the simulated cluster); for the others the
// executor assumes the requested count is what runs.
type Observer interface {
	Observe(app, tier string, t time.Time) (Result, bool)
}
