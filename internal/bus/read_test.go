package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// publishTicks stores n ticks of app's tier, one minute apart from t0.
func publishTicks(t *testing.T, b *bus.Bus, app, tier string, n int) {
	t.Helper()
	outs := make([]bus.Out, n)
	for i := range n {
		m := proto.NewMetrics(app, tier, t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(i)})
		outs[i] = bus.Out{Subject: proto.MetricsSubject("apm", app, tier), Msg: m}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.PublishAll(ctx, outs); err != nil {
		t.Fatal(err)
	}
}

func decodeTS(t *testing.T, r bus.Record) int64 {
	t.Helper()
	var m proto.Metrics
	if err := proto.Decode(r.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m.TS
}

// TestReaderReads checks the direct reads against a partitioned stream:
// subjects and results come back as published, with the partition apart.
func TestReaderReads(t *testing.T) {
	b := natstest.Bus(t, "reader", zerolog.New(zerolog.NewTestWriter(t)))
	ctx := context.Background()
	r, err := b.Reader(ctx, proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "METRICS" {
		t.Fatalf("name %s", r.Name())
	}
	if _, err := r.Newest(ctx); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("newest of an empty stream: %v, want ErrNotFound", err)
	}
	publishTicks(t, b, "shop", "web", 3)
	publishTicks(t, b, "shop", "db", 2)
	publishTicks(t, b, "blog", "web", 4) // sequences 6..9

	subjects, err := r.Subjects(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"apm.metrics.shop.web": 3, "apm.metrics.shop.db": 2, "apm.metrics.blog.web": 4}
	if fmt.Sprint(subjects) != fmt.Sprint(want) {
		t.Fatalf("subjects %v, want %v", subjects, want)
	}
	if s, err := r.Subjects(ctx, "apm.metrics.shop.*"); err != nil || len(s) != 2 || s["apm.metrics.shop.web"] != 3 {
		t.Fatalf("shop subjects %v, %v", s, err)
	}

	last, err := r.Last(ctx, "apm.metrics.shop.web")
	if err != nil {
		t.Fatal(err)
	}
	if last.Subject != "apm.metrics.shop.web" || last.Partition < 0 || last.Seq != 3 || last.Stream != "METRICS" {
		t.Fatalf("last %+v", last)
	}
	wantTS := proto.Millis(t0.Add(2 * time.Minute))
	if ts, ok := last.HeaderTime(); !ok || ts != wantTS || last.EventTime() != wantTS || decodeTS(t, last) != wantTS {
		t.Fatalf("last event time %d, %v; want %d", ts, ok, wantTS)
	}
	if app, err := r.Last(ctx, proto.AppFilter("apm", proto.KindMetrics, "blog")); err != nil || app.Seq != 9 {
		t.Fatalf("last of app blog: %+v, %v", app, err)
	}
	if _, err := r.Last(ctx, "apm.metrics.nope.web"); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("last of a subject never written: %v, want ErrNotFound", err)
	}

	next, err := r.Next(ctx, proto.AppFilter("apm", proto.KindMetrics, "blog"), 2)
	if err != nil || next.Seq != 6 || next.Subject != "apm.metrics.blog.web" {
		t.Fatalf("next blog tick from 2: %+v, %v", next, err)
	}
	if next, err := r.Next(ctx, "apm.metrics.shop.db", 1); err != nil || next.Seq != 4 {
		t.Fatalf("next shop.db tick from 1 (published form): %+v, %v", next, err)
	}
	if _, err := r.Next(ctx, "apm.metrics.shop.db", 6); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("next past the last: %v, want ErrNotFound", err)
	}
	if g, err := r.Get(ctx, 5); err != nil || g.Subject != "apm.metrics.shop.db" {
		t.Fatalf("get 5: %+v, %v", g, err)
	}
	if _, err := r.Get(ctx, 99); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("get 99: %v, want ErrNotFound", err)
	}
	newest, err := r.Newest(ctx)
	if err != nil || newest.Seq != 9 {
		t.Fatalf("newest %+v, %v", newest, err)
	}
	st, err := r.State(ctx)
	if err != nil || st.Msgs != 9 || st.FirstSeq != 1 || st.LastSeq != 9 || st.Name != "METRICS" ||
		st.Bytes == 0 || st.MaxBytes != b.StreamConfig(proto.KindMetrics).MaxBytes {
		t.Fatalf("state %+v, %v", st, err)
	}

	// An unpartitioned stream: the same calls, subjects stored as published.
	sc, err := b.Reader(ctx, proto.KindScaling)
	if err != nil {
		t.Fatal(err)
	}
	ev := &proto.Scaling{ID: "s1", App: "shop", Tier: "web", TS: proto.Millis(t0), Mode: "dry-run", Driver: "sim", Status: "ok"}
	if err := b.Publish(ctx, bus.Out{Subject: proto.ScalingSubject("apm", "shop", "web"), Msg: ev}); err != nil {
		t.Fatal(err)
	}
	if l, err := sc.Last(ctx, proto.ScalingSubject("apm", "shop", "web")); err != nil || l.Partition != -1 || l.Subject != "apm.scaling.shop.web" {
		t.Fatalf("last scaling event %+v, %v", l, err)
	}
}

