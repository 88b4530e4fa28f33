// Package membudget holds the memory budget of the stateful services: a
// test and a benchmark that feed many tiers a week of one-minute history
// through each service's per-key state (forecaster.Tiers, detector.Tiers,
// decider.Apps, the very code the live consumers call, with no NATS) and
// measure the Go heap each tier holds afterwards, after a full GC. The
// collector is fed the same way through its push API: collector.New's
// mux given every tier's ticks over HTTP, its accepted ticks dropped
// (collector.WithPushPublisher) rather than stored in METRICS; the
// executor's simulated clusters through executor.SimDriver, fed each
// tier's decided count every five minutes.
//
// Budgets per tier (issue 11), with what TestBudget measured (heap alloc
// per tier, GOMAXPROCS=2):
//
//	service     budget          measured               tiers fed
//	forecaster  48 KB           25.9 KB                150 (30 with -race), a week
//	anomaly     8 KB a metric   49.6 KB / 7 = 7.1 KB   30 (6), a week
//	decider     64 KB           53.2 KB                6 (3), a week
//	collector   2 KB            352 B (631 B -race)    300 (90), 6 (2) hours of pushes
//	executor    2 KB            262 B                  600 (150), a week of decisions
//	all         200 KB          ~129 KB
//
// The collector keeps no history, only which series are live (the push
// API's limits.Recent, bounded by limits.max_series) and the replica
// view: its state after a day of pushes (455 B a tier, 150 tiers) is its
// state after a week (482 B), so the test feeds it six hours, six of its
// idle sweeps (two hours under -race, where a tick costs ~450 µs: 607 B a
// tier for 90 tiers, 630 after six hours). Its budget leaves room for the replica view's state per
// tier (a mirror of the executor's bucket, about 300 B, which a feed
// without NATS does not fill) and for its fixed state spread over the
// test's few tiers (1.4 KB a tier at 30).
//
// The executor's sim driver (its live driver with -executor.driver sim,
// its shadow of every tier with any driver) holds one cluster a tier,
// 254 B after a week, 263 after a day: nothing grows with decisions. Its
// budget leaves room for what is not measured here: the executor's cache
// of each tier's replica state (at most 1 KiB encoded,
// proto.ReplicaValueMax) and lease handles, on a decision path that
// reads and writes JetStream (the replica bucket, the decision stream) at
// every step, which cannot run without a NATS server, whose own heap in
// the same process would swamp the figure. The decisions it remembers as
// having waited on another member's lease are bounded in all (16,384),
// not per tier. Nor is a scrape target's previous sample measured: it is
// per configured target, its size the target's selected series, bounded
// by scrape.MaxSeries.
//
// TestBudget asserts the budgets on a few hundred tiers;
// BenchmarkHeapPerTier reports them for 10,000 (measured: the executor's
// clusters 259 B a tier for 10,000 tiers fed a week; the collector 274 B
// for 2,000 fed a day, 3 minutes of pushes at ~50 µs a tick, so 10,000
// fed a week would take hours):
//
//	go test -run '^$' -bench HeapPerTier -benchtime 1x -timeout 2h ./internal/membudget
package membudget
