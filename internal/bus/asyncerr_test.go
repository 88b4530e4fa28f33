package bus

import (
	"bytes"
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

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/proto"
)

func violation(subject string) error {
	return fmt.Errorf("%w: Permissions Violation for Publish to %q", nats.ErrPermissionViolation, subject)
}

// TestRefusalKey: a publish's or a subscription's refusal is keyed by
// what it refused (a subject, a consumer's creation or deletion on a
// stream, a subscription's subject); anything else has no key.
func TestRefusalKey(t *testing.T) {
	for _, tc := range []struct {
		err        error
		key, class string
	}{
		{violation("apm.metrics.shop-shadow.web"), "publish apm.metrics.shop-shadow.web", "publish"},
		{violation("$JS.API.CONSUMER.CREATE.DLQ.x_1.apm.dlq.>"), "consumer-create DLQ x", "consumer-create"},
		{violation("$JS.API.CONSUMER.CREATE.DLQ.x_12"), "consumer-create DLQ x", "consumer-create"},
		{violation("$JS.API.CONSUMER.CREATE.SCALING"), "consumer-create SCALING ", "consumer-create"},
		{violation("$JS.API.CONSUMER.DELETE.METRICS.x_1"), "consumer-delete METRICS x", "consumer-delete"},
		{violation("$JS.API.CONSUMER.DELETE.METRICS.part_p0"), "consumer-delete METRICS part_p0", "consumer-delete"},
		// The server Go-quotes the subject: a quote or backslash in it
		// comes escaped, and the key is the subject published to.
		{violation(`apm.metrics.a"b.web`), `publish apm.metrics.a"b.web`, "publish"},
		{violation(`apm.metrics.a\b.web`), `publish apm.metrics.a\b.web`, "publish"},
		{fmt.Errorf("%w: Permissions Violation for Publish to apm.x", nats.ErrPermissionViolation), "", ""}, // unquoted: not the server's
		// A subscription's refusal, with a queue group or without.
		{fmt.Errorf("%w: Permissions Violation for Subscription to %q", nats.ErrPermissionViolation, "apm.>"), "subscribe apm.>", "subscribe"},
		{fmt.Errorf("%w: Permissions Violation for Subscription to %q using queue %q", nats.ErrPermissionViolation, "_INBOX.x", "q"), "subscribe _INBOX.x", "subscribe"},
		{fmt.Errorf("%w: Permissions Violation for Subscription to apm.x", nats.ErrPermissionViolation), "", ""}, // unquoted: not the server's
		{errors.New(`Permissions Violation for Publish to "apm.x"`), "", ""},                                     // not the client's violation
		{nats.ErrSlowConsumer, "", ""},
	} {
		if key, class := refusalKey(tc.err); key != tc.key || class != tc.class {
			t.Errorf("refusalKey(%v) = %q, %q, want %q, %q", tc.err, key, class, tc.key, tc.class)
		}
	}
}

// TestAsyncErrorsSayOnce: a flood of publish refusals is logged once, the
// rest counted into one line at close; a refusal a caller waits on (and
// reports) is not logged as an error; errors that are no refusal are
// logged each; a waiter learns of a refusal after its count, not before.
func TestAsyncErrorsSayOnce(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	a := newAsyncErrors()
	n := a.count(publishKey("apm.metrics.x.web"))
	if changed, err := a.since(publishKey("apm.metrics.x.web"), n); err != nil || changed == nil {
		t.Fatalf("refused before any refusal: %v", err)
	}
	_, changed := a.generation()
	for i := range 180 {
		a.handle(log, nil, violation([]string{"apm.metrics.x.web", "apm.metrics.x.db", "apm.metrics.x.cache"}[i%3]))
	}
	select {
	case <-changed:
	default:
		t.Fatal("a refusal did not wake the waiters")
	}
	if _, err := a.since(publishKey("apm.metrics.x.web"), n); err == nil || !strings.Contains(err.Error(), `"apm.metrics.x.web"`) {
		t.Fatalf("refusal of apm.metrics.x.web: %v, want its own", err)
	}
	w := a.wait(createKey("DLQ", "x"), nil)
	a.handle(log, nil, violation("$JS.API.CONSUMER.CREATE.DLQ.x_1.apm.dlq.>"))
	w.done()
	a.handle(log, nil, nats.ErrSlowConsumer)
	a.handle(log, nil, nats.ErrSlowConsumer)
	a.flush(log)
	var said, counted, other int
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		switch {
		case strings.Contains(l, "slow consumer"):
			other++
		case strings.Contains(l, "CONSUMER.CREATE.DLQ") && strings.Contains(l, `"level":"error"`):
			t.Errorf("a claimed refusal logged as an error: %s", l)
		case strings.Contains(l, `"message":"nats async error"`):
			said++
		case strings.Contains(l, `"count":179`):
			counted++
		}
	}
	if said != 1 || counted != 1 || other != 2 {
		t.Fatalf("said %d, counted in %d lines, other errors %d; want 1, 1, 2:\n%s", said, counted, other, buf.String())
	}
}

