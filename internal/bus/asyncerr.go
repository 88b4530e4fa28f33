package bus

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// The server refuses a publish the user may not make (a message, or a
// JetStream API request such as a consumer's creation) by dropping it and
// sending an error on the connection, which nats.go hands only to the
// connection's asynchronous error handler: the publish's own future or
// request just times out. A permissions violation does not heal by
// waiting, so asyncErrors lets a caller waiting on such a publish learn of
// its refusal as it arrives (Acks, Watch), and keeps the log to one line
// per kind of refusal (a subscription's refused too) per asyncErrPeriod,
// the others counted.

// IsRefused reports whether err is (or wraps) the server's refusal of
// something this user may not do: a permissions violation.
func IsRefused(err error) bool { return errors.Is(err, nats.ErrPermissionViolation) }

// What the services retry that the server refuses their user (IsRefused:
// a publish, a stream's consumer) waits longer at each refusal in a row,
// up to RefusedRetryMax: permissions are fixed by an operator, not by
// waiting, and each refused attempt is a permissions violation line in
// the server's log. The refusals are logged at the first attempt and
// every refusedLogEvery-th after (the others at debug level).
const (
	RefusedRetryMax = 30 * time.Second
	refusedLogEvery = 10
)

// RefusedBackoff is the wait after the n-th attempt (from 1) the server
// refused in a row: base, doubling at each, up to RefusedRetryMax.
func RefusedBackoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d > 0 && d < RefusedRetryMax; i++ {
		d *= 2
	}
	return min(d, RefusedRetryMax)
}

// RefusalStreak counts a retried call's failed attempts in a row that the
// server refused for the user's permissions (IsRefused): the n that
// RefusedBackoff and RefusedLevel are given. Any other failure ends the
// streak, so a refusal after an outage counts as the first.
type RefusalStreak struct{ n int }

// Add records an attempt that failed with err and returns its place in
// the streak (from 1), or 0 when err is no permissions refusal.
func (s *RefusalStreak) Add(err error) int {
	if !IsRefused(err) {
		s.n = 0
		return 0
	}
	s.n++
	return s.n
}

// FailureRun counts a retried call's failed attempts in a row of one
// kind: refused by the server for the user's permissions (IsRefused), the
// RefusalStreak RefusedBackoff is given, or failed otherwise. A failure
// of the other kind starts its own run from 1, so RefusedLevel says the
// first of each run: a refusal after an outage, and an outage after
// refusals, are logged at once, and a long run of either every tenth.
type FailureRun struct {
	refused RefusalStreak
	others  int
}

// Add records an attempt that failed with err and returns its place n in
// the run of its kind (from 1), and whether that kind is a refusal.
func (r *FailureRun) Add(err error) (n int, refused bool) {
	if n := r.refused.Add(err); n > 0 {
		r.others = 0
		return n, true
	}
	r.others++
	return r.others, false
}

// Wait records an attempt that failed with err (Add) and returns the wait
// before the next, and its place n in the run of its kind: a refusal's
// RefusedBackoff(base, n), any other failure's other. Logged at
// RefusedLevel(n, …), the first of each run and every tenth after are
// said.
func (r *FailureRun) Wait(err error, base, other time.Duration) (wait time.Duration, n int) {
	n, refused := r.Add(err)
	if refused {
		return RefusedBackoff(base, n), n
	}
	return other, n
}

// refusedLogged reports whether the n-th refused attempt (from 1) is
// logged at its caller's level, not at debug: the first and every
// refusedLogEvery-th after.
func refusedLogged(n int) bool { return n%refusedLogEvery == 1 }

// RefusedLevel is the level of the line of a retried call's failed
// attempt, n its place in the refusals in a row (RefusalStreak.Add; 0 for
// a failure that is no permissions refusal): level, its caller's, for any
// other failure and the refusals refusedLogged picks, debug for the rest.
func RefusedLevel(n int, level zerolog.Level) zerolog.Level {
	if n > 0 && !refusedLogged(n) {
		return zerolog.DebugLevel
	}
	return level
}

// asyncErrPeriod is the least time between two log lines of one kind of
// asynchronous refusal; the ones in between are counted into the next.
const asyncErrPeriod = 10 * time.Second

