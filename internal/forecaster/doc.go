// Package forecaster is the service that forecasts each tier's load. It
// consumes <prefix>.metrics.*.*, folds each tier's load metric into
// 5-minute buckets by event time (internal/forecast's Bucketer), feeds every
// closed bucket to that series' forecast.Series and publishes a forecast on
// <prefix>.forecast.<app>.<tier> at the start of every bucket, stamped with
// the bucket's start as origin. Forecasts are stored through an outbox
// (internal/outbox) that retries each with its id until stored, in order per
// subject, so a failed publish never leaves a bucket without its forecast; a
// tick whose bucket closes is acknowledged only once that forecast is stored.
//
// After a restart it rebuilds its state by replaying the METRICS stream from
// its start and publishes again only forecasts newer than the last one stored
// in FORECASTS: the replayed buckets are observed, not forecast.
package forecaster
