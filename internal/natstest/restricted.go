package natstest

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
)

// Restricted is a JetStream server with two users: "admin", who may do
// anything, and a service user denied publishing on some subject filters
// until Allow lifts the rule. Tests use it to make a service's output publishes
// fail and then succeed, without stopping anything.
type Restricted struct {
	Server  *server.Server
	service string
	deny    []string
	dir     string
}

// StartRestricted starts the server; it shuts down when the test ends. Each
// user's password is "s3cret-" plus its name.
func StartRestricted(tb testing.TB, service string, deny ...string) *Restricted {
	tb.Helper()
	r := &Restricted{service: service, deny: deny, dir: tb.TempDir()}
	s, err := server.NewServer(r.options(true, -1))
	if err != nil {
		tb.Fatal(err)
	}
	s.Start()
	tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	r.Server = s
	return r
}

func (r *Restricted) options(deny bool, port int) *server.Options {
	svc := &server.User{Username: r.service, Password: "s3cret-" + r.service}
	if deny {
		svc.Permissions = &server.Permissions{Publish: &server.SubjectPermission{Deny: r.deny}}
	}
	return &server.Options{ServerName: "restricted", Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: r.dir, JetStreamMaxStore: MaxStore,
		NoLog: os.Getenv("NATS_LOGGING") == "", NoSigs: true,
		Users: []*server.User{{Username: "admin", Password: "s3cret-admin"}, svc}}
}

// Allow reloads the server's users without the service's deny rule.
func (r *Restricted) Allow(tb testing.TB) {
	tb.Helper()
	if err := r.Server.ReloadOptions(r.options(false, r.Server.Addr().(*net.TCPAddr).Port)); err != nil {
		tb.Fatal(err)
	}
}

// Deny reloads the server's users with the service's deny rule again.
func (r *Restricted) Deny(tb testing.TB) {
	tb.Helper()
	if err := r.Server.ReloadOptions(r.options(true, r.Server.Addr().(*net.TCPAddr).Port)); err != nil {
		tb.Fatal(err)
	}
}

// Connect returns a bus logged in as user ("admin" or the service); as
// admin it also provisions the streams.
func (r *Restricted) Connect(tb testing.TB, user string, log zerolog.Logger) *bus.Bus {
	tb.Helper()
	return connectAs(tb, r.Server.ClientURL(), user, "s3cret-"+user, log, user == "admin")
}
