// Package limits holds small, pure admission trackers that bound what the
// pipeline keeps per series. Series counts the distinct app.tier series a
// source has admitted and refuses new ones beyond a per-app and a total
// limit, naming the limit, so memory per series stays bounded by
// configuration. The push API uses it; scrape and trace sources can share
// one tracker.
package limits
