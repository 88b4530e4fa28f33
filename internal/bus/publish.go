package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/headroomhq/headroom/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// HeaderEventTime carries a message's event time (Unix ms) beside the payload,
// so routing and restart logic can read it without decoding.
const HeaderEventTime = "Headroom-Ts"

// Out is a message to publish on a subject.
type Out struct {
	Subject string
	Msg     proto.Message
}

func (b *Bus) natsMsg(o Out) (*nats.Msg, error) {
	data, err := proto.Encode(o.Msg)
	if err != nil {
		return nil, refusedMsg{fmt.Errorf("encode %s %s: %w", o.Subject, o.Msg.MsgID(), err)}
	}
	// Both header names are in canonical form already: the header is
	// built directly, one backing array for its two values, instead of
	// through Header.Set.
	vals := make([]string, 2)
	vals[0] = o.Msg.MsgID()
	vals[1] = strconv.FormatInt(proto.Millis(o.Msg.EventTime()), 10)
	return &nats.Msg{Subject: o.Subject, Data: data,
		Header: nats.Header{jetstream.MsgIDHeader: vals[0:1:1], HeaderEventTime: vals[1:2:2]}}, nil
}

func kindOf(subject string) string {
	for i := 0; i < len(subject); i++ {
		if subject[i] == '.' {
			rest := subject[i+1:]
			for j := 0; j < len(rest); j++ {
				if rest[j] == '.' {
					return rest[:j]
				}
			}
			return rest
		}
	}
	return subject
}

// Publish stores one message and waits for the stream's acknowledgement. A
// duplicate id inside the dedupe window is acknowledged without being stored.
func (b *Bus) Publish(ctx context.Context, o Out) error {
	m, err := b.natsMsg(o)
	if err != nil {
		return err
	}
	// A publish the server refuses for the user's permissions is dropped
	// and its request would only time out (apiTimeout, or ctx's end): it
	// ends as the refusal arrives, with that refusal (IsRefused).
	if err := b.refusable(ctx, publishKey(o.Subject), func(ctx context.Context) error {
		_, err := b.js.PublishMsg(ctx, m)
		return err
	}); err != nil {
		b.metrics.publishErrs.WithLabelValues(kindOf(o.Subject)).Inc()
		return fmt.Errorf("publish %s %s: %w", o.Subject, o.Msg.MsgID(), err)
	}
	b.metrics.published.WithLabelValues(kindOf(o.Subject)).Inc()
	return nil
}

// The options of PublishAsync and PublishAsyncOnce, made once rather than
// on every call.
var (
	asyncOpts     = []jetstream.PublishOpt{jetstream.WithStallWait(30 * time.Second)}
	asyncOnceOpts = []jetstream.PublishOpt{jetstream.WithStallWait(30 * time.Second), jetstream.WithRetryAttempts(0)}
)

// PublishAsync sends one message without waiting; the returned future
// reports the stream's acknowledgement. Use Flush to wait for all of them.
func (b *Bus) PublishAsync(o Out) (jetstream.PubAckFuture, error) {
	// When the window of unacknowledged publishes is full the call waits for
	// room (backpressure) instead of failing: a fast producer such as the
	// backfill slows to the server's pace rather than dying.
	return b.publishAsync(o, asyncOpts)
}