// TestAsyncErrorsBounded: refusals of ever new subjects (a service
// publishing per app and tier, refused) keep at most maxRefusalKeys
// remembered; a key a caller is waiting on is kept through the forgetting,
// and one forgotten is never blamed on a publish counted before it.
func TestAsyncErrorsBounded(t *testing.T) {
	log := zerolog.Nop()
	a := newAsyncErrors()
	waited := publishKey("apm.metrics.waited.web")
	w := a.wait(waited, nil)
	defer w.done()
	a.handle(log, nil, violation("apm.metrics.waited.web"))
	n := a.count(waited)
	forgotten := publishKey("apm.metrics.app0.web")
	a.handle(log, nil, violation("apm.metrics.app0.web"))
	a.handle(log, nil, violation("apm.metrics.app0.web"))
	before := a.count(forgotten) // a publish sent now: 2 refusals before it
	for i := range 4 * maxRefusalKeys {
		a.handle(log, nil, violation(fmt.Sprintf("apm.metrics.app%d.web", i+1)))
	}
	a.mu.Lock()
	counts, last := len(a.counts), len(a.last)
	a.mu.Unlock()
	if counts > maxRefusalKeys || last > maxRefusalKeys {
		t.Fatalf("remembered %d counts and %d refusals after %d refused subjects, want at most %d", counts, last, 4*maxRefusalKeys+2, maxRefusalKeys)
	}
	if got := a.count(waited); got != n {
		t.Fatalf("a claimed key's count went from %d to %d", n, got)
	}
	a.handle(log, nil, violation("apm.metrics.waited.web"))
	if _, err := a.since(waited, n); err == nil {
		t.Fatal("a claimed key's refusal after the forgetting was not seen")
	}
	a.handle(log, nil, violation("apm.metrics.app0.web")) // counted from 0 again
	if _, err := a.since(forgotten, before); err != nil {
		t.Fatalf("a forgotten key blamed a publish counted before: %v", err)
	}
}

// TestRefusableOwnConsumerOnly: two watches creating consumers on one
// stream at once, one refused (a user let create consumers there for some
// filter subjects only): the refusal ends the refused one's wait, and the
// other's request goes on to its own end.
func TestRefusableOwnConsumerOnly(t *testing.T) {
	b := &Bus{async: newAsyncErrors()}
	log := zerolog.Nop()
	refusedIn := make(chan struct{})
	refused := make(chan error, 1)
	go func() {
		refused <- b.refusable(context.Background(), createKey("METRICS", "secret"), func(ctx context.Context) error {
			close(refusedIn)
			<-ctx.Done() // the request would wait out its timeout
			return ctx.Err()
		})
	}()
	<-refusedIn
	err := b.refusable(context.Background(), createKey("METRICS", "shop"), func(ctx context.Context) error {
		// The other watch's refusal arrives while this request is in
		// flight; the server then answers this one.
		b.async.handle(log, nil, violation("$JS.API.CONSUMER.CREATE.METRICS.secret_1.apm.metrics.secret.>"))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond): // the server's answer, unless ended first
			return nil
		}
	})
	if err != nil {
		t.Fatalf("a watch allowed its consumer failed with another's refusal: %v", err)
	}
	select {
	case err := <-refused:
		if !IsRefused(err) || !strings.Contains(err.Error(), "secret_1") {
			t.Fatalf("the refused watch: %v, want its refusal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the refused watch's wait did not end at its refusal")
	}
	b.async.mu.Lock()
	defer b.async.mu.Unlock()
	if len(b.async.counts) != 0 {
		t.Fatalf("the watches' keys outlived them: %v", b.async.counts)
	}
}

