package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestNATSConfGatewayLeavesTheCollectorsWatchAlone: the gateway does not
// read the replica bucket, so it holds no right on it but its stream's
// info (WaitStreams): no list, info or delete of its consumers, no get of
// its keys. With CONSUMER.DELETE.*.* it deleted the collector's watch
// (its name from CONSUMER.LIST.KV_REPLICAS), and kept deleting each one
// the collector made again: the collector stamped ticks with the count
// the executor had committed before, and the decider decided from it.
func TestNATSConfGatewayLeavesTheCollectorsWatchAlone(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	if err := connectAs(t, url, "provision").Provision(ctx); err != nil {
		t.Fatal(err)
	}
	kv, err := connectAs(t, url, "executor").Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, "shop.web", []byte("before")); err != nil {
		t.Fatal(err)
	}
	watch, err := connectAs(t, url, "collector").Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	began := make(chan struct{})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- watch.Watch(wctx, func() { close(began) }, func(key string, value []byte) {
			mu.Lock()
			seen[key] = string(value)
			mu.Unlock()
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()
	select {
	case <-began:
	case <-time.After(10 * time.Second):
		t.Fatal("the collector's watch did not start")
	}

	// The collector's watch, as CONSUMER.LIST shows it.
	js := natstest.JetStream(t, connectAs(t, url, "provision"))
	bucket, err := js.Stream(ctx, "KV_REPLICAS")
	if err != nil {
		t.Fatal(err)
	}
	names := consumers(t, bucket)
	if len(names) != 1 {
		t.Fatalf("KV_REPLICAS has consumers %v, want the collector's watch alone", names)
	}
	name := names[0]

	get := `{"last_by_subj":"$KV.REPLICAS.shop.web"}`
	for _, c := range []struct{ subject, body string }{
		{"$JS.API.CONSUMER.DELETE.KV_REPLICAS." + name, ""},
		{"$JS.API.CONSUMER.LIST.KV_REPLICAS", ""},
		{"$JS.API.CONSUMER.NAMES.KV_REPLICAS", ""},
		{"$JS.API.CONSUMER.INFO.KV_REPLICAS." + name, ""},
		{"$JS.API.CONSUMER.MSG.NEXT.KV_REPLICAS." + name, `{"batch":1,"expires":500000000}`},
		{"$JS.API.DIRECT.GET.KV_REPLICAS.$KV.REPLICAS.shop.web", ""},
		{"$JS.API.DIRECT.GET.KV_REPLICAS", get},
		{"$JS.API.STREAM.MSG.GET.KV_REPLICAS", get},
	} {
		gw := probe(t, url, "gateway")
		if m, err := gw.Request(c.subject, []byte(c.body), time.Second); err == nil {
			t.Errorf("gateway's %s answered (%.200s), want it refused", c.subject, m.Data)
		}
		if err := gw.LastError(); !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("gateway's %s: last error %v, want a permission violation", c.subject, err)
		}
		gw.Close()
	}
	// The stream's info stays: every service waits for the bucket to exist.
	gw := probe(t, url, "gateway")
	defer gw.Close()
	if _, err := gw.Request("$JS.API.STREAM.INFO.KV_REPLICAS", nil, 2*time.Second); err != nil {
		t.Errorf("gateway's info of KV_REPLICAS: %v, want an answer (WaitStreams asks it)", err)
	}

	if got := consumers(t, bucket); len(got) != 1 || got[0] != name {
		t.Fatalf("KV_REPLICAS has consumers %v after the gateway's tries, want the collector's watch %s", got, name)
	}
	if err := kv.Put(ctx, "shop.web", []byte("after")); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 3*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if got := seen["shop.web"]; got != "after" {
			return fmt.Errorf("the collector's watch holds %q for shop.web, want the state put after the gateway's tries", got)
		}
		return nil
	})
}

// consumers lists the names of stream's consumers.
func consumers(t *testing.T, stream jetstream.Stream) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l := stream.ConsumerNames(ctx)
	var names []string
	for n := range l.Name() {
		names = append(names, n)
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}
