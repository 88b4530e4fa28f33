package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// refusedRig is two executor members with the webhook driver, both
// logged in as a NATS user that may not publish the scaling events until
// r.Allow, on one system whose calls land in c; h runs on the admin's
// connection (decisions, unpinning).
type refusedRig struct {
	r     *natstest.Restricted
	h     *harness
	c     *sharedCluster
	lease time.Duration
	srv   *httptest.Server
}

func newRefusedRig(t *testing.T, deny ...string) *refusedRig {
	t.Helper()
	r := natstest.StartRestricted(t, "executor", deny...)
	admin := r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	kv, err := admin.Replicas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := &sharedCluster{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p executor.WebhookPayload
		if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.count = p.Replicas
		c.calls = append(c.calls, fmt.Sprintf("%s:%d", strings.TrimPrefix(req.URL.Path, "/"), p.Replicas))
		c.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return &refusedRig{r: r, h: &harness{t: t, b: admin, kv: kv}, c: c, lease: 7 * time.Second, srv: srv}
}

// start runs member (its webhook path) in group (its metrics in reg, its
// logs in logs too unless nil), waits until it is ready and returns its
// stop.
func (g *refusedRig) start(t *testing.T, member, group string, reg *prometheus.Registry, logs *natstest.Logs) (stop func()) {
	t.Helper()
	stop, ready := g.run(t, member, group, reg, logs)
	natstest.Eventually(t, 30*time.Second, ready.Err)
	return stop
}

// run is start without the wait for the member's readiness, which it
// returns.
func (g *refusedRig) run(t *testing.T, member, group string, reg *prometheus.Registry, logs *natstest.Logs) (stop func(), ready *service.Ready) {
	t.Helper()
	cfg := authorised(executor.DefaultConfig())
	cfg.Driver = executor.DriverWebhook
	cfg.Webhook.URL = g.srv.URL + "/" + member
	cfg.Webhook.Timeout, cfg.Webhook.TotalTimeout, cfg.Webhook.Attempts = time.Second, time.Second, 1
	cfg.Lease = g.lease
	ready = service.NewReady()
	var w io.Writer = zerolog.NewTestWriter(t)
	if logs != nil {
		w = io.MultiWriter(w, logs)
	}
	log := zerolog.New(w).With().Str("member", member).Logger()
	s, err := executor.New(cfg, service.Deps{Bus: g.r.Connect(t, "executor", log), Log: log, Reg: reg, Ready: ready},
		executor.WithClock(func() time.Time { return proto.Time(g.h.latest.Load()) }),
		executor.WithRefusedRetry(50*time.Millisecond), executor.WithGroup(group))
	if err != nil {
		t.Fatal(err)
	}
	return natstest.Serve(t, member, s.Run), ready
}

// TestLeaseKeptWhileEventsRefused: member A's webhook carried shop.web's
// 1→3 out under the tier's lease, then the server refused its scaling
// events (nats.conf), and A waited in place to publish them, its state
// not stored. The lease lapsed during that wait (-executor.lease after
// the take), and member B, handed the partition, took it and called its
// driver for the next decision, judged from a state without A's change
// (B:5 landed while A still believed its change unrecorded; A's record
// came after). Kept renewed while the change is recorded, the lease
// holds B back until A's events and state are stored.
func TestLeaseKeptWhileEventsRefused(t *testing.T) {
	g := newRefusedRig(t, "apm.scaling.>")
	h := g.h
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	logsA := &natstest.Logs{}
	g.start(t, "A", "executor", regA, logsA)
	if n := renewalsOf(t, regA); n != (renewalCounts{}) {
		t.Errorf("renewals %+v before any change, want none", n)
	}
	stalls := watchStalls(t) // from before the lease is taken
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	natstest.Eventually(t, 10*time.Second, func() error {
		if _, calls := g.c.state(); len(calls) == 0 {
			return fmt.Errorf("A's call for 3 has not landed")
		}
		return nil
	})
	stopB := g.bPastLease(t, regB, time.Now())
	st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	skipIfStalled(t, regA, stalls, g.lease)
	if _, calls := g.c.state(); len(calls) != 1 {
		t.Fatalf("calls %v while A's change of 3 was not recorded (state %+v): B acted on a tier whose lease lapsed in A's wait", calls, st)
	}
	if st != nil {
		t.Fatalf("state %+v stored while the events are refused", st)
	}
	// Renewed every third of the lease since A's call, each stored: none
	// failed, none found the lease lost.
	if n := renewalsOf(t, regA); n.renewed < 3 || n.failed+n.lost+n.lapsed > 0 {
		t.Errorf("A's renewals %+v over more than a lease of %s, want 3 or more renewed, nothing else", n, g.lease)
	}
	// B stops first: the server's reload races its reads of the lease
	// (a direct get reads the options being replaced).
	stopB()
	g.r.Allow(t)
	// A's change is recorded.
	natstest.Eventually(t, 30*time.Second, func() error {
		st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
		if err != nil {
			return err
		}
		if st == nil || st.TS < d1.TS {
			return fmt.Errorf("state %+v does not cover %s yet", st, d1.ID)
		}
		return nil
	})
	if _, calls := g.c.state(); len(calls) == 0 || calls[0] != "A:3" {
		t.Errorf("calls %v, want A:3 first", calls)
	}
}

// TestStateWriteRefusedWaits: the server refuses member A's write of the
// tier's state (nats.conf not letting it write the replica bucket) after
// its webhook carried 1→3 out and the events were stored. The handling
// failed, and each redelivery, judged from the state without the change,
// called the driver again and failed the same way, until the decision
// was dead-lettered: the change made, its record never stored. The write
// waits in place instead, as the events do: one call, no dead letter,
// and the state stored once allowed.
func TestStateWriteRefusedWaits(t *testing.T) {
	g := newRefusedRig(t, "$KV."+proto.ReplicaBucket("apm")+".>")
	h := g.h
	logs := &natstest.Logs{}
	g.start(t, "A", "executor", prometheus.NewRegistry(), logs)
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, calls := g.c.state(); len(calls) > 1 {
			return nil // fails below
		}
		if n := len(natstest.Payloads(t, h.b, "DLQ", "apm.dlq.executor")); n > 0 {
			return nil // fails below
		}
		if n := len(logs.Lines(t, stateRefusedMsg)); n < 8 {
			return fmt.Errorf("%d in-place retries of the refused state write, want 8", n)
		}
		return nil
	})
	if _, calls := g.c.state(); len(calls) != 1 {
		t.Fatalf("driver calls %v, want 1: the change was carried out again while its record was refused", calls)
	}
	if n := len(natstest.Payloads(t, h.b, "DLQ", "apm.dlq.executor")); n > 0 {
		t.Fatalf("%d dead letters while the state write was refused, want none", n)
	}
	g.r.Allow(t)
	st := h.waitState(d1)
	if st.DecisionID != d1.ID || st.Desired != 3 {
		t.Errorf("state %+v, want %s's 3", st, d1.ID)
	}
	if _, calls := g.c.state(); len(calls) != 1 {
		t.Errorf("driver calls %v, want 1", calls)
	}
}

