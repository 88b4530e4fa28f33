package executor_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// commandConfig runs the argvlog helper as the live driver, logging to log,
// with authority over the web tiers of apps shop and live.
func commandConfig(log string, extra string) executor.Config {
	cfg := authorised(executor.DefaultConfig())
	cfg.Driver = executor.DriverCommand
	cfg.Command.Template = fmt.Sprintf("'%s' '%s' scale {app} {tier} {replicas} {decision}%s", argvlog, log, extra)
	return cfg
}

// authorised grants cfg authority over the web tiers of apps shop and live,
// as a configuration file naming them with mode live would.
func authorised(cfg executor.Config) executor.Config {
	cfg.Authority = map[string][]string{"shop": {"web"}, "live": {"web"}}
	return cfg
}

// decisionsActed lists the decision ids the helper was run for.
func decisionsActed(t *testing.T, log string) []string {
	t.Helper()
	var ids []string
	for _, c := range calls(t, log) {
		ids = append(ids, c.Argv[len(c.Argv)-1])
	}
	return ids
}

// publishCopy stores d again under another message id, as a replay or a
// producer retry outside the dedupe window would.
func (h *harness) publishCopy(d *proto.Decision) {
	h.t.Helper()
	data, err := proto.Encode(d)
	if err != nil {
		h.t.Fatal(err)
	}
	m := nats.NewMsg(proto.DecisionSubject("apm", d.App, d.Tier))
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, "again-"+d.ID)
	if _, err := natstest.JetStream(h.t, h.b).PublishMsg(context.Background(), m); err != nil {
		h.t.Fatal(err)
	}
}

// TestRedeliveredDecisionActsOnce stores a decision a second time, under
// another message id, after a later decision changed the tier again: acting
// on the stale copy would scale back, so it must be recognised and skipped.
func TestRedeliveredDecisionActsOnce(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""))
	d1, d2, d3 := decision("shop", 0, 2, 4), decision("shop", 1, 4, 3), decision("shop", 2, 3, 3)
	h.publish(d1)
	h.waitState(d1)
	h.publish(d2)
	h.waitState(d2)
	h.publishCopy(d1)
	h.publishCopy(d2)
	h.publish(d3)
	st := h.waitState(d3)

	s, err := h.b.Reader(context.Background(), proto.KindDecision)
	if err != nil {
		t.Fatal(err)
	}
	state, err := s.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if state.Msgs != 5 {
		t.Fatalf("DECISIONS holds %d messages, want 5 (the copies must be stored to test anything)", state.Msgs)
	}
	if got := decisionsActed(t, log); !slices.Equal(got, []string{d1.ID, d2.ID}) {
		t.Fatalf("acted on %q, want d1 and d2 once each", got)
	}
	if st.Desired != 3 || st.Ready != 3 || st.DecisionID != d2.ID {
		t.Fatalf("state %+v", st)
	}
	evs, _ := h.waitEvents("shop", 6)
	want := []event{
		{d1.ID, proto.StatusRequested, "command", "live", 4, 2, 0},
		{d1.ID, proto.StatusApplied, "command", "live", 4, 4, 0},
		{d1.ID, proto.StatusReady, "command", "live", 4, 4, 0},
		{d2.ID, proto.StatusRequested, "command", "live", 3, 4, 0},
		{d2.ID, proto.StatusApplied, "command", "live", 3, 3, 0},
		{d2.ID, proto.StatusReady, "command", "live", 3, 3, 0},
	}
	if !slices.Equal(evs, want) {
		t.Fatalf("events\n got %+v\nwant %+v", evs, want)
	}
}

