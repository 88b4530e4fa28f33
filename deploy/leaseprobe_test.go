package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// idleDriver is a webhook-like driver (it takes leases) that is never
// called in these tests.
type idleDriver struct{}

func (idleDriver) Scale(context.Context, executor.Request) (executor.Result, error) {
	return executor.Result{}, errors.New("not expected to be called")
}

// TestNATSConfLeaseProbe: an executor whose driver takes leases probes the
// lease bucket at start. Under deploy/nats.conf it becomes ready; under a
// nats.conf without the executor's lease rights (one older than the lease)
// it keeps running, not ready, the "leases" check naming the bucket and
// the likely cause.
func TestNATSConfLeaseProbe(t *testing.T) {
	setPasswords(t)
	conf, err := os.ReadFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	const right = `"$KV.REPLICAS.>", "$KV.EXEC_LEASES.>", `
	if strings.Count(string(conf), right) != 1 {
		t.Fatalf("nats.conf grants %s %d times, want once (the executor's)", right, strings.Count(string(conf), right))
	}
	old := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(old, []byte(strings.Replace(string(conf), right, `"$KV.REPLICAS.>", `, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		ready      bool
	}{{"generated", "nats.conf", true}, {"without the lease rights", old, false}} {
		t.Run(c.name, func(t *testing.T) {
			url := startConfigured(t, c.path, func(*server.Options) {}).ClientURL()
			if err := connectAs(t, url, "provision").Provision(context.Background()); err != nil {
				t.Fatal(err)
			}
			ready := service.NewReady()
			s, err := executor.New(executor.DefaultConfig(), service.Deps{Bus: connectAs(t, url, "executor"),
				Log: zerolog.New(zerolog.NewTestWriter(t)), Reg: prometheus.NewRegistry(), Ready: ready, Mux: http.NewServeMux()},
				executor.WithDriver("webhook", idleDriver{}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("executor: %v", err)
				}
			}()
			if c.ready {
				natstest.Eventually(t, 30*time.Second, ready.Err)
				return
			}
			natstest.Eventually(t, 30*time.Second, func() error {
				err := ready.Err()
				if err == nil || !strings.HasPrefix(err.Error(), "leases: cannot take a lease in bucket EXEC_LEASES") ||
					!strings.Contains(err.Error(), "nats.conf") {
					return fmt.Errorf("readiness %v, want the leases check naming the bucket and nats.conf", err)
				}
				return nil
			})
			select {
			case err := <-done:
				t.Fatalf("the executor stopped (%v), want it running, not ready, retrying", err)
			default:
			}
		})
	}
}
