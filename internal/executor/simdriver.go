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
// time, a scale-down acts at once, cancelling booting replicas first.
type SimDriver struct {
	mu       sync.Mutex
	delays   map[string]time.Duration
	fallback time.Duration
	failure  float64
	seed     int64
	clusters map[string]*sim.Cluster
}

// NewSimDriver returns a driver whose tiers boot in delays[tier] (fallback
// when absent), failing each boot with probability failure, deterministically from seed.
func NewSimDriver(delays map[string]time.Duration, fallback time.Duration, failure float64, seed int64) *SimDriver {
	return &SimDriver{delays: delays, fallback: fallback, failure: failure, seed: seed, clusters: map[string]*sim.Cluster{}}
}

// Restore seeds a tier's cluster (after a restart) unless it exists already.
func (d *SimDriver) Restore(app, tier string, t time.Time, ready, booting int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := app + "." + tier
	if _, ok := d.clusters[key]; ok {
		return
	}
	c := d.newCluster(app, tier, t, ready)
	if booting > 0 {
		c.SetDesired(t, ready+booting)
	}
	d.clusters[key] = c
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
	c, ok := d.clusters[key]
	if !ok {
		// A tier seen for the first time starts with what it asks for, ready.
		c = d.newCluster(r.App, r.Tier, r.Time, r.Replicas)
		d.clusters[key] = c
	}
	c.Advance(r.Time)
	c.SetDesired(r.Time, r.Replicas)
	ready, booting := c.Advance(r.Time)
	return Result{Ready: ready, Booting: booting}, nil
}

// Observe advances a tier's cluster to t and reports its counts.
func (d *SimDriver) Observe(app, tier string, t time.Time) (Result, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.clusters[app+"."+tier]
	if !ok {
		return Result{}, false
	}
	ready, booting := c.Advance(t)
	return Result{Ready: ready, Booting: booting}, true
}
