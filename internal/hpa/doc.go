// Package hpa is a pure re-implementation of the Kubernetes Horizontal Pod
// Autoscaler replica rule, used as the baseline in the offline scaling
// evaluation.
//
// It follows the upstream controller (pkg/controller/podautoscaler): the
// desired count is ceil(ready × utilisation / target), skipped while the
// usage ratio is within the tolerance (10 % by default); recommendations are
// stabilised (the highest one of the last 5 minutes wins for a scale-down, no
// stabilisation for a scale-up); and the default behaviour rate limits apply
// (scale up by at most max(4 pods, 100 %) per 15 s, scale down by at most
// 100 % per 15 s), counted from the scale events inside each policy period.
package hpa
