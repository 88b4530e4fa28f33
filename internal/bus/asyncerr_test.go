package bus

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

func violation(subject string) error {
	return fmt.Errorf("%w: Permissions Violation for Publish to %q", nats.ErrPermissionViolation, subject)
}

// TestRefusalKey: a publish's refusal is keyed by what it refused (a
// subject, a consumer's creation or deletion on a stream); anything else
// has no key.
func TestRefusalKey(t *testing.T) {
	for _, tc := range []struct {
		err        error
		key, class string
	}{
		{violation("apm.metrics.shop-shadow.web"), "publish apm.metrics.shop-shadow.web", "publish"},
		{violation("$JS.API.CONSUMER.CREATE.DLQ.x_1.apm.dlq.>"), "consumer-create DLQ", "consumer-create"},
		{violation("$JS.API.CONSUMER.CREATE.SCALING"), "consumer-create SCALING", "consumer-create"},
		{violation("$JS.API.CONSUMER.DELETE.METRICS.x_1"), "consumer-delete METRICS", "consumer-delete"},
		// The server Go-quotes the subject: a quote or backslash in it
		// comes escaped, and the key is the subject published to.
		{violation(`apm.metrics.a"b.web`), `publish apm.metrics.a"b.web`, "publish"},
		{violation(`apm.metrics.a\b.web`), `publish apm.metrics.a\b.web`, "publish"},
		{fmt.Errorf("%w: Permissions Violation for Publish to apm.x", nats.ErrPermissionViolation), "", ""}, // unquoted: not the server's
		{fmt.Errorf("%w: Permissions Violation for Subscription to %q", nats.ErrPermissionViolation, "apm.>"), "", ""},
		{errors.New(`Permissions Violation for Publish to "apm.x"`), "", ""}, // not the client's violation
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
	release := a.claim(createKey("DLQ"))
	a.handle(log, nil, violation("$JS.API.CONSUMER.CREATE.DLQ.x_1.apm.dlq.>"))
	release()
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
	release := a.claim(waited)
	defer release()
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