// TestIdempotentAcrossRestart stops the executor after it applied two
// decisions and resets its durable consumer, so a fresh executor, with
// nothing in memory, gets both again: the state in the bucket makes it skip
// them (acting on the first again would scale back up).
func TestIdempotentAcrossRestart(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	stop := h.start(commandConfig(log, ""))
	d1, d2, d3 := decision("shop", 0, 2, 4), decision("shop", 1, 4, 3), decision("shop", 2, 3, 5)
	// One at a time, as the decider sends them (a backlog would make d1
	// superseded by d2).
	h.publish(d1)
	h.waitState(d1)
	h.publish(d2)
	h.waitState(d2)
	h.waitEvents("shop", 6)
	stop()
	ctx := context.Background()
	durable := natstest.PartitionDurable(t, h.b, "DECISIONS", "executor", "apm.decision.shop.web")
	if err := natstest.JetStream(h.t, h.b).DeleteConsumer(ctx, "DECISIONS", durable); err != nil {
		t.Fatal(err)
	}

	h.start(commandConfig(log, ""))
	h.publish(d3)
	st := h.waitState(d3)
	natstest.Eventually(t, 10*time.Second, func() error {
		c, err := natstest.JetStream(h.t, h.b).Consumer(ctx, "DECISIONS", durable)
		if err != nil {
			return err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.Delivered.Consumer != 3 || info.NumAckPending != 0 {
			return fmt.Errorf("new consumer delivered %d, %d pending; want all 3 decisions delivered and acknowledged", info.Delivered.Consumer, info.NumAckPending)
		}
		return nil
	})
	if got := decisionsActed(t, log); !slices.Equal(got, []string{d1.ID, d2.ID, d3.ID}) {
		t.Fatalf("acted on %q, want each decision once", got)
	}
	if st.Desired != 5 || st.Ready != 5 {
		t.Fatalf("state %+v", st)
	}
}

// TestModes runs three apps through one executor whose live driver is the
// command: "live" runs it, "dry" (not listed: the "*" default) only logs
// and reports skipped, "shade" acts on the simulated cluster, whose boots
// finish a minute later.
func TestModes(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	cfg := commandConfig(log, "")
	cfg.Modes = map[string]string{"shade": executor.ModeShadow, "live": executor.ModeLive, "*": executor.ModeDryRun}
	h.start(cfg)
	var last []*proto.Decision
	for _, app := range []string{"live", "dry", "shade"} {
		up := decision(app, 0, 2, 4)
		from := 4
		if app == "dry" {
			from = 2
		}
		hold := decision(app, 1, from, from)
		h.publish(up, hold)
		last = append(last, hold)
	}
	states := map[string]*proto.ReplicaState{}
	for _, d := range last {
		states[d.App] = h.waitState(d)
	}
	if got := calls(t, log); len(got) != 1 || got[0].App != "live" {
		t.Fatalf("command runs %+v, want one, for app live", got)
	}
	// The dry-run app's state acknowledges the decided 4 (so the decider
	// does not repeat it) while 2 still run.
	for app, want := range map[string][3]int{"live": {4, 4, 0}, "dry": {4, 2, 0}, "shade": {4, 4, 0}} {
		st := states[app]
		if got := [3]int{st.Desired, st.Ready, st.Booting}; got != want {
			t.Errorf("%s state desired/ready/booting %v, want %v", app, got, want)
		}
	}
	up := func(app string) string { return decision(app, 0, 0, 0).ID }
	cases := map[string][]event{
		"live": {
			{up("live"), proto.StatusRequested, "command", "live", 4, 2, 0},
			{up("live"), proto.StatusApplied, "command", "live", 4, 4, 0},
			{up("live"), proto.StatusReady, "command", "live", 4, 4, 0},
		},
		"dry": {
			{up("dry"), proto.StatusSkipped, "command", "dry-run", 4, 2, 0},
		},
		"shade": {
			{up("shade"), proto.StatusRequested, "sim", "shadow", 4, 2, 0},
			{up("shade"), proto.StatusApplied, "sim", "shadow", 4, 2, 2},
			{up("shade"), proto.StatusReady, "sim", "shadow", 4, 4, 0},
		},
	}
	for app, want := range cases {
		if evs, _ := h.waitEvents(app, len(want)); !slices.Equal(evs, want) {
			t.Errorf("%s events\n got %+v\nwant %+v", app, evs, want)
		}
	}
}

// TestSimBootFailuresReported fails every simulated boot: the failure is
// published as a failed event of the decision that asked for the replicas.
func TestSimBootFailuresReported(t *testing.T) {
	h := newHarness(t)
	cfg := executor.DefaultConfig()
	cfg.FailureRate = 1
	h.start(cfg)
	d1, d2 := decision("shop", 0, 2, 4), decision("shop", 1, 4, 4)
	h.publish(d1, d2)
	st := h.waitState(d2)
	if st.Ready != 2 || st.Booting != 0 {
		t.Fatalf("state %+v, want the 2 boots gone", st)
	}
	evs, errs := h.waitEvents("shop", 3)
	want := []event{
		{d1.ID, proto.StatusRequested, "sim", "live", 4, 2, 0},
		{d1.ID, proto.StatusApplied, "sim", "live", 4, 2, 2},
		{d1.ID, proto.StatusFailed, "sim", "live", 4, 2, 0},
	}
	if !slices.Equal(evs, want) {
		t.Fatalf("events\n got %+v\nwant %+v", evs, want)
	}
	if errs[2] != "2 booting replica(s) failed" {
		t.Fatalf("failure reason %q", errs[2])
	}
}

// TestDriverFailureReported makes the command fail: a failed event carries
// its output and the state keeps the replicas that run.
func TestDriverFailureReported(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	cfg := authorised(executor.DefaultConfig())
	cfg.Driver = executor.DriverCommand
	cfg.Command.Template = fmt.Sprintf("'%s' '%s' fail {replicas}", argvlog, log)
	h.start(cfg)
	d := decision("shop", 0, 2, 4)
	h.publish(d)
	st := h.waitState(d)
	if st.Desired != 2 || st.Ready != 2 {
		t.Fatalf("state %+v, want the 2 replicas running", st)
	}
	evs, errs := h.waitEvents("shop", 2)
	if evs[1].Status != proto.StatusFailed || !strings.Contains(errs[1], "exit status 3") || !strings.Contains(errs[1], "not found") {
		t.Fatalf("events %+v errors %q", evs, errs)
	}
}

// recorder is a Driver that records its requests.
type recorder struct {
	mu   sync.Mutex
	reqs []executor.Request
}

func (r *recorder) Scale(_ context.Context, q executor.Request) (executor.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, q)
	return executor.Result{Ready: q.Replicas - 1, Booting: 1}, nil
}

