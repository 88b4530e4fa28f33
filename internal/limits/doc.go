// Package limits holds small, pure admission trackers that bound what the
// pipeline keeps per series. Series counts the distinct app.tier series a
// source has admitted and refuses new ones beyond a per-app and a total
// limit, naming the limit, so memory per series stays bounded by
// configuration. The push API uses it; scrape and trace sources can share
// one tracker. Idle says when series have gone quiet by arrival time, and
// Dropped remembers what was stored of series a stage no longer holds.
// Tiers puts the three together for a stage that keeps state per tier
// (the forecaster, the anomaly service): admission, eviction of idle
// tiers, and per tier the last output stored and the last tick folded in.
package limits
