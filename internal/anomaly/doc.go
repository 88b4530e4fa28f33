// Package anomaly scores streaming metrics for anomalies and correlates a
// tier's metrics into incidents. It is pure: values and event times in,
// scores and incidents out; no I/O, no wall clock, deterministic.
//
// A Detector follows one series. Each observation costs O(1) time and the
// state has a fixed size (a few kilobytes), whatever the stream's length.
// See detector.go for the detectors it combines and how their surprises
// become one calibrated score in [0,1].
package anomaly
