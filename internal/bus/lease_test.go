package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestLeases: a lease is taken once; a second take fails with
// ErrChanged while it is held; a release at another revision leaves it;
// released, or lapsed after its time to live, it can be taken again.
func TestLeases(t *testing.T) {
	b := natstest.Bus(t, "lease", natstest.Log(t))
	ctx := context.Background()
	l, err := b.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := l.Take(ctx, "shop.web", []byte("a"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Take(ctx, "shop.web", []byte("b"), time.Minute); !errors.Is(err, bus.ErrChanged) {
		t.Fatalf("second take: %v, want ErrChanged", err)
	}
	if v, got, err := l.Holder(ctx, "shop.web"); err != nil || got != rev || string(v) != "a" {
		t.Fatalf("holder %q at %d (%v), want a at %d", v, got, err, rev)
	}
	if err := l.Release(ctx, "shop.web", rev+100, time.Minute); !errors.Is(err, bus.ErrChanged) {
		t.Fatalf("release at another revision: %v, want ErrChanged", err)
	}
	if err := l.Release(ctx, "shop.web", rev, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Holder(ctx, "shop.web"); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("holder after release: %v, want ErrNotFound", err)
	}
	// Taken again over the release's marker, to lapse in 2s.
	if _, err := l.Take(ctx, "shop.web", []byte("c"), 2*time.Second); err != nil {
		t.Fatalf("take after release: %v", err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		_, _, err := l.Holder(ctx, "shop.web")
		if errors.Is(err, bus.ErrNotFound) {
			return nil
		}
		return errors.New("lease held past its time to live")
	})
	if _, err := l.Take(ctx, "shop.web", []byte("d"), time.Minute); err != nil {
		t.Fatalf("take after the lease lapsed: %v", err)
	}
}

// TestLeaseRenew: a lease renewed at its revision outlives its first time
// to live, the renewal's own lapsing it later; a renewal at a revision the
// key is no longer at (taken again, or lapsed) fails with ErrChanged and
// leaves the key as it is.
func TestLeaseRenew(t *testing.T) {
	b := natstest.Bus(t, "lease", natstest.Log(t))
	ctx := context.Background()
	l, err := b.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := l.Take(ctx, "shop.web", []byte("a"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Renew(ctx, "shop.web", []byte("x"), rev+100, time.Minute); !errors.Is(err, bus.ErrChanged) {
		t.Fatalf("renew at another revision: %v, want ErrChanged", err)
	}
	// Renewed every second for 4s: held throughout, past the 2s taken.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		if rev, err = l.Renew(ctx, "shop.web", []byte("a"), rev, 2*time.Second); err != nil {
			t.Fatalf("renew: %v", err)
		}
		time.Sleep(time.Second)
		if v, got, err := l.Holder(ctx, "shop.web"); err != nil || got != rev || string(v) != "a" {
			t.Fatalf("holder %q at %d (%v), want a at %d: the renewed lease lapsed", v, got, err, rev)
		}
	}
	// Not renewed, it lapses; a renewal then fails.
	natstest.Eventually(t, 10*time.Second, func() error {
		_, _, err := l.Holder(ctx, "shop.web")
		if errors.Is(err, bus.ErrNotFound) {
			return nil
		}
		return errors.New("renewed lease held past its time to live")
	})
	if _, err := l.Renew(ctx, "shop.web", []byte("a"), rev, time.Minute); !errors.Is(err, bus.ErrChanged) {
		t.Fatalf("renew after the lease lapsed: %v, want ErrChanged", err)
	}
	if _, _, err := l.Holder(ctx, "shop.web"); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("holder after a failed renewal: %v, want ErrNotFound", err)
	}
}

// TestLeaseWriteRefusedAtOnce: a take, renewal or release the server
// refuses this user (nats.conf not letting it write the lease bucket)
// ends at that refusal (bus.IsRefused), as a replica state's write does,
// not at its context's end: the server drops the publish, and the
// executor's keep holds its renewal lock (which holds waits on) until the
// renewal ends, its take and release as long.
func TestLeaseWriteRefusedAtOnce(t *testing.T) {
	r := natstest.StartRestricted(t, "executor", "$KV."+proto.LeaseBucket("apm")+".>")
	admin := r.Connect(t, "admin", zerolog.Nop()) // provisions the buckets
	ctx := context.Background()
	al, err := admin.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := al.Take(ctx, "shop.web", []byte("a"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.Connect(t, "executor", zerolog.Nop()).Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		write func(ctx context.Context) error
	}{
		{"take", func(ctx context.Context) error {
			_, err := l.Take(ctx, "shop.api", []byte("a"), time.Minute)
			return err
		}},
		{"renew", func(ctx context.Context) error {
			_, err := l.Renew(ctx, "shop.web", []byte("a"), rev, time.Minute)
			return err
		}},
		{"release", func(ctx context.Context) error {
			return l.Release(ctx, "shop.web", rev, time.Minute)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			start := time.Now()
			err := c.write(rctx)
			if !bus.IsRefused(err) || rctx.Err() != nil {
				t.Fatalf("%s refused by the server: %v after %s, want the refusal at once", c.name, err, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}
