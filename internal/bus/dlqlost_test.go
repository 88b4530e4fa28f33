package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestDeadLetterNotLostWhenDLQRefused: a message that fails at its last
// delivery while its dead letter cannot be stored (the service's user is
// refused the DLQ subject) is not given up: once the DLQ takes it again,
// the dead letter is stored, by the same consumer or by the one reading
// the durable after it stopped. The server's consumer used to have the
// bus's own MaxDeliver, so the nak after the failed store was never
// redelivered and the message was dropped with no dead letter.
func TestDeadLetterNotLostWhenDLQRefused(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			r := natstest.StartRestricted(t, "forecaster", proto.DLQSubject("apm", "forecaster"))
			admin := r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
			if err := admin.Publish(context.Background(), tick(0)); err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int64
			consume := func(b *bus.Bus) (stop func()) {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					done <- b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, MaxDeliver: 5, NakDelay: time.Millisecond},
						func(context.Context, *bus.Msg) ([]bus.Out, error) {
							calls.Add(1)
							return nil, errors.New("cannot handle it")
						})
				}()
				return func() {
					cancel()
					if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
						t.Error(err)
					}
				}
			}
			var logs natstest.Logs
			reg := prometheus.NewRegistry()
			cfg := bus.DefaultConfig()
			cfg.URL, cfg.Name, cfg.User, cfg.Password = r.Server.ClientURL(), "forecaster", "forecaster", "s3cret-forecaster"
			b, err := bus.Connect(context.Background(), cfg, zerolog.New(&logs), reg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close(5 * time.Second) })
			stop := consume(b)
			defer func() { stop() }()
			natstest.Eventually(t, 20*time.Second, func() error {
				if n, lines := calls.Load(), len(logs.Lines(t, "dead letter not stored, will retry")); n < 5 || lines == 0 {
					return fmt.Errorf("%d handler calls, %d failed dead letters", n, lines)
				}
				return nil
			})
			if n, _ := metricstest.Sum(t, reg, "headroom_bus_dead_letters_unstored_total", "consumer", "forecaster"); n < 1 {
				t.Errorf("headroom_bus_dead_letters_unstored_total %v after a dead letter refused, want at least 1", n)
			}
			if restart {
				stop()
				stop = consume(r.Connect(t, "forecaster", zerolog.Nop()))
			}
			r.Allow(t)
			natstest.Eventually(t, 30*time.Second, func() error {
				if n := streamMsgs(t, admin, proto.KindDLQ); n != 1 {
					return fmt.Errorf("%d dead letters stored after %d handler calls", n, calls.Load())
				}
				return nil
			})
			// Past MaxDeliver the message goes to the DLQ without the
			// handler: a failed dead letter is retried, not the handler.
			if n := calls.Load(); n != 5 {
				t.Errorf("handler called %d times, want 5 (MaxDeliver)", n)
			}
			if !restart {
				// Counted once its publish's acknowledgement is back,
				// which may come after the stream is seen holding it.
				natstest.Eventually(t, 10*time.Second, func() error {
					if n, _ := metricstest.Sum(t, reg, "headroom_bus_dead_letters_total", "consumer", "forecaster"); n != 1 {
						return fmt.Errorf("headroom_bus_dead_letters_total %v once stored, want 1", n)
					}
					return nil
				})
			}
		})
	}
}

// TestProvisionUnlimitsDeliveries: provisioning makes an existing
// partition durable's MaxDeliver unlimited (one provisioned when the
// server gave messages up at the bus's own limit, with no dead letter when
// the last one's could not be stored), leaving the rest as it was; and
// creates new ones so.
func TestProvisionUnlimitsDeliveries(t *testing.T) {
	b := natstest.Bus(t, "provision", zerolog.Nop())
	ctx := context.Background()
	if _, err := b.EnsureConsumers(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := b.StreamOf(ctx, proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	const name = "forecaster-p0"
	maxDeliver := func() int {
		t.Helper()
		c, err := s.Consumer(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return c.CachedInfo().Config.MaxDeliver
	}
	if got := maxDeliver(); got != -1 {
		t.Fatalf("new durable's MaxDeliver %d, want -1", got)
	}
	c, err := s.Consumer(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	old := c.CachedInfo().Config
	old.MaxDeliver = 5
	if _, err := s.UpdateConsumer(ctx, old); err != nil {
		t.Fatal(err)
	}
	created, err := b.EnsureConsumers(ctx)
	if err != nil || created != 0 {
		t.Fatalf("EnsureConsumers: %d created, %v; want 0, nil", created, err)
	}
	if got := maxDeliver(); got != -1 {
		t.Fatalf("provisioned durable's MaxDeliver %d, want -1", got)
	}
	c, err = s.Consumer(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	now := c.CachedInfo().Config
	now.MaxDeliver = old.MaxDeliver
	if fmt.Sprint(now) != fmt.Sprint(old) {
		t.Errorf("provisioning changed more than MaxDeliver:\n%+v\nwas\n%+v", now, old)
	}
}

// TestNeverSettledIsDeadLetteredUnhandled: a message whose deliveries
// never settle (here the handler takes its acknowledgement and never
// gives it, as a handler that crashes the process or hangs past AckWait
// leaves it) is handed to the handler MaxDeliver times, then
// dead-lettered without calling it again. With the server's MaxDeliver
// unlimited it was redelivered, and handled, forever: a crash loop.
func TestNeverSettledIsDeadLetteredUnhandled(t *testing.T) {
	const maxDeliver = 3
	b := mustBus(t, natstest.RunJetStream(t))
	if err := b.Publish(context.Background(), tick(0)); err != nil {
		t.Fatal(err)
	}
	var calls, lastDelivered atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics,
			MaxDeliver: maxDeliver, AckWait: 200 * time.Millisecond},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				calls.Add(1)
				lastDelivered.Store(m.Delivered)
				_ = m.Defer() // never acknowledged: the delivery never settles
				return nil, nil
			})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := streamMsgs(t, b, proto.KindDLQ); n != 1 {
			return fmt.Errorf("%d dead letters after %d handler calls", n, calls.Load())
		}
		return nil
	})
	s, err := b.StreamOf(context.Background(), proto.KindDLQ)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetLastMsgForSubject(context.Background(), proto.DLQSubject("apm", "forecaster"))
	if err != nil {
		t.Fatal(err)
	}
	var dl proto.DeadLetter
	if err := proto.Decode(raw.Data, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Seq != 1 || !strings.Contains(dl.Error, "never settled") {
		t.Errorf("dead letter seq %d, reason %q; want seq 1, never settled", dl.Seq, dl.Error)
	}
	// Terminated once its dead letter is stored: nothing left pending.
	ms, err := b.StreamOf(context.Background(), proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		c, err := ms.Consumer(context.Background(), "forecaster")
		if err != nil {
			return err
		}
		if info := c.CachedInfo(); info.NumAckPending != 0 || info.NumPending != 0 {
			return fmt.Errorf("%d unacknowledged, %d pending", info.NumAckPending, info.NumPending)
		}
		return nil
	})
	if n, d := calls.Load(), lastDelivered.Load(); n != maxDeliver || d != maxDeliver {
		t.Errorf("handler called %d times, last at delivery %d; want %d, at %d", n, d, maxDeliver, maxDeliver)
	}
}
