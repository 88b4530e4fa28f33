package executor_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// These tests are the executor's side of "nothing acts without authority,
// nothing stale or forged is executed": each plays an attack or a mishap
// against a real embedded JetStream server with the command driver running a
// recording helper, and asserts the refusal and that nothing ran.

// fixedClock is a wall clock stopped at t.
func fixedClock(t time.Time) executor.Option {
	return executor.WithClock(func() time.Time { return t })
}

// tierDecision builds a decision of app's tier at event time ts.
func tierDecision(app, tier string, ts time.Time, from, to int) *proto.Decision {
	d := decision(app, 0, from, to)
	d.Tier, d.TS = tier, proto.Millis(ts)
	d.ID = proto.DecisionID(app, tier, d.TS)
	return d
}

// skippedReasons returns the reasons of app's skipped scaling events.
func (h *harness) skippedReasons(app string, n int) []string {
	h.t.Helper()
	out, err := h.skipped(app)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(out) != n {
		h.t.Fatalf("%d skipped events for %s (%q), want %d", len(out), app, out, n)
	}
	return out
}

// skipped returns the reasons of app's skipped events stored so far.
func (h *harness) skipped(app string) ([]string, error) {
	h.t.Helper()
	var out []string
	for _, data := range natstest.Payloads(h.t, h.b, "SCALING", proto.AppFilter("apm", proto.KindScaling, app)) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			return nil, err
		}
		if sc.Status == proto.StatusSkipped {
			out = append(out, sc.Reason)
		}
	}
	return out, nil
}

// deadLetters returns the executor's dead letters' reasons.
func (h *harness) deadLetters(n int) []string {
	h.t.Helper()
	var out []string
	natstest.Eventually(h.t, 10*time.Second, func() error {
		out = out[:0]
		for _, data := range natstest.Payloads(h.t, h.b, "DLQ", "apm.dlq.executor") {
			var dl proto.DeadLetter
			if err := proto.Decode(data, &dl); err != nil {
				return err
			}
			out = append(out, dl.Error)
		}
		if len(out) != n {
			return fmt.Errorf("%d dead letters, want %d", len(out), n)
		}
		return nil
	})
	return out
}

// TestUnconfiguredAppIsNeverActedOn: decisions for an app the configuration
// does not name live (say a pushed kube-public/coredns), or for a tier it
// does not list, are decided and recorded as skipped, never run.
func TestUnconfiguredAppIsNeverActedOn(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	cfg := commandConfig(log, "")
	h.start(cfg)
	now := t0
	coredns := []*proto.Decision{
		tierDecision("kube-public", "coredns", now, 1, 30),
		tierDecision("kube-public", "coredns", now.Add(15*time.Second), 30, 1),
		tierDecision("kube-public", "coredns", now.Add(30*time.Second), 1, 2),
	}
	otherTier := tierDecision("shop", "db", now.Add(30*time.Second), 1, 9)
	h.publish(coredns...)
	h.publish(otherTier)
	h.waitState(coredns[2])
	h.waitState(otherTier)
	if got := calls(t, log); len(got) != 0 {
		t.Fatalf("commands ran for unconfigured tiers: %+v", got)
	}
	for _, r := range h.skippedReasons("kube-public", 3) {
		if !strings.Contains(r, "not authorised: app kube-public is not configured with mode live") {
			t.Errorf("reason %q", r)
		}
	}
	if r := h.skippedReasons("shop", 1)[0]; !strings.Contains(r, "no tier db") {
		t.Errorf("reason %q", r)
	}
}

// TestReplayedInputIsNeverActedOn: a decision the decider took on replayed
// ticks (a replay republished under the name of an app the configuration
// names live) is recorded as skipped and never run; the app's next decision
// on its own ticks is acted on.
func TestReplayedInputIsNeverActedOn(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""))
	replayed := tierDecision("shop", "web", t0, 1, 30)
	replayed.Flags = []string{proto.FlagReplayedInput}
	own := tierDecision("shop", "web", t0.Add(15*time.Second), 1, 3)
	h.publish(replayed)
	h.waitSkipped("shop", 1) // the tier has no state: the replay stores none
	h.publish(own)
	h.waitState(own)
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != own.ID {
		t.Fatalf("acted on %v, want only %s", got, own.ID)
	}
	if r := h.skippedReasons("shop", 1)[0]; !strings.Contains(r, "not authorised: decided on replayed input") {
		t.Errorf("reason %q", r)
	}
}

