// Package collector is the service at the input edge: it produces tier
// metrics ticks and publishes them on <prefix>.metrics.<app>.<tier>, the
// recording every other service computes from. Its default source is the
// simulated shop (internal/shop): a three-tier application whose metrics
// depend on its demand and on the replicas the executor reports in the
// replica bucket, so scaling visibly changes the metrics (a closed loop).
//
// On start it backfills history (7 days by default) so forecasts have data at
// once, resuming after the last tick already recorded so a second start never
// duplicates history. Then it runs live on a simulated clock that advances
// at -speed times real time. In lockstep mode each tick waits until the
// executor has acted on the decisions two ticks back, which makes a run at
// full speed exactly reproducible.
package collector