// stateRefusedMsg is the log line of each refused write of a tier's state
// retried in place.
const stateRefusedMsg = "replica state refused by the server's permissions (check nats.conf): its decision waits, in progress, and the state is written again"

// aWaitingOnState starts member A (its metrics in regA) and publishes
// shop.web's 1→3, d1, which A carries out under the tier's lease, and
// waits until A's write of the tier's state is refused (the rig denying
// the replica bucket), A waiting in place. It returns A's stop, its
// logs, the process's pauses watched from before the lease was taken
// (skipIfStalled), and d1.
func (g *refusedRig) aWaitingOnState(t *testing.T, regA *prometheus.Registry) (stopA func(), logsA *natstest.Logs, stalls *stallWatch, d1 *proto.Decision) {
	t.Helper()
	logsA = &natstest.Logs{}
	stopA = g.start(t, "A", "executor", regA, logsA)
	stalls = watchStalls(t)
	d1 = decision("shop", 0, 1, 3)
	g.h.publish(d1)
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := len(logsA.Lines(t, stateRefusedMsg)); n == 0 {
			return fmt.Errorf("A's state write not refused yet")
		}
		return nil
	})
	return stopA, logsA, stalls, d1
}

// bPastLease starts member B in a group of its own (both members then
// consume shop.web, as at a hand-over), publishes the tier's next
// decision, 3→5, and waits past A's lease, taken before its call (called
// after it), and the server's expiry tick, then for one more of B's
// attempts: B must not call its driver while A's change is not recorded
// (the caller checks). It returns B's stop.
func (g *refusedRig) bPastLease(t *testing.T, regB *prometheus.Registry, called time.Time) (stopB func()) {
	t.Helper()
	g.h.unpin(proto.DecisionSubject("apm", "shop", "web"))
	stopB = g.start(t, "B", "executor-b", regB, nil)
	g.h.publish(decision("shop", 1, 3, 5))
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, calls := g.c.state(); len(calls) > 1 {
			return nil // fails in the caller
		}
		if since := time.Since(called); since < g.lease+2*time.Second {
			return fmt.Errorf("%s since A's call, waiting past its lease of %s", since.Round(time.Second), g.lease)
		}
		return nil
	})
	waited, _ := metricstest.Sum(t, regB, "headroom_executor_lease_waits_total")
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, calls := g.c.state(); len(calls) > 1 {
			return nil // fails in the caller
		}
		if n, _ := metricstest.Sum(t, regB, "headroom_executor_lease_waits_total"); n <= waited {
			return fmt.Errorf("B waited on the lease %v times, waiting for an attempt past A's lease", n)
		}
		return nil
	})
	return stopB
}

