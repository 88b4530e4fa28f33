package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
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

var users = []string{"provision", "collector", "forecaster", "anomaly", "decider", "executor", "gateway"}

// setPasswords sets every user's password variable, as the deployment's
// environment does: <user>-secret.
func setPasswords(t *testing.T) {
	for _, u := range users {
		t.Setenv(strings.ToUpper(u)+"_PASSWORD", u+"-secret")
	}
}

// runConfiguredServer starts a NATS server from deploy/nats.conf, on a
// random loopback port with a temporary store.
func runConfiguredServer(t *testing.T) string {
	t.Helper()
	setPasswords(t)
	return startConfigured(t, "nats.conf", func(*server.Options) {}).ClientURL()
}

// startConfigured starts a NATS server from the configuration file path, on
// a random loopback port with a temporary store and no monitoring port,
// after adjust has changed what the test needs, and waits until it takes
// connections; it stops when the test ends.
func startConfigured(t *testing.T, path string, adjust func(*server.Options)) *server.Server {
	t.Helper()
	s := launchConfigured(t, path, adjust)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("%s: server not ready", path)
	}
	return s
}

// launchConfigured is startConfigured without the wait: a clustered
// JetStream node is ready only once its peers are up.
func launchConfigured(t *testing.T, path string, adjust func(*server.Options)) *server.Server {
	t.Helper()
	opts := configuredOptions(t, path, t.TempDir())
	adjust(opts)
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// configuredOptions reads the configuration file path as the tests run
// it: on a random loopback port, without the monitoring port, logs or
// signal handlers, with the JetStream store in storeDir.
func configuredOptions(t *testing.T, path, storeDir string) *server.Options {
	t.Helper()
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", -1, 0
	opts.StoreDir = storeDir
	opts.NoLog, opts.NoSigs = true, true
	return opts
}

func connectAs(t *testing.T, url, user string) *bus.Bus {
	t.Helper()
	return connectLogged(t, url, user, zerolog.Nop())
}

// connectLogged connects as user with the bus logging to log.
func connectLogged(t *testing.T, url, user string, log zerolog.Logger) *bus.Bus {
	t.Helper()
	return connectConfigured(t, url, user, log, func(*bus.Config) {})
}

// connectConfigured connects as user with the bus logging to log, after
// adjust has changed the rest of its configuration.
func connectConfigured(t *testing.T, url, user string, log zerolog.Logger, adjust func(*bus.Config)) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.User, cfg.Password = url, user, user, user+"-secret"
	cfg.InboxPrefix = "_INBOX_" + user // as compose and deploy/kubernetes set it
	adjust(&cfg)
	b, err := bus.Connect(context.Background(), cfg, log, prometheus.NewRegistry())
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
	if err := connectAs(t, url, "provision").Provision(context.Background()); err != nil {
		t.Fatalf("provision: %v", err)
	}
	start, ready := runPipeline(t, url, true)
	pipelineFlowed(t, url, start, ready)

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
		js := natstest.JetStream(t, connectAs(t, url, c.user))
		// A denied API request gets no answer: a short deadline suffices.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var err error
		if c.user == "executor" {
			// The executor reads through its own durable only.
			_, err = js.Consumer(ctx, "DECISIONS", "executor-p0")
		} else {
			_, err = js.OrderedConsumer(ctx, "DECISIONS", jetstream.OrderedConsumerConfig{})
		}
		cancel()
		if (err == nil) != c.allowed {
			t.Errorf("%s consuming DECISIONS: err=%v, want allowed=%v", c.user, err, c.allowed)
		}
	}
}

