package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

func getHealth(t *testing.T, url string) map[string]gateway.ServiceHealth {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h gateway.HealthResponse
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	out := map[string]gateway.ServiceHealth{}
	for _, s := range h.Services {
		out[s.Name] = s
	}
	return out
}

// TestHealth: a service whose consumer is pulling is up with its lag and
// event-time lag; a consumer nobody pulls from, or none at all, is down; the
// collector is up while ticks are fresh.
func TestHealth(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	now := time.Now().Truncate(time.Second)
	for i := range 5 {
		m := proto.NewMetrics("shop", "web", now.Add(time.Duration(i-4)*time.Second), 2, proto.Floats{"rps": 1})
		publish(t, e.bus, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m})
	}
	// The forecaster runs and handles every tick; the executor's durable
	// exists but nobody pulls from it.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	handled := make(chan struct{}, 16)
	go func() {
		done <- e.bus.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics},
			func(context.Context, *bus.Msg) ([]bus.Out, error) { handled <- struct{}{}; return nil, nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	for range 5 {
		select {
		case <-handled:
		case <-time.After(10 * time.Second):
			t.Fatal("forecaster consumer handled nothing")
		}
	}
	if _, err := natstest.JetStream(t, e.bus).CreateOrUpdateConsumer(context.Background(), "DECISIONS", jetstream.ConsumerConfig{Durable: "executor", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		h := getHealth(t, e.srv.URL)
		f := h["forecaster"]
		if !f.Up || f.Lag == nil || *f.Lag != 0 || f.EventLagMS == nil || *f.EventLagMS != 0 {
			return fmt.Errorf("forecaster %+v", f)
		}
		return nil
	})
	h := getHealth(t, e.srv.URL)
	if c := h["collector"]; !c.Up || c.LastEvent != now.UnixMilli() {
		t.Errorf("collector %+v", c)
	}
	if x := h["executor"]; x.Up || x.Detail == "" {
		t.Errorf("executor %+v, want down (nobody pulls)", x)
	}
	if a := h["anomaly"]; a.Up {
		t.Errorf("anomaly %+v, want down (no consumer)", a)
	}
	if len(h) != 5 {
		t.Errorf("%d services, want 5", len(h))
	}
}

// TestHealthQuietPartitionNotBehind: a service's partition whose only app
// went quiet is caught up, not behind: with nothing pending on any of its
// consumers, the service's event-time lag is 0, however old the quiet
// app's last tick is against another app's newest.
func TestHealthQuietPartitionNotBehind(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	now := time.Now().Truncate(time.Second)
	for _, app := range []string{"quiet", "shop"} {
		at := now
		if app == "quiet" {
			at = now.Add(-10 * time.Minute)
		}
		m := proto.NewMetrics(app, "web", at, 2, proto.Floats{"rps": 1})
		publish(t, e.bus, bus.Out{Subject: proto.MetricsSubject("apm", app, "web"), Msg: m})
	}
	// One durable per partition, as a group has: p0 holds the quiet app,
	// p1 the busy one; both have handled everything.
	partitionConsumers(t, e, []string{"quiet", "shop"}, func(ctx context.Context, app string) error { return nil })
	natstest.Eventually(t, 10*time.Second, func() error {
		a := getHealth(t, e.srv.URL)["anomaly"]
		if a.Lag == nil || *a.Lag != 0 {
			return fmt.Errorf("anomaly %+v, want lag 0", a)
		}
		return nil
	})
	a := getHealth(t, e.srv.URL)["anomaly"]
	if a.EventLagMS == nil || *a.EventLagMS != 0 {
		t.Errorf("anomaly event lag %v ms with nothing pending, want 0 (a quiet partition is not behind)", ptrVal(a.EventLagMS))
	}
}

// partitionConsumers runs one anomaly durable per app, as a group's
// partitions (anomaly-p<i> reading apm.metrics.<app>.>), each handling its
// messages with handle, until the test ends; it returns once each has
// handled a first message (another's second does not count for it, and
// any number of messages may be handled without blocking).
func partitionConsumers(t *testing.T, e *env, apps []string, handle func(ctx context.Context, app string) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var done []chan error
	firsts := make([]chan struct{}, len(apps))
	for i, app := range apps {
		ch := make(chan error, 1)
		done = append(done, ch)
		first, once := make(chan struct{}), new(sync.Once)
		firsts[i] = first
		spec := bus.ConsumerSpec{Service: "anomaly", Name: fmt.Sprintf("anomaly-p%d", i), Kind: proto.KindMetrics,
			Filters: []string{"apm.metrics." + app + ".>"}}
		go func() {
			ch <- e.bus.Consume(ctx, spec, func(ctx context.Context, _ *bus.Msg) ([]bus.Out, error) {
				once.Do(func() { close(first) })
				return nil, handle(ctx, app)
			})
		}()
	}
	t.Cleanup(func() {
		cancel()
		for _, ch := range done {
			<-ch
		}
	})
	deadline := time.After(10 * time.Second)
	for i, first := range firsts {
		select {
		case <-first:
		case <-deadline:
			t.Fatalf("the anomaly consumer of %s handled nothing", apps[i])
		}
	}
}

