package executor

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/headroomhq/headroom/internal/sim"
)

// SimDriver drives one simulated cluster per tier (internal/sim): a scale-up
// boots replicas that become ready after the tier's boot delay in event
// time, a scale-down acts at once, cancelling booting replicas first. Boots
// fail with the configured probability; each Result reports the failures
// since the previous one, which the executor publishes as failed events.
type SimDriver struct {
	mu       sync.Mutex
	delays   map[string]time.Duration
	fallback time.Duration
	failure  float64
	seed     int64
	clusters map[string]*simTier
}

// simTier is one tier's cluster and how many of its failures were reported.
type simTier struct {
	c        *sim.Cluster
	reported int
}

// result advances the tier to t and reports its counts and new failures.
func (s *simTier) result(t time.Time) Result {
	ready, booting := s.c.Advance(t)
	failed := s.c.Failed() - s.reported
	s.reported = s.c.Failed()
	return Result{Ready: ready, Booting: booting, Failed: failed}
}

// NewSimDriver returns a driver whose tiers boot in delays[tier] (fallback
// when absent), failing each boot with probability failure, deterministically from seed.
func NewSimDriver(delays map[string]time.Duration, fallback time.Duration, failure float64, seed int64) *SimDriver {
	return &SimDriver{delays: delays, fallback: fallback, failure: failure, seed: seed, clusters: map[string]*simTier{}}
}

// Restore seeds a tier's cluster (after a restart, or when the executor
// reads the tier's state back) unless it exists already: ready replicas,
// and booting ones whose boots began at since (the decision that asked for
// them; t when unknown, or later than t). The cluster then stands at t.
func (d *SimDriver) Restore(app, tier string, t time.Time, ready, booting int, since time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := app + "." + tier
	if _, ok := d.clusters[key]; ok {
		return
	}
	if since.IsZero() || since.After(t) {
		since = t
	}
	c := d.newCluster(app, tier, since, ready)
	if booting > 0 {
		c.SetDesired(since, ready+booting)
	}
	c.Advance(t)
	d.clusters[key] = &simTier{c: c}
}

// Forget drops a tier's cluster; Restore or Scale makes it again.
func (d *SimDriver) Forget(app, tier string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.clusters, app+"."+tier)
}

func (d *SimDriver) newCluster(app, tier string, t time.Time, ready int) *sim.Cluster {
	delay, ok := d.delays[tier]
	if !ok {
		delay = d.fallback
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(app + "." + tier))
	return sim.NewCluster(sim.Config{BootDelay: delay, FailureRate: d.failure, Seed: d.seed ^ int64(h.Sum64())}, t, ready)
}

// Scale sets the desired count at the request's event time.
func (d *SimDriver) Scale(_ context.Context, r Request) (Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := r.App + "." + r.Tier
	st, ok := d.clusters[key]
	if !ok {
		// A tier seen for the first time starts with what it asks for, ready.
		st = &simTier{c: d.newCluster(r.App, r.Tier, r.Time, r.Replicas)}
		d.clusters[key] = st
	}
	st.c.Advance(r.Time)
	st.c.SetDesired(r.Time, r.Replicas)
	return st.result(r.Time), nil
}

// Observe advances a tier's cluster to t and reports its counts.
func (d *SimDriver) Observe(app, tier string, t time.Time) (Result, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.clusters[app+"."+tier]
	if !ok {
		return Result{}, false
	}
	return st.result(t), true
}