// maxRefusalKeys bounds the refused subjects (and streams) remembered: the
// subjects a service publishes to are named by what it is sent (an app's,
// a tier's), so a long-lived connection refused on ever new ones would
// otherwise hold each forever. Past it, the keys no caller is waiting on
// (wait, await) are forgotten: their counts start again from 0, which can only
// make a waiter that took its count before miss its refusal (its publish
// then times out, as before there were counts), never blame it for
// another's.
const maxRefusalKeys = 1024

// asyncErrors is what the connection's asynchronous error handler learned
// of the server's permission refusals.
type asyncErrors struct {
	mu sync.Mutex
	// counts is how many refusals of each key were seen; last the newest.
	counts map[string]uint64
	last   map[string]error
	// changed is closed, and replaced, at each refusal seen.
	changed chan struct{}
	gen     uint64 // refusals seen in all
	// claims holds the callers waiting on each key (refusable), which
	// report its refusal themselves (the handler then logs it at debug
	// level) and are ended by it.
	claims map[string][]*waiter
	// awaited counts, by key, the asynchronous publishes whose callers
	// watch for their refusal (PublishAsyncOnce's futures) and whose
	// refusal has not come: a refusal of such a key is one of theirs,
	// reported by its caller as a waiter's is, and takes one off; a
	// future's Done takes its own off unless it ended refused (its
	// refusal may be the next to come: a window's publishes all end at
	// the first refusal of their subject).
	awaited map[string]int
	// watched counts, by key, those futures not Done yet, whatever their
	// outcome: their keys' counts are kept through forget, as a waiter's
	// are, since a refusal can arrive (and leave awaited) before its
	// caller looks.
	watched map[string]int
	// logs is the log state of each class of refusal.
	logs map[string]*classLog
	// sent counts, by subject, the asynchronous publishes sent and not
	// settled yet (nats.go's acknowledgement or error handler: stored,
	// answered with an error, timed out, lost with the connection), and
	// dropped how many of them a refusal of the subject was counted for
	// as a failed publish as it came (the server drops a publish it
	// refuses, so its future would fail only at the client's timeout),
	// so that their failure at that timeout is not counted again.
	sent    map[string]int
	dropped map[string]int
	// futures holds the watched futures (publishWatched) by their
	// message until settled, which tells one that was told an earlier
	// publish's refusal that the stream answered it after all (answered).
	futures map[*nats.Msg]*refusableFuture
	// metrics counts the asynchronous publishes by outcome; nil: none.
	metrics *metrics
}

type classLog struct {
	at     time.Time // last logged
	unsaid int       // seen since, not logged
}

func newAsyncErrors() *asyncErrors {
	return &asyncErrors{counts: map[string]uint64{}, last: map[string]error{}, changed: make(chan struct{}),
		claims: map[string][]*waiter{}, awaited: map[string]int{}, watched: map[string]int{}, logs: map[string]*classLog{},
		sent: map[string]int{}, dropped: map[string]int{}, futures: map[*nats.Msg]*refusableFuture{}}
}

// The prefixes of the JetStream API subjects whose refusal is told by
// stream: the stream's name is the token after them.
const consumerDelete = "$JS.API.CONSUMER.DELETE."

// publishKey, createKey and deleteKey name what a refusal refused: a
// publish to a subject, a consumer's creation or deletion on a stream. A
// consumer's key names the consumer too (its name up to an ordered
// consumer's "_<serial>" suffix): a user may be let create consumers on a
// stream for some filter subjects and not others (the create request's
// subject ends in its filter), so the refusal of one watch's consumer must
// not end another's on the same stream.
func publishKey(subject string) string { return publishPrefix + subject }

const publishPrefix = "publish "

func createKey(stream, consumer string) string {
	return "consumer-create " + stream + " " + consumerBase(consumer)
}
func deleteKey(stream, consumer string) string {
	return "consumer-delete " + stream + " " + consumerBase(consumer)
}

// consumerBase is an ordered consumer's name without the "_<serial>" the
// client appends to the name prefix it was given.
func consumerBase(name string) string {
	if i := strings.LastIndexByte(name, '_'); i > 0 && i < len(name)-1 && strings.Trim(name[i+1:], "0123456789") == "" {
		return name[:i]
	}
	return name
}

func subscribeKey(subject string) string { return "subscribe " + subject }

