package bus_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestReconnectLogHidesToken: a bus whose URL carries a token as its user
// (nats://TOKEN@host) logs "nats reconnected" without it after its server
// comes back: nats.go's ConnectedUrlRedacted hides a password, not a user.
func TestReconnectLogHidesToken(t *testing.T) {
	const token = "t0ken-do-not-print-0123456789"
	port := natstest.FreePort(t)
	start := func() *server.Server {
		s, err := server.NewServer(&server.Options{ServerName: "token", Host: "127.0.0.1", Port: port,
			Authorization: token, NoLog: os.Getenv("NATS_LOGGING") == "", NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats server not ready")
		}
		return s
	}
	s := start()
	var logs natstest.Logs
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = fmt.Sprintf("nats://%s@127.0.0.1:%d", token, port), "token"
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(&logs), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.WaitConnected(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
	s.WaitForShutdown()
	start()
	natstest.Eventually(t, 20*time.Second, func() error {
		if len(logs.Lines(t, "nats reconnected")) == 0 {
			return errors.New("not reconnected yet")
		}
		return nil
	})
	for _, l := range logs.Lines(t, "") {
		if s := fmt.Sprint(l); strings.Contains(s, token) {
			t.Errorf("log line shows the token: %s", s)
		}
	}
	if got := logs.Lines(t, "nats reconnected")[0]["url"]; got != fmt.Sprintf("nats://REDACTED@127.0.0.1:%d", port) {
		t.Errorf("reconnected url %v, want it without the token", got)
	}
}
