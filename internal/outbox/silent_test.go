package outbox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestSilentSubjectHoldsNoOther: an output no acknowledgement comes for
// (here a subject no stream stores that a plain subscriber listens to, so
// the server neither stores the publish nor answers "no responders")
// holds its own subject until its attempt's timeout (here a minute), not
// the outputs of the other subjects sent behind it: they are stored, and
// called stored in their order, while it waits.
func TestSilentSubjectHoldsNoOther(t *testing.T) {
	url := natstest.RunJetStream(t)
	b := natstest.Connect(t, url, "forecaster", zerolog.Nop(), true)
	tap, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tap.Close)
	const silent = "apm.tap.web"
	if _, err := tap.Subscribe(silent, func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := tap.Flush(); err != nil {
		t.Fatal(err)
	}
	o, err := New(Config{AttemptTimeout: time.Minute}, b, "test", zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	var mu sync.Mutex
	var order []int
	all := make(chan struct{})
	const n = 20
	start := time.Now()
	if err := o.Add(ctx, bus.Out{Subject: silent, Msg: metricsOut("web", 0).Msg}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := o.AddThen(ctx, metricsOut("db", i), func() {
			mu.Lock()
			defer mu.Unlock()
			if order = append(order, i); len(order) == n {
				close(all)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("after %s, %d of the other subject's %d outputs stored behind the silent one: want all, well before its attempt's timeout (1m)",
			time.Since(start), len(order), n)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, got := range order {
		if got != i {
			t.Fatalf("stored in the order %v, want the order added", order)
		}
	}
	if p := o.Pending(); p != 1 {
		t.Errorf("%d pending, want 1: the silent subject's output, still awaited", p)
	}
}

// quiet is a stream whose acknowledgements of the publishes on subject
// come only once speak is called; the others' come at once.
type quiet struct {
	*stream
	subject string
	mu      sync.Mutex
	spoken  bool
	held    []func()
}

func (q *quiet) PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if o.Subject != q.subject || q.spoken {
		return q.stream.PublishAsyncOnce(o)
	}
	d := done{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	q.held = append(q.held, func() {
		f, _ := q.stream.PublishAsyncOnce(o)
		select {
		case ack := <-f.Ok():
			d.ok <- ack
		case err := <-f.Err():
			d.err <- err
		}
	})
	return d, nil
}

func (q *quiet) Publish(ctx context.Context, o bus.Out) error { return publishSync(q, o) }

// speak acknowledges the held publishes, in the order sent, and the
// later ones at once.
func (q *quiet) speak() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.spoken = true
	for _, f := range q.held {
		f()
	}
	q.held = nil
}

// TestQuietSubjectHoldsOnlyItself: while one subject's acknowledgements do
// not come, the other subjects' outputs are stored and called stored in
// the order added, a refused one among them retried meanwhile; once they
// come, the quiet subject's outputs are stored in order too.
func TestQuietSubjectHoldsOnlyItself(t *testing.T) {
	q := &quiet{stream: &stream{fail: map[string]int{out(2).Msg.MsgID(): 3, out(4).Msg.MsgID(): 1}, stored: map[string][]string{}, has: map[string]bool{}},
		subject: out(0).Subject}
	o, err := New(Config{MaxBackoff: time.Millisecond, Window: 8, AttemptTimeout: time.Minute}, q, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	var mu sync.Mutex
	called := map[string][]string{}
	want := map[string][]string{}
	for i := range 300 {
		x := out(i)
		id := x.Msg.MsgID()
		want[x.Subject] = append(want[x.Subject], id)
		if err := o.AddThen(ctx, x, func() {
			mu.Lock()
			defer mu.Unlock()
			called[x.Subject] = append(called[x.Subject], id)
		}); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, "the other subjects' outputs stored", func() bool { return o.Pending() == 100 })
	check := func(subj string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(called[subj]) != fmt.Sprint(want[subj]) {
			t.Errorf("%s: called stored for %v, want %v", subj, called[subj], want[subj])
		}
	}
	check(out(1).Subject)
	check(out(2).Subject)
	mu.Lock()
	if n := len(called[q.subject]); n != 0 {
		t.Errorf("%d of the quiet subject's outputs called stored before any acknowledgement", n)
	}
	mu.Unlock()
	q.speak()
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	check(q.subject)
	q.stream.mu.Lock()
	defer q.stream.mu.Unlock()
	if got := q.stream.stored[q.subject]; fmt.Sprint(got) != fmt.Sprint(want[q.subject]) {
		t.Errorf("quiet subject stored %v, want %v", got, want[q.subject])
	}
}