// TestStaleBacklogIsNotActedOn: an executor (re)starting after a day of
// downtime finds 251 decisions flip-flopping over the day. None is acted on:
// all are older than the tier's lead time.
func TestStaleBacklogIsNotActedOn(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	start := t0.Add(-24 * time.Hour)
	var last *proto.Decision
	for i := range 251 {
		from, to := 20+i%2, 21-i%2
		last = tierDecision("shop", "web", start.Add(time.Duration(i)*5*time.Minute), from, to)
		h.publish(last)
	}
	cfg := commandConfig(log, "")
	cfg.LeadTimes = map[string]map[string]time.Duration{"shop": {"web": time.Minute}}
	h.start(cfg, fixedClock(t0))
	h.waitState(last)
	if got := calls(t, log); len(got) != 0 {
		t.Fatalf("%d commands ran for a stale backlog, want 0", len(got))
	}
	// Every other decision asks for the 20 replicas still running: only the
	// 126 changes are recorded, each as skipped for its age.
	reasons := h.skippedReasons("shop", 126)
	// The reason names the setting, and the wait that makes a decision
	// stale when a tier's metrics lag the others'.
	if want := "stale: decided 24h0m0s ago, beyond the tier's limit of 1m0s (-executor.max-age; a tick held for a lagging tier, by -decider.tier-lag at most, ages meanwhile)"; reasons[0] != want {
		t.Errorf("first reason %q, want %q", reasons[0], want)
	}
	for _, r := range reasons {
		if !strings.HasPrefix(r, "stale: ") {
			t.Fatalf("reason %q", r)
		}
	}
}

// TestCatchUpActsOnceOnTheLatest: after a short outage the backlog holds
// three fresh decisions that each change web; only the latest is acted on.
func TestCatchUpActsOnceOnTheLatest(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	ds := []*proto.Decision{
		tierDecision("shop", "web", t0.Add(-40*time.Second), 3, 5),
		tierDecision("shop", "web", t0.Add(-25*time.Second), 5, 4),
		tierDecision("shop", "web", t0.Add(-10*time.Second), 4, 6),
	}
	h.publish(ds...)
	h.start(commandConfig(log, ""), fixedClock(t0))
	st := h.waitState(ds[2])
	got := calls(t, log)
	if len(got) != 1 || got[0].Argv[len(got[0].Argv)-1] != ds[2].ID {
		t.Fatalf("commands %+v, want one, for the latest decision", got)
	}
	if st.Desired != 6 {
		t.Fatalf("state %+v, want desired 6", st)
	}
	for _, r := range h.skippedReasons("shop", 2) {
		if !strings.HasPrefix(r, "superseded: a newer decision for shop.web is stored") {
			t.Errorf("reason %q", r)
		}
	}
}

// TestForgedFutureDecisionIsDeadLettered: a decision stamped 48 h ahead
// would scale web to 77 and then make every genuine decision look already
// applied. It goes to the DLQ unread, and the genuine decision after it acts.
func TestForgedFutureDecisionIsDeadLettered(t *testing.T) {
	forged := tierDecision("shop", "web", t0.Add(48*time.Hour), 3, 77)
	forgedIsDeadLettered(t, forged, "beyond now + 2m0s: refusing a decision from the future")
}

// TestForgedDecisionIDIsDeadLettered: a decision whose id names another
// tick (the stream would drop that tick's genuine decision as its
// duplicate) is dead-lettered unread; the genuine one is acted on.
func TestForgedDecisionIDIsDeadLettered(t *testing.T) {
	forged := tierDecision("shop", "web", t0.Add(-10*time.Second), 3, 40)
	forged.ID = proto.DecisionID("shop", "web", proto.Millis(t0.Add(time.Minute))) // the next minute's id
	forgedIsDeadLettered(t, forged, "refusing a forged decision")
}

