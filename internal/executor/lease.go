package executor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// A tier's lease (see handle): the member whose driver cannot read the
// tier's count back takes it before calling that driver, keeps it
// renewed from the call's return (keep), and releases it once the tier's
// state is stored; another member finding it held does
// not call its driver, and its decision is retried after a while and
// judged again then, from the state the holder stored.

// lease is the value of a tier's key in the lease bucket.
type lease struct {
	// Member is the holder: a per-process id (memberID).
	Member string `json:"member"`
	// Decision is the id of the decision the holder carries out.
	Decision string `json:"decision"`
	// Expires is when the lease lapses (Unix ms, the holder's clock); the
	// bucket removes the key then (its time to live).
	Expires int64 `json:"expires"`
	// Lease is how long the lease was taken for (ms, the holder's
	// -executor.lease): waiters spread their retries over it
	// (leaseRetryDelay). Absent (0) from the leases of members older than
	// it.
	Lease int64 `json:"lease,omitempty"`
}

// fenced is implemented by drivers that change a tier only while its
// count is still the one the request was judged from (Request.JudgedFrom:
// the kubernetes driver): they need no lease.
type fenced interface {
	fencesJudged()
}

// memberID returns an id of this process, unique among the members: the
// host's name, the process id and random bits.
func memberID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// leased reports whether p's change through drv takes the tier's lease:
// a real driver acting live that does not fence its calls itself. The
// simulated cluster, every member's own, needs none.
func (s *Service) leased(p *step, drv Driver) bool {
	if p.driver == DriverSim || p.mode != ModeLive || drv == Driver(s.shadow) {
		return false
	}
	_, ok := drv.(fenced)
	return !ok
}

// leaseBucket returns the lease bucket, opening it the first time.
func (s *Service) leaseBucket(ctx context.Context) (*bus.Leases, error) {
	s.leasesMu.Lock()
	defer s.leasesMu.Unlock()
	if s.leases == nil {
		l, err := s.bus.Leases(ctx)
		if err != nil {
			return nil, err
		}
		s.leases = l
	}
	return s.leases, nil
}

// tierLease is a tier's lease as this member took it.
type tierLease struct {
	l   leaseStore
	key string
	// value is the lease as stored (its Expires moved at each renewal).
	value lease
	// ttl is the lease's time to live: -executor.lease.
	ttl time.Duration
	log zerolog.Logger
	// counted, when set, counts each renewal keep made by its result
	// (headroom_executor_lease_renewals_total: leaseRenewals).
	counted func(result string)

	// renewing is held by a renewal under way, and by holds: the key
	// read at the revision of a renewal stored but not yet acknowledged
	// passed for the lease taken again.
	renewing sync.Mutex
	mu       sync.Mutex
	// rev is the revision of the key the take, or the last renewal,
	// stored.
	rev uint64
	// expires is when the lease lapses, by this member's clock.
	expires time.Time
	// pending is the value of a renewal whose outcome is unknown (it
	// failed, but not for the key having moved: a timeout, its ack lost,
	// stop's cancel), which the server may have stored, and
	// pendingExpires its expiry: see adopt.
	pending        []byte
	pendingExpires time.Time
}

// leaseStore is what a tierLease does with the lease bucket
// (*bus.Leases).
type leaseStore interface {
	Renew(ctx context.Context, key string, value []byte, rev uint64, ttl time.Duration) (uint64, error)
	Release(ctx context.Context, key string, rev uint64, markerTTL time.Duration) error
	Holder(ctx context.Context, key string) ([]byte, uint64, error)
}

// current returns the lease's revision and expiry as last stored.
func (t *tierLease) current() (uint64, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rev, t.expires
}

// release removes the lease at the revision taken (or last renewed); one
// that fails is logged, and the lease lapses by itself.
func (t *tierLease) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rev, _ := t.current()
	err := t.l.Release(ctx, t.key, rev, time.Minute)
	if errors.Is(err, bus.ErrChanged) && t.adopt(ctx) {
		rev, _ = t.current()
		err = t.l.Release(ctx, t.key, rev, time.Minute)
	}
	if err != nil {
		// It lapses by itself; meanwhile other members wait on it.
		t.log.Warn().Err(err).Msg("cannot release the tier's lease: it lapses by itself")
	}
}

