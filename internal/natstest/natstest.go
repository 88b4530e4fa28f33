// Package natstest starts a real NATS server with JetStream inside the test
// process, on a random loopback port with a temporary store, so the bus and
// every service are tested against the real thing rather than a mock. Set
// NATS_LOGGING=1 to see the server's log.
package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// RunJetStream starts a JetStream server for the test and returns its client
// URL. The server shuts down when the test ends.
func RunJetStream(tb testing.TB) string {
	tb.Helper()
	s := Start(tb, tb.TempDir(), -1)
	return s.ClientURL()
}

// Start starts a JetStream server storing under dir on port (-1: random) and
// returns it; it shuts down when the test ends. Tests that restart a server
// on the same store call Start again with the same dir after Shutdown.
func Start(tb testing.TB, dir string, port int) *server.Server {
	tb.Helper()
	return StartStore(tb, dir, port, MaxStore)
}

// StartStore is Start with a JetStream file store of maxStore bytes, the
// most the server lets its streams reserve (jetstream max_file_store).
func StartStore(tb testing.TB, dir string, port int, maxStore int64) *server.Server {
	tb.Helper()
	opts := &server.Options{
		ServerName: "natstest",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		// A fixed store limit: the default, 75% of the disk free at
		// start, made tests that provision the 2 GiB streams pass or fail
		// with the host's free disk (reservations are accounting; tests
		// write little).
		JetStreamMaxStore: maxStore,
		NoLog:             os.Getenv("NATS_LOGGING") == "",
		NoSigs:            true,
		// Let tests publish large bursts without slow-consumer drops.
		MaxPending: 256 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	if !opts.NoLog {
		s.ConfigureLogger()
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		tb.Fatal("nats server not ready in 10s")
	}
	tb.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// MaxStore is the file store every test server may reserve: enough for
// the streams and buckets a provisioning makes at their default sizes
// (six streams of 2 GiB and two buckets: bus.Reserved), whatever the disk free.
const MaxStore = 1 << 40
