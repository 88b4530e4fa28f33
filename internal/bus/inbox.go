package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// ErrInboxRefused says the server refused this client the subscription to
// its own inbox, where every reply and consumer delivery comes: no
// JetStream request of the client can be answered (each would wait out its
// timeout). deploy/nats.conf lets each user subscribe only under
// _INBOX_<user>, hence -nats.inbox-prefix.
var ErrInboxRefused = errors.New("the NATS server refused this client's inbox subscription")

// refusedSubscription is the subject whose subscription err refuses (the
// server's "Permissions Violation for Subscription to %q", with or without
// a queue after it), or "".
func refusedSubscription(err error) string {
	if !IsRefused(err) {
		return ""
	}
	const marker = `Permissions Violation for Subscription to `
	msg := err.Error()
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	quoted, qerr := strconv.QuotedPrefix(msg[i+len(marker):])
	if qerr != nil {
		return ""
	}
	subject, qerr := strconv.Unquote(quoted)
	if qerr != nil {
		return ""
	}
	return subject
}

// inboxRefusals remembers the newest refusal of a subscription to this
// client's inbox (the connection's error handler sees every refusal; only
// those under the inbox prefix are kept).
type inboxRefusals struct {
	prefix string // the inbox prefix with its dot: "_INBOX."
	mu     sync.Mutex
	err    error
}

// see records err if it refuses a subscription under the inbox prefix.
func (r *inboxRefusals) see(err error) {
	if s := refusedSubscription(err); s != "" && strings.HasPrefix(s, r.prefix) {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
	}
}

func (r *inboxRefusals) get() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// inboxPrefix is the first token of the client's inbox subjects.
func (cfg Config) inboxPrefix() string {
	if cfg.InboxPrefix != "" {
		return cfg.InboxPrefix
	}
	return strings.TrimSuffix(nats.InboxPrefix, ".")
}

// inboxCheckTimeout bounds checkInbox's flush, one round trip: nats.go
// refuses to flush under a context without a deadline, which every
// caller but provision waits with (a signal context).
const inboxCheckTimeout = 10 * time.Second

// checkInbox subscribes to a fresh inbox of the connection and flushes:
// the server answers a subscription it refuses before the flush's PONG,
// and the client records the refusal (its last error, and the error
// handler) as it reads it. A refusal is returned as ErrInboxRefused with
// what to set; any other failure (ctx ending, a lost connection, no PONG
// within inboxCheckTimeout) is no verdict, and nil is returned: the
// requests that follow say what fails.
func (b *Bus) checkInbox(ctx context.Context) error {
	inbox := b.nc.NewInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		return nil
	}
	defer func() { _ = sub.Unsubscribe() }()
	fctx, cancel := context.WithTimeout(ctx, inboxCheckTimeout)
	defer cancel()
	if err := b.nc.FlushWithContext(fctx); err != nil {
		return nil
	}
	// The client's last error is the refusal unless another error came
	// between it and the PONG; the handler's copy may come after the
	// flush returns.
	var refusal error
	for _, err := range []error{b.nc.LastError(), b.inbox.get()} {
		if refusedSubscription(err) == inbox {
			refusal = err
		}
	}
	if refusal == nil {
		return nil
	}
	user := b.cfg.User
	if user == "" {
		user = "<user>"
	}
	if b.cfg.InboxPrefix != "" {
		// Its own prefix refused: the advice to set one would repeat it.
		return fmt.Errorf("%w (%w): this client's -nats.inbox-prefix %s (env HEADROOM_NATS_INBOX_PREFIX) is refused: use the one the server lets this user subscribe under (deploy/nats.conf: _INBOX_%s; the all-in-one: none, the default _INBOX)",
			ErrInboxRefused, refusal, b.cfg.InboxPrefix, user)
	}
	return fmt.Errorf("%w (%w): set -nats.inbox-prefix _INBOX_%s (env HEADROOM_NATS_INBOX_PREFIX; deploy/nats.conf lets each user subscribe only under _INBOX_<user>, and this client's prefix is %s)",
		ErrInboxRefused, refusal, user, b.cfg.inboxPrefix())
}
