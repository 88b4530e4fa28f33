// Package scrape turns Prometheus text expositions into Headroom metric
// values. A Mapping selects series by metric family and label filters and
// names the value each yields: a counter becomes a per-second rate, a
// histogram a latency quantile, a gauge is taken as it is. A Target
// remembers a target's previous sample so successive samples give rates and
// bucket increases, treating any drop of a counter as a reset, and which
// counter rules' series it has ever exposed or selected: a counter rule on
// a family a target never exposed, or that selected no series of any
// target, shows nothing, never a rate of 0 (a misspelt series or label
// value is not an idle one).
// Combine merges the targets of one tier into one set of values.
//
// Everything but Fetch is pure: samples carry their time, and the caller (the
// collector's scrape source) decides when to scrape, stamps the sample with
// the scrape time truncated to the interval, and publishes the result. Fetch
// is the thin HTTP edge: one GET of /metrics, parsed with prometheus/common's
// text parser and refused beyond MaxBody bytes, MaxSeries series or
// MaxLabels labels on a series; sample lines (MaxSamples, or Limits.Samples
// through FetchLimits) and labels (MaxLabelPairs, or LabelsPerSample times
// Limits.Samples) are counted as the body is read, so a refused exposition
// is not built whole first. Size refusals match ErrRefused. Selected samples that are NaN or infinite
// are left out and counted in the Sample, for the caller's metrics.
package scrape
