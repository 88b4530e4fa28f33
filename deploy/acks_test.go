package deploy_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// TestNATSConfServicesWorkTheirDurables: from its own account each service
// still works its durables in HEADROOM through the imports: it pulls with
// its priority group, says it is still at work on a message, naks it and
// gets it again, terminates it (the durable then awaits nothing), and
// unpins the durable, as the bus does on a partition's hand-over.
func TestNATSConfServicesWorkTheirDurables(t *testing.T) {
	ctx := context.Background()
	ts := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		user, stream, base, writer string
		msg                        proto.Keyed
		subject                    string
	}{
		{"forecaster", "METRICS", "forecaster", "collector", proto.NewMetrics("shop", "web", ts, 3, map[string]float64{"rps": 1}),
			proto.MetricsSubject("apm", "shop", "web")},
		{"anomaly", "METRICS", "anomaly", "collector", proto.NewMetrics("shop", "db", ts, 3, map[string]float64{"rps": 1}),
			proto.MetricsSubject("apm", "shop", "db")},
		{"decider", "METRICS", "decider-metrics", "collector", proto.NewMetrics("shop", "cache", ts, 3, map[string]float64{"rps": 1}),
			proto.MetricsSubject("apm", "shop", "cache")},
		{"executor", "DECISIONS", "executor", "decider", &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "web", 1),
			App: "shop", Tier: "web", TS: 1, Action: proto.ActionUp, From: 1, To: 2}, proto.DecisionSubject("apm", "shop", "web")},
	} {
		t.Run(c.user, func(t *testing.T) {
			url := runConfiguredServer(t) // its durable holds only this message
			admin := connectAs(t, url, "provision")
			if err := admin.Provision(ctx); err != nil {
				t.Fatal(err)
			}
			if err := connectAs(t, url, c.writer).Publish(ctx, bus.Out{Subject: c.subject, Msg: c.msg}); err != nil {
				t.Fatal(err)
			}
			durable := natstest.PartitionDurable(t, admin, c.stream, c.base, c.subject)
			nc := probe(t, url, c.user)
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			cons, err := js.Consumer(ctx, c.stream, durable)
			if err != nil {
				t.Fatalf("%s reading its durable %s: %v", c.user, durable, err)
			}
			next := func() jetstream.Msg {
				t.Helper()
				b, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second), jetstream.FetchPriorityGroup("members"))
				if err != nil {
					t.Fatal(err)
				}
				for m := range b.Messages() {
					return m
				}
				t.Fatalf("%s pulling from %s: nothing (%v, last error %v)", c.user, durable, b.Error(), nc.LastError())
				return nil
			}
			m := next()
			if err := m.InProgress(); err != nil {
				t.Fatal(err)
			}
			if err := m.Nak(); err != nil {
				t.Fatal(err)
			}
			again := next()
			meta, err := again.Metadata()
			if err != nil || meta.NumDelivered != 2 || again.Subject() != m.Subject() {
				t.Fatalf("after a nak %s got %s, %+v, %v; want %s delivered again", c.user, again.Subject(), meta, err, m.Subject())
			}
			if err := again.Term(); err != nil {
				t.Fatal(err)
			}
			natstest.Eventually(t, 5*time.Second, func() error {
				info, err := cons.Info(ctx)
				if err != nil {
					return err
				}
				if info.NumAckPending != 0 || info.AckFloor.Stream < meta.Sequence.Stream {
					return fmt.Errorf("%s: %d awaiting ack, ack floor %d, want %d terminated", durable, info.NumAckPending, info.AckFloor.Stream, meta.Sequence.Stream)
				}
				return nil
			})
			s, err := js.Stream(ctx, c.stream)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.UnpinConsumer(ctx, durable, "members"); err != nil {
				t.Errorf("%s unpinning %s: %v", c.user, durable, err)
			}
			if err := nc.LastError(); err != nil {
				t.Errorf("%s: %v", c.user, err)
			}
		})
	}
}

