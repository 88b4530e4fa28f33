package allinone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestEmbeddedServerRefusesFloods: the embedded server bounds what any
// client, the anonymous observer included, can take of it: connections,
// subscriptions and message size, as deploy/nats.conf does.
func TestEmbeddedServerRefusesFloods(t *testing.T) {
	s, _, _ := embedded(t, time.Now().UnixMilli())
	natstest.RefusesFloods(t, s.ClientURL(), natstest.ClientBounds{
		MaxConnections: MaxConnections, MaxSubscriptions: MaxSubscriptions, MaxPayload: MaxPayload,
		AccountConnections: MaxObserverConnections,
		// An observer: no credentials; the payload bound is checked before
		// permissions.
		Subject: "apm.metrics.shop.web", Inbox: "_INBOX",
	})
}

// embedded starts the embedded server as the all-in-one does, with the
// consumer bound limit, provisions it as the all-in-one's parts, and stores
// one tick at at.
func embedded(t *testing.T, at int64) (s *server.Server, admin *bus.Bus, limit int) {
	t.Helper()
	ctx := context.Background()
	cfg := bus.DefaultConfig()
	partitions := cfg.Streams.Partitions
	limit = maxConsumers(partitions, 4)
	password := randomSecret()
	s, err := startNATS("127.0.0.1:0", t.TempDir(), false, natstest.Log(t), cfg.Prefix, partitions, limit, cfg.Streams.Reservations(cfg.Prefix), password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })

	cfg.URL, cfg.Name, cfg.User, cfg.Password, cfg.InboxPrefix = s.ClientURL(), "provision", internalUser, password, internalInbox
	admin, err = bus.Connect(ctx, cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(5 * time.Second) })
	if err := admin.Provision(ctx); err != nil {
		t.Fatalf("provision within the bound: %v", err)
	}
	tick := &proto.Metrics{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: at, Replicas: 2, Values: proto.Floats{"rps": 1}}
	if err := admin.Publish(ctx, bus.Out{Subject: proto.MetricsSubject(cfg.Prefix, "shop", "web"), Msg: tick}); err != nil {
		t.Fatal(err)
	}
	return s, admin, limit
}

