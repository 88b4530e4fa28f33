package deploy_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

var users = []string{"collector", "forecaster", "anomaly", "decider", "executor", "gateway"}

// runConfiguredServer starts a NATS server from deploy/nats.conf, on a
// random loopback port with a temporary store.
func runConfiguredServer(t *testing.T) string {
	t.Helper()
	for _, u := range users {
		t.Setenv(strings.ToUpper(u)+"_PASSWORD", u+"-secret")
	}
	opts, err := server.ProcessConfigFile("nats.conf")
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", -1, 0
	opts.StoreDir = t.TempDir()
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s.ClientURL()
}

func connectAs(t *testing.T, url, user string) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.User, cfg.Password = url, user, user, user+"-secret"
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	return b
}

// TestNATSConfPipeline runs every service under its own user of
// deploy/nats.conf: the whole pipeline works within those permissions (no
// dead letters, decisions and scaling events flow), and the rules hold
// where they matter: only the decider publishes decisions, the gateway
// publishes nothing on the subjects.
func TestNATSConfPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	url := runConfiguredServer(t)
	if err := connectAs(t, url, "collector").EnsureStreams(context.Background()); err != nil {
		t.Fatalf("streams as collector: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	ready := service.NewReady()
	deps := func(user string) service.Deps {
		return service.Deps{Bus: connectAs(t, url, user), Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
			Reg: prometheus.NewRegistry(), Ready: ready, Mux: http.NewServeMux()}
	}
	start := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	cc := collector.DefaultConfig()
	cc.Start, cc.Ticks, cc.Speed, cc.Tick, cc.BackfillTick, cc.Backfill = start, 30, 0, time.Minute, time.Minute, 2*time.Hour
	dc := decider.DefaultConfig()
	dc.Policy.Tick = time.Minute
	var runners []service.Runner
	for _, build := range []func() (service.Runner, error){
		func() (service.Runner, error) { return executor.New(executor.DefaultConfig(), deps("executor")) },
		func() (service.Runner, error) { return decider.New(dc, deps("decider")) },
		func() (service.Runner, error) { return forecaster.New(forecaster.DefaultConfig(), deps("forecaster")) },
		func() (service.Runner, error) { return detector.New(detector.DefaultConfig(), deps("anomaly")) },
		func() (service.Runner, error) { return gateway.New(gateway.DefaultConfig(), deps("gateway")) },
		func() (service.Runner, error) { return collector.New(cc, deps("collector")) },
	} {
		r, err := build()
		if err != nil {
			t.Fatal(err)
		}
		runners = append(runners, r)
	}
	for _, r := range runners {
		g.Go(func() error { return r.Run(gctx) })
	}
	defer func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Errorf("services: %v", err)
		}
	}()

	probe := connectAs(t, url, "gateway").JetStream()
	natstest.Eventually(t, time.Minute, ready.Err)
	natstest.WaitEventTime(t, probe, "DECISIONS", []string{"apm.decision.shop.web", "apm.decision.shop.cache", "apm.decision.shop.db"},
		start.Add(28*time.Minute), 2*time.Minute)
	for _, k := range []proto.Kind{proto.KindScaling, proto.KindForecast, proto.KindAnomaly} {
		if n := len(natstest.Payloads(t, probe, k.Stream(), proto.Filter("apm", k))); n == 0 {
			t.Errorf("no %s messages", k)
		}
	}
	if n := len(natstest.Payloads(t, probe, "DLQ", "apm.dlq.*")); n != 0 {
		t.Errorf("%d dead letters: a service lacks a permission it needs", n)
	}

	// Who may publish what.
	cases := []struct {
		user, subject string
		allowed       bool
	}{
		{"decider", "apm.decision.shop.web", true},
		{"collector", "apm.decision.shop.web", false},
		{"forecaster", "apm.decision.shop.web", false},
		{"executor", "apm.decision.shop.web", false},
		{"gateway", "apm.metrics.shop.web", false},
		{"gateway", "apm.decision.shop.web", false},
		{"executor", "apm.scaling.shop.web", true},
		{"anomaly", "apm.scaling.shop.web", false},
	}
	for _, c := range cases {
		if got := canPublish(t, url, c.user, c.subject); got != c.allowed {
			t.Errorf("%s publishing %s: allowed=%v, want %v", c.user, c.subject, got, c.allowed)
		}
	}

	// Who may read decisions (and so act on them): the executor, and the
	// read-only gateway for the dashboard; no one else.
	for _, c := range []struct {
		user    string
		allowed bool
	}{{"executor", true}, {"gateway", true}, {"decider", false}, {"forecaster", false}, {"collector", false}, {"anomaly", false}} {
		js := connectAs(t, url, c.user).JetStream()
		// A denied API request gets no answer: a short deadline suffices.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.OrderedConsumer(ctx, "DECISIONS", jetstream.OrderedConsumerConfig{})
		cancel()
		if (err == nil) != c.allowed {
			t.Errorf("%s consuming DECISIONS: err=%v, want allowed=%v", c.user, err, c.allowed)
		}
	}
}

// canPublish reports whether user's publish on subject is accepted. The
// server answers a denied publish with an -ERR that the client reads before
// the PONG of the following flush, and records it as the connection's last
// error, so after the flush the answer is known without waiting on the
// asynchronous error callback.
func canPublish(t *testing.T, url, user, subject string) bool {
	t.Helper()
	nc, err := nats.Connect(url, nats.UserInfo(user, user+"-secret"), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Core publish: an allowed one lands in a stream as an undecodable
	// message, harmless at the end of the test.
	if err := nc.Publish(subject, []byte("permission probe")); err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return !errors.Is(nc.LastError(), nats.ErrPermissionViolation)
}