// runPipeline runs every service (the gateway with withGateway) under its
// own user of deploy/nats.conf on the provisioned server at url, the
// simulated shop ticking a minute of event time 30 times from start, until
// the test ends.
func runPipeline(t *testing.T, url string, withGateway bool) (start time.Time, ready *service.Ready) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	ready = service.NewReady()
	deps := func(user string) service.Deps {
		return service.Deps{Bus: connectAs(t, url, user), Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
			Reg: prometheus.NewRegistry(), Ready: ready, Mux: http.NewServeMux()}
	}
	start = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	cc := collector.DefaultConfig()
	cc.Start, cc.Ticks, cc.Speed, cc.Tick, cc.BackfillTick, cc.Backfill = start, 30, 0, time.Minute, time.Minute, 2*time.Hour
	dc := decider.DefaultConfig()
	dc.Policy.Tick = time.Minute
	builds := []func() (service.Runner, error){
		func() (service.Runner, error) { return executor.New(executor.DefaultConfig(), deps("executor")) },
		func() (service.Runner, error) { return decider.New(dc, deps("decider")) },
		func() (service.Runner, error) { return forecaster.New(forecaster.DefaultConfig(), deps("forecaster")) },
		func() (service.Runner, error) { return detector.New(detector.DefaultConfig(), deps("anomaly")) },
		func() (service.Runner, error) { return collector.New(cc, deps("collector")) },
	}
	if withGateway {
		builds = append(builds, func() (service.Runner, error) { return gateway.New(gateway.DefaultConfig(), deps("gateway")) })
	}
	var runners []service.Runner
	for _, build := range builds {
		r, err := build()
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		runners = append(runners, r)
	}
	for _, r := range runners {
		g.Go(func() error { return r.Run(gctx) })
	}
	t.Cleanup(func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Errorf("services: %v", err)
		}
	})
	return start, ready
}

// pipelineFlowed waits for the services of runPipeline to be ready and to
// decide every tier up to the run's last ticks, and checks every stage
// stored its outputs without a dead letter. It reads as the gateway, with
// no consumer (stream info and last-message gets), so it reads streams
// whose consumer slots are all taken too.
func pipelineFlowed(t *testing.T, url string, start time.Time, ready *service.Ready) {
	t.Helper()
	probe := connectAs(t, url, "gateway")
	natstest.Eventually(t, time.Minute, ready.Err)
	natstest.WaitEventTime(t, probe, "DECISIONS", []string{"apm.decision.shop.web", "apm.decision.shop.cache", "apm.decision.shop.db"},
		start.Add(28*time.Minute), 2*time.Minute)
	js := natstest.JetStream(t, probe)
	stored := func(stream, filter string) uint64 {
		t.Helper()
		s, err := js.Stream(context.Background(), stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(filter))
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		for _, c := range info.State.Subjects {
			n += c
		}
		return n
	}
	for _, k := range []proto.Kind{proto.KindScaling, proto.KindForecast, proto.KindAnomaly} {
		if n := stored(k.Stream(), proto.Filter("apm", k)); n == 0 {
			t.Errorf("no %s messages", k)
		}
	}
	if n := stored("DLQ", "apm.dlq.*"); n != 0 {
		t.Errorf("%d dead letters: a service lacks a permission it needs", n)
	}
}