// TestRefusedBackoff: the waits after refusals in a row double from
// their base up to RefusedRetryMax, a publish's from 250 ms (publishUntil)
// and the other failures' still grow by 250 ms to 5 s; the first refusal
// and every tenth after are logged at the caller's level. A publish's
// refusals are counted in a row: the first after other failures (its
// server down, then back with nats.conf refusing it) waits 250 ms and is
// logged, whatever its attempt's number; and the other failures are
// counted afresh after refusals: the first waits 250 ms.
func TestRefusedBackoff(t *testing.T) {
	ms := time.Millisecond
	refused := fmt.Errorf("publish apm.metrics.shop.web: %w", nats.ErrPermissionViolation)
	other := errors.New("nats: timeout")
	var run FailureRun
	type want struct {
		wait   time.Duration
		warned bool
	}
	var steps []want
	for range 12 { // 250 ms, 500 ms, … 3 s
		steps = append(steps, want{time.Duration(len(steps)+1) * 250 * ms, true})
	}
	steps = append(steps, want{250 * ms, true}, want{500 * ms, false}, want{time.Second, false})
	steps = append(steps, want{250 * ms, true}, want{500 * ms, true}) // other failures again
	for i, w := range steps {
		err := other
		if i >= 12 && i < 15 {
			err = refused
		}
		wait, n, retried := publishUntil.next(&run, err)
		level := zerolog.WarnLevel // publishRetrying's line
		if IsRefused(err) {
			level = RefusedLevel(n, level)
		}
		if !retried || wait != w.wait || (level == zerolog.WarnLevel) != w.warned {
			t.Errorf("attempt %d (%v): wait %s at %s, want %s warned %v", i+1, err, wait, level, w.wait, w.warned)
		}
	}
	for n, w := range map[int]time.Duration{1: 250 * ms, 2: 500 * ms, 3: time.Second, 7: 16 * time.Second, 8: RefusedRetryMax, 1000: RefusedRetryMax} {
		if got := RefusedBackoff(250*ms, n); got != w {
			t.Errorf("RefusedBackoff(250ms, %d) = %s, want %s", n, got, w)
		}
	}
	var others FailureRun
	for range 99 {
		publishUntil.next(&others, other)
	}
	if wait, _, _ := publishUntil.next(&others, other); wait != 5*time.Second {
		t.Errorf("the 100th attempt, failed: wait %s, want 5s", wait)
	}
	if got := RefusedBackoff(time.Second, 6); got != RefusedRetryMax {
		t.Errorf("RefusedBackoff(1s, 6) = %s, want %s", got, RefusedRetryMax)
	}
	var logged []int
	for n := 1; n <= 25; n++ {
		if refusedLogged(n) {
			logged = append(logged, n)
		}
	}
	if fmt.Sprint(logged) != "[1 11 21]" {
		t.Errorf("refused attempts logged %v, want [1 11 21]", logged)
	}
}

// TestDeadLetterLevel: a failed dead letter's line is an error at the
// first attempt, at each attempt its nak's delay grows and every tenth
// past them, as the rule deadLetter spelt out before it used RefusedLevel.
func TestDeadLetterLevel(t *testing.T) {
	for _, base := range []time.Duration{0, time.Millisecond, 500 * time.Millisecond, time.Second, RefusedRetryMax} {
		var logged []int
		for attempt := 1; attempt <= 1000; attempt++ {
			wait := RefusedBackoff(base, attempt)
			was := attempt == 1 || wait != RefusedBackoff(base, attempt-1) || refusedLogged(attempt)
			got := deadLetterLevel(base, attempt)
			if (got == zerolog.ErrorLevel) != was || got != zerolog.ErrorLevel && got != zerolog.DebugLevel {
				t.Errorf("base %s, attempt %d: %s, want an error line %v", base, attempt, got, was)
			}
			if got == zerolog.ErrorLevel && attempt <= 25 {
				logged = append(logged, attempt)
			}
		}
		if base == 500*time.Millisecond && fmt.Sprint(logged) != "[1 2 3 4 5 6 7 11 21]" {
			t.Errorf("base 500ms: error lines at attempts %v, want [1 2 3 4 5 6 7 11 21]", logged)
		}
	}
}

// sentFuture is a PubAckFuture that nothing answers, as the server leaves
// a publish it refuses the user.
type sentFuture struct{ m *nats.Msg }

func (f sentFuture) Ok() <-chan *jetstream.PubAck { return nil }
func (f sentFuture) Err() <-chan error            { return nil }
func (f sentFuture) Msg() *nats.Msg               { return f.m }

