package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestWaitsForLeasesOnlyWhenItTakesThem: with the lease bucket not
// provisioned, the executor with the sim driver (the default), which
// takes no lease, is built; with the command driver acting live, which
// does, it waits for the bucket ("starting: waiting for the streams").
func TestWaitsForLeasesOnlyWhenItTakesThem(t *testing.T) {
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", natstest.Log(t), true)
	js := natstest.JetStream(t, admin)
	if err := js.DeleteKeyValue(context.Background(), proto.LeaseBucket(proto.DefaultPrefix)); err != nil {
		t.Fatal(err)
	}
	// built runs the executor with args until it is built (its routes
	// stop answering 503 "starting") or lasting has passed, and reports
	// whether it was built and what it last answered.
	built := func(lasting time.Duration, args ...string) (bool, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"-http.addr", addr, "-nats.url", url}, args...), func(string) string { return "" })
		}()
		ok, last := false, ""
		deadline := time.Now().Add(lasting)
		for !ok && time.Now().Before(deadline) {
			resp, err := http.Get("http://" + addr + "/no-such-route")
			if err != nil {
				last = err.Error()
			} else {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				last = strings.TrimSpace(string(b))
				ok = resp.StatusCode != http.StatusServiceUnavailable
			}
			if !ok {
				select {
				case err := <-done:
					t.Fatalf("%v: stopped: %v", args, err)
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: %v", args, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%v: did not stop", args)
		}
		return ok, last
	}
	if ok, last := built(20*time.Second, "-executor.driver", "sim"); !ok {
		t.Errorf("the sim driver takes no lease, yet the executor was not built without the lease bucket: %s", last)
	}
	ok, last := built(3*time.Second, "-executor.driver", "command", "-executor.command", "true {replicas}")
	if ok {
		t.Error("the command driver takes leases, yet the executor was built without the lease bucket")
	} else if !strings.Contains(last, "waiting for the streams") {
		t.Errorf("the command driver's executor answered %q, want it waiting for the streams", last)
	}
}
