package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
)

// Bus starts a JetStream server for the test and returns a bus connected
// to it as name, with the streams and the replica bucket provisioned. The
// connection closes when the test ends.
func Bus(tb testing.TB, name string, log zerolog.Logger) *bus.Bus {
	tb.Helper()
	return Connect(tb, RunJetStream(tb), name, log, true)
}

// Connect returns a bus connected to url as name, once the connection is up;
// with provision it also creates the streams and the replica bucket. The
// connection closes when the test ends.
func Connect(tb testing.TB, url, name string, log zerolog.Logger, provision bool) *bus.Bus {
	tb.Helper()
	return connectAs(tb, url, name, "", log, provision)
}

// connectAs is Connect logging in as user name with password, when given.
func connectAs(tb testing.TB, url, name, password string, log zerolog.Logger, provision bool) *bus.Bus {
	tb.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, name
	if password != "" {
		cfg.User, cfg.Password = name, password
	}
	b, err := bus.Connect(context.Background(), cfg, log, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.WaitConnected(context.Background(), 10*time.Second); err != nil {
		tb.Fatal(err)
	}
	if provision {
		if err := b.EnsureStreams(context.Background()); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}