// expiry is when the lease lapses, as last stored.
func (t *tierLease) expiry() time.Time {
	_, expires := t.current()
	return expires
}

// renew stores the lease again, to lapse a whole lease from now, while
// the key is still at the revision this member took or last renewed.
func (t *tierLease) renew(ctx context.Context) error {
	t.renewing.Lock()
	defer t.renewing.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rev, _ := t.current()
	// Before the write (see takeLease): the lease lapses no sooner.
	expires := leaseExpiry(t.ttl)
	v := t.value
	v.Expires = proto.Millis(expires)
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the tier's lease: %w", err)
	}
	next, err := t.l.Renew(ctx, t.key, data, rev, t.ttl)
	if errors.Is(err, bus.ErrChanged) && t.adopt(ctx) {
		rev, _ = t.current()
		next, err = t.l.Renew(ctx, t.key, data, rev, t.ttl)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err == nil:
		t.rev, t.expires, t.pending = next, expires, nil
	case !errors.Is(err, bus.ErrChanged):
		// Perhaps stored all the same: the key at a revision this
		// member does not know would otherwise pass for the lease lost
		// (the next renewal, the release and holds all failing on it).
		t.pending, t.pendingExpires = data, expires
	}
	return err
}

// adopt reports whether the key, found at another revision than this
// member's lease, holds the value of its renewal whose outcome was
// unknown (pending), stored after all, and makes that revision and
// expiry the lease's. The value names this member and an expiry to the
// millisecond, which no other member's lease and no other renewal of
// this one shares.
func (t *tierLease) adopt(ctx context.Context) bool {
	t.mu.Lock()
	pending, expires := t.pending, t.pendingExpires
	t.mu.Unlock()
	if pending == nil {
		return false
	}
	v, rev, err := t.l.Holder(ctx, t.key)
	if err != nil || !bytes.Equal(v, pending) {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rev, t.expires, t.pending = rev, expires, nil
	return true
}

// keep renews the lease every third of it, or sooner when less than
// twice that is left of it (a driver call that ended near its deadline),
// until the returned stop is called (it cancels a renewal under way and
// waits for its end; one the server stored all the same is adopted by
// the release, as is any renewal whose outcome was unknown: adopt):
// the lease must outlast the recording of a change its driver carried
// out, however long that waits in place for the server's permissions
// (storeRefused), or another member would change the tier judged from a
// state without that change. A change recorded at once costs no
// renewal. A renewal refused because the key moved (lapsed while this
// member stalled, or taken again since) ends the keeping: the lease is
// lost, and the conditional state write finds out what another member
// stored meanwhile (see handle). A renewal that fails otherwise is
// retried at the next turn; the lease lapses if none succeeds meanwhile,
// which also ends the keeping.
func (t *tierLease) keep() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, expires := t.current()
			wait := time.NewTimer(max(min(t.ttl/3, time.Until(expires)/2), 100*time.Millisecond))
			select {
			case <-ctx.Done():
				wait.Stop()
				return
			case <-wait.C:
			}
			err := t.renew(ctx)
			switch {
			case err == nil:
				t.count(renewRenewed)
			case ctx.Err() != nil:
				// Cancelled by stop: the change is recorded (or given
				// up), and the renewal's outcome is the release's to
				// find (adopt); not counted.
				return
			case errors.Is(err, bus.ErrChanged):
				t.count(renewLost)
				t.log.Error().Err(err).Msg("the tier's lease lapsed or was taken again before its change was recorded: another member may change the tier meanwhile")
				return
			case !time.Now().Before(t.expiry()):
				// Nothing left to keep: renewed every 100 ms from here
				// on (the least wait), each a warning and a failed write.
				t.count(renewLapsed)
				t.log.Error().Err(err).Msg("the tier's lease lapsed before its change was recorded, its renewals failing: another member may change the tier meanwhile")
				return
			default:
				t.count(renewFailed)
				t.log.Warn().Err(err).Time("lapses", expires).Msg("cannot renew the tier's lease while its change is recorded: retrying")
			}
		}
	}()
	return func() { cancel(); <-done }
}

