// Package decider is the service that decides each tier's replica count. It
// consumes metrics, forecasts and anomaly messages, joins them per app and
// event time (join.go), runs the pure scaling policy (internal/policy) on
// each complete tick and publishes one decision per tier per tick, a change
// or a hold, on <prefix>.decision.<app>.<tier>.
//
// Ticks: an app's metrics ticks are joined by the grid point nearest their
// time (the multiples of the app's policy tick, on which the collector
// stamps its ticks), which the frame takes as event time; a tick's interval
// is the span of times with its grid point, half a tick either side. Tiers
// pushed separately, each at its own instant of an interval, are decided
// together, and the policy sees one evenly spaced tick per interval
// whatever the senders' jitter. A tier's first tick of an interval is
// decided; a second, at another time, is not (counted as extra, and warned
// of at the tier's first of an hour), and each tier takes the anomaly
// message that judged its own tick. A tier sent less often than the tick
// is warned of, since the policy counts its windows in ticks: 19 intervals
// between its ticks, each counted at most two ticks (one outage is not a
// rate), at least 1.25 ticks long on average, leaving out those that
// arrived in less than half their length, as a backfill does.
//
// Determinism: a tick at grid point ts is evaluated only once its metrics
// are in and, for every tier in it, the anomaly message judging that tier's
// tick (or a later one of the tier) and the forecast for the bucket holding
// that tick's own time (which the forecaster publishes as the bucket's
// first tick with rps comes; the next bucket's, which ts may be in, would
// wait for the tier's next tick; a tick without rps waits for none, see
// Missing load). Its metrics are in once a tick of a later interval of the app has
// arrived and every tier that lags (an app's tiers pushed separately or in
// batches) has a tick of that interval or later, but for a tier more than
// Config.TierLag behind the app's newest tick: that tier has stopped, or lags
// further than the decider waits, and the tick is decided without it (its
// ticks are counted as lagging, and the first of a run is warned of). A tier
// first seen, or back, on a tick that came after its frame's metrics were in
// is waited for from then on. Whether a tier's tick is in its frame so
// depends on the metrics stream as stored alone: a redelivery changes
// nothing. A tick from a clock far ahead holds back every other tier of its
// app, as more than TierLag behind it, until event time reaches it (pushes
// are refused beyond -push.max-skew ahead of the collector's clock; a scraped
// target's tick carries the collector's own time). Inputs arrive on three
// streams in any interleaving, yet every tick is evaluated on the same
// inputs, so the same recording gives the same decisions live, replayed or
// after a restart. After a restart the decider replays its input streams from
// the start and publishes only decisions newer than the last stored per tier,
// so none is lost or repeated. A decision dropped unstored (refused for
// itself) leaves nothing in the stream; where the rebuild reaches a tier's
// last stored decision, the tier takes the count that decision was decided
// from, withdrawing the dropped change the member before withdrew
// (Apps.SetSentDecision). That decision may have been decided behind the
// dropped change, from its count (an outage's backlog, dropped only after
// the ticks behind it were decided): the take-over also reads which ticks
// of the tier have a decision stored within Config.StoredWindow before it,
// and a last change whose tick has none, past the first read and with no
// change stored after it, is withdrawn once the rebuild has decided that
// decision's tick (Apps.SetStoredTicks).
//
// Memory: an app's ticks wait for their anomaly messages and forecasts at
// most as many ticks as the lookback holds, and the tier lag; live, and
// while a replay reads the three streams merged by stored time, a couple
// (headroom_decider_waiting_ticks). If an upstream stage is down or
// further behind than that, each new tick decides the oldest waiting one
// on what it has, flagged proto.FlagAnomalyMissing or
// proto.FlagForecastMissing, counted (headroom_decider_overdue_ticks_total)
// and warned of (not when replayed): the decider's memory stays bounded.
// Which ticks are decided so depends only on the input order.
//
// Upstream outages: that bound alone would leave an app undecided while an
// upstream stage is down, until the backlog filled, and every decision
// after that too old for a real driver to act on. So, live, a tick whose
// metrics are in and whose inputs have not come within Config.InputTimeout
// (-decider.input-timeout, 30s) of real time (the monotonic clock, which a
// step of the wall clock does not move) is decided on what it has
// (the latest forecast that came; the incidents open in the tier's latest
// anomaly message, while that judged a tick no older than the act age
// below, so a slow anomaly service delays incidents rather than closing
// them), flagged as above and
// proto.FlagInputTimeout, counted (headroom_decider_input_timeouts_total)
// and warned of: the app goes on scaling reactively. Only ticks whose
// decision the executor could still act on are let go so (no older than the
// longest lead time of the tiers the app sends, at least a minute, plus its
// tick, and no more than 2 minutes ahead of the clock, the executor's
// default future skew: a recording replayed faster than real time runs
// ahead, and its upstream stages may lag without being down); older ones
// wait as before, and go with the first fresh tick let go. Apps.Expire is the one step that reads the clock, given by the
// service after each input and every few seconds, so the same recording
// still gives the same decisions with the inputs in time; a tick decided by
// the timeout is the exception, and says so in its flags: a later replay,
// which has the inputs that came late, may decide it otherwise (its
// decision is not published again). (A wait by the streams' stored time was
// tried before and left out: a decider whose consumers lag its streams
// decided without inputs that were stored in time, so the outcome depended
// on how fast each stream was read, yet it was presented as reproducible.)
//
// Missing load: a tier's tick without its load metric (the policy's
// LoadMetric, rps by default), as the collector publishes while a scrape
// rule's counter has never been seen from its targets, is not zero load.
// The policy is given a load that is not a number, so the tier holds,
// flagged bad-input, learns nothing from the tick, and the reason names the
// metric. The forecaster makes no forecast from a tick without the metric
// it forecasts (Config.ForecastMetric, rps), and the tick itself says so:
// such a tick waits for no forecast and is decided without one (not
// flagged forecast-missing: none was due), by the same rule live, replayed
// and offline. Waiting for one would hold the tick, and its app's other
// tiers, until the input timeout on every tick, under an alert that blames
// an upstream stage.
//
// Each published hold flagged bad-input counts in
// headroom_decider_bad_input_decisions_total{app,tier}, on which the
// HeadroomTierLoadMissing alert fires: a tier held so is scaled neither up
// nor down, and nothing else would say so.
package decider