// renewalCounts are a member's renewals of shop.web's lease, by result
// (headroom_executor_lease_renewals_total).
type renewalCounts struct{ renewed, failed, lost, lapsed float64 }

// renewalsOf returns the renewals of shop.web's lease the member whose
// metrics reg holds counted; each series must exist from the start.
func renewalsOf(t *testing.T, reg prometheus.Gatherer) renewalCounts {
	t.Helper()
	var n renewalCounts
	for result, v := range map[string]*float64{"renewed": &n.renewed, "failed": &n.failed, "lost": &n.lost, "lapsed": &n.lapsed} {
		var found bool
		*v, found = metricstest.Sum(t, reg, "headroom_executor_lease_renewals_total", "app", "shop", "tier", "web", "result", result)
		if !found {
			t.Errorf("headroom_executor_lease_renewals_total has no series of shop.web, result %s", result)
		}
	}
	return n
}

// TestLeaseKeptWhileStateRefused: member A's webhook carried shop.web's
// 1→3 out under the tier's lease and its events were stored, but the
// server refuses its write of the tier's state (nats.conf), which A waits
// out in place (putRefused). Member B, handed the tier meanwhile (a group
// of its own: both consume it, as at a hand-over), must not call its
// driver for the decision or the next one while A keeps the lease, past
// A's lease: the state B would judge from lacks A's change. Once allowed,
// A's state records its change, and the driver was called once.
func TestLeaseKeptWhileStateRefused(t *testing.T) {
	g := newRefusedRig(t, "$KV."+proto.ReplicaBucket("apm")+".>")
	h := g.h
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	_, _, stalls, d1 := g.aWaitingOnState(t, regA)
	stopB := g.bPastLease(t, regB, time.Now())
	skipIfStalled(t, regA, stalls, g.lease)
	if _, calls := g.c.state(); len(calls) != 1 {
		t.Fatalf("calls %v while A's change of 3 was not recorded: B acted on the tier while A waited to write its state", calls)
	}
	if n := renewalsOf(t, regA); n.renewed < 3 || n.failed+n.lost+n.lapsed > 0 {
		t.Errorf("A's renewals %+v over more than a lease of %s, want 3 or more renewed, nothing else", n, g.lease)
	}
	stopB() // before the reload (see TestLeaseKeptWhileEventsRefused)
	g.r.Allow(t)
	st := waitStored(t, h, d1)
	if st.DecisionID != d1.ID || st.Desired != 3 {
		t.Errorf("state %+v, want %s's 3", st, d1.ID)
	}
	if _, calls := g.c.state(); len(calls) != 1 || calls[0] != "A:3" {
		t.Errorf("calls %v, want A:3 alone", calls)
	}
}