// TestWatch reads a stream from its start, a sequence and a stored time,
// and follows new messages, through ordered consumers it removes on Stop.
func TestWatch(t *testing.T) {
	b := natstest.Bus(t, "watch", zerolog.New(zerolog.NewTestWriter(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := time.Now()
	publishTicks(t, b, "shop", "web", 5)
	publishTicks(t, b, "blog", "web", 5)

	read := func(spec bus.WatchSpec, n int) (*bus.Watch, []bus.Record) {
		t.Helper()
		w, err := b.Watch(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		var got []bus.Record
		for range n {
			m, err := w.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		return w, got
	}

	// Published-form filter on a partitioned stream, from the start.
	w, got := read(bus.WatchSpec{Kind: proto.KindMetrics, Filters: []string{"apm.metrics.shop.web"}, Start: bus.StartAll()}, 5)
	if w.Pending() != 5 {
		t.Fatalf("pending %d at open, want 5", w.Pending())
	}
	for i, m := range got {
		if m.Subject != "apm.metrics.shop.web" || m.Seq != uint64(i+1) || m.Pending != uint64(4-i) || m.Stream != "METRICS" || m.Partition < 0 {
			t.Fatalf("message %d: %+v", i, m)
		}
		if decodeTS(t, m) != proto.Millis(t0.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("message %d out of order", i)
		}
	}
	w.Stop()

	// From a sequence, two filters.
	w, got = read(bus.WatchSpec{Kind: proto.KindMetrics, Filters: []string{"apm.metrics.shop.*", "apm.metrics.blog.>"}, Start: bus.StartSeq(4)}, 7)
	if got[0].Seq != 4 || got[6].Seq != 10 || got[6].Pending != 0 {
		t.Fatalf("from sequence 4: first %d, last %d (pending %d)", got[0].Seq, got[6].Seq, got[6].Pending)
	}
	w.Stop()

	// From a stored time: every message was stored after before, none
	// after an hour from now.
	w, got = read(bus.WatchSpec{Kind: proto.KindMetrics, Start: bus.StartTime(before.Add(-time.Second))}, 10)
	if got[0].Seq != 1 {
		t.Fatalf("from a stored time before all: first %d", got[0].Seq)
	}
	w.Stop()
	late, err := b.Watch(ctx, bus.WatchSpec{Kind: proto.KindMetrics, Start: bus.StartTime(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if late.Pending() != 0 {
		t.Fatalf("from a stored time after all: %d pending", late.Pending())
	}
	late.Stop()

	// Only new messages.
	w, err = b.Watch(ctx, bus.WatchSpec{Kind: proto.KindMetrics, Filters: []string{"apm.metrics.blog.web"}})
	if err != nil {
		t.Fatal(err)
	}
	if w.Pending() != 0 {
		t.Fatalf("a new-only watch has %d pending", w.Pending())
	}
	publishTicks(t, b, "blog", "web", 6) // the sixth is new (the first five are duplicates)
	m, err := w.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Seq != 11 || decodeTS(t, m) != proto.Millis(t0.Add(5*time.Minute)) {
		t.Fatalf("new message %+v", m)
	}
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	if _, err := w.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("next with nothing new: %v, want the context's deadline", err)
	}
	w.Stop()

	// Stop removed every watch's consumer from the server.
	r, err := b.Reader(ctx, proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		cs, err := r.Consumers(ctx, "")
		if err != nil {
			return err
		}
		if len(cs) != 0 {
			return fmt.Errorf("%d consumers left after Stop: %+v", len(cs), cs)
		}
		return nil
	})
}

// TestFollow hands every message, recorded and new, to the callback in
// order until stopped.
func TestFollow(t *testing.T) {
	b := natstest.Bus(t, "follow", zerolog.New(zerolog.NewTestWriter(t)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishTicks(t, b, "shop", "web", 3)
	got := make(chan bus.Record, 16)
	stop, err := b.Follow(ctx, bus.WatchSpec{Kind: proto.KindMetrics, Start: bus.StartAll()}, func(m bus.Record) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	publishTicks(t, b, "shop", "web", 5) // ticks 3 and 4 are new
	for i := range 5 {
		select {
		case m := <-got:
			if m.Seq != uint64(i+1) || m.Subject != "apm.metrics.shop.web" {
				t.Fatalf("message %d: %+v", i, m)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not delivered", i)
		}
	}
	stop()
	stop() // twice is fine
}

// TestConsumers lists a durable's state as the gateway's health reads it.
func TestConsumers(t *testing.T) {
	b := natstest.Bus(t, "consumers", zerolog.New(zerolog.NewTestWriter(t)))
	ctx, cancel := context.WithCancel(context.Background())
	publishTicks(t, b, "shop", "web", 4)
	handled := make(chan struct{}, 4)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics},
			func(context.Context, *bus.Msg) ([]bus.Out, error) { handled <- struct{}{}; return nil, nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	for range 4 {
		select {
		case <-handled:
		case <-time.After(10 * time.Second):
			t.Fatal("consumer handled nothing")
		}
	}
	r, err := b.Reader(context.Background(), proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		cs, err := r.Consumers(context.Background(), "forecaster")
		if err != nil {
			return err
		}
		if len(cs) != 1 || cs[0].Name != "forecaster" || cs[0].Delivered != 4 || cs[0].AckFloor != 4 || cs[0].Pending != 0 || cs[0].AckPending != 0 || cs[0].Waiting == 0 {
			return fmt.Errorf("consumers %+v", cs)
		}
		return nil
	})
	if cs, err := r.Consumers(context.Background(), "anomaly"); err != nil || len(cs) != 0 {
		t.Fatalf("anomaly consumers %+v, %v; want none", cs, err)
	}
}

// TestReplicas stores, reads, lists and watches the replica bucket.
func TestReplicas(t *testing.T) {
	b := natstest.Bus(t, "replicas", zerolog.New(zerolog.NewTestWriter(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, err := b.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := kv.Keys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("keys of an empty bucket: %v, %v", keys, err)
	}
	if _, err := kv.Get(ctx, "shop.web"); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("get of a missing key: %v, want ErrNotFound", err)
	}
	if err := kv.Put(ctx, "shop.web", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if v, err := kv.Get(ctx, "shop.web"); err != nil || string(v) != "one" {
		t.Fatalf("get %q, %v", v, err)
	}
	if keys, err := kv.Keys(ctx); err != nil || len(keys) != 1 || keys[0] != "shop.web" {
		t.Fatalf("keys %v, %v", keys, err)
	}

	type put struct{ key, value string }
	puts := make(chan put, 8)
	started := make(chan struct{})
	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- kv.Watch(wctx, func() { close(started) }, func(k string, v []byte) { puts <- put{k, string(v)} })
	}()
	select {
	case p := <-puts:
		if p != (put{"shop.web", "one"}) {
			t.Fatalf("initial value %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("initial value not delivered")
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("started not called")
	}
	if err := kv.Put(ctx, "shop.db", []byte("two")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-puts:
		if p != (put{"shop.db", "two"}) {
			t.Fatalf("update %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("update not delivered")
	}
	wcancel()
	if err := <-done; err != nil {
		t.Fatalf("watch ended with %v", err)
	}
}

// TestReaderNewestAndFirstOn: NewestOn and FirstOn read filters as the
// server stores them, one filter or several (the newest of all, the first
// of all), none meaning the whole stream; a start below the stream's first
// message (purged under a consumer's ack floor) begins at the first kept,
// and a start between another filter's messages finds the next on its own.
func TestReaderNewestAndFirstOn(t *testing.T) {
	b := mustBus(t, natstest.RunJetStream(t))
	ctx := context.Background()
	// Stream order: a0 b0 a1 b1 a2 b2 (sequences 1..6).
	for i := range 3 {
		for _, app := range []string{"a", "b"} {
			m := proto.NewMetrics(app, "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(i)})
			if err := b.Publish(ctx, bus.Out{Subject: proto.MetricsSubject("apm", app, "web"), Msg: m}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := b.Reader(ctx, proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	a, bb := proto.AppFilter("apm", proto.KindMetrics, "a"), proto.AppFilter("apm", proto.KindMetrics, "b")
	none := proto.AppFilter("apm", proto.KindMetrics, "c")
	stored := proto.StoredForm("apm", proto.KindMetrics, proto.MetricsSubject("apm", "b", "web")) // apm.metrics.b.web.*
	for _, c := range []struct {
		name    string
		filters []string
		want    uint64 // 0: not found
	}{{"one", []string{a}, 5}, {"several", []string{a, bb}, 6}, {"whole stream", nil, 6}, {"stored form", []string{stored}, 6}, {"nothing", []string{none}, 0}} {
		m, err := r.NewestOn(ctx, c.filters)
		if c.want == 0 {
			if !errors.Is(err, bus.ErrNotFound) {
				t.Errorf("NewestOn %s: %v, %v; want not found", c.name, m.Seq, err)
			}
		} else if err != nil || m.Seq != c.want {
			t.Errorf("NewestOn %s: %d, %v; want %d", c.name, m.Seq, err, c.want)
		}
	}
	for _, c := range []struct {
		name    string
		filters []string
		seq     uint64
		want    uint64
	}{{"on another's message", []string{a}, 2, 3}, {"several", []string{bb, a}, 3, 3}, {"whole stream", nil, 4, 4},
		{"stored form", []string{stored}, 5, 6}, {"after the last", []string{a}, 6, 0}, {"nothing", []string{none}, 1, 0}} {
		m, err := r.FirstOn(ctx, c.filters, c.seq)
		if c.want == 0 {
			if !errors.Is(err, bus.ErrNotFound) {
				t.Errorf("FirstOn %s: %v, %v; want not found", c.name, m.Seq, err)
			}
		} else if err != nil || m.Seq != c.want {
			t.Errorf("FirstOn %s: %d, %v; want %d", c.name, m.Seq, err, c.want)
		}
	}
	s, err := b.StreamOf(ctx, proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(4)); err != nil { // keeps b1 a2 b2
		t.Fatal(err)
	}
	if m, err := r.FirstOn(ctx, []string{a}, 1); err != nil || m.Seq != 5 || m.EventTime() != t0.Add(2*time.Minute).UnixMilli() {
		t.Errorf("FirstOn a from 1 after the purge: %d at %d, %v; want 5 at a2's event time", m.Seq, m.EventTime(), err)
	}
}
