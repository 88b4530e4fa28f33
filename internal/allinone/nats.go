package allinone

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startNATS starts the embedded JetStream server on addr ("host:port"; port
// -1 or 0 for a random one) storing under dir. Signals stay with our main
// (NoSigs): the server never competes with it for SIGTERM.
func startNATS(addr, dir string, logs bool) (*server.Server, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("nats.addr %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("nats.addr %q: bad port", addr)
	}
	if port == 0 {
		port = -1
	}
	opts := &server.Options{
		ServerName: "headroom",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(dir, "jetstream"),
		NoSigs:     true,
		NoLog:      !logs,
		MaxPending: 256 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	if logs {
		s.ConfigureLogger()
	}
	s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server on %s not ready in 15s", addr)
	}
	return s, nil
}