// forgedIsDeadLettered publishes forged, then a genuine decision of the
// same tier (3→4), to an executor with the command driver: only the
// genuine one is acted on, and forged is the one dead letter, its reason
// saying why.
func forgedIsDeadLettered(t *testing.T, forged *proto.Decision, why string) {
	t.Helper()
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""), fixedClock(t0))
	genuine := tierDecision("shop", "web", t0.Add(-5*time.Second), 3, 4)
	h.publish(forged, genuine)
	st := h.waitState(genuine)
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != genuine.ID {
		t.Fatalf("acted on %q, want only the genuine decision", got)
	}
	if st.Desired != 4 {
		t.Fatalf("state %+v", st)
	}
	if dl := h.deadLetters(1); !strings.Contains(dl[0], why) {
		t.Errorf("dead letter %q, want %q", dl[0], why)
	}
}

// TestHostileDecisionIDNeverReachesADriver: the command driver passes a
// decision's id in HEADROOM_DECISION_ID and as {decision}, the webhook in
// the body and the Idempotency-Key header. An id with a line break or
// shell text is not its app, tier and time's, so it is dead-lettered
// before either driver is called: neither records a call for it, and the
// genuine decision after them is acted on once.
func TestHostileDecisionIDNeverReachesADriver(t *testing.T) {
	ids := []string{"a\nb", "$(id)", "`touch /tmp/pwned`", "x; rm -rf /", "a\r\nX-Injected: 1", "shop.web.1\x00"}
	forged := func(i int) *proto.Decision {
		d := tierDecision("shop", "web", t0.Add(-time.Duration(20-i)*time.Second), 3, 40+i)
		d.ID = ids[i]
		return d
	}
	genuine := tierDecision("shop", "web", t0.Add(-5*time.Second), 3, 4)
	for _, c := range []struct {
		name string
		// run starts the executor with the driver and returns what it
		// was called for, one entry a call.
		run func(t *testing.T, h *harness) (acted func() []string)
	}{
		// The id only in HEADROOM_DECISION_ID, where a script might use
		// it unquoted ({decision} in the argv has a check of its own).
		{"command", func(t *testing.T, h *harness) func() []string {
			log := filepath.Join(t.TempDir(), "argv.log")
			cfg := authorised(executor.DefaultConfig())
			cfg.Driver = executor.DriverCommand
			cfg.Command.Template = fmt.Sprintf("'%s' '%s' scale {app} {tier} {replicas}", argvlog, log)
			h.start(cfg, fixedClock(t0))
			return func() []string {
				var got []string
				for _, c := range calls(t, log) {
					got = append(got, fmt.Sprintf("run %s", c.Argv[2:]))
				}
				return got
			}
		}},
		{"webhook", func(t *testing.T, h *harness) func() []string {
			rec := &hook{statuses: []int{http.StatusOK}}
			srv := httptest.NewServer(rec)
			t.Cleanup(srv.Close)
			cfg := authorised(executor.DefaultConfig())
			cfg.Driver = executor.DriverWebhook
			cfg.Webhook.URL = srv.URL + "/scale"
			h.start(cfg, fixedClock(t0))
			return func() []string {
				rec.mu.Lock()
				defer rec.mu.Unlock()
				var got []string
				for i, r := range rec.reqs {
					got = append(got, rec.body[i].DecisionID)
					if k := r.Header.Get("Idempotency-Key"); k != rec.body[i].DecisionID {
						t.Errorf("Idempotency-Key %q, body decision_id %q", k, rec.body[i].DecisionID)
					}
				}
				return got
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			acted := c.run(t, h)
			// One at a time, each settled before the next, so none is
			// passed over as superseded by a later one: each would reach
			// the driver but for the id check.
			for i := range ids {
				h.publish(forged(i))
				natstest.Eventually(t, 10*time.Second, func() error {
					return natstest.GroupDrained(context.Background(), h.b, "DECISIONS", "executor")
				})
			}
			h.publish(genuine)
			if st := h.waitState(genuine); st.Desired != 4 {
				t.Fatalf("state %+v", st)
			}
			if got := acted(); len(got) != 1 || (c.name == "webhook" && got[0] != genuine.ID) {
				t.Fatalf("%s driver called for %q, want only the genuine decision %q", c.name, got, genuine.ID)
			}
			for _, dl := range h.deadLetters(len(ids)) {
				if !strings.Contains(dl, "forged decision") {
					t.Errorf("dead letter %q", dl)
				}
			}
		})
	}
}

// TestSubjectPayloadMismatchIsDeadLettered: a decision naming app victim
// published on the subject of shop.web is never processed as either.
func TestSubjectPayloadMismatchIsDeadLettered(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""), fixedClock(t0))
	victim := tierDecision("live", "web", t0, 2, 9)
	data, err := proto.Encode(victim)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(proto.DecisionSubject("apm", "shop", "web"))
	m.Data = data
	if _, err := natstest.JetStream(h.t, h.b).PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if dl := h.deadLetters(1); !strings.Contains(dl[0], "subject does not match payload") {
		t.Errorf("dead letter %q", dl[0])
	}
	if got := calls(t, log); len(got) != 0 {
		t.Fatalf("commands ran: %+v", got)
	}
}

