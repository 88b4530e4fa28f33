package bus_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/testpki"
	"github.com/headroomhq/headroom/proto"
)

// writePEM writes a PEM file under dir and returns its path.
func writePEM(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue signs a certificate for 127.0.0.1 with ca and writes it and its key
// under dir, returning their paths.
func issue(t *testing.T, ca *testpki.CA, dir, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	cert, key, err := ca.Issue(testpki.Leaf{Subject: pkix.Name{CommonName: name}, Usage: usage, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".pem", cert), writePEM(t, dir, name+"-key.pem", key)
}

// TestTLS runs the bus against a JetStream server that requires TLS with
// client certificates (-nats.tls.ca, -nats.tls.cert, -nats.tls.key): with
// the CA and a client certificate it provisions the streams and stores and
// reads a tick; without a client certificate, or trusting another CA, it
// cannot connect.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, err := testpki.NewCA("headroom-test-ca")
	if err != nil {
		t.Fatal(err)
	}
	caFile := writePEM(t, dir, "ca.pem", ca.PEM)
	srvCert, srvKey := issue(t, ca, dir, "server", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := issue(t, ca, dir, "client", x509.ExtKeyUsageClientAuth)

	pair, err := tls.LoadX509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	s, err := server.NewServer(&server.Options{ServerName: "tls", Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, TLS: true, TLSVerify: true, TLSTimeout: 2,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	url := strings.Replace(s.ClientURL(), "nats://", "tls://", 1)

	connect := func(caFile, cert, key string, timeout time.Duration) (*bus.Bus, error) {
		cfg := bus.DefaultConfig()
		cfg.URL, cfg.Name, cfg.TLSCA, cfg.TLSCert, cfg.TLSKey = url, "tls-test", caFile, cert, key
		cfg.Streams.Memory = true
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		b, err := bus.Connect(ctx, cfg, zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		if err := b.WaitConnected(ctx, timeout); err != nil {
			return nil, err
		}
		return b, nil
	}

	b, err := connect(caFile, cliCert, cliKey, 10*time.Second)
	if err != nil {
		t.Fatalf("with the CA and a client certificate: %v", err)
	}
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := proto.NewMetrics("shop", "web", time.Now().Truncate(time.Minute), 2, proto.Floats{"rps": 1})
	if err := b.PublishAll(context.Background(), []bus.Out{{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m}}); err != nil {
		t.Fatalf("publish over TLS: %v", err)
	}
	r, err := b.Reader(context.Background(), proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	last, err := r.Last(context.Background(), proto.AppFilter("apm", proto.KindMetrics, "shop"))
	if err != nil || last.EventTime() != proto.Millis(m.EventTime()) {
		t.Fatalf("read back over TLS: %v, %+v", err, last)
	}

	// Refused handshakes: the client keeps retrying, never connected, and
	// its last error says why. Without a client certificate the server
	// refuses (TLS 1.3 may report the alert or the closed connection);
	// trusting another CA, the client refuses the server's certificate.
	refused := func(what, caFile, cert, key, want string) {
		t.Helper()
		cfg := bus.DefaultConfig()
		cfg.URL, cfg.Name, cfg.TLSCA, cfg.TLSCert, cfg.TLSKey = url, "tls-refused", caFile, cert, key
		b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Cleanup(func() { _ = b.Close(time.Second) })
		natstest.Eventually(t, 20*time.Second, func() error {
			if err := b.LastError(); err == nil || !strings.Contains(err.Error(), want) {
				return fmt.Errorf("%s: last error %v, want one naming %q", what, err, want)
			}
			return nil
		})
		if b.ConnErr() == nil {
			t.Fatalf("%s: connected", what)
		}
	}
	refused("without a client certificate", caFile, "", "", "tls")
	other, err := testpki.NewCA("another-ca")
	if err != nil {
		t.Fatal(err)
	}
	refused("trusting another CA", writePEM(t, dir, "other-ca.pem", other.PEM), cliCert, cliKey, "unknown authority")
}