// TestStopDuringStateWriteWait: member A, waiting in place to write the
// state of shop.web's 1→3 its webhook carried out (the server refusing
// the write), stops; it releases the tier's lease, its change unrecorded.
// Member B, which both decisions (1→3, then 3→5) waited on the lease,
// then carries them out: the first at most once more, and with its
// absolute count (3, never a step from the state without A's change),
// and never after the second, whose 5 the tier ends at once the writes
// are allowed.
func TestStopDuringStateWriteWait(t *testing.T) {
	g := newRefusedRig(t, "$KV."+proto.ReplicaBucket("apm")+".>")
	h := g.h
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	stopA, logsA, stalls, _ := g.aWaitingOnState(t, regA)
	h.unpin(proto.DecisionSubject("apm", "shop", "web"))
	logsB := &natstest.Logs{}
	stopB := g.start(t, "B", "executor-b", regB, logsB)
	d2 := decision("shop", 1, 3, 5)
	h.publish(d2)
	natstest.Eventually(t, 10*time.Second, func() error {
		if n, _ := metricstest.Sum(t, regB, "headroom_executor_lease_waits_total"); n < 2 {
			return fmt.Errorf("B waited on A's lease %v times, want both decisions to", n)
		}
		return nil
	})
	skipIfStalled(t, regA, stalls, g.lease)
	if _, calls := g.c.state(); len(calls) != 1 {
		t.Fatalf("calls %v while A held the lease", calls)
	}
	if n := renewalsOf(t, regA); n.failed+n.lost+n.lapsed > 0 {
		t.Errorf("A's renewals %+v while it waited, want all renewed", n)
	}
	stopA()
	if n := len(logsA.Lines(t, "replica state not stored: the executor stops while the server refuses it; its decision is left for redelivery")); n != 1 {
		t.Errorf("%d lines saying A's state was not stored at its stop, want 1", n)
	}
	// B, pinned afresh, handles the decisions: one of them reaches the
	// state write, refused to B as well; B stops in turn, before the
	// reload (see TestLeaseKeptWhileEventsRefused), and C goes on.
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := len(logsB.Lines(t, stateRefusedMsg)); n == 0 {
			return fmt.Errorf("B has not written a state since A stopped")
		}
		return nil
	})
	stopB()
	g.r.Allow(t)
	g.start(t, "C", "executor-b", prometheus.NewRegistry(), nil)
	st := waitStored(t, h, d2)
	if st.DecisionID != d2.ID || st.Desired != 5 {
		t.Errorf("state %+v, want %s's 5", st, d2.ID)
	}
	count, calls := g.c.state()
	threes, fives := 0, 0
	for i, c := range calls {
		switch c {
		case "A:3", "B:3", "C:3":
			threes++
			if fives > 0 {
				t.Errorf("calls %v: the first decision's 3 carried out after the second's 5 (call %d)", calls, i)
			}
		case "B:5", "C:5":
			fives++
		default:
			t.Errorf("calls %v: call %d, %s, is neither decision's count by its member", calls, i, c)
		}
	}
	if calls[0] != "A:3" || threes > 2 || fives > 2 || count != 5 {
		t.Errorf("calls %v (the tier at %d), want A:3, the first decision's 3 at most once more, then 5 (at most once more after B's stop)", calls, count)
	}
}

// waitStored waits for shop.web's state to cover d, its writes having
// been refused until now: the in-place retries wait up to 30 s between
// attempts, longer than harness.waitState waits.
func waitStored(t *testing.T, h *harness, d *proto.Decision) *proto.ReplicaState {
	t.Helper()
	var st *proto.ReplicaState
	natstest.Eventually(t, time.Minute, func() error {
		var err error
		if st, err = executor.ReadState(context.Background(), h.kv, d.App, d.Tier); err != nil {
			return err
		}
		if st == nil || st.TS < d.TS {
			return fmt.Errorf("state %+v does not cover %s yet", st, d.ID)
		}
		return nil
	})
	return st
}

