package executor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// TestRunClosesTheDriverItBuilt: when Run returns, the kubernetes driver
// New built is closed (its informers stop, instead of retrying their
// watches for the life of the process), and one an embedder passed with
// WithDriver is left open: it is the embedder's to close.
func TestRunClosesTheDriverItBuilt(t *testing.T) {
	bcfg := bus.DefaultConfig()
	bcfg.URL, bcfg.Name = natstest.RunJetStream(t), "executor"
	b, err := bus.Connect(context.Background(), bcfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		embedded bool // the driver passed with WithDriver
		wantStop bool
	}{
		{"built by New", false, true},
		{"passed with WithDriver", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, conns := untrustedServer(t)
			cfg := DefaultConfig()
			cfg.Driver = DriverKubernetes
			cfg.Kubernetes.Kubeconfig = writeKubeconfig(t, "https://"+addr)
			cfg.Kubernetes.Targets = map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}}
			var opts []Option
			if c.embedded {
				d, err := NewKubeDriver(cfg.Kubernetes)
				if err != nil {
					t.Fatal(err)
				}
				opts = append(opts, WithDriver(DriverKubernetes, d))
			}
			ready := service.NewReady()
			s, err := New(cfg, service.Deps{Bus: b, Log: zerolog.Nop(), Ready: ready}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			// The watches never list here: readiness waits for the
			// decision consumer alone.
			ready.Check("driver", func() error { return nil })
			d := s.driver.(*KubeDriver)
			stop := natstest.Serve(t, "executor", s.Run)
			t.Cleanup(d.Close) // after the check below: cleanups run last first
			select {
			case <-conns: // Run started the driver's watches
			case <-time.After(20 * time.Second):
				t.Fatal("the driver's watches made no request within 20s")
			}
			natstest.Eventually(t, 20*time.Second, ready.Err) // Run is consuming
			stop()
			select {
			case <-d.stop:
				if !c.wantStop {
					t.Error("Run closed the driver passed with WithDriver: it is the embedder's")
				}
			default:
				if c.wantStop {
					t.Error("Run returned with the driver New built still open: its informers keep retrying")
				}
			}
		})
	}
}

// TestCloseEndsTheFirstListingWait: closing the driver while its watches
// have not listed yet ends the wait for the first listing at once, rather
// than leaving it until the sync timeout (a goroutine of a closed driver
// living on for up to a minute).
func TestCloseEndsTheFirstListingWait(t *testing.T) {
	addr, conns := untrustedServer(t)
	cfg := DefaultKubeConfig()
	cfg.Kubeconfig = writeKubeconfig(t, "https://"+addr)
	cfg.Targets = map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}}
	cfg.SyncTimeout = 10 * time.Minute
	d, err := NewKubeDriver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Watch()
	select {
	case <-conns:
	case <-time.After(20 * time.Second):
		t.Fatal("the driver's watches made no request within 20s")
	}
	d.Close()
	natstest.Eventually(t, 10*time.Second, func() error {
		if !d.started.Load() {
			return errors.New("the first listing is still awaited after Close")
		}
		return nil
	})
	if err := d.Synced(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Synced after Close: %v, want it to say the driver was closed", err)
	}
}
