package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/proto"
)

// flaky stores messages, refusing each one whose id is in fail the first
// n[id] times it is offered.
type flaky struct {
	mu     sync.Mutex
	fail   map[string]int
	stored []string
	offers int
	open   chan struct{} // while not closed, every publish fails
}

func (f *flaky) Publish(ctx context.Context, o bus.Out) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offers++
	select {
	case <-f.open:
	default:
		return errors.New("refused: store closed")
	}
	id := o.Msg.MsgID()
	if f.fail[id] > 0 {
		f.fail[id]--
		return fmt.Errorf("refused %s", id)
	}
	f.stored = append(f.stored, o.Subject+" "+id)
	return nil
}

func (f *flaky) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stored...)
}

// out is output i, on one of three subjects.
func out(i int) bus.Out {
	m := proto.NewMetrics("shop", "web", time.UnixMilli(int64(i)*1000), 1, map[string]float64{"rps": 1})
	return bus.Out{Subject: fmt.Sprintf("apm.x.%d", i%3), Msg: m}
}

// running runs o until the test ends and returns the context it runs in.
func running(t *testing.T, o *Outbox) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); o.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return ctx
}

func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not true after 10s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOrderAndRetries: outputs are stored once each, on each subject in the
// order added, a refused one retried (holding back those behind it on its
// subject) until stored.
func TestOrderAndRetries(t *testing.T) {
	f := &flaky{fail: map[string]int{out(2).Msg.MsgID(): 3, out(4).Msg.MsgID(): 1}, open: make(chan struct{})}
	close(f.open)
	reg := prometheus.NewRegistry()
	o, err := New(Config{MaxBackoff: time.Millisecond}, f, "test", zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	want := map[string][]string{}
	for i := range 30 {
		if err := o.Add(ctx, out(i)); err != nil {
			t.Fatal(err)
		}
		want[out(i).Subject] = append(want[out(i).Subject], out(i).Msg.MsgID())
	}
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	cancel()
	<-done
	got := map[string][]string{}
	for _, s := range f.ids() {
		subj, id, _ := strings.Cut(s, " ")
		got[subj] = append(got[subj], id)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	if f.offers != 30+4 {
		t.Fatalf("%d offers, want 34 (four refusals retried)", f.offers)
	}
}

// TestFullOutboxBlocks: with the store refusing everything, Add waits once
// Limit outputs are queued, gives up when its context ends, and proceeds
// when the store accepts again.
func TestFullOutboxBlocks(t *testing.T) {
	f := &flaky{open: make(chan struct{})}
	o, err := New(Config{Limit: 3, MaxBackoff: time.Millisecond, DrainTimeout: 20 * time.Millisecond}, f, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	for i := range 3 {
		if err := o.Add(ctx, out(i)); err != nil {
			t.Fatal(err)
		}
	}
	short, stop := context.WithTimeout(ctx, 20*time.Millisecond)
	err = o.Add(short, out(3))
	stop()
	if err == nil {
		t.Fatal("Add into a full outbox returned without room")
	}
	if left := o.Drain(ctx); left != 3 {
		t.Fatalf("drain left %d, want 3", left)
	}
	added := make(chan error, 1)
	go func() { added <- o.Add(ctx, out(3)) }()
	close(f.open)
	if err := <-added; err != nil {
		t.Fatal(err)
	}
	if left := o.Drain(context.Background()); left != 0 {
		// DrainTimeout is short: wait on the event instead.
		wait(t, "drained", func() bool { return o.Pending() == 0 })
	}
	cancel()
	<-done
	if got := len(f.ids()); got != 4 {
		t.Fatalf("%d stored, want 4", got)
	}
}

// stream is an asynchronous store like a JetStream stream: it stores what
// it is sent in the order sent, drops an id it holds already (a duplicate),
// and refuses each id in fail the first fail[id] times.
type stream struct {
	mu      sync.Mutex
	fail    map[string]int
	stored  map[string][]string // per subject, ids in the order stored
	has     map[string]bool
	offers  int
	dropped int
}

type done struct {
	ok  chan *jetstream.PubAck
	err chan error
}

func (d done) Ok() <-chan *jetstream.PubAck { return d.ok }
func (d done) Err() <-chan error            { return d.err }
func (d done) Msg() *nats.Msg               { return nil }

// Refused is nil, nil: the fake stores refuse through Err.
func (d done) Refused() (<-chan struct{}, error) { return nil, nil }
func (d done) Done()                             {}

func (s *stream) PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offers++
	d := done{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	id := o.Msg.MsgID()
	switch {
	case s.fail[id] > 0:
		s.fail[id]--
		d.err <- fmt.Errorf("refused %s", id)
	case s.has[id]:
		s.dropped++
		d.ok <- &jetstream.PubAck{Duplicate: true}
	default:
		s.has[id] = true
		s.stored[o.Subject] = append(s.stored[o.Subject], id)
		d.ok <- &jetstream.PubAck{}
	}
	return d, nil
}

func (s *stream) Publish(ctx context.Context, o bus.Out) error { return publishSync(s, o) }

// publishSync publishes o through p and waits for the outcome.
func publishSync(p AsyncPublisher, o bus.Out) error {
	f, err := p.PublishAsyncOnce(o)
	if err != nil {
		return err
	}
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	}
}

// TestWindowOrderAndRetries: with an asynchronous store, outputs are sent
// several at a time per subject; each is stored exactly once, in order on
// the subjects nothing was refused on, and a refused one is retried until
// stored, its successors sent again after it (dropped as duplicates where
// the store had them already).
func TestWindowOrderAndRetries(t *testing.T) {
	st := &stream{fail: map[string]int{out(2).Msg.MsgID(): 3, out(4).Msg.MsgID(): 1}, stored: map[string][]string{}, has: map[string]bool{}}
	o, err := New(Config{MaxBackoff: time.Millisecond, Window: 8}, st, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	want := map[string][]string{}
	for i := range 300 {
		if err := o.Add(ctx, out(i)); err != nil {
			t.Fatal(err)
		}
		want[out(i).Subject] = append(want[out(i).Subject], out(i).Msg.MsgID())
	}
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	for subj, ids := range want {
		got := st.stored[subj]
		if len(got) != len(ids) {
			t.Fatalf("%s: %d stored, want %d", subj, len(got), len(ids))
		}
		seen := map[string]bool{}
		for _, id := range got {
			seen[id] = true
		}
		for _, id := range ids {
			if !seen[id] {
				t.Fatalf("%s: %s never stored", subj, id)
			}
		}
		if subj == out(0).Subject && fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Fatalf("%s (nothing refused): stored out of order: %v", subj, got)
		}
	}
	if st.offers-st.dropped != 300+4 {
		t.Fatalf("%d offers, %d of them duplicates: want 304 new offers (four refusals retried)", st.offers, st.dropped)
	}
}

// TestStoredCalledOnceStored: AddThen's callback runs once per output, only
// after the store accepted it: never while the store refuses it, and never
// for an output still queued.
func TestStoredCalledOnceStored(t *testing.T) {
	f := &flaky{fail: map[string]int{}, open: make(chan struct{})}
	o, err := New(Config{MaxBackoff: time.Millisecond}, f, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)

	var mu sync.Mutex
	called := map[string]int{}
	storedWhenCalled := map[string]bool{}
	for i := range 6 {
		id := out(i).Msg.MsgID()
		if err := o.AddThen(ctx, out(i), func() {
			stored := false
			for _, s := range f.ids() {
				stored = stored || strings.HasSuffix(s, " "+id)
			}
			mu.Lock()
			defer mu.Unlock()
			called[id]++
			storedWhenCalled[id] = stored
		}); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, "refused at least once", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.offers >= 3 })
	mu.Lock()
	if len(called) != 0 {
		t.Fatalf("called back for %v while the store refused everything", called)
	}
	mu.Unlock()
	close(f.open)
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	wait(t, "every callback", func() bool { mu.Lock(); defer mu.Unlock(); return len(called) == 6 })
	mu.Lock()
	defer mu.Unlock()
	for id, n := range called {
		if n != 1 || !storedWhenCalled[id] {
			t.Errorf("%s: called %d times, stored when called: %v", id, n, storedWhenCalled[id])
		}
	}
}

// TestBlockedWhileRefused: while the store refuses, every subject with an
// output waits on its refused oldest one (Blocked, and the
// headroom_outbox_blocked_subjects gauge); once it accepts, none does.
func TestBlockedWhileRefused(t *testing.T) {
	f := &flaky{fail: map[string]int{}, open: make(chan struct{})}
	reg := prometheus.NewRegistry()
	o, err := New(Config{MaxBackoff: time.Millisecond}, f, "test", zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	if err := o.Add(ctx, out(0), out(1), out(2), out(3), out(4), out(5)); err != nil {
		t.Fatal(err)
	}
	wait(t, "three subjects blocked", func() bool { return o.Blocked() == 3 })
	if v, _ := metricstest.Sum(t, reg, "headroom_outbox_blocked_subjects"); v != 3 {
		t.Errorf("headroom_outbox_blocked_subjects %v, want 3", v)
	}
	close(f.open)
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	if n := o.Blocked(); n != 0 {
		t.Errorf("%d subjects blocked after every output was stored", n)
	}
}

// gated is a stream that refuses everything until opened; a publish of an
// id in hold waits for its channel first.
type gated struct {
	*stream
	mu   sync.Mutex
	open bool
	hold map[string]chan struct{}
}

func (g *gated) PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error) {
	id := o.Msg.MsgID()
	if ch := g.hold[id]; ch != nil {
		<-ch
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open {
		d := done{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
		d.err <- fmt.Errorf("refused %s: store closed", id)
		return d, nil
	}
	return g.stream.PublishAsyncOnce(o)
}

func (g *gated) Publish(ctx context.Context, o bus.Out) error { return publishSync(g, o) }

// TestNothingSentBehindAKnownRefusal: once the outbox knows the oldest
// output of a subject was refused, it sends nothing more behind it, even
// from a window it began sending before: were the store to accept again
// meanwhile, those would be stored ahead of the refused one. (The output
// whose publish was under way when the refusal came back is stored ahead:
// that much a window risks.)
func TestNothingSentBehindAKnownRefusal(t *testing.T) {
	h, a, b := out(0), out(3), out(6) // one subject
	release := make(chan struct{})
	g := &gated{stream: &stream{fail: map[string]int{}, stored: map[string][]string{}, has: map[string]bool{}},
		hold: map[string]chan struct{}{a.Msg.MsgID(): release}}
	reg := prometheus.NewRegistry()
	o, err := New(Config{MaxBackoff: time.Millisecond, Window: 8}, g, "test", zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	if err := o.Add(ctx, h, a, b); err != nil {
		t.Fatal(err)
	}
	// h is refused while a's publish is under way; then the store opens.
	wait(t, "h's refusal handled", func() bool { n, _ := metricstest.Sum(t, reg, "headroom_outbox_retries_total"); return n >= 1 })
	g.mu.Lock()
	g.open = true
	g.mu.Unlock()
	close(release)
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	g.stream.mu.Lock()
	defer g.stream.mu.Unlock()
	got := g.stream.stored[h.Subject]
	if slices.Index(got, b.Msg.MsgID()) < slices.Index(got, h.Msg.MsgID()) {
		t.Fatalf("b stored before the refused h: %v", got)
	}
}
