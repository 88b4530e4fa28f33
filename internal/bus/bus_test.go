package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

var t0 = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

// mustBus connects to url with the default settings, changed by each of
// set, and provisions the streams.
func mustBus(t *testing.T, url string, set ...func(*bus.Config)) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL = url
	cfg.Name = "test"
	for _, f := range set {
		f(&cfg)
	}
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b
}

func tick(i int) bus.Out {
	m := proto.NewMetrics("shop", "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(i)})
	return bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m}
}

func streamMsgs(t *testing.T, b *bus.Bus, k proto.Kind) uint64 {
	t.Helper()
	s, err := b.StreamOf(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestEnsureStreamsIdempotent(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatalf("second EnsureStreams: %v", err)
	}
	for _, k := range proto.Kinds {
		s, err := b.StreamOf(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.CachedInfo().Config.Storage; got != jetstream.FileStorage {
			t.Errorf("%s storage %v, want file", k, got)
		}
	}
}

func TestPublishDeduplicates(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	for range 3 {
		if err := b.Publish(ctx, tick(1)); err != nil {
			t.Fatal(err)
		}
	}
	if n := streamMsgs(t, b, proto.KindMetrics); n != 1 {
		t.Fatalf("stored %d messages, want 1 (same id thrice)", n)
	}
	last, err := b.LastEventTimes(ctx, proto.KindMetrics, proto.Filter("apm", proto.KindMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if got := last["apm.metrics.shop.web"]; !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("last event time %v", got)
	}
	// LastMessages gives the last message's payload with its time.
	if err := b.Publish(ctx, tick(2)); err != nil {
		t.Fatal(err)
	}
	msgs, err := b.LastMessages(ctx, proto.KindMetrics, proto.Filter("apm", proto.KindMetrics))
	if err != nil {
		t.Fatal(err)
	}
	lm := msgs["apm.metrics.shop.web"]
	var m proto.Metrics
	if err := proto.Decode(lm.Data, &m); err != nil {
		t.Fatalf("last message's payload: %v", err)
	}
	if !lm.EventTime.Equal(t0.Add(2*time.Minute)) || m.TS != proto.Millis(lm.EventTime) {
		t.Fatalf("last message at %v, its payload's tick %d, want both at %v", lm.EventTime, m.TS, t0.Add(2*time.Minute))
	}
}

// TestConsumeOutputsAndDLQ runs a handler that answers each tick with a
// forecast, and rejects one undecodable payload: the outputs are stored, the
// bad one lands in the DLQ with its reason, and processing goes on after it.
func TestConsumeOutputsAndDLQ(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, Started: func() { close(started) }},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				if m.Replayed() {
					t.Errorf("message %d delivered live says it was replayed", m.Seq)
				}
				var tick proto.Metrics
				if err := proto.Decode(m.Data, &tick); err != nil {
					return nil, bus.Permanent(err)
				}
				seen.Add(1)
				f := &proto.Forecast{V: 1, ID: proto.ForecastID(tick.App, tick.Tier, "rps", tick.TS), App: tick.App, Tier: tick.Tier, TS: tick.TS, Metric: "rps", StepMS: 60000}
				return []bus.Out{{Subject: proto.ForecastSubject("apm", tick.App, tick.Tier), Msg: f}}, nil
			})
		if err != nil {
			t.Error(err)
		}
	}()
	<-started
	pub := func(i int) {
		if err := b.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	pub(0)
	pub(1)
	if _, err := natstest.JetStream(t, b).Publish(context.Background(), "apm.metrics.shop.web", []byte("not msgpack")); err != nil {
		t.Fatal(err)
	}
	pub(2)
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := streamMsgs(t, b, proto.KindForecast); n != 3 {
			return fmt.Errorf("%d forecasts", n)
		}
		if n := streamMsgs(t, b, proto.KindDLQ); n != 1 {
			return fmt.Errorf("%d dead letters", n)
		}
		return nil
	})
	s, _ := b.StreamOf(context.Background(), proto.KindDLQ)
	raw, err := s.GetLastMsgForSubject(context.Background(), "apm.dlq.forecaster")
	if err != nil {
		t.Fatal(err)
	}
	var dl proto.DeadLetter
	if err := proto.Decode(raw.Data, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Subject != "apm.metrics.shop.web" || string(dl.Payload) != "not msgpack" || dl.Error == "" || dl.Seq != 3 {
		t.Fatalf("dead letter %+v", dl)
	}
	cancel()
	wg.Wait()
	if seen.Load() != 3 {
		t.Fatalf("handled %d good messages, want 3", seen.Load())
	}
}

