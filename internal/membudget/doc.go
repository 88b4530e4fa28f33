// Package membudget holds the memory budget of the stateful services: a
// test and a benchmark that feed many tiers a week of one-minute history
// through each service's per-key state (forecaster.Tiers, detector.Tiers,
// decider.Apps, the very code the live consumers call, with no NATS) and
// measure the Go heap each tier holds afterwards, after a full GC. The
// collector is fed the same way through its push API: collector.New's
// mux given every tier's ticks over HTTP, its accepted ticks dropped
// (collector.WithPushPublisher) rather than stored in METRICS.
//
// Budgets per tier (issue 11), with what TestBudget measured (heap alloc
// per tier, GOMAXPROCS=2):
//
//	service     budget          measured               tiers fed
//	forecaster  48 KB           25.9 KB                150 (30 with -race), a week
//	anomaly     8 KB a metric   49.6 KB / 7 = 7.1 KB   30 (6), a week
//	decider     64 KB           53.2 KB                6 (3), a week
//	collector   2 KB            352 B (649 B -race)    300 (90), six hours of pushes
//	all         200 KB          ~129 KB
//
// The collector keeps no history, only which series are live (the push
// API's limits.Recent, bounded by limits.max_series) and the replica
// view: its state after a day of pushes (455 B a tier, 150 tiers) is its
// state after a week (482 B), so the test feeds it six hours, six of its
// idle sweeps. Its budget leaves room for the replica view's state per
// tier (a mirror of the executor's bucket, about 300 B, which a feed
// without NATS does not fill) and for its fixed state spread over the
// test's few tiers (1.6 KB a tier at 30). Not measured here: a scrape
// target's previous sample (per configured target, its size the
// target's selected series, bounded by scrape.MaxSeries) and the
// executor's state per tier (its replica-state cache, the shadow sim
// driver's tiers, the lease bookkeeping), whose decision path reads and
// writes JetStream (the replica bucket, the decision stream) at every
// step, so it cannot be fed without a NATS server, whose own heap in the
// same process would swamp the figure.
//
// TestBudget asserts the budgets on a few hundred tiers;
// BenchmarkHeapPerTier reports them for 10,000:
//
//	go test -run '^$' -bench HeapPerTier -benchtime 1x -timeout 2h ./internal/membudget
package membudget
