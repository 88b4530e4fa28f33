package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestWaitStreamsLeaseBucket: with the streams and the replica bucket
// provisioned but not the lease bucket (binaries upgraded, provisioning
// not run again), a service's wait returns; the executor's
// (WithLeaseBucket) waits, naming the bucket, until it is provisioned.
func TestWaitStreamsLeaseBucket(t *testing.T) {
	b := natstest.Bus(t, "test", natstest.Log(t))
	js := natstest.JetStream(t, b)
	if err := js.DeleteKeyValue(context.Background(), proto.LeaseBucket("apm")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.WaitStreams(ctx, time.Minute); err != nil {
		t.Fatalf("a service's wait without the lease bucket: %v, want it done", err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancelShort()
	err := b.WaitStreams(short, time.Minute, bus.WithLeaseBucket())
	want := "KV_" + proto.LeaseBucket("apm")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), want) {
		t.Fatalf("the executor's wait without the lease bucket: %v, want it still waiting for %s", err, want)
	}
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitStreams(ctx, time.Minute, bus.WithLeaseBucket()); err != nil {
		t.Fatalf("the executor's wait once the lease bucket is provisioned: %v", err)
	}
}
