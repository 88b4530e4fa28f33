// Package executor is the service that acts on scaling decisions. It consumes
// <prefix>.decision.*.* with a durable consumer, hands each change to a
// Driver (the simulated cluster by default), publishes what happened on
// <prefix>.scaling.<app>.<tier> and keeps each tier's replica state in the
// replica key-value bucket.
//
// It is idempotent by decision id: the replica state records the event time
// of the last decision applied, so a redelivered decision (after a crash, or
// a replay) is recognised and acts once. Time inside the executor is event
// time: the simulated cluster boots replicas against the decisions' own
// timestamps, so a replay at any speed gives the same replica history.
package executor
