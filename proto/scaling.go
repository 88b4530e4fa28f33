package proto

import (
	"fmt"
	"time"
)

// Scaling statuses, in the order a change goes through them.
const (
	StatusRequested = "requested" // the driver was asked
	StatusApplied   = "applied"   // the driver accepted; replicas are booting
	StatusReady     = "ready"     // the tier reached the requested count
	StatusFailed    = "failed"    // the driver failed; Error says why
	StatusSkipped   = "skipped"   // dry-run or shadow: decided, logged, not acted on
)

// Scaling reports what the executor did about a decision, or a change of a
// tier's replica counts. Published by the executor on
// <prefix>.scaling.<app>.<tier>; consumed by the collector (closed loop) and
// the gateway; recorded in SCALING.
type Scaling struct {
	V          int    `msgpack:"v"`
	ID         string `msgpack:"id"`
	App        string `msgpack:"app"`
	Tier       string `msgpack:"tier"`
	TS         int64  `msgpack:"ts"`
	DecisionID string `msgpack:"decision_id"`
	Status     string `msgpack:"status"`
	// Desired is the total replica count requested; Ready and Booting the counts now.
	Desired int    `msgpack:"desired"`
	Ready   int    `msgpack:"ready"`
	Booting int    `msgpack:"booting"`
	Driver  string `msgpack:"driver"`
	// Mode is "live", "dry-run" or "shadow".
	Mode  string `msgpack:"mode"`
	Error string `msgpack:"error,omitempty"`
	// Reason says why a decision was skipped (status "skipped"): dry-run,
	// not authorised, stale or superseded; on a "requested" event, that
	// the driver was asked for a count the tier's state held only
	// acknowledged ("synced: …", see ReplicaState.ClaimedBy), a hold's
	// included.
	Reason string `msgpack:"reason,omitempty"`
}

// ScalingID is the deterministic id of a scaling event: the decision (or
// state change) it belongs to, its status and event time.
func ScalingID(app, tier, decisionID, status string, ts int64) string {
	return fmt.Sprintf("s.%s.%s.%s.%s.%d", app, tier, decisionID, status, ts)
}

// MsgID returns the message id.
func (s *Scaling) MsgID() string { return s.ID }

// EventTime returns the event time of the change.
func (s *Scaling) EventTime() time.Time { return Time(s.TS) }

// Validate checks the field rules.
func (s *Scaling) Validate() error {
	if err := checkHeader(s.V, s.ID, s.TS); err != nil {
		return err
	}
	if err := checkAppTier(s.App, s.Tier); err != nil {
		return err
	}
	switch s.Status {
	case StatusRequested, StatusApplied, StatusReady, StatusFailed, StatusSkipped:
	default:
		return fmt.Errorf("%w: status %q", ErrInvalid, s.Status)
	}
	if s.Desired < 0 || s.Ready < 0 || s.Booting < 0 {
		return fmt.Errorf("%w: negative replica count", ErrInvalid)
	}
	return nil
}