// TestNATSConfCopiesFindEachOther: two copies of a service, in their
// service's account, find each other with $SRV.PING there and split the
// partitions between them.
func TestNATSConfCopiesFindEachOther(t *testing.T) {
	url := runConfiguredServer(t)
	if err := connectAs(t, url, "provision").Provision(context.Background()); err != nil {
		t.Fatal(err)
	}
	var logs [2]natstest.Logs
	for i := range logs {
		log := zerolog.New(&logs[i]).Level(zerolog.InfoLevel)
		f, err := forecaster.New(forecaster.DefaultConfig(), service.Deps{Bus: connectLogged(t, url, "forecaster", log),
			Log: log, Reg: prometheus.NewRegistry(), Ready: service.NewReady(), Mux: http.NewServeMux()})
		if err != nil {
			t.Fatal(err)
		}
		natstest.Serve(t, fmt.Sprintf("forecaster %d", i), f.Run)
	}
	for i := range logs {
		natstest.Eventually(t, 30*time.Second, func() error {
			for _, l := range logs[i].Lines(t, "group share") {
				if n, _ := l["members"].(float64); n == 2 {
					return nil
				}
			}
			return fmt.Errorf("forecaster %d has not seen its other copy: %v", i, logs[i].Lines(t, "group members changed"))
		})
	}
}

// TestNATSConfRefusesAcksThroughReplies: a request crossing a service
// import keeps a reply subject beginning with $JS.ACK. as it is (the
// server's exception for pull consumers across accounts), so the answer
// would be published in HEADROOM on that subject: a direct get of a
// missing message, answered with an empty body, on another service's ack
// subject acknowledges its delivery there. The server refuses a client's
// reply on $JS.ACK.… (and on _R_.…, the imports' own replies) before any
// import: every identity's try is refused and the executor's delivery
// still awaits its ack.
func TestNATSConfRefusesAcksThroughReplies(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	subject := proto.DecisionSubject("apm", "shop", "web")
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "web", 1), App: "shop", Tier: "web", TS: 1,
		Action: proto.ActionUp, From: 1, To: 2}
	if err := connectAs(t, url, "decider").Publish(ctx, bus.Out{Subject: subject, Msg: d}); err != nil {
		t.Fatal(err)
	}
	durable := natstest.PartitionDurable(t, admin, "DECISIONS", "executor", subject)
	ex := probe(t, url, "executor")
	defer ex.Close()
	js, err := jetstream.New(ex)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(ctx, "DECISIONS", durable)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second), jetstream.FetchPriorityGroup("members"))
	if err != nil {
		t.Fatal(err)
	}
	var ack string
	for m := range batch.Messages() {
		ack = m.Reply() // not acknowledged: the executor is at work on it
	}
	if ack == "" {
		t.Fatalf("no delivery from %s: %v", durable, batch.Error())
	}
	awaiting := func() int {
		t.Helper()
		c, err := natstest.JetStream(t, admin).Consumer(ctx, "DECISIONS", durable)
		if err != nil {
			t.Fatal(err)
		}
		return c.CachedInfo().NumAckPending
	}
	if n := awaiting(); n != 1 {
		t.Fatalf("%s awaits %d acks, want 1", durable, n)
	}
	for _, c := range []struct{ user, subject, body string }{
		{"gateway", "$JS.API.DIRECT.GET.METRICS", `{"last_by_subj":"apm.metrics.none.none"}`},
		{"collector", "$JS.API.DIRECT.GET.METRICS", `{"last_by_subj":"apm.metrics.none.none"}`},
		{"forecaster", "$JS.API.DIRECT.GET.METRICS", `{"last_by_subj":"apm.metrics.none.none"}`},
		{"anomaly", "$JS.API.DIRECT.GET.METRICS", `{"last_by_subj":"apm.metrics.none.none"}`},
		{"decider", "$JS.API.DIRECT.GET.METRICS", `{"last_by_subj":"apm.metrics.none.none"}`},
		{"executor", "$JS.API.DIRECT.GET.KV_REPLICAS", `{"last_by_subj":"$KV.REPLICAS.none.none"}`},
	} {
		for _, reply := range []string{ack, "_R_.evil.x"} {
			nc := probe(t, url, c.user)
			if err := nc.PublishRequest(c.subject, reply, []byte(c.body)); err != nil {
				t.Fatal(err)
			}
			if err := nc.FlushTimeout(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			if err := nc.LastError(); err == nil || !strings.Contains(err.Error(), "Publish with Reply") {
				t.Errorf("%s's request with reply %s: %v, want it refused", c.user, reply, err)
			}
			nc.Close()
		}
	}
	// A refused request is dropped where it enters: nothing to wait for.
	if n := awaiting(); n != 1 {
		t.Errorf("%s awaits %d acks after the tries, want 1: one acknowledged its delivery", durable, n)
	}
}

