// Package sim is a pure simulated cluster for one tier: the executor's "sim"
// driver and the offline scaling evaluation both run it.
//
// A Cluster is driven by event time only. SetDesired names the total number
// of replicas (ready plus booting) wanted from an instant; a shortfall starts
// booting replicas that become ready after the configured delay, a reduction
// acts at once and cancels booting replicas before it stops ready ones.
// Optional failure injection makes a booting replica fail instead of becoming
// ready, drawn from a generator seeded in the Config so runs are repeatable.
package sim
