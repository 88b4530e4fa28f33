// Package detector is the anomaly service: it consumes <prefix>.metrics.*.*,
// scores every metric of every tier with its own streaming anomaly.Detector,
// correlates each tier's scores into incidents (load, performance, errors,
// drop) with an anomaly.Classifier, and publishes one message per tick on
// <prefix>.anomaly.<app>.<tier> carrying the scores, the incidents that
// changed and the kinds still open. Outputs are stored through an outbox
// (internal/outbox) that retries each with its id until stored, in order per
// subject, so a failed publish never leaves a tick without its output; a
// tick is acknowledged only once its output is stored.
//
// After a restart it rebuilds its detectors by replaying the last
// Config.Lookback of METRICS and publishes again only ticks newer than the
// last stored in ANOMALIES. The rebuilt detectors score closely, not bit for
// bit, like detectors that never stopped: their state forgets exponentially
// (TestLookbackRebuildsClosely measures how closely).
package detector