// TestDeletedConsumerIsRecreated: someone deletes the executor's durable
// consumer. The executor notices, fails /readyz while it recreates it, and
// acts on the next decision; nothing is redelivered from the start.
func TestDeletedConsumerIsRecreated(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	ready := service.NewReady()
	var states []error
	var mu sync.Mutex
	health := func(err error) {
		mu.Lock()
		states = append(states, err)
		mu.Unlock()
	}
	cfg := commandConfig(log, "")
	s, err := executor.New(cfg, service.Deps{Bus: h.connect("executor"), Log: zerolog.New(zerolog.NewTestWriter(t)),
		Reg: prometheus.NewRegistry(), Ready: ready}, fixedClock(t0), executor.WithHealthObserver(health))
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "executor", s.Run)
	natstest.Eventually(t, 10*time.Second, ready.Err)

	d1 := tierDecision("shop", "web", t0.Add(-20*time.Second), 2, 3)
	h.publish(d1)
	h.waitState(d1)
	durable := natstest.PartitionDurable(t, h.b, "DECISIONS", "executor", "apm.decision.shop.web")
	if err := natstest.JetStream(h.t, h.b).DeleteConsumer(context.Background(), "DECISIONS", durable); err != nil {
		t.Fatal(err)
	}
	// Readiness fails while the consumer is gone, then recovers.
	natstest.Eventually(t, 15*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(states) != 2 || states[0] == nil || !strings.Contains(states[0].Error(), "consumer DECISIONS/"+durable+" lost") || states[1] != nil {
			return fmt.Errorf("health reports %v, want the lost consumer then recovery", states)
		}
		return nil
	})
	if err := ready.Err(); err != nil {
		t.Fatalf("not ready after recovery: %v", err)
	}
	d2 := tierDecision("shop", "web", t0.Add(-5*time.Second), 3, 5)
	h.publish(d2)
	h.waitState(d2)
	if got := decisionsActed(t, log); len(got) != 2 || got[0] != d1.ID || got[1] != d2.ID {
		t.Fatalf("acted on %q, want d1 then d2 once each", got)
	}
	c, err := natstest.JetStream(h.t, h.b).Consumer(context.Background(), "DECISIONS", durable)
	if err != nil {
		t.Fatalf("consumer not recreated: %v", err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.DeliverPolicy != jetstream.DeliverByStartSequencePolicy || info.Config.OptStartSeq != 2 {
		t.Fatalf("recreated consumer starts %v at %d, want after the last handled message (seq 2)", info.Config.DeliverPolicy, info.Config.OptStartSeq)
	}
}

// TestImpossibleDecisionIsRefused: a decision the decider never takes (a
// count beyond the tier's bounds, or counts that contradict the action),
// as a buggy or compromised decider could publish, is recorded as skipped
// and never run. Changes from outside the bounds towards them, which the
// decider makes when max_step limits the way back, act only from a count
// on record (TestForgedFromCannotLeaveTheBounds), not a tier's first. Without
// bounds in the configuration a live tier has the default policy's (1..200).
func TestImpossibleDecisionIsRefused(t *testing.T) {
	bounded := map[string]map[string]executor.Bounds{"shop": {"web": {Min: 2, Max: 10}}}
	hold := func(d *proto.Decision) *proto.Decision { d.Action = proto.ActionHold; return d }
	up := func(d *proto.Decision) *proto.Decision { d.Action = proto.ActionUp; return d }
	down := func(d *proto.Decision) *proto.Decision { d.Action = proto.ActionDown; return d }
	cases := []struct {
		name   string
		bounds map[string]map[string]executor.Bounds
		d      *proto.Decision
		reason string // "" when the decision is acted on
	}{
		{"huge count, default bounds", nil, tierDecision("shop", "web", t0, 3, 5000000), "out of bounds: up to 5000000 replicas, above the tier's max of 200"},
		{"above the configured max", bounded, tierDecision("shop", "web", t0, 3, 11), "out of bounds: up to 11 replicas, above the tier's max of 10"},
		{"below the configured min", bounded, tierDecision("shop", "web", t0, 3, 1), "out of bounds: down to 1 replicas, below the tier's min of 2"},
		{"up to zero", nil, up(tierDecision("shop", "web", t0, 3, 0)), "inconsistent: action up from 3 to 0 replicas"},
		{"up to as many", nil, up(tierDecision("shop", "web", t0, 3, 3)), "inconsistent: action up from 3 to 3 replicas"},
		{"down to more", nil, down(tierDecision("shop", "web", t0, 3, 9)), "inconsistent: action down from 3 to 9 replicas"},
		{"hold that changes", nil, hold(tierDecision("shop", "web", t0, 3, 40)), "inconsistent: action hold from 3 to 40 replicas"},
		// Towards the bounds from a count only the decision claims: see
		// TestForgedFromCannotLeaveTheBounds for counts on record.
		{"down towards max from a claimed count", bounded, tierDecision("shop", "web", t0, 50, 40),
			"out of bounds: down to 40 replicas, above the tier's max of 10 (the decision claims 50 run, but no count the executor set or read is on record)"},
		{"up towards min from a claimed count", bounded, tierDecision("shop", "web", t0, 0, 1),
			"out of bounds: up to 1 replicas, below the tier's min of 2 (the decision claims 0 run, but no count the executor set or read is on record)"},
		{"within bounds", bounded, tierDecision("shop", "web", t0, 3, 10), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			cfg := commandConfig(log, "")
			cfg.Bounds = c.bounds
			h.start(cfg)
			h.publish(c.d)
			h.waitState(c.d)
			got := calls(t, log)
			if c.reason == "" {
				if len(got) != 1 || got[0].Argv[len(got[0].Argv)-2] != fmt.Sprint(c.d.To) {
					t.Fatalf("commands %+v, want one scaling to %d", got, c.d.To)
				}
				h.skippedReasons("shop", 0)
				return
			}
			if len(got) != 0 {
				t.Fatalf("commands ran: %+v", got)
			}
			if r := h.skippedReasons("shop", 1)[0]; r != c.reason {
				t.Errorf("reason %q, want %q", r, c.reason)
			}
		})
	}
}

