package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
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
	// The gateway reads every stream but the DLQ; not the lease bucket,
	// which it does not use: no info, get or consumer of it. What it
	// reads, the replica bucket's info, stays allowed.
	for _, c := range []struct {
		subject string
		allowed bool
	}{
		{"$JS.API.STREAM.INFO.KV_EXEC_LEASES", false},
		{"$JS.API.STREAM.MSG.GET.KV_EXEC_LEASES", false},
		{"$JS.API.DIRECT.GET.KV_EXEC_LEASES", false},
		{"$JS.API.DIRECT.GET.KV_EXEC_LEASES.$KV.EXEC_LEASES.shop.web", false},
		{"$JS.API.CONSUMER.CREATE.KV_EXEC_LEASES", false},
		{"$JS.API.CONSUMER.CREATE.KV_EXEC_LEASES.peek", false},
		{"$JS.API.CONSUMER.CREATE.KV_EXEC_LEASES.peek.$KV.EXEC_LEASES.>", false},
		{"$JS.API.CONSUMER.LIST.KV_EXEC_LEASES", false},
		{"$JS.API.CONSUMER.INFO.KV_EXEC_LEASES.peek", false},
		{"$JS.API.CONSUMER.MSG.NEXT.KV_EXEC_LEASES.peek", false},
		{"$JS.API.STREAM.INFO.KV_REPLICAS", true},
		{"$JS.API.STREAM.INFO.DECISIONS", true},
	} {
		if got := canPublish(t, url, "gateway", c.subject); got != c.allowed {
			t.Errorf("gateway publishing %s: allowed=%v, want %v", c.subject, got, c.allowed)
		}
	}
	gw := natstest.JetStream(t, connectAs(t, url, "gateway"))
	denied(t, "gateway reading the lease bucket's info", func(ctx context.Context) error {
		_, err := gw.Stream(ctx, "KV_EXEC_LEASES")
		return err
	})
	denied(t, "gateway consuming the lease bucket", func(ctx context.Context) error {
		_, err := gw.OrderedConsumer(ctx, "KV_EXEC_LEASES", jetstream.OrderedConsumerConfig{})
		return err
	})
	denied(t, "gateway getting a lease", func(ctx context.Context) error {
		_, err := gw.Conn().RequestWithContext(ctx, "$JS.API.DIRECT.GET.KV_EXEC_LEASES.$KV.EXEC_LEASES.shop.web", nil)
		return err
	})
}