// refusalKey is the key of the publish or subscription err refuses and its
// class (the key's first word), or "" for an error that is neither's
// refusal. A subscription's refusal (a consumer's delivery subject, the
// inbox: refusedSubscription) is keyed by its subject, class "subscribe":
// nobody waits on it through asyncErrors (checkInbox reads its own), but
// its repeats are summed up as a publish's are, not logged each.
func refusalKey(err error) (key, class string) {
	if !IsRefused(err) {
		return "", ""
	}
	if subject := refusedSubscription(err); subject != "" {
		return subscribeKey(subject), "subscribe"
	}
	// The server writes the subject Go-quoted (nats-server's
	// pubPermissionViolation: "Permissions Violation for Publish to %q"),
	// so a quote or backslash in it comes escaped.
	const marker = `Permissions Violation for Publish to `
	msg := err.Error()
	i := strings.Index(msg, marker)
	if i < 0 {
		return "", ""
	}
	quoted, qerr := strconv.QuotedPrefix(msg[i+len(marker):])
	if qerr != nil {
		return "", ""
	}
	subject, qerr := strconv.Unquote(quoted)
	if qerr != nil {
		return "", ""
	}
	// The stream and consumer tokens after an API prefix (a consumer
	// created without a name has none).
	consumerOf := func(prefix string) (stream, consumer string) {
		tokens := strings.SplitN(strings.TrimPrefix(subject, prefix), ".", 3)
		if len(tokens) > 1 {
			consumer = tokens[1]
		}
		return tokens[0], consumer
	}
	switch {
	case strings.HasPrefix(subject, consumerCreate):
		key = createKey(consumerOf(consumerCreate))
	case strings.HasPrefix(subject, consumerDelete):
		key = deleteKey(consumerOf(consumerDelete))
	default:
		key = publishKey(subject)
	}
	return key, key[:strings.IndexByte(key, ' ')]
}

// handle remembers err and logs it: an error that is not a publish's or
// a subscription's refusal every time, as before; a refusal a caller waits on at debug
// level (the caller reports it); any other refusal once per class per
// asyncErrPeriod, with the count of those not logged since.
func (a *asyncErrors) handle(log zerolog.Logger, s *nats.Subscription, err error) {
	key, class := refusalKey(err)
	if key == "" {
		ev := log.Error().Err(err)
		if s != nil {
			ev = ev.Str("subject", s.Subject)
		}
		ev.Msg("nats async error")
		return
	}
	a.mu.Lock()
	if _, ok := a.counts[key]; !ok && len(a.counts) >= maxRefusalKeys {
		a.forget()
	}
	a.counts[key]++
	a.last[key] = err
	a.gen++
	close(a.changed)
	a.changed = make(chan struct{})
	waiters := a.claims[key]
	claimed := len(waiters) > 0
	// A refusal no synchronous caller waits on (whose own return counts
	// it) is an asynchronous publish's when one to the subject is in
	// flight that no refusal was counted for yet: it fails now.
	if subject, ok := strings.CutPrefix(key, publishPrefix); ok && !claimed && a.sent[subject] > a.dropped[subject] {
		a.dropped[subject]++
		if a.metrics != nil {
			a.metrics.publishErrs.WithLabelValues(kindOf(subject)).Inc()
		}
	}
	if !claimed && a.awaited[key] > 0 {
		claimed = true
		a.unawait(key)
	}
	for _, w := range waiters {
		if w.refusal == nil {
			w.refusal = err
			if w.cancel != nil {
				// Only ends w's context: what waits on it runs in
				// its own goroutine, not under a.mu.
				w.cancel()
			}
		}
	}
	var say bool
	var unsaid int
	if !claimed {
		cl := a.logs[class]
		if cl == nil {
			cl = &classLog{}
			a.logs[class] = cl
		}
		if now := time.Now(); cl.at.IsZero() || now.Sub(cl.at) >= asyncErrPeriod {
			say, unsaid, cl.at, cl.unsaid = true, cl.unsaid, now, 0
		} else {
			cl.unsaid++
		}
	}
	a.mu.Unlock()
	switch {
	case claimed:
		log.Debug().Err(err).Msg("nats refusal, reported by its caller")
	case say:
		ev := log.Error().Err(err)
		if unsaid > 0 {
			ev = ev.Int("more_not_logged", unsaid)
		}
		ev.Msg("nats async error")
	}
}