// TestNATSConfRefusesPullsFromOthersDurables: the gateway may pull from
// consumers of its own on any stream and the collector on METRICS, with
// wildcard rules; the deny rules keep the services' durables from them.
// A pull names the durable one token further than the other consumer
// calls ($JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>): let through, the
// gateway's pull with the group would take the pin of an executor
// partition whose executor is away (restarting, say) and keep it while
// it pulls, and every decision it is handed, never acknowledged, comes
// back to it unexecuted, past MaxDeliver, after which the executor
// dead-letters it without executing it. Each such pull is refused, and
// the durable has delivered nothing.
func TestNATSConfRefusesPullsFromOthersDurables(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	decision := proto.DecisionSubject("apm", "shop", "web")
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "web", 1), App: "shop", Tier: "web", TS: 1,
		Action: proto.ActionUp, From: 1, To: 2}
	if err := connectAs(t, url, "decider").Publish(ctx, bus.Out{Subject: decision, Msg: d}); err != nil {
		t.Fatal(err)
	}
	tick := proto.MetricsSubject("apm", "shop", "web")
	if err := connectAs(t, url, "collector").Publish(ctx, bus.Out{Subject: tick,
		Msg: proto.NewMetrics("shop", "web", time.Now().Truncate(time.Minute), 3, map[string]float64{"rps": 1})}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, stream, base, subject string }{
		{"gateway", "DECISIONS", "executor", decision},
		{"gateway", "METRICS", "forecaster", tick},
		{"collector", "METRICS", "decider-metrics", tick},
		{"collector", "METRICS", "anomaly", tick},
	} {
		durable := natstest.PartitionDurable(t, admin, c.stream, c.base, c.subject)
		nc := probe(t, url, c.user)
		inbox := "_INBOX_" + c.user + ".pull"
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT."+c.stream+"."+durable, inbox,
			[]byte(`{"batch":1,"expires":2000000000,"group":"members"}`)); err != nil {
			t.Fatal(err)
		}
		if err := nc.FlushTimeout(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := nc.LastError(); err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("%s pulling from %s/%s: %v, want it refused", c.user, c.stream, durable, err)
			if m, err := sub.NextMsg(3 * time.Second); err == nil {
				t.Errorf("%s was handed %s/%s's message on %s", c.user, c.stream, durable, m.Subject)
			}
		}
		nc.Close()
		cons, err := natstest.JetStream(t, admin).Consumer(ctx, c.stream, durable)
		if err != nil {
			t.Fatal(err)
		}
		if info := cons.CachedInfo(); info.Delivered.Consumer != 0 || len(info.PriorityGroups) > 0 && info.PriorityGroups[0].PinnedClientID != "" {
			t.Errorf("%s/%s delivered %d messages (pinned %+v) after %s's pull", c.stream, durable, info.Delivered.Consumer, info.PriorityGroups, c.user)
		}
	}
}