// TestAwaitedRefusalKeptThroughForgetting: the refusal of an asynchronous
// publish whose caller still waits on it (PublishAsyncOnce's future, not
// Done) is kept through the forgetting of refused keys, as a waiter's is:
// a service refused on more subjects than maxRefusalKeys (a forecaster's
// series) would otherwise have its future miss the refusal that arrived
// before its caller looked, and wait its attempt's timeout. Once Done,
// its key may be forgotten again.
func TestAwaitedRefusalKeptThroughForgetting(t *testing.T) {
	log := zerolog.Nop()
	a := newAsyncErrors()
	subject := "apm.forecast.shop.web"
	key := publishKey(subject)
	m := &nats.Msg{Subject: subject, Header: nats.Header{jetstream.MsgIDHeader: []string{"f.shop.web.60000"}}}
	f := &refusableFuture{PubAckFuture: sentFuture{m}, a: a, key: key}
	a.send(m, f)
	a.handle(log, nil, violation(subject)) // its refusal, before its caller looks
	for i := range 2 * maxRefusalKeys {
		a.handle(log, nil, violation(fmt.Sprintf("apm.forecast.app%d.web", i)))
	}
	if _, err := f.Refused(); !IsRefused(err) {
		t.Fatalf("Refused after %d other refused subjects: %v, want its refusal", 2*maxRefusalKeys, err)
	}
	f.Done()
	for i := range 2 * maxRefusalKeys {
		a.handle(log, nil, violation(fmt.Sprintf("apm.forecast.other%d.web", i)))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := len(a.counts); n > maxRefusalKeys {
		t.Errorf("%d keys remembered once the future is done, want at most %d", n, maxRefusalKeys)
	}
	if _, ok := a.counts[key]; ok {
		t.Errorf("the done future's key %q still remembered", key)
	}
}

// toldTwo sends two watched publishes of subject on a, and has the server
// refuse the first: both futures are told that refusal (a refusal names
// the subject alone).
func toldTwo(t *testing.T, a *asyncErrors, log zerolog.Logger, subject string) [2]*refusableFuture {
	t.Helper()
	var fs [2]*refusableFuture
	for i := range fs {
		m := &nats.Msg{Subject: subject, Header: nats.Header{jetstream.MsgIDHeader: []string{fmt.Sprintf("f.shop.web.%d", i)}}}
		fs[i] = &refusableFuture{PubAckFuture: sentFuture{m}, a: a, key: publishKey(subject)}
		a.send(m, fs[i])
	}
	a.handle(log, nil, violation(subject)) // the first's refusal
	for i, f := range fs {
		if _, err := f.Refused(); !IsRefused(err) {
			t.Fatalf("future %d not told the refusal: %v", i, err)
		}
	}
	return fs
}

// TestToldAnotherRefusalStoredOwesNone: a future told the refusal of an
// earlier publish of its subject (a refusal names the subject alone) and
// then stored after all (the user allowed again between the two) is owed
// no refusal, whether its acknowledgement comes before or after its Done:
// the subject's next refusal, which no caller waits on, is logged as the
// connection's error, not left at debug to a caller long gone.
func TestToldAnotherRefusalStoredOwesNone(t *testing.T) {
	subject := "apm.forecast.shop.web"
	for _, c := range []struct {
		name       string
		ackBefore  bool // the second's acknowledgement comes before its Done
		firstFails bool // the first's timeout comes before the next refusal
	}{
		{"acknowledged then done", true, false},
		{"done then acknowledged", false, false},
		{"done then acknowledged, the first timed out", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := zerolog.New(&buf)
			a := newAsyncErrors()
			fs := toldTwo(t, a, log, subject)
			if c.ackBefore {
				a.stored(nil, fs[1].Msg(), nil)
			}
			fs[0].Done()
			fs[1].Done()
			if !c.ackBefore {
				a.stored(nil, fs[1].Msg(), nil)
			}
			if c.firstFails {
				a.failed(nil, fs[0].Msg(), jetstream.ErrAsyncPublishTimeout)
			}
			if strings.Contains(buf.String(), "nats async error") {
				t.Fatalf("the refusal its callers report logged as the connection's error: %s", buf.String())
			}
			a.handle(log, nil, violation(subject)) // nobody's
			if n := strings.Count(buf.String(), `"nats async error"`); n != 1 {
				t.Errorf("%d \"nats async error\" lines for a refusal no caller waits on, want 1:\n%s", n, buf.String())
			}
			if !c.firstFails {
				a.failed(nil, fs[0].Msg(), jetstream.ErrAsyncPublishTimeout)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.awaited) != 0 || len(a.watched) != 0 || len(a.futures) != 0 || len(a.sent) != 0 || len(a.dropped) != 0 {
				t.Errorf("left awaited %v, watched %v, %d futures, sent %v, dropped %v once settled, want none",
					a.awaited, a.watched, len(a.futures), a.sent, a.dropped)
			}
		})
	}
}

