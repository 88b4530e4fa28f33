package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