// TestObserverConsumersAreBounded runs the embedded server as the all-in-one
// does (red-team S6). An anonymous observer's ordered consumer reads a
// stream, as a tail does. The consumers it may leave behind are bounded: it
// creates durables of its own until the server refuses one with the
// per-stream consumer limit, which leaves exactly maxConsumers on the stream
// (the services' durables included); a durable more is refused. Without the
// bound the loop never meets a refusal.
func TestObserverConsumersAreBounded(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC).UnixMilli()
	s, _, limit := embedded(t, at)
	prefix := bus.DefaultConfig().Prefix

	// The observer's ordered consumer (a tail's) reads the tick.
	ocfg := bus.DefaultConfig()
	ocfg.URL, ocfg.Name = s.ClientURL(), "observer"
	obs, err := bus.Connect(ctx, ocfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = obs.Close(5 * time.Second) })
	w, err := obs.Watch(ctx, bus.WatchSpec{Kind: proto.KindMetrics, Start: bus.StartAll(), LeaveConsumer: true})
	if err != nil {
		t.Fatalf("observer's ordered consumer: %v", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	m, err := w.Next(rctx)
	cancel()
	w.Stop()
	if err != nil || m.EventTime() != at {
		t.Fatalf("observer's ordered consumer read %+v, %v; want the tick at %d", m, err, at)
	}

	nc, err := nats.Connect(s.ClientURL(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// None on the replica bucket, whose slots the parts' watches need.
	kv := "KV_" + proto.ReplicaBucket(prefix)
	kctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = js.OrderedConsumer(kctx, kv, jetstream.OrderedConsumerConfig{})
	cancel()
	if err == nil {
		t.Errorf("observer made a consumer on %s", kv)
	}

	// Durables of its own: refused once the stream holds limit consumers.
	stream := proto.StreamName(prefix, proto.KindDecision)
	var refused error
	for i := 0; i <= limit && refused == nil; i++ {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, refused = js.CreateConsumer(cctx, stream, jetstream.ConsumerConfig{Durable: fmt.Sprintf("squat%d", i), AckPolicy: jetstream.AckExplicitPolicy})
		cancel()
	}
	if !errors.Is(refused, jetstream.ErrMaximumConsumersLimit) {
		t.Fatalf("observer's durables: %d made, last error %v; want a refusal by the consumer limit %d", limit+1, refused, limit)
	}
	str, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if n := str.CachedInfo().State.Consumers; n != limit {
		t.Fatalf("%s holds %d consumers after the refusal, want the limit %d", stream, n, limit)
	}
}

// TestObserverCannotCopyIntoStreams: a push consumer delivers only while a
// client subscribes to its deliver subject literally, and a stream stores
// what is delivered on its subjects. An observer that could subscribe to
// apm.decision.shop.web could have the server copy METRICS into DECISIONS
// through a consumer of its own; it may subscribe to no stream's subject,
// so its consumer stays unbound and DECISIONS stores nothing.
func TestObserverCannotCopyIntoStreams(t *testing.T) {
	ctx := context.Background()
	s, admin, _ := embedded(t, time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC).UnixMilli())
	nc, err := nats.Connect(s.ClientURL(), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if _, err := nc.SubscribeSync("apm.decision.shop.web"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(nc.LastError(), nats.ErrPermissionViolation) {
		t.Errorf("observer subscribing to apm.decision.shop.web: last error %v, want a permissions violation", nc.LastError())
	}
	body := `{"stream_name":"METRICS","config":{"name":"copy","deliver_subject":"apm.decision.shop.web","ack_policy":"none","deliver_policy":"all"}}`
	m, err := nc.Request("$JS.API.CONSUMER.CREATE.METRICS.copy", []byte(body), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info jetstream.ConsumerInfo
	if err := json.Unmarshal(m.Data, &info); err != nil {
		t.Fatalf("create push consumer: %q: %v", m.Data, err)
	}
	if info.PushBound {
		t.Error("the observer's push consumer to apm.decision.shop.web is bound: DECISIONS stores what it delivers")
	}
	// A decision published after is stored after anything a delivery
	// queued for DECISIONS: once it is there, the count is settled.
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "cache", 1), App: "shop", Tier: "cache", TS: 1,
		Action: proto.ActionUp, From: 1, To: 2}
	if err := admin.Publish(ctx, bus.Out{Subject: proto.DecisionSubject("apm", "shop", "cache"), Msg: d}); err != nil {
		t.Fatal(err)
	}
	r, err := admin.Reader(ctx, proto.KindDecision)
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Msgs != 1 {
		t.Fatalf("DECISIONS holds %d messages, want only the one published", st.Msgs)
	}
}

// TestEmbeddedServerAdoptsGlobalStreams: an all-in-one from before the
// accounts kept its streams in the global account's directory; started on
// that data directory, the embedded server serves them to the parts, in
// streamsAccount, message and all.
func TestEmbeddedServerAdoptsGlobalStreams(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := natstest.Start(t, filepath.Join(dir, "jetstream"), -1) // no accounts: the global one
	nc, err := nats.Connect(old.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "METRICS", Subjects: []string{"apm.metrics.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "apm.metrics.shop.web", []byte("tick")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	old.Shutdown()
	old.WaitForShutdown()

	password := randomSecret()
	s, err := startNATS("127.0.0.1:0", dir, false, natstest.Log(t), "apm", 1, 64, bus.DefaultConfig().Streams.Reservations("apm"), password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err = nats.Connect(s.ClientURL(), nats.UserInfo(internalUser, password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	str, err := js.Stream(ctx, "METRICS")
	if err != nil {
		t.Fatalf("the older release's stream: %v", err)
	}
	if n := str.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("METRICS holds %d messages, want the older release's 1", n)
	}
}

// TestObserversCannotTakeEveryConnection: the embedded server's connection
// bound counts every client, and the all-in-one's own parts connect to it
// over TCP like any observer. Anonymous observers flooding it are refused
// at their account's bound, well before the server's, and the parts'
// identity still connects (a part reconnecting after a drop is not locked
// out).
func TestObserversCannotTakeEveryConnection(t *testing.T) {
	password := randomSecret()
	s, err := startNATS("127.0.0.1:0", t.TempDir(), false, natstest.Log(t), "apm", 1, maxConsumers(1, 4), bus.DefaultConfig().Streams.Reservations("apm"), password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	opened, refusal := 0, ""
	for opened < MaxConnections+16 && refusal == "" {
		if c, refused := natstest.DialClient(t, s.ClientURL(), nil); c == nil {
			refusal = refused
		} else {
			opened++
		}
	}
	if opened > MaxObserverConnections {
		t.Errorf("observers opened %d connections, more than their %d (then: %q)", opened, MaxObserverConnections, refusal)
	}
	if !strings.Contains(strings.ToLower(refusal), "account active connections exceeded") {
		t.Errorf("observers refused after %d connections with %q, want their account's bound", opened, refusal)
	}
	if c, refused := natstest.DialClient(t, s.ClientURL(), map[string]any{"user": internalUser, "pass": password}); c == nil {
		t.Errorf("with %d observers connected, the all-in-one's parts were refused: %q", opened, refused)
	}
}

// TestEmbeddedServerBoundsEveryConnection: with the observers refused at
// their account's bound, nothing floods the embedded server up to its own
// MaxConnections, but that bound still stands for the parts' account,
// which has none of its own: the running server reports it.
func TestEmbeddedServerBoundsEveryConnection(t *testing.T) {
	s, _, _ := embedded(t, time.Now().UnixMilli())
	vz, err := s.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	if vz.MaxConn != MaxConnections {
		t.Fatalf("embedded server bounds connections at %d, want %d", vz.MaxConn, MaxConnections)
	}
	if MaxObserverConnections >= MaxConnections {
		t.Fatalf("observers may hold %d connections, not below the server's %d", MaxObserverConnections, MaxConnections)
	}
}
