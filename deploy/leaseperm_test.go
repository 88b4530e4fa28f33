package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
)

// TestNATSConfExecutorTakesLeases: under deploy/nats.conf the executor
// takes, reads and releases a tier's lease in the bucket provisioning
// created (over the marker a release leaves, too), and no other service
// may write a lease: a forged one would hold every executor back from the
// tier, and a removed one would let two of them change it at once.
func TestNATSConfExecutorTakesLeases(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	if err := connectAs(t, url, "provision").Provision(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := connectAs(t, url, "executor").Leases(ctx)
	if err != nil {
		t.Fatalf("executor opening the lease bucket: %v", err)
	}
	for i := range 2 { // the second over the first's release marker
		rev, err := l.Take(ctx, "shop.web", []byte(`{"member":"m"}`), time.Minute)
		if err != nil {
			t.Fatalf("take %d: %v", i+1, err)
		}
		if _, err := l.Take(ctx, "shop.web", []byte(`{"member":"n"}`), time.Minute); !errors.Is(err, bus.ErrChanged) {
			t.Fatalf("take %d again: %v, want ErrChanged", i+1, err)
		}
		if _, got, err := l.Holder(ctx, "shop.web"); err != nil || got != rev {
			t.Fatalf("holder %d: revision %d (%v), want %d", i+1, got, err, rev)
		}
		if err := l.Release(ctx, "shop.web", rev, time.Minute); err != nil {
			t.Fatalf("release %d: %v", i+1, err)
		}
	}
	for _, user := range []string{"collector", "forecaster", "anomaly", "decider", "gateway"} {
		if canPublish(t, url, user, "$KV.EXEC_LEASES.shop.web") {
			t.Errorf("%s may write a lease ($KV.EXEC_LEASES.shop.web)", user)
		}
		b := connectAs(t, url, user)
		denied(t, user+" taking a lease", func(ctx context.Context) error {
			l, err := b.Leases(ctx)
			if err != nil {
				return err
			}
			_, err = l.Take(ctx, "shop.db", []byte(`{"member":"forged"}`), time.Minute)
			return err
		})
	}
}
