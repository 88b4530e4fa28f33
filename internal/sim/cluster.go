package sim

import (
	"math/rand/v2"
	"sort"
	"time"
)

// Config sets how one simulated tier behaves.
type Config struct {
	// BootDelay is how long a new replica boots before it becomes ready.
	BootDelay time.Duration
	// FailureRate is the probability in [0, 1] that a booting replica fails
	// when it would have become ready; a failed replica simply disappears.
	FailureRate float64
	// Seed seeds the failure draws so a run is deterministic.
	Seed int64
}

// Cluster is the simulated state of one tier: how many replicas are ready
// and when each booting replica becomes ready. It is not safe for concurrent
// use; a caller drives it from one event-time loop.
type Cluster struct {
	cfg   Config
	now   time.Time
	ready int
	// boots holds the ready-at instants of booting replicas, oldest first.
	boots  []time.Time
	rng    *rand.Rand
	failed int
}

// NewCluster returns a cluster at event time t with ready replicas already
// serving and none booting.
func NewCluster(cfg Config, t time.Time, ready int) *Cluster {
	if ready < 0 {
		ready = 0
	}
	seed := uint64(cfg.Seed)
	return &Cluster{
		cfg:   cfg,
		now:   t,
		ready: ready,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// Advance moves the cluster to event time t, promoting every booting replica
// whose boot has finished by t, and returns the ready and booting counts at
// t. A t earlier than the cluster's time leaves the state unchanged.
func (c *Cluster) Advance(t time.Time) (ready, booting int) {
	if t.After(c.now) {
		c.now = t
	}
	n := 0
	for n < len(c.boots) && !c.boots[n].After(c.now) {
		n++
	}
	for i := 0; i < n; i++ {
		if c.cfg.FailureRate > 0 && c.rng.Float64() < c.cfg.FailureRate {
			c.failed++
			continue
		}
		c.ready++
	}
	c.boots = c.boots[n:]
	return c.ready, len(c.boots)
}

// SetDesired asks for n replicas in total (ready plus booting) from event
// time t. A shortfall starts booting replicas that become ready at
// t + BootDelay. A reduction acts at t: it cancels the most recently started
// boots first and only then stops ready replicas. Negative n counts as zero.
func (c *Cluster) SetDesired(t time.Time, n int) {
	if n < 0 {
		n = 0
	}
	c.Advance(t)
	total := c.ready + len(c.boots)
	switch {
	case n > total:
		at := c.now.Add(c.cfg.BootDelay)
		for i := total; i < n; i++ {
			c.boots = append(c.boots, at)
		}
		// Boots started earlier stay ahead; keep the slice ordered even if
		// the caller moved time backwards.
		sort.SliceStable(c.boots, func(i, j int) bool { return c.boots[i].Before(c.boots[j]) })
	case n < total:
		cut := total - n
		if cut <= len(c.boots) {
			c.boots = c.boots[:len(c.boots)-cut]
			return
		}
		cut -= len(c.boots)
		c.boots = c.boots[:0]
		c.ready -= cut
	}
}

// Failed returns how many booting replicas have failed so far.
func (c *Cluster) Failed() int { return c.failed }