// forget drops the count and last refusal of every key no caller waits on
// (wait, or a future not Done).
// a.mu is held.
func (a *asyncErrors) forget() {
	for key := range a.counts {
		if len(a.claims[key]) == 0 && a.watched[key] == 0 {
			delete(a.counts, key)
			delete(a.last, key)
		}
	}
}

// flush logs the count of each class's refusals not logged yet (at close).
func (a *asyncErrors) flush(log zerolog.Logger) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for class, cl := range a.logs {
		if cl.unsaid > 0 {
			log.Error().Str("refused", class).Int("count", cl.unsaid).Msg("nats async errors not logged: more of the refusal logged before")
			cl.unsaid = 0
		}
	}
}

// count is how many refusals of key were seen so far.
func (a *asyncErrors) count(key string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counts[key]
}

// since returns the newest refusal of key if more than n were seen, else
// a channel closed at the next refusal of anything and nil.
func (a *asyncErrors) since(key string, n uint64) (<-chan struct{}, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.counts[key] > n {
		return nil, a.last[key]
	}
	return a.changed, nil
}

// send counts m, about to be sent asynchronously, as in flight until
// settled (settle; unsent should the send fail). With f, m's future, it
// also counts an asynchronous publish of f.key whose caller reports its
// refusal (the handler then logs it at debug level, and takes the count
// off) and watches for it (told) until f is Done, and sets f.seen to the
// refusals of f.key seen so far.
func (a *asyncErrors) send(m *nats.Msg, f *refusableFuture) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent[m.Subject]++
	if f != nil {
		a.awaited[f.key]++
		a.watched[f.key]++
		a.futures[m] = f
		f.seen = a.counts[f.key]
	}
}

// unsent takes back send(m, f), whose send failed.
func (a *asyncErrors) unsent(m *nats.Msg, f *refusableFuture) {
	a.mu.Lock()
	defer a.mu.Unlock()
	decrement(a.sent, m.Subject)
	a.fitDropped(m.Subject)
	if f != nil {
		delete(a.futures, m)
		decrement(a.watched, f.key)
		a.unawait(f.key)
	}
}

// settle records the outcome of m, an asynchronous publish sent (send),
// and counts it (metrics): stored (err nil), or failed with err, unless a
// refusal of m's subject was counted for one of its publishes in flight
// (handle), which fail only at the client's timeout or with the
// connection, as m just did. A publish the stream answered, stored or
// with an error (answered), was let through by the server, which answers
// none it refuses: a refusal counted for its subject was another's, and
// a watched future told a refusal was told another publish's: it is owed
// none, and its Done, or Done already called, leaves it none. Counted
// under a.mu, so that once m is no longer in flight it is counted.
func (a *asyncErrors) settle(m *nats.Msg, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	through := answered(err)
	if a.metrics != nil {
		c := a.metrics.published
		if err != nil {
			c = a.metrics.publishErrs
		}
		if through || a.dropped[m.Subject] == 0 {
			c.WithLabelValues(kindOf(m.Subject)).Inc()
		}
	}
	if f := a.futures[m]; f != nil {
		delete(a.futures, m)
		if through {
			f.answered = true
			if f.owing {
				f.owing = false
				a.unawait(f.key)
			}
		}
	}
	subject := m.Subject
	decrement(a.sent, subject)
	if a.dropped[subject] == 0 {
		return
	}
	if !through {
		decrement(a.dropped, subject)
		return
	}
	// Answered: the refusal counted was another's (a synchronous
	// publish's, whose waiter had gone).
	a.fitDropped(subject)
}

// answered reports whether err, an asynchronous publish's outcome (nil:
// stored), is the stream's answer: the server let the publish through (it
// answers none it refuses the user, which fails only at the client's
// timeout or with the connection).
func answered(err error) bool {
	var api *jetstream.APIError
	return err == nil || errors.As(err, &api) || errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrInvalidJSAck)
}

