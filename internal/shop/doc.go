// Package shop is the application model behind Headroom's simulator: a
// three-tier online shop (web → cache → db) whose metrics respond to demand
// and to the replicas each tier has ready.
//
// Demand is a pure function of the seed and the event time: daily and weekly
// seasonality, a slow growth trend, multiplicative noise drawn from a hash of
// (seed, time) rather than from a stateful generator, short bursts, and
// incidents (traffic spikes, slow-database episodes) scheduled per calendar
// day from the seed. So backfilling a week at one spacing and then running
// live at another yields exactly the same series, and two processes with the
// same configuration agree sample for sample.
//
// Each tier is a queueing system: ready replicas × workers per replica
// servers, each with a share of the replica's capacity. Utilisation follows
// from offered load over capacity; queueing delay comes from the Erlang-C
// formula for M/M/c queues, so latency stays flat at low load and climbs
// sharply near saturation; load above capacity is shed as errors, and
// requests waiting longer than the tier's timeout fail too. Scaling a tier
// therefore changes its metrics at once, closing the loop with the executor.
//
// The package holds no I/O, no clock and no mutable state: a [Model] is
// configuration only and every method may be called concurrently and in any
// order. Event times must lie within the years 1678–2262, the range of
// [time.Time.UnixNano].
package shop