// PublishAsyncOnce is PublishAsync without the client's own resends of a
// message nothing answered (no responders: a stream being updated, or
// without a leader): the future reports that as an error instead. Messages
// sent one after the other then reach the stream in that order, once each,
// so a caller that keeps several in flight on a subject and resends from
// the first refused one (the outbox) keeps them in order; a resend done by
// the client after a delay could overtake the ones behind it.
//
// The future also tells the server's refusal of the publish for the
// user's permissions (RefusableFuture.Refused) as it arrives: the server
// drops such a publish and tells only the connection, so its Ok and Err
// would stay silent until the client's timeout (20 s). The caller reports
// that refusal (the connection's handler logs it at debug level) until it
// calls the future's Done.
func (b *Bus) PublishAsyncOnce(o Out) (RefusableFuture, error) {
	f, err := b.publishWatched(o, asyncOnceOpts)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// publishWatched sends o as publishAsync does, its refusal watched for
// (asyncErrors.send, told) and reported by the caller, who calls the
// future's Done once it no longer waits on it.
func (b *Bus) publishWatched(o Out, opts []jetstream.PublishOpt) (*refusableFuture, error) {
	f := &refusableFuture{a: b.async, key: publishKey(o.Subject)}
	paf, err := b.sendAsync(o, opts, f)
	if err != nil {
		return nil, err
	}
	f.PubAckFuture = paf
	return f, nil
}

// RefusableFuture is the future of a publish (PublishAsyncOnce) that also
// tells the server's refusal of it for the user's permissions.
type RefusableFuture interface {
	PubAckFuture
	// Refused returns the server's refusal (IsRefused) of a publish to
	// the future's subject seen since it was sent, wrapped with the
	// subject and the message's id; or nil and a channel closed at the
	// connection's next refusal of anything, when to ask again. The
	// server's refusal names the subject alone, so a refusal of an
	// earlier publish to the subject that arrives after this one was sent
	// is taken for this one's, as Publish takes it.
	Refused() (<-chan struct{}, error)
	// Done says the caller no longer waits on the publish (it has its
	// outcome, or gives up): the connection's handler logs a refusal of
	// the subject itself again once no publish waited on is owed one (one
	// ended refused is, until a refusal of its subject comes). Calls
	// after the first do nothing.
	Done()
}

// refusableFuture is PublishAsyncOnce's future: the refusals of its key
// counted (asyncErrors.send) until Done.
type refusableFuture struct {
	jetstream.PubAckFuture
	a    *asyncErrors
	key  string
	seen uint64 // the refusals of key seen before it was sent
	// Under a.mu: Done was called; Refused returned a refusal; the
	// stream answered the publish, stored or with an error (answered);
	// Done was called owed a refusal (asyncErrors.done).
	done, refused, answered, owing bool
}

func (f *refusableFuture) Refused() (<-chan struct{}, error) {
	changed, refusal := f.a.told(f)
	if refusal != nil {
		m := f.Msg()
		return nil, fmt.Errorf("publish %s %s: %w", m.Subject, m.Header.Get(jetstream.MsgIDHeader), refusal)
	}
	return changed, nil
}

func (f *refusableFuture) Done() { f.a.done(f) }

func (b *Bus) publishAsync(o Out, opts []jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	return b.sendAsync(o, opts, nil)
}

// sendAsync sends o asynchronously, counted in flight until settled
// (asyncErrors.send), and watched as f's when f is not nil.
func (b *Bus) sendAsync(o Out, opts []jetstream.PublishOpt, f *refusableFuture) (jetstream.PubAckFuture, error) {
	m, err := b.natsMsg(o)
	if err != nil {
		return nil, err
	}
	b.async.send(m, f)
	paf, err := b.js.PublishMsgAsync(m, opts...)
	if err != nil {
		b.async.unsent(m, f)
		b.metrics.publishErrs.WithLabelValues(kindOf(o.Subject)).Inc()
		return nil, fmt.Errorf("publish %s %s: %w", o.Subject, o.Msg.MsgID(), err)
	}
	// Counted published once stored, or failed, by its outcome
	// (asyncErrors.stored, failed), not as it is sent.
	return paf, nil
}

// Flush waits until every async publish is acknowledged or ctx ends.
func (b *Bus) Flush(ctx context.Context) error {
	select {
	case <-b.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush with %d publishes pending: %w", b.js.PublishAsyncPending(), ctx.Err())
	}
}

// PublishAll stores every message, retrying each one that fails (same
// Nats-Msg-Id, so a retry of a message the stream did store is dropped as a
// duplicate) until it is stored or ctx ends. Sources call it, so a NATS
// server killed mid-stream loses no tick: the publishes wait for the
// reconnection instead of being forgotten. A message refused for itself
// (IsRefusedMessage: over the stream's max message size or the server's
// max_payload, or not encodable) is not retried, since no retry can store
// it: it is dropped with an error line naming it, counted in
// headroom_bus_publish_dropped_total, and the others go on. A publish the
// server refuses for the user's permissions (IsRefused) is retried, since
// the permission can be granted again, at a growing interval up to
// RefusedRetryMax, and logged at its first refusal and every tenth
// refusal in a row after (publishUntil, RefusedLevel).
func (b *Bus) PublishAll(ctx context.Context, outs []Out) error {
	_, err := b.PublishAllStored(ctx, outs)
	return err
}

// PublishAllStored is PublishAll, returning how many of outs it stored
// (all but the ones dropped; 0 with an error), for a caller that counts
// what it published: a message dropped is not (the collector's ticks).
func (b *Bus) PublishAllStored(ctx context.Context, outs []Out) (int, error) {
	dropped := 0
	type sent struct {
		out Out
		f   *refusableFuture
	}
	inflight := make([]sent, 0, len(outs))
	// Each send's refusal is reported here, by the retry's line, so the
	// connection's handler logs it at debug level (publishWatched) until
	// its future is Done, which a return with ctx's end must not skip.
	defer func() {
		for _, s := range inflight {
			s.f.Done()
		}
	}()
	var retry []Out
	for _, o := range outs {
		f, err := b.publishWatched(o, asyncOpts)
		switch {
		case IsRefusedMessage(err):
			b.dropRefused(o, err)
			dropped++
		case err != nil:
			retry = append(retry, o)
		default:
			inflight = append(inflight, sent{o, f})
		}
	}
	for _, s := range inflight {
	wait:
		for {
			// The future of a publish refused for the user's permissions
			// would only time out: the refusal ends its wait.
			changed, refusal := s.f.Refused()
			if refusal != nil {
				retry = append(retry, s.out)
				break
			}
			select {
			case <-s.f.Ok():
				break wait
			case err := <-s.f.Err():
				if IsRefusedMessage(err) {
					b.dropRefused(s.out, err)
					dropped++
				} else {
					retry = append(retry, s.out)
				}
				break wait
			case <-changed:
			case <-ctx.Done():
				return 0, fmt.Errorf("publish %s: %w", s.out.Msg.MsgID(), ctx.Err())
			}
		}
		s.f.Done()
	}
	for _, o := range retry {
		err := b.publishRetrying(ctx, o)
		switch {
		case IsRefusedMessage(err):
			b.dropRefused(o, err)
			dropped++
		case err != nil:
			return 0, err
		}
	}
	return len(outs) - dropped, nil
}

// dropRefused logs and counts o, dropped unstored since it is refused
// for itself (err): its line says in refused what refused it
// (RefusedMessageReason), which is not always its size.
func (b *Bus) dropRefused(o Out, err error) {
	b.metrics.publishDropped.WithLabelValues(kindOf(o.Subject)).Inc()
	b.log.Error().Err(err).Str("subject", o.Subject).Str("msg_id", o.Msg.MsgID()).Str("refused", RefusedMessageReason(err)).
		Msg("publish dropped: refused for itself (refused says why), no retry can store it")
}

// publishUntil is how a publish of PublishAll is retried
// (publishRetrying): after a permissions refusal (IsRefused) doubling
// from 250 ms to RefusedRetryMax, a warning at the first and every tenth
// refusal in a row (RefusedBackoff, RefusedLevel); after any other
// failure growing by 250 ms to 5 s, a warning each; each attempt bounded
// to 10 s. Each kind is counted from the last failure of the other
// (FailureRun): a publish refused once its server came back from an
// outage waits 250 ms and warns, as a first refusal does, and an outage
// after refusals waits 250 ms first.
var publishUntil = UntilAllowed{
	Refused: 250 * time.Millisecond,
	Other: func(n int) time.Duration {
		return min(time.Duration(n)*250*time.Millisecond, 5*time.Second)
	},
	Timeout: 10 * time.Second,
}

// publishRetrying publishes o synchronously until it is stored, refused
// for itself (IsRefusedMessage, returned at once: no retry can store it)
// or ctx ends, with a growing delay and a warning per failed attempt (a
// permissions refusal's seldom: publishUntil).
func (b *Bus) publishRetrying(ctx context.Context, o Out) error {
	u := publishUntil
	u.Failed = func(attempt, n int, err error, wait time.Duration) {
		level := zerolog.WarnLevel // each other failure
		if IsRefused(err) {
			level = RefusedLevel(n, level)
		}
		b.log.WithLevel(level).Err(err).Str("subject", o.Subject).Str("msg_id", o.Msg.MsgID()).Int("attempt", attempt).
			Dur("retry_in", wait).Msg("publish failed, retrying with the same id")
	}
	attempts, err := b.publishUntilAllowed(ctx, o, u)
	if err == nil && attempts > 1 {
		b.log.Info().Str("msg_id", o.Msg.MsgID()).Int("attempts", attempts).Msg("publish stored after retries")
	}
	return err
}

// ErrStopped ends UntilAllowed.Do (publishUntilAllowed) when its
// UntilAllowed.Stop closes.
var ErrStopped = errors.New("stopped")

// UntilAllowed is how UntilAllowed.Do retries a call (publishUntilAllowed
// a publish): the one loop of the services' calls that go on until the
// server allows them.
type UntilAllowed struct {
	// Refused is the wait after the first of the attempts in a row the
	// server refuses for the user's permissions (IsRefused), doubled at
	// each next one up to RefusedRetryMax (RefusedBackoff, RefusalStreak).
	Refused time.Duration
	// Other is the wait after the n-th failure in a row (from 1) that is
	// no refusal, counted afresh after a refusal as the refusals are after
	// another failure (FailureRun); nil ends the call at such a failure,
	// with its error.
	Other func(n int) time.Duration
	// final, if set, ends the call at once at a failure it holds of, with
	// its error: one no retry can cure (publishUntilAllowed ends so at
	// IsRefusedMessage too).
	final func(err error) bool
	// Timeout, when positive, bounds each attempt.
	Timeout time.Duration
	// Stop, once closed, ends the call as ctx's end does, with
	// ErrStopped: for a caller whose ctx outlives its own stop.
	Stop <-chan struct{}
	// Failed, if set, is told of each failed attempt that is retried after
	// wait, n its place in the failures of its kind in a row (FailureRun:
	// refusals, IsRefused(err), or other failures), to log a refusal at
	// RefusedLevel(n, its level): the first of each run is said.
	Failed func(attempt, n int, err error, wait time.Duration)
}

// next is the wait after an attempt that failed with err, its place n in
// the failures of its kind in a row, and whether it is retried at all.
func (u *UntilAllowed) next(run *FailureRun, err error) (wait time.Duration, n int, retry bool) {
	n, refused := run.Add(err)
	switch {
	case refused:
		return RefusedBackoff(u.Refused, n), n, true
	case u.Other == nil:
		return 0, n, false
	}
	return u.Other(n), n, true
}

// Do runs attempt until it succeeds, running it again after each failure
// the server refuses for the user's permissions (an operator fixes
// nats.conf; no wait does) and, with u.Other, after any other failure,
// and returns the attempts it made and nil. A failure u.final holds of,
// and another failure without u.Other, end it at once with that error;
// the end of ctx or u.Stop ends it with an error wrapping ctx.Err() or
// ErrStopped and the last attempt's error (IsRefused holds of it while
// the server refused that one). Each attempt is given ctx, bounded by
// u.Timeout when set.
func (u UntilAllowed) Do(ctx context.Context, attempt func(ctx context.Context) error) (attempts int, err error) {
	return u.do(ctx, "", attempt)
}

// do is Do, the error of an end of ctx or u.Stop prefixed with what when
// given (the call's name).
func (u UntilAllowed) do(ctx context.Context, what string, attempt func(ctx context.Context) error) (attempts int, err error) {
	ended := func(cause, last error) error {
		if what == "" {
			return fmt.Errorf("%w (last attempt: %w)", cause, last)
		}
		return fmt.Errorf("%s: %w (last attempt: %w)", what, cause, last)
	}
	var run FailureRun
	for n := 1; ; n++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if u.Timeout > 0 {
			actx, cancel = context.WithTimeout(ctx, u.Timeout)
		}
		err := attempt(actx)
		cancel()
		if err == nil || (u.final != nil && u.final(err)) {
			return n, err
		}
		wait, inRun, retry := u.next(&run, err)
		if !retry {
			return n, err
		}
		if ctx.Err() != nil {
			return n, ended(ctx.Err(), err)
		}
		if u.Failed != nil {
			u.Failed(n, inRun, err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, ended(ctx.Err(), err)
		case <-u.Stop:
			t.Stop()
			return n, ended(ErrStopped, err)
		case <-t.C:
		}
	}
}

// publishUntilAllowed publishes o until the server stores it, as u.Do
// runs a call: again after each attempt the server refuses for the
// user's permissions and, with u.Other, after any other failure. A
// publish refused for the message itself (IsRefusedMessage: no retry can
// store it) ends it at once with that error (u.final); an end of ctx or
// u.Stop's error names the message.
func (b *Bus) publishUntilAllowed(ctx context.Context, o Out, u UntilAllowed) (attempts int, err error) {
	u.final = IsRefusedMessage
	return u.do(ctx, "publish "+o.Msg.MsgID(), func(ctx context.Context) error { return b.Publish(ctx, o) })
}
