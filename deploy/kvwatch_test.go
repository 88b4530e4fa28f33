package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestNATSConfCollectorWatchesBucket: the collector, in an account of its
// own, watches the replica bucket in HEADROOM. nats.go watches a bucket
// through a push consumer with flow control: the server delivers it to the
// collector's inbox in HEADROOM (exported to COLLECTOR as a stream) and
// waits, every megabyte or so, for an answer on $JS.FC.KV_REPLICAS.…
// (imported). Without either the watch stalls, here before the 2.7 MB of
// current values are in, or the later put never arrives.
func TestNATSConfCollectorWatchesBucket(t *testing.T) {
	url := runConfiguredServer(t)
	if err := connectAs(t, url, "provision").Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	collectorWatchesBucket(t, url, url)
}

// collectorWatchesBucket has the executor, connected at executorURL, put
// 2.7 MB of replica states and the collector, connected at collectorURL,
// watch them all in, then a later put. A value is 900 bytes: a clustered
// bucket counts the headers of a put against its 1 KiB maximum.
func collectorWatchesBucket(t *testing.T, executorURL, collectorURL string) {
	t.Helper()
	ctx := context.Background()
	kv, err := connectAs(t, executorURL, "executor").Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const keys = 3000
	value := bytes.Repeat([]byte("x"), 900)
	for i := range keys {
		if err := kv.Put(ctx, fmt.Sprintf("shop.t%d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	watch, err := connectAs(t, collectorURL, "collector").Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen, began := map[string]int{}, false
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- watch.Watch(wctx, func() {
			mu.Lock()
			began = true
			mu.Unlock()
		}, func(key string, value []byte) {
			mu.Lock()
			seen[key] = len(value)
			mu.Unlock()
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()
	natstest.Eventually(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if !began || len(seen) < keys {
			return fmt.Errorf("the collector's watch has %d of %d keys (current values all in: %v)", len(seen), keys, began)
		}
		return nil
	})
	if err := kv.Put(ctx, "shop.live", []byte("1")); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if seen["shop.live"] != 1 {
			return fmt.Errorf("the collector's watch has not seen shop.live")
		}
		return nil
	})
}

// TestNATSConfGatewayCreatesNoConsumerOnBucket: the gateway does not read
// the replica bucket, so it may create no consumer there: neither an
// ordered one (the bucket's consumer slots are for the collectors'
// watches) nor a push consumer aimed at a collector's watch, whose deliver
// subject CONSUMER.LIST shows, to hand it an old revision of a key as its
// current state.
func TestNATSConfGatewayCreatesNoConsumerOnBucket(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	if err := connectAs(t, url, "provision").Provision(ctx); err != nil {
		t.Fatal(err)
	}
	js := natstest.JetStream(t, connectAs(t, url, "gateway"))
	denied(t, "gateway watching the replica bucket", func(ctx context.Context) error {
		_, err := js.OrderedConsumer(ctx, "KV_REPLICAS", jetstream.OrderedConsumerConfig{})
		return err
	})
	gw := probe(t, url, "gateway")
	defer gw.Close()
	for _, subject := range []string{"$JS.API.CONSUMER.CREATE.KV_REPLICAS.stale", "$JS.API.CONSUMER.CREATE.KV_REPLICAS.stale.$KV.REPLICAS.shop.web"} {
		body := `{"stream_name":"KV_REPLICAS","config":{"name":"stale","deliver_subject":"_INBOX_collector.watch","filter_subject":"$KV.REPLICAS.shop.web","deliver_policy":"all","ack_policy":"none"}}`
		if err := gw.PublishRequest(subject, "_INBOX_gateway.create", []byte(body)); err != nil {
			t.Fatal(err)
		}
		if err := gw.FlushTimeout(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := gw.LastError(); err == nil || !strings.Contains(err.Error(), subject) {
			t.Errorf("gateway creating a push consumer on the bucket (%s): %v, want it refused", subject, err)
		}
	}
}
