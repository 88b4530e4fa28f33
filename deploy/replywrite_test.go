package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// serviceAccounts maps each trusted service's user to its account.
var serviceAccounts = map[string]string{"collector": "COLLECTOR", "forecaster": "FORECASTER", "anomaly": "ANOMALY",
	"decider": "DECIDER", "executor": "EXECUTOR"}

// TestNATSConfAccounts: provisioning alone is in HEADROOM, with the
// streams; the gateway, the one identity that only reads, in READERS,
// which imports only the read-only part of HEADROOM's JetStream API; each
// trusted service in an account of its own, importing exactly what its
// publish rules allow (but $SRV.PING, among its own copies). None but
// HEADROOM has JetStream, and every import keeps its subject.
func TestNATSConfAccounts(t *testing.T) {
	setPasswords(t)
	opts, err := server.ProcessConfigFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	allow := map[string][]string{}
	for _, u := range opts.Users {
		want := "HEADROOM"
		switch {
		case u.Username == "gateway":
			want = "READERS"
		case serviceAccounts[u.Username] != "":
			want = serviceAccounts[u.Username]
		}
		if u.Account == nil || u.Account.Name != want {
			t.Errorf("user %s in account %v, want %s", u.Username, u.Account, want)
		}
		if u.Permissions != nil && u.Permissions.Publish != nil {
			allow[u.Username] = u.Permissions.Publish.Allow
		}
	}
	m, err := conf.ParseFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	accounts, _ := m["accounts"].(map[string]any)
	if len(accounts) != 2+len(serviceAccounts) {
		t.Errorf("%d accounts, want HEADROOM, READERS and one per service", len(accounts))
	}
	imported := func(name string) (services, streams []string) {
		t.Helper()
		acc, _ := accounts[name].(map[string]any)
		if _, has := acc["jetstream"]; has || acc == nil {
			t.Errorf("%s: %v, want an account without JetStream", name, acc)
		}
		imports, _ := acc["imports"].([]any)
		for _, imp := range imports {
			for kind, list := range map[string]*[]string{"service": &services, "stream": &streams} {
				i, _ := imp.(map[string]any)[kind].(map[string]any)
				if i == nil {
					continue
				}
				subj, _ := i["subject"].(string)
				*list = append(*list, subj)
				if from, _ := i["account"].(string); from != "HEADROOM" {
					t.Errorf("%s imports %s from %q", name, subj, from)
				}
			}
			if _, to := imp.(map[string]any)["to"]; to {
				t.Errorf("%s imports under another subject: the bus sets no API prefix", name)
			}
		}
		return services, streams
	}
	readers, readerStreams := imported("READERS")
	if len(readers) == 0 || len(readerStreams) > 0 {
		t.Fatalf("READERS imports services %v and streams %v", readers, readerStreams)
	}
	for _, subj := range readers {
		for _, write := range []string{"STREAM.CREATE", "STREAM.UPDATE", "STREAM.DELETE", "STREAM.PURGE", "STREAM.MSG.DELETE",
			"CONSUMER.DURABLE", "CONSUMER.PAUSE", "CONSUMER.UNPIN", "$JS.ACK", "$JS.FC", "$KV", "apm."} {
			if strings.Contains(subj, write) || subj == "$JS.API.>" {
				t.Errorf("READERS imports %s", subj)
			}
		}
	}
	for user, acc := range serviceAccounts {
		services, streams := imported(acc)
		var want []string
		for _, rule := range allow[user] {
			if !strings.HasPrefix(rule, "$SRV.") {
				want = append(want, rule)
			}
		}
		if !slices.Equal(services, want) {
			t.Errorf("%s imports %v,\nwant its user's publish rules but $SRV: %v", acc, services, want)
		}
		// The collector's replica watch is a push consumer delivering to
		// its inbox in HEADROOM.
		if wantStreams := map[string][]string{"collector": {"_INBOX_collector.>"}}[user]; !slices.Equal(streams, wantStreams) {
			t.Errorf("%s imports streams %v, want %v", acc, streams, wantStreams)
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

// streamSamples names, for each stream, a subject it stores, its writer
// (the one user allowed to publish there) and the stream's name.
var streamSamples = []struct{ stream, subject, writer string }{
	{"METRICS", "apm.metrics.shop.web", "collector"},
	{"FORECASTS", "apm.forecast.shop.web", "forecaster"},
	{"ANOMALIES", "apm.anomaly.shop.web", "anomaly"},
	{"DECISIONS", "apm.decision.shop.web", "decider"},
	{"SCALING", "apm.scaling.shop.web", "executor"},
	{"DLQ", "apm.dlq.executor", "executor"},
	{"KV_REPLICAS", "$KV.REPLICAS.shop.web", "executor"},
}

// subjectMatches reports whether subject matches the NATS pattern.
func subjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(p) == len(s)
}

// attackCall is one request a service's permissions let it send: a
// concrete subject for one of its publish rules, and a body the server
// answers.
type attackCall struct{ subject, body string }

// callFor makes a concrete request out of a publish rule of deploy/nats.conf,
// filling its wildcards with a name, a stream's subject or an ack's
// sequences. ok is false for the rules no server part answers ($SRV.PING
// is answered by the service's own copies, none of which run here).
func callFor(rule string, n int) (c attackCall, ok bool) {
	tok := strings.Split(rule, ".")
	// The gateway's rules name any stream and consumer: METRICS, and a
	// consumer of the call's own.
	if strings.HasPrefix(rule, "$JS.API.") && len(tok) >= 5 && tok[4] == "*" {
		tok[4] = "METRICS"
		if len(tok) >= 6 && tok[5] == "*" && tok[2] == "CONSUMER" {
			tok[5] = fmt.Sprintf("evil%d", n)
		}
		rule = strings.Join(tok, ".")
	}
	sample := func(stream string) string {
		for _, s := range streamSamples {
			if s.stream == stream {
				return s.subject
			}
		}
		return "apm.metrics.shop.web"
	}
	switch {
	case strings.HasPrefix(rule, "$SRV."):
		return c, false
	case strings.HasPrefix(rule, "$JS.FC."):
		return attackCall{"$JS.FC.KV_REPLICAS.evil.1", ""}, true
	case strings.HasPrefix(rule, "$JS.ACK."):
		return attackCall{strings.TrimSuffix(rule, ">") + "1.1.1.0.0", ""}, true
	case strings.HasPrefix(rule, "$JS.API.CONSUMER.MSG.NEXT."):
		return attackCall{rule, `{"batch":1,"no_wait":true}`}, true
	case strings.HasPrefix(rule, "$JS.API.CONSUMER.UNPIN."):
		return attackCall{rule, `{"group":"members"}`}, true
	case strings.HasPrefix(rule, "$JS.API.CONSUMER.CREATE."):
		stream, name := tok[4], fmt.Sprintf("evil%d", n)
		body := fmt.Sprintf(`{"stream_name":%q,"config":{"name":%q,"ack_policy":"none","inactive_threshold":1000000000}}`, stream, name)
		switch len(tok) {
		case 5: // the legacy form: a nameless ephemeral
			body = fmt.Sprintf(`{"stream_name":%q,"config":{"ack_policy":"none","inactive_threshold":1000000000}}`, stream)
			return attackCall{rule, body}, true
		case 6:
			return attackCall{strings.Join(tok[:5], ".") + "." + name, body}, true
		default:
			return attackCall{strings.Join(tok[:5], ".") + "." + name + "." + sample(stream), body}, true
		}
	case strings.HasPrefix(rule, "$JS.API.STREAM.MSG.GET.KV_REPLICAS"):
		return attackCall{rule, `{"last_by_subj":"$KV.REPLICAS.shop.web"}`}, true
	case strings.HasPrefix(rule, "$JS.API.DIRECT.GET.") && strings.HasSuffix(rule, ".>"):
		return attackCall{strings.TrimSuffix(rule, ">") + sample(tok[4]), ""}, true
	case strings.HasPrefix(rule, "$JS.API.DIRECT.GET."), strings.HasPrefix(rule, "$JS.API.STREAM.MSG.GET."):
		return attackCall{rule, `{"seq":1}`}, true
	}
	// The rest names a stream, a consumer or an output subject: fill the
	// wildcards. A publish of an output gets its PubAck.
	switch {
	case strings.HasPrefix(rule, "$JS.API.STREAM.INFO."):
		return attackCall{"$JS.API.STREAM.INFO.METRICS", ""}, true
	case strings.HasPrefix(rule, "$JS.API.CONSUMER."):
		return attackCall{strings.ReplaceAll(rule, "*", fmt.Sprintf("evil%d", n)), ""}, true
	}
	s := strings.Replace(rule, ">", "shop.evil", 1)
	return attackCall{strings.ReplaceAll(s, "*", "evil"), "attack"}, true
}

// TestNATSConfServicesRefuseWritesThroughReplies: what
// TestNATSConfRefusesWritesThroughReplies asks of the gateway, asked of
// every trusted service. Each of collector, forecaster, anomaly, decider
// and executor sends every request its publish rules allow (an API call,
// a pull, an ack, a publish of its outputs) once with its reply subject on
// each stream subject and replica key it may not publish on. None of the
// answers may be stored: a forecaster must not write decisions, nor an
// anomaly detector replica state, by naming them as a reply. The gateway
// sends every request of its rules too (on METRICS and consumers of its
// own), beyond the two TestNATSConfRefusesWritesThroughReplies names.
func TestNATSConfServicesRefuseWritesThroughReplies(t *testing.T) {
	url := runConfiguredServer(t)
	ctx := context.Background()
	admin := connectAs(t, url, "provision")
	if err := admin.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string][]string{}
	for _, u := range opts.Users {
		if u.Permissions != nil && u.Permissions.Publish != nil {
			rules[u.Username] = u.Permissions.Publish.Allow
		}
	}
	adminJS := natstest.JetStream(t, admin)
	lastSeq := func(stream string) uint64 {
		t.Helper()
		s, err := adminJS.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().State.LastSeq
	}
	dlqCounts := func() map[string]uint64 {
		t.Helper()
		s, err := adminJS.Stream(ctx, "DLQ")
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx, jetstream.WithSubjectFilter("apm.dlq.*"))
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Subjects
	}
	// Every stream holds a message for the pulls and reads to answer with.
	sentinel := func(subject, writer string) {
		t.Helper()
		nc := probe(t, url, writer)
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := js.Publish(pctx, subject, []byte("sentinel")); err != nil {
			t.Fatalf("%s publishing %s: %v", writer, subject, err)
		}
	}
	for _, s := range streamSamples {
		sentinel(s.subject, s.writer)
	}

	total := 0
	for _, user := range []string{"collector", "forecaster", "anomaly", "decider", "executor", "gateway"} {
		allow := rules[user]
		if len(allow) == 0 {
			t.Fatalf("%s has no publish rules", user)
		}
		var targets []string
		for _, s := range streamSamples {
			if !slices.ContainsFunc(allow, func(p string) bool { return subjectMatches(p, s.subject) }) {
				targets = append(targets, s.subject)
			}
		}
		for _, svc := range []string{"collector", "forecaster", "anomaly", "decider"} {
			if d := "apm.dlq." + svc; !slices.ContainsFunc(allow, func(p string) bool { return subjectMatches(p, d) }) {
				targets = append(targets, d)
			}
		}
		before, beforeDLQ := map[string]uint64{}, dlqCounts()
		for _, s := range streamSamples {
			before[s.stream] = lastSeq(s.stream)
		}
		nc := probe(t, url, user)
		calls := 0
		for i, rule := range allow {
			c, ok := callFor(rule, i)
			if !ok {
				continue
			}
			for _, reply := range targets {
				if err := nc.PublishRequest(c.subject, reply, []byte(c.body)); err != nil {
					t.Fatal(err)
				}
				calls++
			}
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := nc.LastError(); err != nil {
			t.Errorf("%s: a request its rules allow was refused: %v", user, err)
		}
		// Settled once an answer to a request sent after them is in and
		// each stream's writer has stored a message after them.
		if _, err := nc.Request("$JS.API.INFO", nil, 5*time.Second); err != nil {
			t.Fatalf("%s asking $JS.API.INFO: %v", user, err)
		}
		nc.Close()
		var stored []string
		n := 0
		for _, s := range streamSamples {
			sentinel(s.subject, s.writer)
		}
		// A stream the user may not write at all: whatever it stored
		// since, but the sentinel. The DLQ, where each service writes its
		// own: what it stored on the others' subjects.
		for _, s := range streamSamples {
			d := 0
			switch {
			case s.stream == "DLQ":
				for subj, c := range dlqCounts() {
					if slices.Contains(targets, subj) {
						d += int(c - beforeDLQ[subj])
						if subj == s.subject {
							d-- // the sentinel
						}
					}
				}
			case slices.Contains(targets, s.subject):
				d = int(lastSeq(s.stream)-before[s.stream]) - 1
			}
			if d > 0 {
				stored = append(stored, fmt.Sprintf("%s %d", s.stream, d))
				n += d
			}
		}
		t.Logf("%s: %d requests, %d answers stored: %v", user, calls, n, stored)
		if n > 0 {
			t.Errorf("%s had %d answers stored through reply subjects it may not publish on: %s", user, n, strings.Join(stored, ", "))
		}
		total += n
	}
	if total > 0 {
		t.Logf("%d answers stored in all", total)
	}
}
