package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReplicaWriteEndsOnItsRefusal: a write of the replica bucket the
// server refuses the user (its $KV subject denied) ends as the refusal
// arrives, with it (IsRefused), as Publish does, instead of waiting out
// its context: the executor's write of a tier's state waited 10 s at each
// attempt. Allowed again, the write is stored.
func TestReplicaWriteEndsOnItsRefusal(t *testing.T) {
	bucket := proto.ReplicaBucket("apm")
	for _, c := range []struct {
		name  string
		write func(ctx context.Context, r *bus.Replicas, key string) error
	}{
		{"update", func(ctx context.Context, r *bus.Replicas, key string) error {
			_, err := r.Update(ctx, key, []byte("state"), 0)
			return err
		}},
		{"put", func(ctx context.Context, r *bus.Replicas, key string) error {
			return r.Put(ctx, key, []byte("state"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := natstest.StartRestricted(t, "executor", "$KV."+bucket+".>")
			r.Connect(t, "admin", zerolog.Nop()) // provisions the streams and the bucket
			b := r.Connect(t, "executor", zerolog.Nop())
			kv, err := b.Replicas(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			key := proto.ReplicaKey("shop", "web")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			err = c.write(ctx, kv, key)
			took := time.Since(start)
			if !bus.IsRefused(err) {
				t.Fatalf("write of a denied key: %v after %s, want the server's permission refusal", err, took)
			}
			if took > 5*time.Second {
				t.Errorf("the refused write took %s, want it ended as the refusal came", took)
			}
			r.Allow(t)
			if err := c.write(context.Background(), kv, key); err != nil {
				t.Errorf("write once allowed: %v", err)
			}
		})
	}
}
