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

// lateAck is a stream that stores every publish at once but withholds the
// acknowledgement of one id until release: the store answers the outputs
// sent after it on its subject first, as a reply lost and resent by a
// route, or a stream whose leader moved between them, can.
type lateAck struct {
	*stream
	id       string
	mu       sync.Mutex
	released bool
	held     *done
	ack      *jetstream.PubAck
}

func (l *lateAck) PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error) {
	f, err := l.stream.PublishAsyncOnce(o)
	if err != nil || o.Msg.MsgID() != l.id {
		return f, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return f, nil
	}
	l.ack = <-f.Ok()
	d := done{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	l.held = &d
	return d, nil
}

func (l *lateAck) Publish(ctx context.Context, o bus.Out) error { return publishSync(l, o) }

// release hands over the withheld acknowledgement.
func (l *lateAck) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.released = true
	if l.held != nil {
		l.held.ok <- l.ack
	}
}

// TestNoneTakenAheadOfItsSubjectsLateOne: the acknowledgements of the
// outputs sent after one whose acknowledgement is late, on its subject, are
// not taken before its own: nothing of the subject is called stored (a
// stage would acknowledge the late one's input, stored or not) while the
// other subjects' outputs are; once it comes, the subject's are called
// stored in the order added.
func TestNoneTakenAheadOfItsSubjectsLateOne(t *testing.T) {
	l := &lateAck{stream: &stream{stored: map[string][]string{}, has: map[string]bool{}}, id: out(0).Msg.MsgID()}
	o, err := New(Config{Window: 8, AttemptTimeout: time.Minute}, l, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	var mu sync.Mutex
	called := map[string][]string{}
	want := map[string][]string{}
	others := make(chan struct{})
	const n = 30
	for i := range n {
		x := out(i)
		id := x.Msg.MsgID()
		want[x.Subject] = append(want[x.Subject], id)
		if err := o.AddThen(ctx, x, func() {
			mu.Lock()
			defer mu.Unlock()
			called[x.Subject] = append(called[x.Subject], id)
			if x.Subject != out(0).Subject && len(called[out(1).Subject])+len(called[out(2).Subject]) == 2*n/3 {
				close(others)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-others:
	case <-time.After(10 * time.Second):
		t.Fatal("the other subjects' outputs not called stored after 10s")
	}
	mu.Lock()
	if got := called[out(0).Subject]; len(got) != 0 {
		t.Errorf("called stored for %v before the late acknowledgement of %s came: want none", got, l.id)
	}
	mu.Unlock()
	if p := o.Pending(); p != n/3 {
		t.Errorf("%d pending, want the late one's subject's %d", p, n/3)
	}
	l.release()
	wait(t, "all stored once the late acknowledgement came", func() bool { return o.Pending() == 0 })
	mu.Lock()
	defer mu.Unlock()
	for subj, ids := range want {
		if fmt.Sprint(called[subj]) != fmt.Sprint(ids) {
			t.Errorf("%s: called stored for %v, want %v", subj, called[subj], ids)
		}
	}
}

// refusing is a store that acknowledges nothing and tells the server's
// refusals of a subject for the user's permissions as bus.RefusableFuture
// does: to the futures of the subject, and by closing the channel of the
// next refusal of anything.
type refusing struct {
	mu      sync.Mutex
	refused map[string]error
	changed chan struct{}
	offers  int
}

type refusable struct {
	done
	p       *refusing
	subject string
}

func (f refusable) Refused() (<-chan struct{}, error) {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	if err := f.p.refused[f.subject]; err != nil {
		return nil, err
	}
	return f.p.changed, nil
}

func (p *refusing) PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offers++
	return refusable{done: done{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}, p: p, subject: o.Subject}, nil
}

func (p *refusing) Publish(ctx context.Context, o bus.Out) error { return publishSync(p, o) }

// refuse refuses subject, as a server's refusal reaching the connection.
func (p *refusing) refuse(subject string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused[subject] = fmt.Errorf("publish %s: %w", subject, nats.ErrPermissionViolation)
	close(p.changed)
	p.changed = make(chan struct{})
}

// TestRefusalTakenWhileOneIsLate: a refusal of a subject that comes while
// the completer waits on another subject's late output is taken as it
// comes, not once the wait on the late one ends (here never: an hour's
// patience), so the refused subject stops sending behind its refused head
// within the refusal's round trip.
func TestRefusalTakenWhileOneIsLate(t *testing.T) {
	p := &refusing{refused: map[string]error{}, changed: make(chan struct{})}
	o, err := New(Config{AttemptTimeout: time.Minute}, p, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	o.patience = time.Hour
	ctx := running(t, o)
	if err := o.Add(ctx, out(0), out(1)); err != nil {
		t.Fatal(err)
	}
	wait(t, "both sent", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.offers == 2
	})
	wait(t, "the refused subject blocked while the other's output waits", func() bool {
		p.refuse(out(1).Subject) // again, till the completer has it in flight
		return o.Blocked() == 1
	})
}
