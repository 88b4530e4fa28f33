// Package membudget holds the memory budget of the stateful services: a
// test and a benchmark that feed many tiers a week of one-minute history
// through each service's per-key state (forecaster.Tiers, detector.Tiers,
// decider.Apps, the very code the live consumers call, with no NATS) and
// measure the Go heap each tier holds afterwards, after a full GC.
//
// Budgets per tier (issue 11): decider ≤ 64 KB, forecaster ≤ 48 KB, anomaly
// ≤ 8 KB per metric, all services together ≤ 200 KB. TestBudget asserts them
// on a few hundred tiers; BenchmarkHeapPerTier reports them for 10,000:
//
//	go test -run '^$' -bench HeapPerTier -benchtime 1x -timeout 2h ./internal/membudget
package membudget
