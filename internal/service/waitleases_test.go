package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// runnerFunc is a Runner.
type runnerFunc func(ctx context.Context) error

func (f runnerFunc) Run(ctx context.Context) error { return f(ctx) }

// TestOnlyTheExecutorWaitsForLeases: with the lease bucket not
// provisioned, a service that does not use it (Spec.Leases unset) is
// built; one that does is not, until the bucket is provisioned. The
// services run one after the other: NewLogger sets zerolog's globals.
func TestOnlyTheExecutorWaitsForLeases(t *testing.T) {
	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "admin", natstest.Log(t), true)
	js := natstest.JetStream(t, admin)
	if err := js.DeleteKeyValue(context.Background(), proto.LeaseBucket(proto.DefaultPrefix)); err != nil {
		t.Fatal(err)
	}
	// run runs a service until built, or until lasting has passed, and
	// reports whether it was built.
	run := func(name string, leases bool, lasting time.Duration) bool {
		built := make(chan struct{})
		ctx, cancel := context.WithTimeout(context.Background(), lasting)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- service.Main(ctx, service.Spec{Name: name, Leases: func(*config.File) bool { return leases }, Build: func(context.Context, service.Deps) (service.Runner, error) {
				close(built)
				return runnerFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
			}}, []string{"-http.addr", freeAddr(t), "-nats.url", url}, func(string) string { return "" })
		}()
		ok := false
		select {
		case <-built:
			ok = true
			cancel()
		case <-ctx.Done():
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("%s did not stop", name)
		}
		return ok
	}
	if !run("forecaster", false, 10*time.Second) {
		t.Fatal("a service without leases was not built: it waits for the lease bucket")
	}
	if run("executor", true, 2*time.Second) {
		t.Fatal("the executor was built without the lease bucket")
	}
	if err := admin.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !run("executor", true, 10*time.Second) {
		t.Fatal("the executor was not built once the lease bucket was provisioned")
	}
}