// The results of a renewal keep makes, the values of
// headroom_executor_lease_renewals_total's result: the lease stored again
// (renewed); the renewal failed otherwise than for the key having moved
// (a timeout, the server refusing it, no responders), retried at keep's
// next turn (failed; one the server stored all the same, its ack lost, is
// adopted later and counted failed); the key moved, the lease lapsed or
// taken again (lost), or its renewals failed until it lapsed by this
// member's clock (lapsed), either ending the keeping while the change
// is not recorded: another member may then change the tier, judged from
// a state without it.
const (
	renewRenewed = "renewed"
	renewFailed  = "failed"
	renewLost    = "lost"
	renewLapsed  = "lapsed"
)

// renewResults are renewal results, each a series from the start.
var renewResults = []string{renewRenewed, renewFailed, renewLost, renewLapsed}

// count counts a renewal of keep's by its result, where counted.
func (t *tierLease) count(result string) {
	if t.counted != nil {
		t.counted(result)
	}
}

// leaseExpiry is when a lease of ttl taken or renewed now lapses, down to
// the millisecond its value stores (Add keeps the monotonic clock
// reading, Truncate would not).
func leaseExpiry(ttl time.Duration) time.Time {
	expires := time.Now().Add(ttl)
	return expires.Add(-time.Duration(expires.Nanosecond() % int(time.Millisecond)))
}

// holds returns nil while this member still holds the lease: it has not
// lapsed by this member's clock, and the key is still at the revision
// taken (not removed by the bucket, nor taken again by another member),
// or last renewed: a renewal under way is waited for.
func (t *tierLease) holds(ctx context.Context) error {
	t.renewing.Lock()
	defer t.renewing.Unlock()
	taken, expires := t.current()
	if !time.Now().Before(expires) {
		return fmt.Errorf("the tier's lease lapsed at %s", expires.UTC().Format(time.RFC3339Nano))
	}
	_, rev, err := t.l.Holder(ctx, t.key)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		return errors.New("the tier's lease is no longer held (lapsed)")
	case err != nil:
		return fmt.Errorf("tier's lease: %w", err)
	case rev != taken && !t.adopt(ctx):
		return fmt.Errorf("the tier's lease is at revision %d, not the %d taken (lapsed and taken again)", rev, taken)
	}
	return nil
}