// ReplicaState is the executor's view of a tier, kept in the key-value bucket
// under the key <app>.<tier> and read by the collector and decider.
type ReplicaState struct {
	V    int    `msgpack:"v"`
	App  string `msgpack:"app"`
	Tier string `msgpack:"tier"`
	// TS is the event time (ms) of the last decision the executor judged
	// for the tier, whatever it did with it: one at or before it is
	// already applied. A decision on replayed input refused for a tier
	// the file names live is none of the tier's, and leaves it as it was
	// (with no state yet, it stores none).
	TS      int64 `msgpack:"ts"`
	Desired int   `msgpack:"desired"`
	Ready   int   `msgpack:"ready"`
	Booting int   `msgpack:"booting"`
	// DecisionID names the last change carried out on the tier (by the
	// executor's driver or shadow mode's simulated cluster) or only
	// acknowledged (dry-run, not authorised): the decision whose count
	// Desired records (the cluster's instead where the driver reads it),
	// to which the ready and failed events of the replicas it started are
	// credited. Holds, refusals and a failed change leave it as it was, so
	// it may be older than TS (a hold that synced a count only
	// acknowledged, see ClaimedBy, is carried out and named here); ""
	// while the tier has none (its decisions so far held, were refused,
	// or failed).
	DecisionID string `msgpack:"decision_id"`
	// Claimed marks a Desired the executor's driver did not carry out and
	// no cluster reported: a change a dry-run or unauthorised tier only
	// acknowledged, one shadow mode's simulated cluster ran for a real
	// driver, or, after a failed change, a count only decisions claimed.
	// (A tier the configuration file names live, held in dry-run or
	// shadow by -executor.modes, claims no new count where the driver
	// cannot read its count back, command or webhook: its state keeps
	// what the driver runs. One an executor before it acknowledged
	// without saying why (no ClaimedBy) is taken back to the ready and
	// booting counts, still claimed: ClaimedBraked.)
	// The executor never judges a change's way back into the tier's
	// bounds from such a count. Absent in states written before it.
	Claimed bool `msgpack:"claimed,omitempty"`
	// ClaimedBy says why Desired is claimed (one of the Claimed*
	// constants; only with Claimed): what the executor owes the
	// workload once it may act on it. A count only acknowledged
	// (ClaimedDryRun, ClaimedUnauthorised) or run by shadow mode's
	// simulated cluster (ClaimedShadow) was never asked of the real
	// workload, so the tier's first live judgement with a real driver
	// that cannot read the count back has the driver set it (a sync)
	// even on a hold; a sync that fails leaves the claim as it was, for
	// the next decision. A count claimed after a failed change
	// (ClaimedFailed), the count a braked tier's driver was last asked
	// for (ClaimedBraked) or a count decided on replayed input
	// (ClaimedReplayed) is not set again on holds. Absent (states
	// written before it, or Claimed false): the executor treats the claim
	// as it did before, and never syncs it. A build before the field
	// refuses a state carrying it (DecodeReplicaState refuses unknown
	// fields: "unknown field \"claimed_by\""): its collector logs and
	// counts the value and keeps stamping the tier's previous state on
	// its ticks, its executor judges the tier as one without a state and
	// overwrites it. Only claimed states carry it (omitted otherwise, a
	// carried-out state encodes as before), but a tier in dry-run
	// claims its first change: so the README's upgrade has the
	// collectors replaced before the executors, and no older executor
	// run beside a newer one.
	ClaimedBy string `msgpack:"claimed_by,omitempty"`
}

// Why a ReplicaState's Desired is claimed (ReplicaState.ClaimedBy).
const (
	// ClaimedDryRun: a change acknowledged in dry-run (the file's mode,
	// -executor.modes, or a brake where the driver reads the count back).
	ClaimedDryRun = "dry-run"
	// ClaimedUnauthorised: a change acknowledged for a tier no real
	// driver may act on (the file does not name it live).
	ClaimedUnauthorised = "not-authorised"
	// ClaimedShadow: a change the simulated cluster ran, shadow mode's
	// while the executor's driver is a real one, or the sim driver's:
	// never asked of a real workload.
	ClaimedShadow = "shadow"
	// ClaimedFailed: the count a tier with none on record fell back to
	// after its driver failed a change.
	ClaimedFailed = "failed"
	// ClaimedBraked: a braked tier's record taken back from a count
	// acknowledged without a cause to the count its driver runs.
	ClaimedBraked = "braked"
	// ClaimedReplayed: a change decided on replayed input, acknowledged
	// or run by the simulated cluster (shadow mode's, or the sim
	// driver's) for a tier the configuration file did not name live
	// then. Shown, never acted on: not set on the workload once the file
	// names the tier live, and the counts the state records as running
	// are the replay's too: a real driver's change to them is carried
	// out, not taken as done.
	ClaimedReplayed = "replayed"
)

