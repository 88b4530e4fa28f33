package service_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/testpki"
)

// TestNATSTLSNotDowngraded: a service told to use TLS for NATS (a CA in
// -nats.tls.ca, or a tls:// URL) never talks plaintext to a server that
// does not offer TLS (a misdirected URL, or someone on the path answering
// in the server's place without it): it does not connect, and its last
// error says a secure connection was wanted.
func TestNATSTLSNotDowngraded(t *testing.T) {
	plain := natstest.RunJetStream(t)
	ca, err := testpki.NewCA("headroom-downgrade-ca")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, url, ca string }{
		{"nats:// URL with -nats.tls.ca", plain, caFile},
		{"tls:// URL", strings.Replace(plain, "nats://", "tls://", 1), ""},
		{"tls:// URL with -nats.tls.ca", strings.Replace(plain, "nats://", "tls://", 1), caFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := bus.DefaultConfig()
			cfg.URL, cfg.Name, cfg.TLSCA = c.url, "tls-downgrade", c.ca
			b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
			if err != nil {
				if strings.Contains(err.Error(), "secure connection") {
					return
				}
				t.Fatalf("connect: %v, want a refusal naming a secure connection", err)
			}
			t.Cleanup(func() { _ = b.Close(time.Second) })
			natstest.Eventually(t, 20*time.Second, func() error {
				if err := b.LastError(); err == nil || !strings.Contains(err.Error(), "secure connection") {
					return fmt.Errorf("last error %v, want one naming a secure connection", err)
				}
				return nil
			})
			if b.ConnErr() == nil {
				t.Fatal("connected in plaintext")
			}
		})
	}
}