// takeLease takes tier k's lease for p's decision, delivered that many
// times, and returns it, to be released once the tier's state is stored
// (or nothing will be: tierLease.release), and the deadline of the
// driver's call: leaseMargin before the lease lapses, counted from
// before it was taken (the server counts the key's time to live from
// when it stored it, later). It fails, and p's driver must not be called, when
// another member holds the lease (a transient error asking for a retry
// after a while: bus.RetryAfter), when the tier's state moved since p's
// judgement read it (wrapping bus.ErrChanged: judged again), or when the
// bucket cannot be used (transient: the change is not made unleased).
func (s *Service) takeLease(ctx context.Context, k limits.Key, p *step, delivered uint64, log zerolog.Logger) (*tierLease, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	key := proto.ReplicaKey(k.App, k.Tier)
	fail := func(err error) (*tierLease, time.Time, error) {
		s.leaseErrors.Inc()
		s.leaseHealth.failedTake(err)
		log.Error().Err(err).Msg("cannot take the tier's lease: not changing it until the lease bucket can be used")
		return nil, time.Time{}, fmt.Errorf("decision %s: tier's lease: %w", p.d.ID, err)
	}
	l, err := s.leaseBucket(ctx)
	if err != nil {
		return fail(err)
	}
	// Before the take (each below): the lease lapses no sooner. Kept as
	// read (with its monotonic clock reading), so a wall-clock step during
	// the call moves neither the deadline nor holds' check; the value
	// stored for the other members is in Unix ms.
	expires := leaseExpiry(s.cfg.Lease)
	mine := lease{Member: s.member, Decision: p.d.ID, Expires: proto.Millis(expires), Lease: s.cfg.Lease.Milliseconds()}
	deadline := expires.Add(-leaseMargin)
	data, err := json.Marshal(mine)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("decision %s: encode the tier's lease: %w", p.d.ID, err)
	}
	rev, err := l.Take(ctx, key, data, s.cfg.Lease)
	if err == nil || errors.Is(err, bus.ErrChanged) {
		s.leaseHealth.took() // the bucket answered
	}
	if errors.Is(err, bus.ErrChanged) {
		var held lease
		v, hrev, herr := l.Holder(ctx, key)
		switch {
		case errors.Is(herr, bus.ErrNotFound):
			// Released or lapsed since: judged again, the next attempt
			// takes it.
			return nil, time.Time{}, fmt.Errorf("decision %s: tier's lease released while taken: %w", p.d.ID, err)
		case herr != nil:
			return fail(herr)
		case json.Unmarshal(v, &held) != nil || held.Member != s.member:
			return nil, time.Time{}, s.waitLease(p, delivered, held, log)
		}
		// This member's own, left by a release that failed: replaced by
		// one that lasts the whole lease.
		if err := l.Release(ctx, key, hrev, time.Minute); err != nil && !errors.Is(err, bus.ErrChanged) {
			return fail(err)
		}
		rev, err = l.Take(ctx, key, data, s.cfg.Lease)
		if errors.Is(err, bus.ErrChanged) {
			return nil, time.Time{}, fmt.Errorf("decision %s: tier's lease taken by another member meanwhile: %w", p.d.ID, err)
		}
	}
	if err != nil {
		return fail(err)
	}
	taken := &tierLease{l: l, key: key, value: mine, ttl: s.cfg.Lease, rev: rev, expires: expires, log: log,
		counted: func(result string) { s.leaseRenewals.WithLabelValues(k.App, k.Tier, result).Inc() }}
	// A member that carried out a change and released the lease between
	// this judgement's read of the state and the take moved the state:
	// judged again from it.
	_, srev, err := readState(ctx, s.kv, k.App, k.Tier)
	if err != nil && !errors.Is(err, errUnreadableState) {
		taken.release()
		return nil, time.Time{}, fmt.Errorf("decision %s: state under the tier's lease: %w", p.d.ID, err)
	}
	if srev != s.held.revision(k) {
		taken.release()
		s.held.unload(k)
		s.shadow.Forget(k.App, k.Tier)
		s.conflicts.Inc()
		return nil, time.Time{}, fmt.Errorf("decision %s: the tier's state was stored by another member before this one took the lease: %w", p.d.ID, bus.ErrChanged)
	}
	s.waited.took(p.d.ID)
	return taken, deadline, nil
}

// waitLease counts and logs a change not made because another member
// holds its tier's lease (held), and returns the error that has its
// decision retried after a while (leaseRetryDelay), to be judged again
// then.
func (s *Service) waitLease(p *step, delivered uint64, held lease, log zerolog.Logger) error {
	s.leaseWaits.Inc()
	s.waited.mark(p.d.ID)
	until := proto.Time(held.Expires)
	after := leaseRetryDelay(delivered, time.Until(until), time.Duration(held.Lease)*time.Millisecond, s.cfg.Lease)
	log.Debug().Str("holder", held.Member).Str("holder_decision", held.Decision).Time("until", until).
		Msg("another member holds the tier's lease: not changing it; judging the decision again later")
	return bus.RetryAfter(fmt.Errorf("decision %s: member %s holds the tier's lease for decision %s (until %s): %w",
		p.d.ID, held.Member, held.Decision, until.Format(time.RFC3339), errLeased), after)
}

// maxHolderWait bounds the holder's lease that a waiter's retries are
// spread over, unless the waiter's own lease is longer: a holder's lease
// is its -executor.lease, normally the waiter's too, and a forged or
// absurd lease or expiry must not park a decision for hours (it is
// dead-lettered at its last delivery instead, the dead letter saying
// so).
const maxHolderWait = 10 * time.Minute