// TestSimRefusesOutOfBounds: the simulated cluster refuses a change beyond
// the bounds the configuration gives the tier (it would keep one boot time
// per replica asked for), and acts on tiers without configured bounds up
// to 100,000 replicas, the push API's bound.
func TestSimRefusesOutOfBounds(t *testing.T) {
	h := newHarness(t)
	cfg := executor.DefaultConfig()
	cfg.Bounds = map[string]map[string]executor.Bounds{"shop": {"web": {Min: 1, Max: 200}}}
	h.start(cfg)
	huge := tierDecision("shop", "web", t0, 3, 5000000)
	other := tierDecision("other", "web", t0, 3, 300)
	unbounded := tierDecision("other", "db", t0, 3, 1000000000)
	h.publish(huge, other, unbounded)
	if st := h.waitState(huge); st.Desired != 3 {
		t.Fatalf("state %+v, want desired 3", st)
	}
	if st := h.waitState(other); st.Desired != 300 {
		t.Fatalf("state %+v, want desired 300 (no bounds configured)", st)
	}
	if r := h.skippedReasons("shop", 1)[0]; r != "out of bounds: up to 5000000 replicas, above the tier's max of 200" {
		t.Errorf("reason %q", r)
	}
	if st := h.waitState(unbounded); st.Desired != 3 {
		t.Fatalf("state %+v, want desired 3 (a billion replicas refused)", st)
	}
	if r := h.skippedReasons("other", 1)[0]; r != "out of bounds: up to 1000000000 replicas, above the 100000 a tier without configured bounds may have" {
		t.Errorf("reason %q", r)
	}
}

