// Package stagetest holds the test DESIGN.md promises under "Event time and
// determinism": the same trace through the live pipeline (the forecaster,
// anomaly and decider services on an embedded NATS server) and through the
// offline evaluation behind `decider simulate` (internal/scaleeval, which
// drives the same stage types: forecaster.Tiers, detector.Tiers and
// decider.Apps) gives identical decisions, tick by tick. It has no code
// outside its test.
package stagetest