// leaseRetryDelay is how long a decision held back by another member's
// lease waits before its next delivery, the n-th (delivered) having found
// the lease to lapse in untilLapse (its holder's stored expiry, by the
// holder's clock). The retries are spread over the holder's lease (held;
// 0 when its value does not say, a member older than Lease: then
// untilLapse), or the waiter's own (own) if that is longer, at most the
// larger of own and maxHolderWait: span. The n-th waits n tenths of span
// and leaseMargin, or until leaseMargin after the lease lapses if that is
// sooner (untilLapse counted at most span). The four retries a decision
// gets (the consumer's MaxDeliver of 5) then last span and leaseMargin:
// the last comes after a lease whose holder died at once has lapsed,
// though the server removes an expired key up to a second late (its
// timer wheel ticks in seconds) and the members' clocks differ, and it is
// not dead-lettered; and a forged expiry or lease holds a decision no
// longer than the cap and leaseMargin in all.
func leaseRetryDelay(delivered uint64, untilLapse, held, own time.Duration) time.Duration {
	n := time.Duration(max(delivered, 1))
	if held <= 0 {
		held = untilLapse
	}
	span := max(own, min(held, maxHolderWait))
	return min(min(max(untilLapse, 0), span)+leaseMargin, n*(span+leaseMargin)/10)
}

// errLeased is wrapped by the error of a change another member's lease
// holds back.
var errLeased = errors.New("waiting on another member's lease")

// maxWaited bounds the decisions a waitedSet remembers. Marks are
// forgotten after an hour, or when taken, but a member that keeps meeting
// another's leases (a split group, partitions handed back and forth)
// marks every decision of every tier it shares: the set would grow with
// decisions, not tiers. At the bound the oldest mark is forgotten (its
// refusal, if it comes, no longer says the decision waited), counted in
// headroom_executor_lease_waits_forgotten_total. A mark costs about
// 150 bytes besides its decision's id (its map entry and its place in
// the order, measured), 200 with the stale places taken and repeated
// marks leave before a compaction: 16,384 marks with ids of ~50 bytes
// hold at most about 4 MB.
const maxWaited = 16384

// waitedSet remembers the decisions that waited on another member's
// lease, for a refusal to say so (a decision going stale meanwhile), at
// most limit of them (0: maxWaited).
type waitedSet struct {
	mu sync.Mutex
	m  map[string]time.Time
	// order holds the marks oldest first; an entry whose mark was taken
	// or made again since is skipped (m no longer has its time).
	order     []waitedMark
	limit     int
	forgotten atomic.Int64 // marks dropped at the bound
}

type waitedMark struct {
	id string
	at time.Time
}

// mark records that decision id waited, forgetting what waited long ago,
// and the oldest marks when the set is full.
func (w *waitedSet) mark(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.m == nil {
		w.m = map[string]time.Time{}
	}
	limit := w.limit
	if limit <= 0 {
		limit = maxWaited
	}
	w.m[id] = now
	w.order = append(w.order, waitedMark{id, now})
	n := 0
	for ; n < len(w.order); n++ {
		o := w.order[n]
		if t, ok := w.m[o.id]; ok && t.Equal(o.at) {
			if now.Sub(o.at) <= time.Hour && len(w.m) <= limit {
				break
			}
			delete(w.m, o.id)
			if now.Sub(o.at) <= time.Hour {
				w.forgotten.Add(1)
			}
		}
	}
	w.order = w.order[n:]
	if len(w.order) > 2*len(w.m)+64 {
		// Taken and repeated marks left stale entries: keep the live.
		live := make([]waitedMark, 0, len(w.m))
		for _, o := range w.order {
			if t, ok := w.m[o.id]; ok && t.Equal(o.at) {
				live = append(live, o)
			}
		}
		w.order = live
	}
}

// size returns how many marks the set holds.
func (w *waitedSet) size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}

// took reports whether decision id waited, and forgets it.
func (w *waitedSet) took(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.m[id]
	delete(w.m, id)
	return ok
}
