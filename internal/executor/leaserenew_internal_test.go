package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// ackLost is the lease bucket, whose renewals are stored but, while lose
// is above 0, reported failed (their ack lost: a timeout, or stop's
// cancel as the server stored it).
type ackLost struct {
	*bus.Leases
	lose int
	// stored, when set, is told of each renewal stored, before its ack
	// is returned.
	stored func()
}

func (a *ackLost) Renew(ctx context.Context, key string, value []byte, rev uint64, ttl time.Duration) (uint64, error) {
	next, err := a.Leases.Renew(ctx, key, value, rev, ttl)
	if err == nil && a.stored != nil {
		a.stored()
	}
	if err == nil && a.lose > 0 {
		a.lose--
		return 0, context.DeadlineExceeded
	}
	return next, err
}

// TestLeaseRenewalAckLost: a renewal the server stored but whose ack was
// lost leaves the lease this member's: it still holds it (rebase's
// check), renews it and releases it. Before, the key at a revision the
// member did not know passed for the lease lost: holds failed, the next
// renewal failed on ErrChanged and the keeping ended (the lease then
// lapsing while its change waited to be recorded, for another member to
// take), and the release failed, the others waiting a whole lease.
func TestLeaseRenewalAckLost(t *testing.T) {
	ctx := context.Background()
	b := natstest.Bus(t, "executor", natstest.Log(t))
	l, err := b.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const key, ttl = "shop.web", 30 * time.Second
	mine := lease{Member: "m1", Decision: "d1", Lease: ttl.Milliseconds()}
	rev, err := l.Take(ctx, key, []byte(`{"member":"m1"}`), ttl)
	if err != nil {
		t.Fatal(err)
	}
	store := &ackLost{Leases: l, lose: 1}
	tl := &tierLease{l: store, key: key, value: mine, ttl: ttl, rev: rev, expires: time.Now().Add(ttl), log: natstest.Log(t)}

	if err := tl.renew(ctx); err == nil {
		t.Fatal("the renewal whose ack was lost returned no error")
	}
	if err := tl.holds(ctx); err != nil {
		t.Errorf("after a renewal stored, its ack lost: holds: %v, want held", err)
	}
	store.lose = 1
	if err := tl.renew(ctx); err == nil {
		t.Fatal("the second renewal whose ack was lost returned no error")
	}
	if err := tl.renew(ctx); err != nil {
		t.Errorf("renewal after one stored, its ack lost: %v, want renewed", err)
	}
	store.lose = 1
	if err := tl.renew(ctx); err == nil {
		t.Fatal("the third renewal whose ack was lost returned no error")
	}
	tl.release()
	if v, hrev, err := l.Holder(ctx, key); !errors.Is(err, bus.ErrNotFound) {
		t.Errorf("after the release: the key holds %s at revision %d (%v), want released", v, hrev, err)
	}
}

// TestLeaseHoldsDuringRenewal: holds (rebase's check that this member
// still holds the lease) run while a renewal is stored but not yet
// acknowledged finds the lease held. Before, it read the key at the
// renewal's revision, compared it with the one taken and reported the
// lease lapsed and taken again: the change carried out was not recorded
// over the hold stored meanwhile, and its decision was judged again.
func TestLeaseHoldsDuringRenewal(t *testing.T) {
	ctx := context.Background()
	b := natstest.Bus(t, "executor", natstest.Log(t))
	l, err := b.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const key, ttl = "shop.web", 30 * time.Second
	rev, err := l.Take(ctx, key, []byte(`{"member":"m1"}`), ttl)
	if err != nil {
		t.Fatal(err)
	}
	stored, ack := make(chan struct{}), make(chan struct{})
	store := &ackLost{Leases: l, stored: func() { close(stored); <-ack }}
	tl := &tierLease{l: store, key: key, value: lease{Member: "m1", Decision: "d1"}, ttl: ttl, rev: rev, expires: time.Now().Add(ttl), log: natstest.Log(t)}
	renewed := make(chan error, 1)
	go func() { renewed <- tl.renew(ctx) }()
	<-stored
	held := make(chan error, 1)
	go func() { held <- tl.holds(ctx) }()
	// The renewal's ack held back for a second, or until holds answered
	// meanwhile (it may only once the renewal is done).
	select {
	case err := <-held:
		close(ack)
		t.Fatalf("holds answered while a renewal was stored, unacknowledged: %v", err)
	case <-time.After(time.Second):
	}
	close(ack)
	if err := <-renewed; err != nil {
		t.Fatalf("renew: %v", err)
	}
	if err := <-held; err != nil {
		t.Errorf("holds during a renewal: %v, want held", err)
	}
}

// failing is a lease bucket whose every renewal fails at once, neither
// stored nor refused for the key having moved (the server refusing this
// user the bucket, JetStream without responders); each is told on calls.
type failing struct {
	*bus.Leases
	calls chan time.Time
}

func (f *failing) Renew(context.Context, string, []byte, uint64, time.Duration) (uint64, error) {
	f.calls <- time.Now()
	return 0, fmt.Errorf("renew: %w", nats.ErrPermissionViolation)
}