// TestUnsentCountsNoDrop: a refusal counted as a failed asynchronous
// publish (dropped) while the only one in flight on its subject then
// fails to be sent (unsent) was no publish's in flight: the subject's next
// publish that fails is counted, and nothing is left in the books.
func TestUnsentCountsNoDrop(t *testing.T) {
	subject := "apm.forecast.shop.web"
	reg := prometheus.NewRegistry()
	a := newAsyncErrors()
	a.metrics = newMetrics(reg)
	msg := func(i int) *nats.Msg {
		return &nats.Msg{Subject: subject, Header: nats.Header{jetstream.MsgIDHeader: []string{fmt.Sprintf("f.shop.web.%d", i)}}}
	}
	first := msg(0)
	a.send(first, nil)
	a.handle(zerolog.Nop(), nil, violation(subject)) // a synchronous publish's, its waiter gone
	a.unsent(first, nil)                             // the send failed
	second := msg(1)
	a.send(second, nil)
	a.failed(nil, second, jetstream.ErrAsyncPublishTimeout)
	if got, _ := metricstest.Sum(t, reg, "headroom_bus_publish_errors_total", "kind", string(proto.KindForecast)); got != 2 {
		t.Errorf("publish_errors_total %v after a refusal and a publish that timed out, want 2", got)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sent) != 0 || len(a.dropped) != 0 {
		t.Errorf("left sent %v, dropped %v once settled, want none", a.sent, a.dropped)
	}
}

// TestToldAnotherRefusalAnsweredOwesNone: a future told the refusal of an
// earlier publish of its subject whose own publish the stream then answers
// with an error (no stream responding, an API error: the server let it
// through, as it does not a publish it refuses, which nothing answers) is
// owed no refusal either, its Done before or after the answer: the
// subject's next refusal, which no caller waits on, is logged as the
// connection's error. And that publish counts as failed, though a refusal
// was counted for a publish of its subject in flight: the refusal was
// another's.
func TestToldAnotherRefusalAnsweredOwesNone(t *testing.T) {
	subject := "apm.forecast.shop.web"
	for _, c := range []struct {
		name         string
		answer       error
		answerBefore bool // the second's answer comes before its Done
	}{
		{"no responders, then done", jetstream.ErrNoStreamResponse, true},
		{"done, then an API error", &jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "JetStream system temporarily unavailable"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := zerolog.New(&buf)
			reg := prometheus.NewRegistry()
			a := newAsyncErrors()
			a.metrics = newMetrics(reg)
			fs := toldTwo(t, a, log, subject)
			if c.answerBefore {
				a.failed(nil, fs[1].Msg(), c.answer)
			}
			fs[0].Done()
			fs[1].Done()
			if !c.answerBefore {
				a.failed(nil, fs[1].Msg(), c.answer)
			}
			if got, _ := metricstest.Sum(t, reg, "headroom_bus_publish_errors_total", "kind", string(proto.KindForecast)); got != 2 {
				t.Errorf("publish_errors_total %v after a refusal and another publish answered with an error, want 2", got)
			}
			a.handle(log, nil, violation(subject)) // nobody's
			if n := strings.Count(buf.String(), `"nats async error"`); n != 1 {
				t.Errorf("%d \"nats async error\" lines for a refusal no caller waits on, want 1:\n%s", n, buf.String())
			}
			a.failed(nil, fs[0].Msg(), jetstream.ErrAsyncPublishTimeout)
			if got, _ := metricstest.Sum(t, reg, "headroom_bus_publish_errors_total", "kind", string(proto.KindForecast)); got != 2 {
				t.Errorf("publish_errors_total %v once the refused publish timed out, want 2", got)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.awaited) != 0 || len(a.watched) != 0 || len(a.futures) != 0 || len(a.sent) != 0 || len(a.dropped) != 0 {
				t.Errorf("left awaited %v, watched %v, %d futures, sent %v, dropped %v once settled, want none",
					a.awaited, a.watched, len(a.futures), a.sent, a.dropped)
			}
		})
	}
}