// ClaimOnlyAcknowledged reports whether s's Desired was never asked of
// the real workload (ClaimedDryRun, ClaimedUnauthorised, ClaimedShadow):
// the count a live driver that cannot read it back must set before the
// record can stand for what runs.
func (s *ReplicaState) ClaimOnlyAcknowledged() bool {
	if !s.Claimed {
		return false
	}
	switch s.ClaimedBy {
	case ClaimedDryRun, ClaimedUnauthorised, ClaimedShadow:
		return true
	}
	return false
}

// Committed returns the part of the state a metrics tick carries.
func (s *ReplicaState) Committed() *Committed {
	return &Committed{Desired: s.Desired, Ready: s.Ready, Booting: s.Booting, DecisionTS: s.TS}
}

// ReplicaKey is the key-value key of a tier's replica state.
func ReplicaKey(app, tier string) string { return app + "." + tier }

// DecodeReplicaState decodes the value stored under the replica key key.
// Only the executor puts states, each under its own key, but any NATS
// client can have the server store a message under a key: a JetStream API
// request (a DIRECT.GET of some stored message, say) is answered on the
// reply subject its requester names, $KV.<bucket>.<key> included, and the
// bucket stores the answer. So besides Decode's checks, a value with
// fields a state does not have (a scaling event carries a state's fields
// and more) or naming another tier than key's is refused: it is such a
// copy, never the tier's state.
func DecodeReplicaState(key string, data []byte) (*ReplicaState, error) {
	var st ReplicaState
	if err := decode(data, &st, true); err != nil {
		return nil, err
	}
	if want := ReplicaKey(st.App, st.Tier); key != want {
		return nil, fmt.Errorf("%w: replica key %s holds the state of %s", ErrSubjectMismatch, key, want)
	}
	return &st, nil
}

// ReplicaBucket is the key-value bucket name for replica state under prefix.
func ReplicaBucket(prefix string) string {
	if prefix == DefaultPrefix {
		return "REPLICAS"
	}
	return StreamName(prefix, "replicas")
}

// LeaseBucket is the key-value bucket name for the executor's leases
// under prefix: one key per app.tier (ReplicaKey) while a member's driver
// that cannot read the count back is changing it. It is kept apart from
// the replica bucket, whose values every reader decodes as states.
func LeaseBucket(prefix string) string {
	if prefix == DefaultPrefix {
		return "EXEC_LEASES"
	}
	return StreamName(prefix, "exec_leases")
}

// MsgID returns the key-value key of the state; states are not published on
// subjects but use the same codec.
func (s *ReplicaState) MsgID() string { return ReplicaKey(s.App, s.Tier) }

// EventTime returns the event time of the last decision applied.
func (s *ReplicaState) EventTime() time.Time { return Time(s.TS) }

// Validate checks the field rules.
func (s *ReplicaState) Validate() error {
	if s.V != SchemaVersion {
		return fmt.Errorf("%w: v=%d, this build reads v=%d", ErrUnknownVersion, s.V, SchemaVersion)
	}
	if err := checkAppTier(s.App, s.Tier); err != nil {
		return err
	}
	if s.Desired < 0 || s.Ready < 0 || s.Booting < 0 {
		return fmt.Errorf("%w: negative replica count", ErrInvalid)
	}
	switch s.ClaimedBy {
	case "":
	case ClaimedDryRun, ClaimedUnauthorised, ClaimedShadow, ClaimedFailed, ClaimedBraked, ClaimedReplayed:
		if !s.Claimed {
			return fmt.Errorf("%w: claimed_by %q on a count not claimed", ErrInvalid, s.ClaimedBy)
		}
	default:
		return fmt.Errorf("%w: claimed_by %q", ErrInvalid, s.ClaimedBy)
	}
	return nil
}