// fitDropped keeps at most one refusal counted (dropped) per publish of
// subject still in flight, once one left without being refused
// (answered, or never sent: unsent): a refusal counted for none in
// flight would leave the subject's next failure uncounted. a.mu is held.
func (a *asyncErrors) fitDropped(subject string) {
	if n := a.sent[subject]; a.dropped[subject] > n {
		if n == 0 {
			delete(a.dropped, subject)
		} else {
			a.dropped[subject] = n
		}
	}
}

// stored and failed are the jetstream context's handlers of an
// asynchronous publish's acknowledgement and failure (settle): called by
// nats.go once per publish sent, on its own goroutine, whoever waits on
// the future, if anyone does. It is counted published once the stream
// acknowledged it, failed once it failed (an error answer, a timeout, a
// lost connection), unless its refusal was counted as it came.
func (a *asyncErrors) stored(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
	a.settle(m, nil)
}

func (a *asyncErrors) failed(_ jetstream.JetStream, m *nats.Msg, err error) { a.settle(m, err) }

// told returns the newest refusal of f's key seen since f was sent, and
// records that f was told it; else nil and the channel closed at the next
// refusal of anything (since).
func (a *asyncErrors) told(f *refusableFuture) (<-chan struct{}, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.counts[f.key] > f.seen {
		f.refused = true
		return nil, a.last[f.key]
	}
	return a.changed, nil
}

// done says f's caller no longer watches for its refusal, and takes its
// publish off awaited unless it is owed a refusal still to come: it was
// told one (Refused) and was not answered, its own refusal possibly the
// next to come (a window's publishes all end at the first refusal of
// their subject). One owed a refusal that then turns out answered
// (settle: stored, or refused by the stream, not the server) is owed
// none. Calls after the first do nothing.
func (a *asyncErrors) done(f *refusableFuture) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f.done {
		return
	}
	f.done = true
	decrement(a.watched, f.key)
	if f.refused && !f.answered {
		f.owing = true
		return
	}
	a.unawait(f.key)
}

// unawait takes one awaited publish of key off; a.mu is held.
func (a *asyncErrors) unawait(key string) { decrement(a.awaited, key) }

// decrement takes one off m[key], deleting it at 0.
func decrement(m map[string]int, key string) {
	if m[key] <= 1 {
		delete(m, key)
		return
	}
	m[key]--
}

// generation is how many refusals were seen in all, and the channel closed
// at the next.
func (a *asyncErrors) generation() (uint64, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen, a.changed
}

// waiter is a caller waiting on the refusal of a key (refusable).
type waiter struct {
	a      *asyncErrors
	key    string
	cancel context.CancelFunc // called at the key's refusal; may be nil
	// refusal is the first refusal of key since the waiter came: a.mu.
	refusal error
}

// wait registers a waiter on key, which reports key's refusals itself
// until done: the handler logs them at debug level, records the first in
// the waiter and calls cancel (when not nil).
func (a *asyncErrors) wait(key string, cancel context.CancelFunc) *waiter {
	w := &waiter{a: a, key: key, cancel: cancel}
	a.mu.Lock()
	a.claims[key] = append(a.claims[key], w)
	a.mu.Unlock()
	return w
}

// done unregisters w and returns the first refusal of its key seen while
// it waited, or nil.
func (w *waiter) done() error {
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	ws := a.claims[w.key]
	if i := slices.Index(ws, w); i >= 0 {
		ws = slices.Delete(ws, i, i+1)
	}
	if len(ws) > 0 {
		a.claims[w.key] = ws
	} else {
		delete(a.claims, w.key)
		if !strings.HasPrefix(w.key, "publish ") {
			// A consumer's key is its caller's alone.
			delete(a.counts, w.key)
			delete(a.last, w.key)
		}
	}
	return w.refusal
}

// refusable runs call, a request publishing to a subject under key, with a
// context that ends as soon as the server refuses such a publish: the
// request itself would only time out. The connection's handler ends it,
// the waiter registered on key (no goroutine of its own). A refused call's
// error is the server's refusal (IsRefused), which the handler then leaves
// to the caller to report. A refusal seen before the call began does not
// end it: the user's permissions may have changed since.
func (b *Bus) refusable(ctx context.Context, key string, call func(context.Context) error) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := b.async.wait(key, cancel)
	err := call(cctx)
	if refusal := w.done(); refusal != nil && err != nil && ctx.Err() == nil {
		return refusal
	}
	return err
}