// TestLeaseKeepEndsOnceLapsed: keep, its renewals all failing at once,
// stops once the lease has lapsed by this member's clock, with an error
// line. Before, it went on renewing every 100 ms (its least wait, the
// lease's time left being none) for as long as the change waited to be
// recorded, a warning and a failed write (a permissions violation line
// in the server's log) each.
func TestLeaseKeepEndsOnceLapsed(t *testing.T) {
	const ttl = 600 * time.Millisecond
	var logs natstest.Logs
	store := &failing{calls: make(chan time.Time, 1000)}
	expires := time.Now().Add(ttl)
	var results renewals
	tl := &tierLease{l: store, key: "shop.web", value: lease{Member: "m1", Decision: "d1"}, ttl: ttl, rev: 1, expires: expires, log: zerolog.New(&logs), counted: results.add}
	stop := tl.keep()
	defer stop()
	// Well past the lapse: at most the renewal under way as it lapsed.
	deadline := time.After(ttl + time.Second)
	late := 0
	for done := false; !done; {
		select {
		case at := <-store.calls:
			if at.After(expires) {
				late++
			}
		case <-deadline:
			done = true
		}
	}
	if late > 1 {
		t.Errorf("%d renewals after the lease lapsed, want at most 1", late)
	}
	if n := len(logs.Lines(t, "the tier's lease lapsed before its change was recorded, its renewals failing: another member may change the tier meanwhile")); n != 1 {
		t.Errorf("%d lines saying the lease lapsed, want 1", n)
	}
	// Every renewal before the lapse failed, and is counted so; the
	// one that found the lease lapsed ended the keeping.
	got := results.get()
	if got[renewLapsed] != 1 || got[renewFailed] < 1 || got[renewRenewed] != 0 || got[renewLost] != 0 {
		t.Errorf("renewals counted %v, want failed ones and 1 lapsed", got)
	}
}

// renewals counts the renewals of a tierLease's keep by result.
type renewals struct {
	mu sync.Mutex
	n  map[string]int
	// changed, when set, is told of each count.
	changed chan struct{}
}

func (r *renewals) add(result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[result]++
	if r.changed != nil {
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}
}

func (r *renewals) get() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.n {
		out[k] = v
	}
	return out
}

// TestLeaseKeepCountsRenewals: keep counts each renewal by its result
// (headroom_executor_lease_renewals_total), on a real lease bucket: the
// renewals stored while the change waits are renewed, and the one that
// finds the key taken by another member (the lease lost while the change
// is not recorded, which an alert watches) is lost, after which the
// keeping ends and no renewal is made. Before, renewals showed only in
// log lines.
func TestLeaseKeepCountsRenewals(t *testing.T) {
	ctx := context.Background()
	b := natstest.Bus(t, "executor", natstest.Log(t))
	l, err := b.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const key, ttl = "shop.web", 6 * time.Second
	expires := leaseExpiry(ttl)
	rev, err := l.Take(ctx, key, []byte(`{"member":"m1"}`), ttl)
	if err != nil {
		t.Fatal(err)
	}
	var logs natstest.Logs
	results := &renewals{changed: make(chan struct{}, 1)}
	tl := &tierLease{l: l, key: key, value: lease{Member: "m1", Decision: "d1", Lease: ttl.Milliseconds()}, ttl: ttl, rev: rev, expires: expires,
		log: zerolog.New(&logs), counted: results.add}
	stop := tl.keep()
	defer stop()
	wait := func(what string, done func(map[string]int) bool) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for !done(results.get()) {
			select {
			case <-results.changed:
			case <-deadline:
				t.Fatalf("renewals counted %v, waiting for %s", results.get(), what)
			}
		}
	}
	wait("2 renewed", func(n map[string]int) bool { return n[renewRenewed] >= 2 })
	// Another member takes the key meanwhile (as if the lease had lapsed
	// while this one stalled): the next renewal finds it moved.
	for released := false; !released; {
		_, hrev, err := l.Holder(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		// A renewal stored in between moves the key: read it again.
		err = l.Release(ctx, key, hrev, time.Minute)
		if err != nil && !errors.Is(err, bus.ErrChanged) {
			t.Fatalf("release %s: %v", key, err)
		}
		released = err == nil
	}
	if _, err := l.Take(ctx, key, []byte(`{"member":"m2"}`), ttl); err != nil {
		t.Fatal(err)
	}
	wait("1 lost", func(n map[string]int) bool { return n[renewLost] >= 1 })
	stop() // returns at once: the keeping ended on the lost lease
	got := results.get()
	if got[renewLost] != 1 || got[renewFailed] != 0 || got[renewLapsed] != 0 {
		t.Errorf("renewals counted %v, want renewed ones and 1 lost", got)
	}
	if n := len(logs.Lines(t, "the tier's lease lapsed or was taken again before its change was recorded: another member may change the tier meanwhile")); n != 1 {
		t.Errorf("%d lines saying the lease was lost, want 1", n)
	}
}
