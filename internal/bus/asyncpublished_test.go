package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// connectMetered connects to r as its service user, with the bus's
// metrics on a registry of the test's.
func connectMetered(t *testing.T, r *natstest.Restricted, user string) (*bus.Bus, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.User, cfg.Password = r.Server.ClientURL(), user, user, "s3cret-"+user
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.WaitConnected(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return b, reg
}

// waitMetric waits until the counter name of kind metrics is want.
func waitMetric(t *testing.T, reg prometheus.Gatherer, name string, want float64) {
	t.Helper()
	natstest.Eventually(t, 10*time.Second, func() error {
		if got, _ := metricstest.Sum(t, reg, name, "kind", string(proto.KindMetrics)); got != want {
			return fmt.Errorf("%s = %v, want %v", name, got, want)
		}
		return nil
	})
}

// TestAsyncPublishCountedWhenStored: headroom_bus_published_total counts
// an async publish (PublishAsyncOnce: the outbox's) once the stream
// stored it, as it does a synchronous one, not as it is sent; one the
// server refuses for the user's permissions is never stored and counts in
// headroom_bus_publish_errors_total instead, as a refused Publish does.
func TestAsyncPublishCountedWhenStored(t *testing.T) {
	defer bus.SetAsyncPublishTimeout(time.Second)()
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.locked.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	b, reg := connectMetered(t, r, "forecaster")

	f, err := b.PublishAsyncOnce(tick(0))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Ok():
	case err := <-f.Err():
		t.Fatalf("allowed publish failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("allowed publish not acknowledged in 10 s")
	}
	f.Done()
	waitMetric(t, reg, "headroom_bus_published_total", 1)

	locked := bus.Out{Subject: proto.MetricsSubject("apm", "locked", "web"),
		Msg: proto.NewMetrics("locked", "web", t0, 2, proto.Floats{"rps": 1})}
	f, err = b.PublishAsyncOnce(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Done()
	deadline := time.After(10 * time.Second)
	for {
		changed, refusal := f.Refused()
		if refusal != nil {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("refusal of the locked publish not told in 10 s")
		}
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_bus_published_total", "kind", string(proto.KindMetrics)); got != 1 {
		t.Errorf("published_total %v after a refused async publish, want 1: it was never stored", got)
	}
	// The server dropped it: its future fails at the client's timeout,
	// and it counts as a failed publish then.
	select {
	case <-f.Err():
	case <-f.Ok():
		t.Fatal("refused publish acknowledged")
	case <-time.After(10 * time.Second):
		t.Fatal("refused publish's future did not fail in 10 s")
	}
	waitMetric(t, reg, "headroom_bus_publish_errors_total", 1)
	waitMetric(t, reg, "headroom_bus_published_total", 1)
}

// TestPublishAllRefusedCountedOnce: a message PublishAll sends
// asynchronously, which the server refuses, and then stores by a
// synchronous retry once allowed, counts once in
// headroom_bus_published_total: the async send stored nothing.
func TestPublishAllRefusedCountedOnce(t *testing.T) {
	defer bus.SetAsyncPublishTimeout(time.Second)()
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.>")
	admin := r.Connect(t, "admin", zerolog.Nop())
	b, reg := connectMetered(t, r, "forecaster")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.PublishAll(ctx, []bus.Out{tick(0)}) }()
	// The async send's refusal ends its wait; the synchronous retries
	// are refused and counted until allowed.
	natstest.Eventually(t, 10*time.Second, func() error {
		if got, _ := metricstest.Sum(t, reg, "headroom_bus_publish_errors_total", "kind", string(proto.KindMetrics)); got < 1 {
			return fmt.Errorf("no publish error counted yet")
		}
		return nil
	})
	r.Allow(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, admin, proto.KindMetrics); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	// The async send's future fails at its timeout (1 s here), after
	// which nothing more is counted as published.
	natstest.Eventually(t, 10*time.Second, func() error {
		if b.PendingPublishes() != 0 {
			return fmt.Errorf("%d async publishes pending", b.PendingPublishes())
		}
		return nil
	})
	waitMetric(t, reg, "headroom_bus_published_total", 1)
}

// TestPublishAllRefusalLoggedByItsRetry: the server's refusal of a
// message PublishAll sent asynchronously is reported by PublishAll (its
// retry's "publish failed" line), so the connection's handler logs it at
// debug level, not also as a "nats async error" at error level.
func TestPublishAllRefusalLoggedByItsRetry(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.>")
	r.Connect(t, "admin", zerolog.Nop())
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.PublishAll(ctx, []bus.Out{tick(0)}) }()
	// The async send's refusal, which came first, ended its wait; the
	// synchronous retry's refusal came before its line.
	natstest.Eventually(t, 10*time.Second, func() error {
		if len(logs.Lines(t, "publish failed, retrying with the same id")) == 0 {
			return fmt.Errorf("no refused retry logged yet")
		}
		return nil
	})
	r.Allow(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lines := logs.Lines(t, "nats async error"); len(lines) != 0 {
		t.Errorf("the refusal PublishAll reports was logged by the connection's handler too: %v", lines)
	}
	if n := len(logs.Lines(t, "nats refusal, reported by its caller")); n < 2 {
		t.Errorf("%d refusals left to their caller, want the async send's and the retry's", n)
	}
}

// TestAsyncRefusalCountedAsItComes: an async publish the server refuses
// for the user's permissions counts in headroom_bus_publish_errors_total
// as its refusal comes, not at its future's timeout (20 s; 5 s here), the
// server having dropped it; and once only, its timeout then counting
// nothing more. Whether or not its caller watches for the refusal.
func TestAsyncRefusalCountedAsItComes(t *testing.T) {
	defer bus.SetAsyncPublishTimeout(5 * time.Second)()
	r := natstest.StartRestricted(t, "forecaster", "apm.metrics.locked.>")
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	b, reg := connectMetered(t, r, "forecaster")
	for i, c := range []struct {
		name string
		send func(o bus.Out) (done func(), err error)
	}{
		{"PublishAsync", func(o bus.Out) (func(), error) {
			_, err := b.PublishAsync(o)
			return func() {}, err
		}},
		{"PublishAsyncOnce", func(o bus.Out) (func(), error) {
			f, err := b.PublishAsyncOnce(o)
			if err != nil {
				return nil, err
			}
			return f.Done, nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := float64(i + 1)
			start := time.Now()
			done, err := c.send(bus.Out{Subject: proto.MetricsSubject("apm", "locked", "web"),
				Msg: proto.NewMetrics("locked", "web", t0, i, proto.Floats{"rps": 1})})
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			waitMetric(t, reg, "headroom_bus_publish_errors_total", want)
			if n := b.PendingPublishes(); n != 1 {
				t.Fatalf("refused publish counted failed %s after it was sent with %d publishes pending: at its timeout, want as its refusal comes",
					time.Since(start).Round(time.Millisecond), n)
			}
			natstest.Eventually(t, 10*time.Second, func() error {
				if n := b.AsyncInFlight(); n != 0 {
					return fmt.Errorf("%d async publishes not settled", n)
				}
				return nil
			})
			if got, _ := metricstest.Sum(t, reg, "headroom_bus_publish_errors_total", "kind", string(proto.KindMetrics)); got != want {
				t.Errorf("publish_errors_total %v once the refused publish timed out, want %v: counted once", got, want)
			}
		})
	}
}
