package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// metricsOut is the i-th metrics tick of shop's tier, on its real subject.
func metricsOut(tier string, i int) bus.Out {
	m := proto.NewMetrics("shop", tier, time.UnixMilli(int64(i+1)*60_000), 2, proto.Floats{"rps": float64(i)})
	return bus.Out{Subject: proto.MetricsSubject("apm", "shop", tier), Msg: m}
}

// TestRefusalSeenAtOnce: an output whose subject the server refuses the
// user (nats.conf) is known refused as the server's refusal arrives, not
// when its attempt's timeout (here a minute) passes without an
// acknowledgement: the server drops the publish and tells only the
// connection. Its subject is blocked (headroom_outbox_blocked_subjects)
// while another subject's outputs are stored, and it is stored, in order
// before the one behind it, once the subject is allowed.
func TestRefusalSeenAtOnce(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", proto.MetricsSubject("apm", "shop", "web"))
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	reg := prometheus.NewRegistry()
	o, err := New(Config{AttemptTimeout: time.Minute}, b, "test", zerolog.New(&logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	start := time.Now()
	if err := o.Add(ctx, metricsOut("web", 0), metricsOut("web", 1), metricsOut("db", 0), metricsOut("db", 1)); err != nil {
		t.Fatal(err)
	}
	// Well before the attempt's timeout: a refusal arrives in a round trip.
	deadline := start.Add(5 * time.Second)
	for {
		n, _ := metricstest.Sum(t, reg, "headroom_outbox_retries_total")
		if n >= 1 && o.Blocked() == 1 && o.Pending() == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v retries, %d subjects blocked, %d pending: want the refused subject's head retried and blocked, the allowed subject's stored",
				time.Since(start), n, o.Blocked(), o.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
	lines := logs.Lines(t, "output not stored, retrying with the same id")
	if len(lines) == 0 || !strings.Contains(lines[0]["error"].(string), "Permissions Violation") {
		t.Fatalf("retry lines %v, want the first to carry the server's refusal", lines)
	}
	// Named as the other services' retry lines name theirs: the subject,
	// and the wait as retry_in.
	if lines[0]["subject"] != proto.MetricsSubject("apm", "shop", "web") || lines[0]["retry_in"] == nil {
		t.Errorf("retry line %v, want its subject and its wait (retry_in)", lines[0])
	}
	if n := len(logs.Lines(t, "nats async error")); n != 0 {
		t.Errorf("%d \"nats async error\" lines for a refusal the outbox reports, want 0", n)
	}
	r.Allow(t)
	wait(t, "the refused subject's outputs stored once allowed", func() bool { return o.Pending() == 0 })
	if n := o.Blocked(); n != 0 {
		t.Errorf("%d subjects blocked once every output was stored", n)
	}
	// Nor any of the retries' refusals.
	if n := len(logs.Lines(t, "nats async error")); n != 0 {
		t.Errorf("%d \"nats async error\" lines for refusals the outbox reported, want 0", n)
	}
}

// denying is an asynchronous store that refuses each id in deny the first
// deny[id] times for the user's permissions (bus.IsRefused), recording
// when each id was offered.
type denying struct {
	*stream
	deny   map[string]int
	offers map[string][]time.Time
}

func (d *denying) PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error) {
	id := o.Msg.MsgID()
	d.stream.mu.Lock()
	d.offers[id] = append(d.offers[id], time.Now())
	refuse := d.deny[id] > 0
	if refuse {
		d.deny[id]--
	}
	d.stream.mu.Unlock()
	if !refuse {
		return d.stream.PublishAsyncOnce(o)
	}
	f := done{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	f.err <- fmt.Errorf("publish %s %s: %w", o.Subject, id, nats.ErrPermissionViolation)
	return f, nil
}

func (d *denying) Publish(ctx context.Context, o bus.Out) error { return publishSync(d, o) }

// TestRefusedHeadOnTheSharedSchedule: a head the server refuses for the
// user's permissions is retried on the shared schedule of such refusals
// (bus.RefusedBackoff from 250 ms, doubling), not 100 ms more at each
// attempt: a permission is granted by an operator, not by waiting, and
// each retry is a permissions violation in the server's log.
func TestRefusedHeadOnTheSharedSchedule(t *testing.T) {
	h := out(0)
	d := &denying{stream: &stream{fail: map[string]int{}, stored: map[string][]string{}, has: map[string]bool{}},
		deny: map[string]int{h.Msg.MsgID(): 3}, offers: map[string][]time.Time{}}
	o, err := New(Config{Window: 8}, d, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	if err := o.Add(ctx, h); err != nil {
		t.Fatal(err)
	}
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	d.stream.mu.Lock()
	defer d.stream.mu.Unlock()
	at := d.offers[h.Msg.MsgID()]
	if len(at) != 4 {
		t.Fatalf("head offered %d times, want 4 (three refusals)", len(at))
	}
	for n := 1; n < len(at); n++ {
		if gap, want := at[n].Sub(at[n-1]), bus.RefusedBackoff(refusedRetry, n); gap < want {
			t.Errorf("retry after refusal %d came %s after it, want at least %s (bus.RefusedBackoff)", n, gap, want)
		}
	}
}

// TestRetryAfter: the retry schedule and log level of a failed head. A
// permissions refusal's: 250 ms doubling to bus.RefusedRetryMax, a warning
// at the first and every tenth refusal in a row (bus.RefusedLevel), the
// refusals counted from the last other failure; any other failure's: 100 ms
// more at each attempt up to MaxBackoff, a warning at the first and every
// tenth other failure in a row (bus.FailureRun): an outage after refusals
// is said at once, as a refusal after an outage is.
func TestRetryAfter(t *testing.T) {
	o, err := New(Config{MaxBackoff: 5 * time.Second}, &flaky{}, "test", zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	refusal := fmt.Errorf("publish apm.x: %w", nats.ErrPermissionViolation)
	other := errors.New("no acknowledgement in 10s")
	type step struct {
		err   error
		wait  time.Duration
		level zerolog.Level
	}
	var steps []step
	for n := 1; n <= 12; n++ {
		level := zerolog.DebugLevel
		if n == 1 || n == 11 {
			level = zerolog.WarnLevel
		}
		steps = append(steps, step{refusal, min(250*time.Millisecond<<(n-1), bus.RefusedRetryMax), level})
	}
	steps = append(steps,
		step{other, 1300 * time.Millisecond, zerolog.WarnLevel},  // attempt 13: the first other failure in a row
		step{refusal, 250 * time.Millisecond, zerolog.WarnLevel}, // a first refusal again
		step{other, 1500 * time.Millisecond, zerolog.WarnLevel},  // a first other failure again
	)
	for n := 2; n <= 11; n++ { // attempts 16 to 25
		level := zerolog.DebugLevel
		if n == 11 {
			level = zerolog.WarnLevel
		}
		steps = append(steps, step{other, time.Duration(14+n) * 100 * time.Millisecond, level})
	}
	s := &subject{name: "apm.x"}
	for i, st := range steps {
		s.attempt++
		wait, level := o.retryAfter(s, st.err)
		if wait != st.wait || level != st.level {
			t.Errorf("attempt %d (%v): wait %s at %s, want %s at %s", i+1, st.err, wait, level, st.wait, st.level)
		}
	}
}

// blamed is a future as bus.PublishAsyncOnce gives it on a subject whose
// publish was refused: Refused tells the refusal once told (nil: at
// once), and for a publish stored after an earlier one's refusal (the
// server's names the subject alone) its acknowledgement arrives after the
// caller took that refusal (stored).
type blamed struct {
	ok      chan *jetstream.PubAck
	err     chan error
	refusal error
	told    chan struct{}
	stored  bool
}

func (b *blamed) Ok() <-chan *jetstream.PubAck { return b.ok }
func (b *blamed) Err() <-chan error            { return b.err }
func (b *blamed) Msg() *nats.Msg               { return nil }
func (b *blamed) Done()                        {}
func (b *blamed) Refused() (<-chan struct{}, error) {
	if b.told != nil {
		select {
		case <-b.told:
		default:
			return b.told, nil
		}
	}
	if b.stored {
		b.ok <- &jetstream.PubAck{} // the acknowledgement comes after
		b.stored = false
	}
	return nil, b.refusal
}

// permitted is a store the user is let publish to between its first and
// second output: the first is refused for the user's permissions, its
// refusal told once the second is sent (a round trip), the second stored,
// and both futures tell the first one's refusal; a retry goes to the
// stream.
type permitted struct {
	*stream
	offers int
	second chan struct{} // closed as the second output is sent
}

func (p *permitted) PublishAsyncOnce(o bus.Out) (bus.RefusableFuture, error) {
	p.stream.mu.Lock()
	p.offers++
	n := p.offers
	p.stream.mu.Unlock()
	if n > 2 {
		return p.stream.PublishAsyncOnce(o)
	}
	refusal := fmt.Errorf("publish %s: %w", o.Subject, nats.ErrPermissionViolation)
	f := &blamed{ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1), refusal: refusal}
	if n == 1 {
		f.told = p.second
	}
	if n == 2 {
		defer close(p.second)
		p.stream.mu.Lock()
		p.stream.has[o.Msg.MsgID()] = true
		p.stream.stored[o.Subject] = append(p.stream.stored[o.Subject], o.Msg.MsgID())
		p.stream.mu.Unlock()
		f.stored = true
	}
	return f, nil
}

func (p *permitted) Publish(ctx context.Context, o bus.Out) error { return publishSync(p, o) }

// TestStoredAheadOfARefusalLogged: a store that starts accepting again
// between two outputs of a window stores the second ahead of the first,
// refused; the second's future tells the first's refusal (a refusal names
// the subject alone), but its acknowledgement comes, and the outbox still
// logs it stored ahead of the refused one: should the process stop before
// the refused one is stored, the replay never makes it again, and the line
// is all that says so.
func TestStoredAheadOfARefusalLogged(t *testing.T) {
	a, b := out(0), out(3) // one subject
	p := &permitted{stream: &stream{fail: map[string]int{}, stored: map[string][]string{}, has: map[string]bool{}}, second: make(chan struct{})}
	var logs natstest.Logs
	o, err := New(Config{Window: 8}, p, "test", zerolog.New(&logs), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Both queued before the outbox runs: sent in one window.
	if err := o.Add(context.Background(), a, b); err != nil {
		t.Fatal(err)
	}
	running(t, o)
	wait(t, "all stored", func() bool { return o.Pending() == 0 })
	lines := logs.Lines(t, "output stored ahead of a refused one on its subject")
	if len(lines) != 1 || lines[0]["msg_id"] != b.Msg.MsgID() {
		t.Errorf("lines %v, want one naming %s", lines, b.Msg.MsgID())
	}
}