func ptrVal(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestHealthRecheckIdleConsumer: a consumer that no request was pulling
// from when the health answer first read it (a member between two pull
// requests) is read again before the service is called down: the
// executor's member starts pulling between the two reads, and the answer
// has it up. One that stays idle is still down (TestHealth).
func TestHealthRecheckIdleConsumer(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	js := natstest.JetStream(t, e.bus)
	if _, err := js.CreateOrUpdateConsumer(context.Background(), "DECISIONS", jetstream.ConsumerConfig{Durable: "executor", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	idleSeen, resume := make(chan struct{}, 1), make(chan struct{})
	gateway.SetHealthRecheck(e.gw, func(ctx context.Context) error {
		select {
		case idleSeen <- struct{}{}:
		default:
		}
		select {
		case <-resume:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	answer := make(chan map[string]gateway.ServiceHealth, 1)
	go func() {
		h, err := readHealth(e.srv.URL)
		if err != nil {
			t.Error(err)
		}
		answer <- h
	}()
	select {
	case <-idleSeen:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle executor consumer was not read again")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- e.bus.Consume(ctx, bus.ConsumerSpec{Service: "executor", Name: "executor", Kind: proto.KindDecision},
			func(context.Context, *bus.Msg) ([]bus.Out, error) { return nil, nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	natstest.Eventually(t, 10*time.Second, func() error {
		c, err := js.Consumer(context.Background(), "DECISIONS", "executor")
		if err != nil {
			return err
		}
		ci, err := c.Info(context.Background())
		if err != nil {
			return err
		}
		if ci.NumWaiting == 0 {
			return fmt.Errorf("executor: no pull request waiting yet")
		}
		return nil
	})
	close(resume)
	if x := (<-answer)["executor"]; !x.Up {
		t.Errorf("executor %+v, want up: it pulls by the second read", x)
	}
}

// readHealth is getHealth for a goroutine other than the test's.
func readHealth(url string) (map[string]gateway.ServiceHealth, error) {
	resp, err := http.Get(url + "/api/v1/health")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h gateway.HealthResponse
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, err
	}
	out := map[string]gateway.ServiceHealth{}
	for _, s := range h.Services {
		out[s.Name] = s
	}
	return out, nil
}

// TestHealthNoRecheckForServiceDown: a service down for a reason of its
// own (the decider lacking two of its three durables) is not worth the
// recheck's wait for the idle consumer it has: the answer comes without
// it, and says what the service lacks.
func TestHealthNoRecheckForServiceDown(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	if _, err := natstest.JetStream(t, e.bus).CreateOrUpdateConsumer(context.Background(), "METRICS",
		jetstream.ConsumerConfig{Durable: "decider-metrics", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	var rechecks atomic.Int32
	gateway.SetHealthRecheck(e.gw, func(context.Context) error { rechecks.Add(1); return nil })
	h := getHealth(t, e.srv.URL)
	if d := h["decider"]; d.Up || !strings.Contains(d.Detail, "no consumer decider-") {
		t.Errorf("decider %+v, want down for a durable it lacks", d)
	}
	if n := rechecks.Load(); n != 0 {
		t.Errorf("the answer waited %d times to read again the idle consumers of services down already", n)
	}
}

// TestHealthLagOfItsOwnPartition: a partition with messages left to
// handle is behind the newest message on its own subjects, not the
// stream's, from the oldest it has not acknowledged: the slow app's member
// holds its first tick in work with two more after it (2 minutes of event
// time behind), and a busy app on another partition has sent a tick 10
// minutes after the slow app's first. Before, the answer read the stream's
// newest against the last delivered: 8 minutes.
func TestHealthLagOfItsOwnPartition(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	t0 := time.Now().Truncate(time.Second).Add(-time.Hour)
	for _, tick := range []struct {
		app string
		at  time.Duration
	}{{"slow", 0}, {"slow", time.Minute}, {"slow", 2 * time.Minute}, {"shop", 10 * time.Minute}} {
		m := proto.NewMetrics(tick.app, "web", t0.Add(tick.at), 2, proto.Floats{"rps": 1})
		publish(t, e.bus, bus.Out{Subject: proto.MetricsSubject("apm", tick.app, "web"), Msg: m})
	}
	partitionConsumers(t, e, []string{"slow", "shop"}, func(ctx context.Context, app string) error {
		if app == "slow" {
			<-ctx.Done() // held in work until the test ends
			return ctx.Err()
		}
		return nil
	})
	natstest.Eventually(t, 10*time.Second, func() error {
		a := getHealth(t, e.srv.URL)["anomaly"]
		if a.Lag == nil || *a.Lag != 3 {
			return fmt.Errorf("anomaly %+v, want lag 3 (one in work, two waiting)", a)
		}
		return nil
	})
	a := getHealth(t, e.srv.URL)["anomaly"]
	if want := (2 * time.Minute).Milliseconds(); a.EventLagMS == nil || *a.EventLagMS != want {
		t.Errorf("anomaly event lag %v ms, want %d (its partition's newest, not the busy app's)", ptrVal(a.EventLagMS), want)
	}
}