// canPublish reports whether user's publish on subject is accepted. The
// server answers a denied publish with an -ERR that the client reads before
// the PONG of the following flush, and records it as the connection's last
// error, so after the flush the answer is known without waiting on the
// asynchronous error callback. opts are added to probe's (TLS, a dialer).
func canPublish(t *testing.T, url, user, subject string, opts ...nats.Option) bool {
	t.Helper()
	nc := probe(t, url, user, opts...)
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

// denied runs a JetStream API call that the permissions must refuse: the
// server drops the request, so it fails within a short deadline.
func denied(t *testing.T, what string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := call(ctx); err == nil {
		t.Errorf("%s: allowed, want refused", what)
	}
}

// TestNATSConfRefusesAttacks replays, under deploy/nats.conf, what a
// compromised or buggy service did with the old all-may-administer rights,
// and asserts each is refused and changed nothing.
func TestNATSConfRefusesAttacks(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	// The services' durables exist, as in a running system: provisioning
	// made them, and the executor can read its own.
	exec := connectAs(t, url, "executor")
	if _, err := natstest.JetStream(t, exec).Consumer(ctx, "DECISIONS", "executor-p0"); err != nil {
		t.Fatalf("executor reading its own consumer: %v", err)
	}
	// Not even its own service may create or change a durable: a
	// compromised service cannot throttle its copies' delivery or stretch
	// the redelivery of what it drops, nor recreate a deleted durable at a
	// position of its choosing.
	for _, c := range []struct{ user, stream, durable string }{
		{"forecaster", "METRICS", "forecaster-p0"},
		{"anomaly", "METRICS", "anomaly-p3"},
		{"decider", "FORECASTS", "decider-forecast-p1"},
		{"executor", "DECISIONS", "executor-p0"},
	} {
		cons, err := natstest.JetStream(t, admin).Consumer(ctx, c.stream, c.durable)
		if err != nil {
			t.Fatalf("%s: %v", c.durable, err)
		}
		cfg := cons.CachedInfo().Config
		cfg.MaxAckPending, cfg.AckWait = 1, time.Hour
		js := natstest.JetStream(t, connectAs(t, url, c.user))
		denied(t, c.user+" changing its own durable "+c.durable, func(ctx context.Context) error {
			_, err := js.UpdateConsumer(ctx, c.stream, cfg)
			return err
		})
	}
	if err := natstest.JetStream(t, admin).DeleteConsumer(ctx, "METRICS", "anomaly-p5"); err != nil {
		t.Fatal(err)
	}
	denied(t, "anomaly recreating its deleted durable at the stream's end", func(ctx context.Context) error {
		_, err := natstest.JetStream(t, connectAs(t, url, "anomaly")).CreateConsumer(ctx, "METRICS", jetstream.ConsumerConfig{
			Durable: "anomaly-p5", AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverNewPolicy})
		return err
	})
	for _, user := range users[1:] {
		js := natstest.JetStream(t, connectAs(t, url, user))
		denied(t, user+" creating or changing streams", func(ctx context.Context) error {
			return connectAs(t, url, user).EnsureStreams(ctx)
		})
		denied(t, user+" capping DECISIONS at one message per subject", func(ctx context.Context) error {
			cfg := admin.StreamConfig(proto.KindDecision)
			cfg.MaxMsgsPerSubject = 1
			_, err := js.UpdateStream(ctx, cfg)
			return err
		})
		denied(t, user+" purging DECISIONS", func(ctx context.Context) error {
			s, err := js.Stream(ctx, "DECISIONS")
			if err != nil {
				return err
			}
			return s.Purge(ctx)
		})
		denied(t, user+" creating a stream that captures apm.decision.evil.>", func(ctx context.Context) error {
			_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVIL", Subjects: []string{"apm.decision.evil.>"}})
			return err
		})
		if user != "executor" {
			denied(t, user+" deleting the executor's consumer", func(ctx context.Context) error {
				return js.DeleteConsumer(ctx, "DECISIONS", "executor-p0")
			})
			denied(t, user+" taking over the executor's consumer", func(ctx context.Context) error {
				_, err := js.CreateOrUpdateConsumer(ctx, "DECISIONS", jetstream.ConsumerConfig{Durable: "executor-p0", AckPolicy: jetstream.AckNonePolicy})
				return err
			})
		}
		if user != "gateway" {
			denied(t, user+" reading the DLQ", func(ctx context.Context) error {
				_, err := js.OrderedConsumer(ctx, "DLQ", jetstream.OrderedConsumerConfig{})
				return err
			})
		}
	}
	gw := natstest.JetStream(t, connectAs(t, url, "gateway"))
	denied(t, "gateway reading the DLQ", func(ctx context.Context) error {
		_, err := gw.OrderedConsumer(ctx, "DLQ", jetstream.OrderedConsumerConfig{})
		return err
	})
	denied(t, "gateway writing replica state", func(ctx context.Context) error {
		kv, err := gw.KeyValue(ctx, "REPLICAS")
		if err != nil {
			return err
		}
		_, err = kv.Put(ctx, "shop.web", []byte("forged"))
		return err
	})
	if canPublish(t, url, "gateway", "apm.dlq.gateway") {
		t.Error("gateway may publish on the DLQ")
	}
	// Only the executor writes replica state (the gateway's is above).
	for _, user := range []string{"collector", "forecaster", "anomaly", "decider"} {
		if canPublish(t, url, user, "$KV.REPLICAS.shop.web") {
			t.Errorf("%s may write replica state ($KV.REPLICAS.shop.web)", user)
		}
	}
	// Each service dead-letters only under its own name, and the gateway
	// and provisioning under none: no identity can forge another's DLQ
	// entry (the executor's, say, to hide a refused decision among them).
	for _, svc := range users[1:] {
		for _, user := range users {
			want := user == svc && user != "gateway"
			if got := canPublish(t, url, user, "apm.dlq."+svc); got != want {
				t.Errorf("%s publishing apm.dlq.%s: allowed=%v, want %v", user, svc, got, want)
			}
		}
	}
	// A consumer created under one name with another's durable in the
	// body: the server refuses the mismatch (10017) before any rule
	// matters, so the gateway cannot reach executor-p0 under a name its
	// deny list does not name, in either create form.
	gwc := probe(t, url, "gateway")
	defer gwc.Close()
	for _, subject := range []string{"$JS.API.CONSUMER.CREATE.DECISIONS.evil", "$JS.API.CONSUMER.CREATE.DECISIONS.evil.apm.decision.>"} {
		if code := apiCode(t, gwc, subject, `{"stream_name":"DECISIONS","config":{"durable_name":"executor-p0","name":"executor-p0","ack_policy":"none"}}`); code != 10017 {
			t.Errorf("gateway %s with durable executor-p0: error code %d, want 10017", subject, code)
		}
	}
	// The legacy ephemeral form the collector may use for its replica
	// watch carries no durable: the server refuses one (10020).
	col := probe(t, url, "collector")
	defer col.Close()
	if code := apiCode(t, col, "$JS.API.CONSUMER.CREATE.KV_REPLICAS",
		`{"stream_name":"KV_REPLICAS","config":{"durable_name":"evil-durable","ack_policy":"explicit"}}`); code != 10020 {
		t.Errorf("collector creating a durable through $JS.API.CONSUMER.CREATE.KV_REPLICAS: error code %d, want 10020", code)
	}
	// A push consumer's deliveries are published by the server on the
	// deliver subject its creator names in the request body, where no
	// subject rule looks: the collector and the gateway may create one
	// (their ordered consumers and replica watches make the same calls),
	// aimed at the decisions or the replica bucket. The server delivers
	// only while a client subscribes to that subject literally (the
	// streams' own subscriptions are no interest), and then DECISIONS
	// stores what it delivers (under the source's subjects): with the
	// gateway subscribed to apm.decision.shop.web, two such consumers put
	// METRICS messages in DECISIONS. So no identity may subscribe to a
	// stream's subjects, and the consumers stay unbound and store nothing.
	adminJS := natstest.JetStream(t, admin)
	count := func(stream string) uint64 {
		t.Helper()
		s, err := adminJS.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().State.Msgs
	}
	decisions, replicas := count("DECISIONS"), count("KV_REPLICAS")
	for _, subject := range []string{"apm.decision.shop.web", "$KV.REPLICAS.shop.web", "apm.metrics.shop.web", "apm.forecast.shop.web"} {
		for _, user := range users {
			if canSubscribe(t, url, user, subject) {
				t.Errorf("%s may listen on %s (a push consumer of its own would deliver there)", user, subject)
			}
		}
	}
	prov := probe(t, url, "provision")
	defer prov.Close()
	// The gateway tries to listen where its consumers will deliver.
	live := probe(t, url, "gateway")
	defer live.Close()
	if _, err := live.SubscribeSync("apm.decision.shop.web"); err != nil {
		t.Fatal(err)
	}
	if err := live.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct{ user, deliver string }{
		{"collector", "apm.decision.shop.web"},
		{"collector", "$KV.REPLICAS.shop.web"},
		{"gateway", "apm.decision.shop.web"},
		{"gateway", "$KV.REPLICAS.shop.web"},
	} {
		src, name := fmt.Sprintf("apm.metrics.evil.push%d", i), fmt.Sprintf("push%d", i)
		if !canPublish(t, url, "collector", src) {
			t.Fatalf("collector publishing %s refused", src)
		}
		nc := probe(t, url, c.user)
		body := fmt.Sprintf(`{"stream_name":"METRICS","config":{"name":%q,"deliver_subject":%q,"filter_subject":"%s.*","ack_policy":"none","deliver_policy":"all"}}`,
			name, c.deliver, src)
		code := apiCode(t, nc, "$JS.API.CONSUMER.CREATE.METRICS."+name+"."+src+".*", body)
		nc.Close()
		if code != 0 {
			continue // refused: nothing to deliver
		}
		// The library hands out no push consumer: ask the API.
		m, err := prov.Request("$JS.API.CONSUMER.INFO.METRICS."+name, nil, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var info jetstream.ConsumerInfo
		if err := json.Unmarshal(m.Data, &info); err != nil {
			t.Fatalf("consumer %s info %q: %v", name, m.Data, err)
		}
		if info.PushBound {
			t.Errorf("%s's push consumer to %s is bound: someone listens there, and DECISIONS or the bucket stores what it delivers", c.user, c.deliver)
		}
	}
	// A decision published after the deliveries is stored after anything
	// they queued for DECISIONS: once it is there, they are settled.
	if !canPublish(t, url, "decider", "apm.decision.shop.cache") {
		t.Fatal("decider publishing a decision refused")
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		if d := count("DECISIONS"); d <= decisions {
			return fmt.Errorf("DECISIONS holds %d messages, want the decider's", d)
		}
		return nil
	})
	if d, r := count("DECISIONS"), count("KV_REPLICAS"); d != decisions+1 || r != replicas {
		t.Errorf("push consumers' deliveries stored: DECISIONS %d → %d (one the decider's), KV_REPLICAS %d → %d messages", decisions, d, replicas, r)
	}

	// Nothing changed: the executor's consumer and DECISIONS' limits are intact.
	c, err := natstest.JetStream(t, exec).Consumer(ctx, "DECISIONS", "executor-p0")
	if err != nil {
		t.Fatalf("executor consumer gone: %v", err)
	}
	if info, err := c.Info(ctx); err != nil || info.Config.AckPolicy != jetstream.AckExplicitPolicy {
		t.Fatalf("executor consumer changed: %+v %v", info, err)
	}
	fc, err := natstest.JetStream(t, admin).Consumer(ctx, "METRICS", "forecaster-p0")
	if err != nil {
		t.Fatalf("forecaster consumer gone: %v", err)
	}
	if info, err := fc.Info(ctx); err != nil || info.Config.AckPolicy != jetstream.AckExplicitPolicy {
		t.Fatalf("forecaster consumer changed: %+v %v", info, err)
	}
	if info, err := fc.Info(ctx); err != nil || info.Config.MaxAckPending == 1 {
		t.Fatalf("forecaster consumer throttled: %+v %v", info, err)
	}
	if _, err := natstest.JetStream(t, admin).Consumer(ctx, "METRICS", "anomaly-p5"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("durable anomaly-p5 recreated: %v", err)
	}
	s, err := natstest.JetStream(t, admin).Stream(ctx, "DECISIONS")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(ctx); err != nil || info.Config.MaxMsgsPerSubject > 0 {
		t.Fatalf("DECISIONS changed: %+v %v", info.Config, err)
	}
	if _, err := natstest.JetStream(t, admin).Stream(ctx, "EVIL"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream EVIL: %v", err)
	}

	// No identity without a password, and no default one.
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Error("anonymous connection accepted")
	}
	for _, user := range users {
		if nc, err := nats.Connect(url, nats.UserInfo(user, user)); err == nil {
			nc.Close()
			t.Errorf("%s logged in with password %q", user, user)
		}
	}
}

