// Package config reads Headroom's YAML configuration file: the applications,
// their tiers, where each app's metrics come from (the simulated shop, a
// Prometheus scrape, a trace file, or HTTP push) and each tier's scaling
// policy, plus the push API's limits.
//
// Load checks the whole file at start and reports every problem at once,
// each naming the file, the line and the field
// ("headroom.yaml:14: apps.shop.tiers[0].target: 1.5 is not in (0, 1]").
// Duplicate keys and YAML anchors, aliases and merge keys (<<) are
// refused, so every setting, mode: live above all, is read only under the
// app where it is written.
// Fields left out keep the built-in defaults: File.Policy lays an app's
// settings over a base policy (the decider's), tier by tier.
package config