// TestWithDriver runs an embedder's driver: it gets the whole request, and
// the events name it.
func TestWithDriver(t *testing.T) {
	h := newHarness(t)
	rec := &recorder{}
	h.start(authorised(executor.DefaultConfig()), executor.WithDriver("k8s", rec))
	d := decision("shop", 0, 2, 5)
	h.publish(d)
	st := h.waitState(d)
	if st.Ready != 4 || st.Booting != 1 {
		t.Fatalf("state %+v", st)
	}
	evs, _ := h.waitEvents("shop", 2)
	if want := []event{{d.ID, proto.StatusRequested, "k8s", "live", 5, 2, 0}, {d.ID, proto.StatusApplied, "k8s", "live", 5, 4, 1}}; !slices.Equal(evs, want) {
		t.Fatalf("events %+v, want %+v", evs, want)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := executor.Request{App: "shop", Tier: "web", Replicas: 5, DecisionID: d.ID, Time: t0, Reason: "web 2→5"}
	if len(rec.reqs) != 1 || rec.reqs[0] != want {
		t.Fatalf("requests %+v, want [%+v]", rec.reqs, want)
	}
}

// TestBootsSurviveRestart: a scale-up at 1:00:00 boots two web replicas (a
// minute) and a hold at 1:00:30 moves the state's time on; a fresh
// executor that reads the state back has them ready at 1:01:00, as the one
// that never stopped would, and says so, instead of booting them from
// 1:00:30 again.
func TestBootsSurviveRestart(t *testing.T) {
	h := newHarness(t)
	stop := h.start(executor.DefaultConfig())
	up := decision("shop", 60, 1, 3)
	hold := tierDecision("shop", "web", t0.Add(60*time.Minute+30*time.Second), 3, 3)
	h.publish(up)
	h.waitState(up)
	h.publish(hold)
	if st := h.waitState(hold); st.Ready != 1 || st.Booting != 2 {
		t.Fatalf("at 1:00:30 %+v, want 1 ready and 2 booting", st)
	}
	stop()
	h.start(executor.DefaultConfig())
	later := tierDecision("shop", "web", t0.Add(61*time.Minute+10*time.Second), 3, 3)
	h.publish(later)
	if st := h.waitState(later); st.Ready != 3 || st.Booting != 0 {
		t.Fatalf("at 1:01:10 after a restart %+v, want the boots of 1:00:00 ready", st)
	}
	evs, _ := h.waitEvents("shop", 3)
	if last := evs[len(evs)-1]; last.Decision != up.ID || last.Status != proto.StatusReady {
		t.Fatalf("events %+v, want the scale-up's ready last", evs)
	}
}

// TestUnreadableStateIsReplaced: a replica state in the bucket that does
// not decode is taken as none: the tier's decision acts from its own
// counts and its state replaces the unreadable one.
func TestUnreadableStateIsReplaced(t *testing.T) {
	h := newHarness(t)
	if err := h.kv.Put(context.Background(), proto.ReplicaKey("shop", "web"), []byte{0xc1}); err != nil {
		t.Fatal(err)
	}
	h.start(executor.DefaultConfig())
	d := decision("shop", 1, 2, 3)
	h.publish(d)
	if st := h.waitState(d); st.Desired != 3 || st.DecisionID != d.ID {
		t.Fatalf("state %+v, want the decision's", st)
	}
}

// TestForeignStateUnderKeyIsIgnored: a value under a tier's replica key
// that is not the executor's state of that tier is a copy. Any NATS client
// can have the server store one there (a JetStream API request whose
// reply subject is $KV.REPLICAS.<key>: a DIRECT.GET of shop.db's state, or
// of one of web's own past scaling events, whose fields include a
// state's, answered into shop.web's key). Read back as shop.web's, it
// would say web already runs the 3 replicas a genuine scale-up asks for,
// and the scale-up would never run.
func TestForeignStateUnderKeyIsIgnored(t *testing.T) {
	d := tierDecision("shop", "web", t0, 2, 3)
	for _, c := range []struct {
		name    string
		foreign proto.Message
	}{
		{"another tier's state", &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "db", TS: d.TS - 60_000, Desired: 3, Ready: 3}},
		{"the tier's own scaling event", &proto.Scaling{V: proto.SchemaVersion, ID: proto.ScalingID("shop", "web", "x", proto.StatusReady, d.TS-60_000),
			App: "shop", Tier: "web", TS: d.TS - 60_000, Status: proto.StatusReady, Desired: 3, Ready: 3, Driver: executor.DriverCommand, Mode: executor.ModeLive}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			foreign, err := proto.Encode(c.foreign)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.kv.Put(context.Background(), proto.ReplicaKey("shop", "web"), foreign); err != nil {
				t.Fatal(err)
			}
			log := filepath.Join(t.TempDir(), "argv.log")
			h.start(commandConfig(log, ""))
			h.publish(d)
			if st := h.waitState(d); st.Tier != "web" || st.Desired != 3 || st.DecisionID != d.ID {
				t.Fatalf("state %+v, want web's own, from the decision", st)
			}
			if got := decisionsActed(t, log); len(got) != 1 || got[0] != d.ID {
				t.Fatalf("acted on %q, want the scale-up", got)
			}
		})
	}
}
