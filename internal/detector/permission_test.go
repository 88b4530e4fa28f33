package detector

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// TestOutputsSurvivePermissionDenied runs the anomaly service as a NATS user
// that may not publish its output subject, so every output publish fails
// (the server refuses it and no acknowledgement comes), then grants the
// permission by reloading the server's users. Every tick must end with
// exactly one stored output per tier.
func TestOutputsSurvivePermissionDenied(t *testing.T) {
	const prefix = "apm"
	users := func(deny bool) []*server.User {
		svc := &server.User{Username: "anomaly", Password: "s3cret-anomaly"}
		if deny {
			svc.Permissions = &server.Permissions{Publish: &server.SubjectPermission{Deny: []string{prefix + ".anomaly.>"}}}
		}
		return []*server.User{{Username: "admin", Password: "s3cret-admin"}, svc}
	}
	opts := func(deny bool) *server.Options {
		return &server.Options{ServerName: "perm", Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
			NoLog: os.Getenv("NATS_LOGGING") == "", NoSigs: true, Users: users(deny)}
	}
	o := opts(true)
	srv, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	connect := func(user, password string) *bus.Bus {
		bc := bus.DefaultConfig()
		bc.URL, bc.Name, bc.User, bc.Password, bc.Prefix = srv.ClientURL(), user, user, password, prefix
		b, err := bus.Connect(context.Background(), bc, log, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		if err := b.WaitConnected(context.Background(), time.Minute); err != nil {
			t.Fatal(err)
		}
		return b
	}
	admin := connect("admin", "s3cret-admin")
	if err := admin.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	svcBus := connect("anomaly", "s3cret-anomaly")

	r := start(t, svcBus, log)
	publishTicks(t, admin, 0, 30)
	handled(t, admin, r, true)
	if _, err := svcBus.JetStream().Stream(context.Background(), proto.StreamName(prefix, proto.KindAnomaly)); err != nil {
		t.Fatalf("the service user cannot even read the stream: %v", err)
	}
	allow := opts(false)
	allow.Port, allow.StoreDir = srv.Addr().(*net.TCPAddr).Port, o.StoreDir
	if err := srv.ReloadOptions(allow); err != nil {
		t.Fatal(err)
	}
	stored(t, admin, 29)
	publishTicks(t, admin, 30, 40)
	stored(t, admin, 39)
	r.stop(t)
	exactlyOnce(t, stored(t, admin, 39), 39)
}
