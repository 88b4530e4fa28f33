package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
)

// gatewayPerms are the NATS permissions documented for a read-only gateway.
var gatewayPerms = &server.Permissions{
	Publish: &server.SubjectPermission{
		Allow: []string{
			"$JS.API.STREAM.INFO.*", "$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.*", "$JS.API.DIRECT.GET.*.>",
			"$JS.API.CONSUMER.CREATE.*.>", "$JS.API.CONSUMER.LIST.*",
			"$JS.API.CONSUMER.DELETE.*.*", "$JS.API.CONSUMER.INFO.*.*", "$JS.API.CONSUMER.MSG.NEXT.*.*",
		},
		Deny: []string{"apm.>"},
	},
	Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
}

// TestReadOnlyPermissions runs the gateway as a NATS user that may publish
// nothing but the JetStream API requests listed in the package doc: history,
// live and the apps list all work.
func TestReadOnlyPermissions(t *testing.T) {
	opts := &server.Options{
		ServerName: "perms", Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{
			{Username: "pipeline", Password: "p"},
			{Username: "gateway", Password: "g", Permissions: gatewayPerms},
		},
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })

	connect := func(user, pass string) *bus.Bus {
		cfg := bus.DefaultConfig()
		cfg.URL, cfg.Name, cfg.User, cfg.Password = s.ClientURL(), user, user, pass
		cfg.Streams.Memory = true
		b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		return b
	}
	pipe := connect("pipeline", "p")
	if err := pipe.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		publish(t, pipe, tick("shop", "web", i, float64(i)))
	}
	gw := connect("gateway", "g")
	_, mux, _, stop := startGateway(t, gw, gateway.DefaultConfig())
	defer stop()
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := mustDial(t, srv.URL)
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "s", App: "shop", Since: millis(2)})
	frames := c.until(t, gateway.FrameHistoryDone)
	if done := frames[len(frames)-1]; done.Count != 3 {
		t.Fatalf("history %+v, want 3 messages", done)
	}
	publish(t, pipe, tick("shop", "web", 9, 9))
	if f := c.next(t); f.Type != gateway.FrameMsg || f.TS != millis(9) {
		t.Fatalf("live frame %+v", f)
	}
	resp, err := http.Get(srv.URL + "/api/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var apps gateway.AppsResponse
	if err := json.NewDecoder(resp.Body).Decode(&apps); err != nil || len(apps.Apps) != 1 {
		t.Fatalf("apps %+v, %v (status %d)", apps, err, resp.StatusCode)
	}
	// And the gateway's user really cannot publish under the prefix.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := gw.Publish(ctx, tick("shop", "web", 10, 1)); err == nil {
		t.Fatal("the gateway's NATS user could publish a tick")
	}
}
