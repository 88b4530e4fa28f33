package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	cfg := authorised(executor.DefaultConfig())
	cfg.Driver = executor.DriverWebhook
	cfg.Webhook.URL = g.srv.URL + "/" + member
	cfg.Webhook.Timeout, cfg.Webhook.TotalTimeout, cfg.Webhook.Attempts = time.Second, time.Second, 1
	cfg.Lease = g.lease
	ready := service.NewReady()
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
	stop = natstest.Serve(t, member, s.Run)
	natstest.Eventually(t, 10*time.Second, ready.Err)
	return stop
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
	regB := prometheus.NewRegistry()
	g.start(t, "A", "executor", prometheus.NewRegistry(), nil)
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	natstest.Eventually(t, 10*time.Second, func() error {
		if _, calls := g.c.state(); len(calls) == 0 {
			return fmt.Errorf("A's call for 3 has not landed")
		}
		return nil
	})
	called := time.Now()
	h.unpin(proto.DecisionSubject("apm", "shop", "web"))
	stopB := g.start(t, "B", "executor-b", regB, nil)
	d2 := decision("shop", 1, 3, 5)
	h.publish(d2)
	// Past A's lease (taken before its call) and the server's expiry
	// tick, then one more attempt of B's: B must not call its driver
	// while A's change is not recorded.
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, calls := g.c.state(); len(calls) > 1 {
			return nil // fails below
		}
		if since := time.Since(called); since < g.lease+2*time.Second {
			return fmt.Errorf("%s since A's call, waiting past its lease of %s", since.Round(time.Second), g.lease)
		}
		return nil
	})
	waited, _ := metricstest.Sum(t, regB, "headroom_executor_lease_waits_total")
	natstest.Eventually(t, 30*time.Second, func() error {
		if _, calls := g.c.state(); len(calls) > 1 {
			return nil // fails below
		}
		if n, _ := metricstest.Sum(t, regB, "headroom_executor_lease_waits_total"); n <= waited {
			return fmt.Errorf("B waited on the lease %v times, waiting for an attempt past A's lease", n)
		}
		return nil
	})
	st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	if _, calls := g.c.state(); len(calls) != 1 {
		t.Fatalf("calls %v while A's change of 3 was not recorded (state %+v): B acted on a tier whose lease lapsed in A's wait", calls, st)
	}
	if st != nil {
		t.Fatalf("state %+v stored while the events are refused", st)
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
