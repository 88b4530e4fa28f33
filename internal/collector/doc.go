// Package collector is the service at the input edge: it produces tier
// metrics ticks and publishes them on <prefix>.metrics.<app>.<tier>, the
// recording every other service computes from. Its sources:
//
//   - sim (sim.go): the simulated shop (internal/shop), a three-tier
//     application whose metrics depend on its demand and on the replicas the
//     executor reports in the replica bucket, so scaling visibly changes the
//     metrics (a closed loop). It is the only source without a
//     configuration file. On start it backfills history (7 days by default)
//     so forecasts have data at once, resuming after the last tick already
//     recorded so a second start never duplicates history; then it runs live
//     on a simulated clock at -speed times real time. In lockstep mode each
//     tick waits until the executor has acted on the decisions two ticks
//     back, which makes a run at full speed exactly reproducible.
//   - trace (trace.go): a CSV trace's column replayed as the shop model's web
//     demand, one tick per row at a chosen speed, the model computing the
//     other tiers and metrics in the same closed loop.
//   - scrape (scrape.go): each tier's Prometheus targets, scraped every
//     interval and mapped by internal/scrape; failing targets are retried
//     within the timeout, marked down (headroom_scrape_target_up), counted
//     and logged, and the tier's tick carries what the others answered. A
//     series a rule reads that a target does not expose is flagged
//     (headroom_scrape_series_absent, one warning). A counter rule on a
//     series a target has never exposed since this member began scraping
//     it is left out of the tier's ticks, not read as 0 (a misspelt
//     series is no evidence of no load, and the decider holds a tier
//     whose tick lacks its load metric); once exposed, its absence reads
//     no increase (a restarted process whose counter has not counted
//     yet). So is a counter rule that no target has ever had a series of
//     its family it selects (a misspelt label value; one warning names
//     the rule). The per-target gauges are dropped when the member stops
//     scraping the app, so only the member scraping a target speaks for
//     it in the alerts.
//   - push: the push API (internal/ingest) at POST /api/v1/metrics on the
//     service's HTTP mux. It answers only allowed Host names (DNS
//     rebinding): Config.Push.AllowedHosts, which the all-in-one fills from
//     -gateway.allowed-hosts and a standalone collector from
//     -push.allowed-hosts (StandalonePushHosts), besides localhost on its
//     port.
//
// Copies of the collector started against the same NATS split the pull
// sources (sim, trace, scrape) by app over the members of their group
// (bus.Share, see Service.Run): a source runs only on the member its app
// goes to. A member taking an app over resumes after the last tick METRICS
// holds for each tier, on the tick grid with deterministic ids, so a tick
// sent by two members is stored once and, for the simulated sources, no
// grid point is skipped; a scrape nobody took is counted as missed
// (headroom_collector_missed_ticks_total), never made up. Any member
// serves the push API. Every member must run the same sources (the same
// file or flags): the split knows the members, not what each one runs.
//
// Replay (replay.go) is the stream-replay tool behind "collector replay":
// it republishes a recorded time range of an app's ticks under a shadow app
// name with their original event times, so the pipeline decides the
// recorded traffic again, side by side, possibly under another policy.
package collector