// TestDecisionBehindAFutureOneIsRecorded: a decision stamped just inside
// the future skew (now + 119 s) is acted on; the genuine decision that
// follows it (now + 1 s) cannot be, and its skip is recorded as a skipped
// scaling event with both times, not dropped as "already applied".
func TestDecisionBehindAFutureOneIsRecorded(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""), fixedClock(t0))
	future := tierDecision("shop", "web", t0.Add(119*time.Second), 3, 40)
	genuine := tierDecision("shop", "web", t0.Add(time.Second), 40, 4)
	h.publish(future)
	h.waitState(future)
	h.publish(genuine)
	evs, _ := h.waitEvents("shop", 4)
	if last := evs[3]; last.Decision != genuine.ID || last.Status != proto.StatusSkipped || last.Desired != 40 {
		t.Fatalf("last event %+v, want the genuine decision skipped at desired 40", last)
	}
	want := "superseded: decided at 2026-01-02T00:00:01Z, before a decision stamped 2026-01-02T00:01:59Z, ahead of the clock, was handled"
	if r := h.skippedReasons("shop", 1)[0]; r != want {
		t.Errorf("reason %q, want %q", r, want)
	}
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != future.ID {
		t.Fatalf("acted on %q, want only the first", got)
	}
	st := h.waitState(future)
	if st.TS != future.TS || st.Desired != 40 {
		t.Fatalf("state %+v, want the future decision's", st)
	}
}

// TestCopiesAfterADecisionDoNotSupersedeIt: any NATS client can have the
// server store messages on a decision subject (a JetStream API request
// answered on the reply subject apm.decision.shop.web, or a DIRECT.GET of
// an older decision of the tier answered there). Stored after a genuine
// decision, before the executor handles it, neither is a newer decision:
// the genuine one still acts, instead of being skipped as superseded (an
// attacker repeating the requests would otherwise keep every change of
// the tier from running).
func TestCopiesAfterADecisionDoNotSupersedeIt(t *testing.T) {
	d := tierDecision("shop", "web", t0, 2, 3)
	older := tierDecision("shop", "web", t0.Add(-30*time.Second), 1, 2)
	for _, c := range []struct {
		name  string
		store func(h *harness)
	}{
		{"an API answer", func(h *harness) {
			m := nats.NewMsg(proto.DecisionSubject("apm", "shop", "web"))
			m.Data = []byte(`{"type":"io.nats.jetstream.api.v1.account_info_response","streams":7}`)
			if _, err := natstest.JetStream(h.t, h.b).PublishMsg(context.Background(), m); err != nil {
				h.t.Fatal(err)
			}
		}},
		{"an older decision of the tier", func(h *harness) { h.publishCopy(older) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.publish(d)
			c.store(h)
			log := filepath.Join(t.TempDir(), "argv.log")
			h.start(commandConfig(log, ""), fixedClock(t0.Add(10*time.Second)))
			h.waitState(d)
			if got := decisionsActed(t, log); len(got) != 1 || got[0] != d.ID {
				t.Fatalf("acted on %q, want the genuine decision %s", got, d.ID)
			}
		})
	}
}

// TestNewerDecisionBehindACopyStillSupersedes: a genuine newer decision
// stored between a decision and a copy is still found: the first is
// skipped as superseded, the newer one acts.
func TestNewerDecisionBehindACopyStillSupersedes(t *testing.T) {
	h := newHarness(t)
	d := tierDecision("shop", "web", t0, 2, 3)
	d2 := tierDecision("shop", "web", t0.Add(15*time.Second), 2, 5)
	h.publish(d, d2)
	h.publishCopy(tierDecision("shop", "web", t0.Add(-30*time.Second), 1, 2))
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""), fixedClock(t0.Add(20*time.Second)))
	h.waitState(d2)
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != d2.ID {
		t.Fatalf("acted on %q, want only the newer decision %s", got, d2.ID)
	}
	if r := h.skippedReasons("shop", 1)[0]; !strings.HasPrefix(r, "superseded: a newer decision for shop.web is stored") {
		t.Errorf("reason %q, want superseded", r)
	}
}