// TestHandOverDuringStateWriteWait: member A waits in place to write the
// state of shop.web's 1→3 its webhook carried out (the server refusing
// the write) when member B joins its group, and A begins to hand
// partitions over. The wait is not ended by the hand-over (the handling's
// context does not end with its partition's worker: an action begun is
// finished): A goes on waiting, keeping the tier's lease, and records the
// change once allowed; the decision is not left for redelivery, and the
// driver was called once. Meanwhile A hands nothing more over: the
// partition's worker it stops first ends only after the handling (its
// release waits for the stage's handler), and A's group share waits for
// it. (B is not waited ready: it waits for the partitions A still pins.)
func TestHandOverDuringStateWriteWait(t *testing.T) {
	g := newRefusedRig(t, "$KV."+proto.ReplicaBucket("apm")+".>")
	h := g.h
	regA := prometheus.NewRegistry()
	_, logsA, stalls, d1 := g.aWaitingOnState(t, regA)
	stopB, _ := g.run(t, "B", "executor", prometheus.NewRegistry(), nil)
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := len(logsA.Lines(t, "handing partition over")); n == 0 {
			return fmt.Errorf("A hands no partition over yet")
		}
		return nil
	})
	// Two more attempts of A's write after the hand-over began, past a
	// renewal of its lease.
	from := len(logsA.Lines(t, stateRefusedMsg))
	natstest.Eventually(t, 30*time.Second, func() error {
		if n := len(logsA.Lines(t, stateRefusedMsg)); n < from+2 {
			return fmt.Errorf("%d attempts of A's state write since the hand-over began, waiting for 2", n-from)
		}
		if n := renewalsOf(t, regA); n.renewed == 0 {
			return fmt.Errorf("A's lease not renewed yet")
		}
		return nil
	})
	if n := len(logsA.Lines(t, "replica state not stored: the executor stops while the server refuses it; its decision is left for redelivery")); n != 0 {
		t.Errorf("A gave its state write up %d times at the hand-over, want it still waiting", n)
	}
	if n := len(logsA.Lines(t, "handing partition over")); n != 1 {
		t.Errorf("A handed %d partitions over while it waited, want 1 (its worker waiting for the handling)", n)
	}
	skipIfStalled(t, regA, stalls, g.lease)
	if n := renewalsOf(t, regA); n.failed+n.lost+n.lapsed > 0 {
		t.Errorf("A's renewals %+v, want all renewed", n)
	}
	stopB() // before the reload (see TestLeaseKeptWhileEventsRefused)
	g.r.Allow(t)
	st := waitStored(t, h, d1)
	if st.DecisionID != d1.ID || st.Desired != 3 {
		t.Errorf("state %+v, want %s's 3", st, d1.ID)
	}
	if _, calls := g.c.state(); len(calls) != 1 || calls[0] != "A:3" {
		t.Errorf("calls %v, want A:3 alone", calls)
	}
}

// skipIfStalled skips t when the member whose metrics reg holds lost the
// tier's lease (a renewal counted lost or lapsed) and the test's process,
// the embedded server with it, paused for half the rig's lease or longer
// since stalls began watching (before the lease was taken): a lease
// renewed every third of it is lost by a pause of about two thirds of it
// (less a renewal's round trip), which no lease can cover (a holder
// paused past its lease: see tierLease.keep; the alert on the lost
// renewal is what tells it), seen on a loaded machine under -race. A
// lease lost without such a pause, or after one before the lease was
// taken, still fails. (Missed heartbeats do not tell such a pause: a
// pinned consumer's pulls expire in 3 s, so 3 s without a heartbeat
// flags one, at any time of the test.)
func skipIfStalled(t *testing.T, reg prometheus.Gatherer, stalls *stallWatch, lease time.Duration) {
	t.Helper()
	n := renewalsOf(t, reg)
	if n.lost+n.lapsed == 0 {
		return
	}
	if p := stalls.longest(); p >= lease/2 {
		t.Skipf("the member's lease was lost (renewals %+v) after the process paused for %s (its lease %s): a stall no lease covers", n, p.Round(time.Millisecond), lease)
	}
}

// stallWatch measures the longest pause of the test's process: the
// largest gap between a goroutine's wake-ups every 50 ms, by the
// monotonic clock (a frozen process, or one not scheduled, wakes late).
type stallWatch struct {
	mu  sync.Mutex
	max time.Duration
}

// watchStalls watches the process's pauses from now until t ends.
func watchStalls(t *testing.T) *stallWatch {
	w := &stallWatch{}
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			now := time.Now()
			w.mu.Lock()
			w.max = max(w.max, now.Sub(last))
			w.mu.Unlock()
			last = now
		}
	}()
	t.Cleanup(func() { close(done); <-ended })
	return w
}

// longest returns the longest pause seen so far.
func (w *stallWatch) longest() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.max
}
