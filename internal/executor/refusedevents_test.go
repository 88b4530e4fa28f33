package executor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// refusedEvents is an executor whose NATS user may not publish its
// scaling events (apm.scaling.>) until r.Allow, its logs, and the bus of
// an admin that provisioned the streams.
type refusedEvents struct {
	r     *natstest.Restricted
	admin *bus.Bus
	kv    *bus.Replicas
	logs  *natstest.Logs
	s     *executor.Service
	ready *service.Ready
	d     *proto.Decision
}

func newRefusedEvents(t *testing.T) *refusedEvents {
	t.Helper()
	r := natstest.StartRestricted(t, "executor", "apm.scaling.>")
	admin := r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	kv, err := admin.Replicas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	logs := &natstest.Logs{}
	eb := r.Connect(t, "executor", zerolog.New(logs))
	d := decision("shop", 1, 2, 3)
	ready := service.NewReady()
	s, err := executor.New(executor.DefaultConfig(), service.Deps{Bus: eb, Log: zerolog.New(logs), Reg: prometheus.NewRegistry(), Ready: ready},
		executor.WithClock(func() time.Time { return proto.Time(d.TS) }), executor.WithRefusedRetry(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range logs.Lines(t, "") {
				t.Log(l)
			}
		}
	})
	return &refusedEvents{r: r, admin: admin, kv: kv, logs: logs, s: s, ready: ready, d: d}
}

// decide waits for the running executor to be ready, sends it the
// decision and waits until its events were refused at least n times.
func (e *refusedEvents) decide(t *testing.T, n int) {
	t.Helper()
	natstest.Eventually(t, 10*time.Second, e.ready.Err)
	if err := e.admin.Publish(context.Background(), bus.Out{Subject: proto.DecisionSubject("apm", e.d.App, e.d.Tier), Msg: e.d}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := len(natstest.Payloads(t, e.admin, "DLQ", "apm.dlq.executor")); n > 0 {
			return fmt.Errorf("the decision was dead-lettered while its events were refused (%d dead letters)", n)
		}
		if got := len(e.logs.Lines(t, "nats refusal, reported by its caller")); got < n {
			return fmt.Errorf("%d refusals of the events so far, waiting for %d", got, n)
		}
		return nil
	})
}

// TestRefusedEventsWait: an executor whose scaling events nats.conf does
// not let it publish (a fixable misconfiguration) publishes them again in
// place, the decision kept in progress, until the server allows them:
// the handling failed instead, and the decision, judged again on its next
// delivery (500 ms later, the refusal coming at once), found its change
// already running and made no event, so the events of a change the driver
// made were lost; had it kept failing, its 5 deliveries went in seconds.
// Allowed again, the change's events and the state are stored and nothing
// is dead-lettered.
func TestRefusedEventsWait(t *testing.T) {
	e := newRefusedEvents(t)
	d, admin := e.d, e.admin
	stop := natstest.Serve(t, "executor", e.s.Run)
	defer stop()
	// More refused attempts than the consumer's 5 deliveries.
	e.decide(t, 8)
	e.r.Allow(t)
	natstest.Eventually(t, 20*time.Second, func() error {
		st, err := executor.ReadState(context.Background(), e.kv, d.App, d.Tier)
		if err != nil {
			return err
		}
		if st == nil || st.TS < d.TS {
			return fmt.Errorf("state %+v does not cover %s yet", st, d.ID)
		}
		return nil
	})
	requested := false
	for _, data := range natstest.Payloads(t, admin, "SCALING", proto.AppFilter("apm", proto.KindScaling, d.App)) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			t.Fatal(err)
		}
		requested = requested || sc.DecisionID == d.ID && sc.Status == proto.StatusRequested
	}
	if !requested {
		t.Errorf("the change's requested event not stored once allowed")
	}
	if n := len(natstest.Payloads(t, admin, "DLQ", "apm.dlq.executor")); n > 0 {
		t.Errorf("%d dead letters, want none", n)
	}
}

// TestRefusedEventsWaitEndsAtStop: an executor waiting, in place, for the
// server to allow its scaling events stops when told to: the handling
// goes on after shutdown begins (an action begun is finished), so the
// wait ran on a context that never ends and Run never returned while
// nats.conf stayed wrong (the consumer's drain waits for its handler).
// Stopped, the decision is left unacknowledged, redelivered later.
func TestRefusedEventsWaitEndsAtStop(t *testing.T) {
	e := newRefusedEvents(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx) }()
	e.decide(t, 3)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return in 30s of its stop: the refused events' wait ignores shutdown")
	}
}