// apiCode sends a JetStream API request on nc and returns the error code of
// the server's answer (0 for success). A request the permissions drop gets
// no answer: that fails the test, since callers expect the server's word.
func apiCode(t *testing.T, nc *nats.Conn, subject, body string) int {
	t.Helper()
	m, err := nc.Request(subject, []byte(body), 2*time.Second)
	if err != nil {
		t.Fatalf("%s: %v (last error %v)", subject, err, nc.LastError())
	}
	var resp struct {
		Error *struct {
			Code int `json:"err_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		t.Fatalf("%s answer %q: %v", subject, m.Data, err)
	}
	if resp.Error == nil {
		return 0
	}
	return resp.Error.Code
}

// TestNATSConfNeedsEveryPassword: a password left unset stops the server
// from loading the file, instead of falling back to a default.
func TestNATSConfNeedsEveryPassword(t *testing.T) {
	setPasswords(t)
	t.Setenv("EXECUTOR_PASSWORD", "")
	os.Unsetenv("EXECUTOR_PASSWORD")
	if _, err := server.ProcessConfigFile("nats.conf"); err == nil {
		t.Fatal("nats.conf loaded without EXECUTOR_PASSWORD")
	}
}

// canSubscribe reports whether user may subscribe to subject.
func canSubscribe(t *testing.T, url, user, subject string) bool {
	t.Helper()
	nc := probe(t, url, user)
	defer nc.Close()
	if _, err := nc.SubscribeSync(subject); err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return !errors.Is(nc.LastError(), nats.ErrPermissionViolation)
}

// TestNATSConfGroups checks the groups' side of the permissions: every
// partition durable the services create is named (and kept from everyone
// else), and only a service's own user can join its group, so no other
// identity can pose as an executor member and take a share of the apps.
func TestNATSConfGroups(t *testing.T) {
	conf, err := os.ReadFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range bus.DurableNames(proto.DefaultPartitions) {
		if !strings.Contains(string(conf), `"$JS.API.CONSUMER.*.*.`+d+`"`) {
			t.Errorf("nats.conf does not keep durable %s from other users: run deploy/natsconf.py", d)
		}
	}
	url := runConfiguredServer(t)
	member := func(svc string) string { return "$SRV.PING.headroom_apm_" + svc }
	for _, c := range []struct {
		user, subject string
		allowed       bool
	}{
		{"executor", member("executor"), true},
		{"decider", member("decider"), true},
		{"forecaster", member("executor"), false},
		{"gateway", member("executor"), false},
		{"collector", member("decider"), false},
		{"collector", member("collector"), true},
		{"gateway", "$SRV.>", false},
		// Inboxes: each user its own, so none reads (or acknowledges
		// through the reply subjects) another's consumer deliveries.
		{"executor", "_INBOX_executor.>", true},
		{"collector", "_INBOX.>", false},
		{"collector", "_INBOX_executor.>", false},
		{"forecaster", "_INBOX_executor.*", false},
		{"gateway", "_INBOX_decider.>", false},
		{"decider", ">", false},
	} {
		if got := canSubscribe(t, url, c.user, c.subject); got != c.allowed {
			t.Errorf("%s subscribing to %s: allowed=%v, want %v", c.user, c.subject, got, c.allowed)
		}
	}
}

// probe connects as user with a plain NATS connection whose permission
// errors are read from LastError rather than logged, and whose requests
// are answered on the user's own inbox; opts come after those options
// (TLS, a dialer).
func probe(t *testing.T, url, user string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.UserInfo(user, user+"-secret"), nats.CustomInboxPrefix("_INBOX_" + user),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// TestMissingDurablesSayProvision: under deploy/nats.conf a service cannot
// make its own durables. Started before provisioning made them, it says so
// and what to run, in its log and its readiness, keeps retrying, and
// consumes (and is ready) once they exist.
func TestMissingDurablesSayProvision(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.EnsureStreams(ctx); err != nil { // streams only: no durables yet
		t.Fatal(err)
	}
	var logs natstest.Logs
	log := zerolog.New(&logs).Level(zerolog.WarnLevel)
	ready := service.NewReady()
	fbus := connectLogged(t, url, "forecaster", log)
	f, err := forecaster.New(forecaster.DefaultConfig(), service.Deps{Bus: fbus,
		Log: log, Reg: prometheus.NewRegistry(), Ready: ready, Mux: http.NewServeMux()})
	if err != nil {
		t.Fatal(err)
	}
	ready.Check("partitions", fbus.PartitionsErr) // as service.Main registers it
	natstest.Serve(t, "forecaster", f.Run)

	natstest.Eventually(t, 30*time.Second, func() error {
		for _, l := range logs.Lines(t, "partition worker failed, restarting it") {
			msg, _ := l["error"].(string)
			if strings.Contains(msg, "METRICS/forecaster-p") && strings.Contains(msg, "run `headroom provision`") {
				t.Logf("the forecaster says: %s", msg)
				return nil
			}
		}
		return fmt.Errorf("no log line names the missing durable and what to run: %v", logs.Lines(t, ""))
	})
	// Not ready meanwhile, saying why.
	if err := ready.Err(); err == nil || !strings.Contains(err.Error(), "forecaster partition") || !strings.Contains(err.Error(), "headroom provision") {
		t.Fatalf("readiness %v while the durables are missing, want it to name a partition and what to run", err)
	}
	if n, err := admin.EnsureConsumers(ctx); err != nil || n != len(bus.DurableNames(proto.DefaultPartitions))-6 {
		t.Fatalf("provisioning created %d durables (%v), want one per service input and partition", n, err)
	}
	c := connectAs(t, url, "collector")
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.PublishAll(pctx, []bus.Out{{Subject: proto.MetricsSubject("apm", "shop", "web"),
		Msg: proto.NewMetrics("shop", "web", time.Now().Truncate(time.Minute), 3, map[string]float64{"rps": 10})}}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return natstest.GroupDrained(ctx, admin, "METRICS", "forecaster")
	})
	natstest.Eventually(t, 30*time.Second, ready.Err) // every partition consumed again
}

// TestNATSConfExecutorWatchesNoBucket: the executor gets and puts replica
// states and never watches or lists the bucket (that is the collector's
// replica view), so it may create no consumer on it: a compromised
// executor cannot fill the bucket's consumer slots that the collectors'
// watches need after a restart.
func TestNATSConfExecutorWatchesNoBucket(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	if err := connectAs(t, url, "provision").Provision(ctx); err != nil {
		t.Fatal(err)
	}
	js := natstest.JetStream(t, connectAs(t, url, "executor"))
	denied(t, "executor watching the replica bucket", func(ctx context.Context) error {
		kv, err := js.KeyValue(ctx, "REPLICAS")
		if err != nil {
			return err
		}
		w, err := kv.WatchAll(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = w.Stop() }()
		// The watch's consumer exists once its first update (nil: the
		// current values are all delivered) arrives.
		select {
		case <-w.Updates():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	denied(t, "executor creating a consumer on the replica bucket", func(ctx context.Context) error {
		_, err := js.CreateConsumer(ctx, "KV_REPLICAS", jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy})
		return err
	})
}
