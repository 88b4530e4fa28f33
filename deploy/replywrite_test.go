package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestNATSConfRefusesWritesThroughReplies: a JetStream API request's
// answer, and a pulled or directly read message, go to the reply subject
// its requester names, where no publish rule looks. The read-only gateway
// names a decision subject and a replica key: the server must not store
// an account-info answer as a decision, nor another tier's replica state
// (read with DIRECT.GET) as shop.db's, which the collector would stamp on
// shop.db's ticks as committed and the decider would scale from.
func TestNATSConfRefusesWritesThroughReplies(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	exec := connectAs(t, url, "executor")
	kv, err := exec.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	put := func(tier string, desired int) {
		t.Helper()
		data, err := proto.Encode(&proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: tier, TS: 1, Desired: desired, Ready: desired})
		if err != nil {
			t.Fatal(err)
		}
		if err := kv.Put(ctx, proto.ReplicaKey("shop", tier), data); err != nil {
			t.Fatal(err)
		}
	}
	put("web", 190)
	adminJS := natstest.JetStream(t, admin)
	count := func(stream string) uint64 {
		t.Helper()
		s, err := adminJS.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().State.Msgs
	}
	decisions := count("DECISIONS")

	gw := probe(t, url, "gateway")
	defer gw.Close()
	for _, r := range []struct{ subject, reply, body string }{
		{"$JS.API.INFO", "apm.decision.shop.db", ""},
		{"$JS.API.DIRECT.GET.KV_REPLICAS", "$KV.REPLICAS.shop.db", `{"last_by_subj":"$KV.REPLICAS.shop.web"}`},
	} {
		if err := gw.PublishRequest(r.subject, r.reply, []byte(r.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	// Settled once the legitimate writers' next messages are stored.
	if !canPublish(t, url, "decider", "apm.decision.shop.cache") {
		t.Fatal("decider publishing a decision refused")
	}
	put("cache", 3)
	natstest.Eventually(t, 5*time.Second, func() error {
		if d := count("DECISIONS"); d <= decisions {
			return fmt.Errorf("DECISIONS holds %d messages, want the decider's", d)
		}
		if _, err := kv.Get(ctx, proto.ReplicaKey("shop", "cache")); err != nil {
			return err
		}
		return nil
	})
	if d := count("DECISIONS"); d != decisions+1 {
		t.Errorf("DECISIONS %d → %d messages: the gateway's reply was stored as a decision", decisions, d)
	}
	s, err := adminJS.Stream(ctx, "KV_REPLICAS")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.GetLastMsgForSubject(ctx, "$KV.REPLICAS.shop.db"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("replica key shop.db written by the gateway: %v, %q", err, m.Data)
	}
}

// TestNATSConfAccounts: the gateway, the one identity that only reads, is
// in READERS, which has no JetStream and imports only the read-only part
// of HEADROOM's JetStream API; every other identity is in HEADROOM, with
// the streams.
func TestNATSConfAccounts(t *testing.T) {
	setPasswords(t)
	opts, err := server.ProcessConfigFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range opts.Users {
		want := "HEADROOM"
		if u.Username == "gateway" {
			want = "READERS"
		}
		if u.Account == nil || u.Account.Name != want {
			t.Errorf("user %s in account %v, want %s", u.Username, u.Account, want)
		}
	}
	m, err := conf.ParseFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	accounts, _ := m["accounts"].(map[string]any)
	readers, _ := accounts["READERS"].(map[string]any)
	if _, has := readers["jetstream"]; has || readers == nil {
		t.Errorf("READERS: %v, want an account without JetStream", readers)
	}
	imports, _ := readers["imports"].([]any)
	if len(imports) == 0 {
		t.Fatal("READERS imports nothing")
	}
	for _, imp := range imports {
		svc, _ := imp.(map[string]any)["service"].(map[string]any)
		subj, _ := svc["subject"].(string)
		for _, write := range []string{"STREAM.CREATE", "STREAM.UPDATE", "STREAM.DELETE", "STREAM.PURGE", "STREAM.MSG.DELETE",
			"CONSUMER.DURABLE", "CONSUMER.PAUSE", "CONSUMER.UNPIN", "$JS.ACK", "$JS.FC", "$KV", "apm."} {
			if strings.Contains(subj, write) || subj == "$JS.API.>" {
				t.Errorf("READERS imports %s", subj)
			}
		}
		if _, to := imp.(map[string]any)["to"]; to {
			t.Errorf("READERS imports %s under another subject: the bus sets no API prefix", subj)
		}
	}
}

// TestNATSConfGatewayReadsThroughImports: from READERS the gateway still
// makes every read it makes from the dashboard, through the imported API:
// a stream's state and its consumers, a message by sequence (DECISIONS,
// which allows no direct reads), the last one on a subject (a direct read
// of METRICS), and a watch from the start, whose consumer Stop deletes.
func TestNATSConfGatewayReadsThroughImports(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "web", 1), App: "shop", Tier: "web", TS: 1,
		Action: proto.ActionUp, From: 1, To: 2}
	if err := connectAs(t, url, "decider").Publish(ctx, bus.Out{Subject: proto.DecisionSubject("apm", "shop", "web"), Msg: d}); err != nil {
		t.Fatal(err)
	}
	tick := &proto.Metrics{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 1, Replicas: 2, Values: proto.Floats{"rps": 1}}
	if err := connectAs(t, url, "collector").Publish(ctx, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: tick}); err != nil {
		t.Fatal(err)
	}

	gw := connectAs(t, url, "gateway")
	decisions, err := gw.Reader(ctx, proto.KindDecision)
	if err != nil {
		t.Fatal(err)
	}
	st, err := decisions.State(ctx)
	if err != nil || st.Msgs != 1 {
		t.Fatalf("DECISIONS state: %+v, %v; want 1 message", st, err)
	}
	if r, err := decisions.Get(ctx, st.LastSeq); err != nil || r.Subject != "apm.decision.shop.web" {
		t.Errorf("DECISIONS message %d: %q, %v", st.LastSeq, r.Subject, err)
	}
	durables := len(bus.DurableNames(bus.DefaultConfig().Streams.Partitions)) // a superset of DECISIONS'
	cs, err := decisions.Consumers(ctx, "executor")
	if err != nil || len(cs) == 0 || len(cs) > durables {
		t.Errorf("DECISIONS' executor consumers: %d, %v", len(cs), err)
	}
	metrics, err := gw.Reader(ctx, proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := metrics.Last(ctx, "apm.metrics.shop.web"); err != nil || r.EventTime() != 1 {
		t.Errorf("last metrics of shop.web: %+v, %v", r, err)
	}

	before, err := decisions.Consumers(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := gw.Watch(ctx, bus.WatchSpec{Kind: proto.KindDecision, Start: bus.StartAll()})
	if err != nil {
		t.Fatal(err)
	}
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	r, err := w.Next(nctx)
	cancel()
	if err != nil || r.Subject != "apm.decision.shop.web" {
		t.Errorf("watching DECISIONS: %q, %v", r.Subject, err)
	}
	w.Stop()
	after, err := decisions.Consumers(ctx, "")
	if err != nil || len(after) != len(before) {
		t.Errorf("DECISIONS has %d consumers after the watch stopped (%v), want the %d before", len(after), err, len(before))
	}
}
