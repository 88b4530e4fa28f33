package service

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// TestServersStopWhenOneFails: a listener that fails while serving (its
// Serve returns an error, not a shutdown) makes Run shut the other one
// down and return the failure, named, so service.Main's errgroup stops the
// service instead of leaving it running without probes (an ops failure)
// or without its routes (an HTTP failure).
func TestServersStopWhenOneFails(t *testing.T) {
	for _, c := range []struct {
		name, want string
		fail       func(*Servers) net.Listener
	}{
		{"ops fails", "ops: ", func(s *Servers) net.Listener { return s.Ops.ln }},
		{"http fails", "http: ", func(s *Servers) net.Listener { return s.HTTP.ln }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ListenServers("127.0.0.1:0", "127.0.0.1:0", NewReady(), prometheus.NewRegistry(), zerolog.Nop(), DefaultTimeouts())
			if err != nil {
				t.Fatal(err)
			}
			httpAddr, opsAddr := s.HTTP.Addr(), s.OpsAddr()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			// Wait until both serve, so the close below fails a running
			// Serve rather than one not yet started.
			for _, a := range []string{httpAddr, opsAddr} {
				conn, err := net.DialTimeout("tcp", a, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				conn.Close()
			}
			// Closing the listener under the server is what a failed
			// Accept looks like to Serve.
			if err := c.fail(s).Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err == nil || !strings.HasPrefix(err.Error(), c.want) {
					t.Fatalf("Run: %v, want the failure starting %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run still running after a listener failed: the other one is left serving alone")
			}
			for _, a := range []string{httpAddr, opsAddr} {
				if conn, err := net.DialTimeout("tcp", a, time.Second); err == nil {
					conn.Close()
					t.Errorf("%s still accepting after Run returned", a)
				}
			}
		})
	}
}
