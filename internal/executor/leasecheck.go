package executor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/proto"
)

// The executor's readiness shows lease trouble (check "leases"): a member
// whose driver takes leases probes the lease bucket at start, as a take
// would, and is not ready until the probe passes; and it is not ready
// while its last leaseFailsUnready takes all failed on the bucket, until
// a take or a probe (every 5s meanwhile) passes. Either
// way it keeps running and retrying: a crash loop would fix nothing (the
// bucket's rights are in nats.conf, the bucket is provisioning's) and
// would hide the cause behind restarts, while a failing /readyz names it,
// holds a rollout back, and the lease errors counter and its alert say
// how many changes it costs.

// leaseFailsUnready is how many takes in a row must fail on the lease
// bucket for the member to be not ready: one may fail on a server's
// leader moving, a few in a row do not.
const leaseFailsUnready = 3

// leaseHealth is what the "leases" readiness check reports.
type leaseHealth struct {
	mu sync.Mutex
	// probe is the start probe's error; nil once it passed, or for a
	// member that takes no leases.
	probe error
	// failed counts the takes in a row that failed on the bucket, last
	// the last's error.
	failed int
	last   error
	// fails counts every take that failed on the bucket: a probe passing
	// clears failed only if no take failed while it ran (recovered).
	fails uint64
}

// probed records the start probe's outcome.
func (h *leaseHealth) probed(err error) {
	h.mu.Lock()
	h.probe = err
	h.mu.Unlock()
}

// took records a take that the bucket answered (taken, or held by
// another member).
func (h *leaseHealth) took() {
	h.mu.Lock()
	h.failed, h.last = 0, nil
	h.mu.Unlock()
}

// failedTake records a take that failed on the bucket.
func (h *leaseHealth) failedTake(err error) {
	h.mu.Lock()
	h.failed++
	h.fails++
	h.last = err
	h.mu.Unlock()
}

// stuck reports whether the takes' failures make the member not ready,
// and the count of failed takes so far (for recovered).
func (h *leaseHealth) stuck() (bool, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.probe == nil && h.failed >= leaseFailsUnready, h.fails
}

// recovered records a probe that passed, started when fails takes had
// failed: unless another failed since, the bucket can be used again and
// the member is ready, with no take needed to say so.
func (h *leaseHealth) recovered(fails uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fails != fails {
		return false
	}
	h.failed, h.last = 0, nil
	return true
}

// Err is the readiness check: the probe's error until it passed, then an
// error while the last leaseFailsUnready takes or more all failed.
func (h *leaseHealth) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.probe != nil:
		return h.probe
	case h.failed >= leaseFailsUnready:
		return fmt.Errorf("the last %d leases could not be taken (no change is made meanwhile): %w", h.failed, h.last)
	}
	return nil
}

// takesLeases reports whether some change of this member takes a lease
// (see leased): a driver that does not fence its calls, acting live on
// some app.
func (s *Service) takesLeases() bool {
	if s.driver == Driver(s.shadow) || s.driverName == DriverSim {
		return false
	}
	if _, ok := s.driver.(fenced); ok {
		return false
	}
	return s.cfg.actsLive()
}

// actsLive reports whether some app's mode is live.
func (c Config) actsLive() bool {
	if c.mode("*") == ModeLive {
		return true
	}
	for _, m := range c.Modes {
		if m == ModeLive {
			return true
		}
	}
	return false
}

// TakesLeases reports whether the executor New builds from c and file (nil:
// none), with no WithDriver option, takes leases (see Service.takesLeases),
// as a main must know before building it: whether to wait for the lease
// bucket. The sim driver (the default) and the kubernetes driver, which
// fences its calls on the count it judged, take none; command and webhook
// do when some app acts live. A configuration whose flags do not resolve
// (a malformed -executor.modes, say) reports true, what the executor did
// before; one that resolves but New refuses reports what its driver
// would (an unknown driver name: false). Either way New, built once the
// streams are there, names what is wrong.
func (c Config) TakesLeases(file *config.File) bool {
	r, err := c.Resolve()
	if err != nil {
		return true
	}
	if file != nil {
		r = r.WithFile(file)
	}
	switch r.Driver {
	case DriverCommand, DriverWebhook:
		return r.actsLive()
	}
	return false
}

// probeKey returns a key of the lease bucket no tier's lease uses: a
// single token (a tier's key, proto.ReplicaKey, has two), random so that
// members probing at once do not meet.
func probeKey() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "probe-" + hex.EncodeToString(b[:])
}

// probeLeases takes, reads and releases a probe key in the lease bucket,
// as a tier's lease is taken, read and released, so that it needs the
// rights a take needs and no other.
func (s *Service) probeLeases(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l, err := s.leaseBucket(ctx)
	if err != nil {
		return err
	}
	key := probeKey()
	data, err := json.Marshal(lease{Member: s.member, Decision: "probe", Expires: proto.Millis(time.Now().Add(minLease)), Lease: minLease.Milliseconds()})
	if err != nil {
		return fmt.Errorf("encode the probe lease: %w", err)
	}
	rev, err := l.Take(ctx, key, data, minLease)
	if err != nil {
		return err
	}
	if _, _, err := l.Holder(ctx, key); err != nil {
		return err
	}
	return l.Release(ctx, key, rev, time.Minute)
}

// watchLeaseRights probes the lease bucket (probeLeases) until a probe
// passes or ctx ends, failing readiness meanwhile with the probe's error
// and logging it at error at most once every logEvery; then, until ctx
// ends, it probes the bucket every retry while the last takes all failed
// on it (leaseHealth.stuck), so that readiness comes back once the bucket
// can be used again, not only at the next leased change, which may be
// hours away.
func (s *Service) watchLeaseRights(ctx context.Context, retry, logEvery time.Duration) {
	var logged time.Time
	for {
		err := s.probeLeases(ctx)
		if err == nil {
			s.leaseHealth.probed(nil)
			s.log.Info().Msg("the lease bucket can be used: leases can be taken")
			break
		}
		if ctx.Err() != nil {
			return
		}
		err = fmt.Errorf("cannot take a lease in bucket %s (a probe key taken and released at start; does the executor's NATS user have the bucket's rights? a deploy/nats.conf older than the lease does not): %w",
			proto.LeaseBucket(s.bus.Prefix()), err)
		s.leaseHealth.probed(err)
		if now := time.Now(); now.Sub(logged) >= logEvery {
			logged = now
			s.log.Error().Err(err).Msg("the lease bucket cannot be used: no leased change can be made; retrying")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
	tick := time.NewTicker(retry)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		stuck, fails := s.leaseHealth.stuck()
		if !stuck {
			continue
		}
		if err := s.probeLeases(ctx); err != nil {
			// The failed takes logged their errors already.
			s.log.Debug().Err(err).Msg("the lease bucket still cannot be used")
			continue
		}
		if s.leaseHealth.recovered(fails) {
			s.log.Info().Msg("the lease bucket can be used again: leases can be taken")
		}
	}
}

// errNotProbed is the "leases" check's error until the start probe ends.
var errNotProbed = errors.New("the lease bucket not probed yet")