// TestConsumeRetriesTransient fails the first delivery of a message with a
// transient error: it is redelivered and then handled, not dead-lettered.
func TestConsumeRetriesTransient(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deliveries := make(chan uint64, 10)
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics, NakDelay: 20 * time.Millisecond, Started: func() { close(started) }},
			func(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
				deliveries <- m.Delivered
				if m.Delivered == 1 {
					return nil, errors.New("downstream busy")
				}
				return nil, nil
			})
	}()
	<-started
	if err := b.Publish(context.Background(), tick(7)); err != nil {
		t.Fatal(err)
	}
	for want := uint64(1); want <= 2; want++ {
		select {
		case got := <-deliveries:
			if got != want {
				t.Fatalf("delivery %d, want %d", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no delivery %d", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, b, proto.KindDLQ); n != 0 {
		t.Fatalf("%d dead letters, want 0", n)
	}
}

// TestConsumeResumesDurable checks that a durable consumer without Replay
// resumes after its acknowledged messages, and with Replay starts over.
func TestConsumeResumesDurable(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	for i := range 5 {
		if err := b.Publish(context.Background(), tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	run := func(replay bool, want int) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		var n atomic.Int64
		done := make(chan error, 1)
		go func() {
			done <- b.Consume(ctx, bus.ConsumerSpec{Service: "svc", Name: "svc", Kind: proto.KindMetrics, Replay: replay},
				func(context.Context, *bus.Msg) ([]bus.Out, error) { n.Add(1); return nil, nil })
		}()
		natstest.Eventually(t, 10*time.Second, func() error {
			if int(n.Load()) < want {
				return fmt.Errorf("%d of %d", n.Load(), want)
			}
			return nil
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if int(n.Load()) != want {
			t.Fatalf("handled %d, want %d", n.Load(), want)
		}
	}
	run(false, 5)
	if err := b.Publish(context.Background(), tick(5)); err != nil {
		t.Fatal(err)
	}
	run(false, 1) // resumes: only the new one
	run(true, 6)  // replay: all of them
}

func TestConfigValidate(t *testing.T) {
	c := bus.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.User, bad.Token = "u", "t"
	if bad.Validate() == nil {
		t.Fatal("two auth methods accepted")
	}
	bad = c
	bad.Prefix = "apm.*"
	if bad.Validate() == nil {
		t.Fatal("wildcard prefix accepted")
	}
	for _, n := range []int64{-1, 0, bus.ReplicaValueMax, 2*bus.ReplicaEntryMax - 1} {
		bad = c
		bad.Streams.ReplicaMaxBytes = n
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "stream.replica-max-bytes") {
			t.Errorf("replica bucket cap %d: %v, want a refusal naming stream.replica-max-bytes", n, err)
		}
	}
	for _, n := range []int64{-2, 0, 1, bus.MinMaxMsgsPerSeries - 1} {
		bad = c
		bad.Streams.MaxMsgsPerSeries = n
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "stream.max-msgs-per-series") {
			t.Errorf("per-series cap %d: %v, want a refusal naming stream.max-msgs-per-series", n, err)
		}
	}
	for _, n := range []int64{-1, bus.MinMaxMsgsPerSeries} {
		ok := c
		ok.Streams.MaxMsgsPerSeries = n
		if err := ok.Validate(); err != nil {
			t.Errorf("per-series cap %d: %v", n, err)
		}
	}
	if r := (bus.Config{Token: "s3cret"}).Redacted(); r.Token == "s3cret" {
		t.Fatal("token not redacted")
	}
}

// TestConnectErrorHidesPassword: a URL the client refuses is named in the
// error without its password, well-formed or not.
func TestConnectErrorHidesPassword(t *testing.T) {
	for _, u := range []string{
		"nats://u:s3cret@[::1",          // unclosed bracket
		"nats://u:s3cret@bad host:4222", // a space
		"nats://u:s3cret@%zz:4222",      // a bad escape
		"nats://u:s3cret@host:port",     // a port that is not a number
	} {
		cfg := bus.DefaultConfig()
		cfg.URL = u
		_, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
		if err == nil {
			t.Fatalf("%s: connected", u)
		}
		if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "REDACTED") {
			t.Errorf("%s: error shows the password: %v", u, err)
		}
	}
}
