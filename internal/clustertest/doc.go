// Package clustertest holds the test of Headroom beyond one machine: a
// three-node JetStream cluster started in the test process, streams at
// three replicas, and two members of each stateful service sharing the
// work. Under steady load one NATS node and one member of every service are
// killed; the outputs must still be exactly one per input and the
// anomaly messages, forecasts and decisions equal to those of a fault-free
// run on a single server. A second test hands every stage's partitions over
// a dozen times while the load flows, members joining, stopping and dying
// by turns, with the same requirement.
package clustertest
