package gateway

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// othersKey is the key a countedLog counts the events of the keys it
// cannot follow one by one under. A key that is othersKey itself (a
// request's Host "others") is followed as othersKeyQuoted, so that its
// summaries are not taken for theirs.
const (
	othersKey       = "others"
	othersKeyQuoted = `"others"`
)

// refusedValues is how many distinct keys (Hosts, Origins, errors' texts)
// each of the gateway's countedLogs follows one by one: the first event of
// each is logged at once, those of further keys together under
// othersKey. The token refusals' keys (4 routes by 4 ways a token comes,
// tokenPresented) are 16: they never reach it, and have a log of their own,
// as each kind has, so that they cannot crowd out the Hosts.
const refusedValues = 64

// countedLog logs events of one kind (requests refused for their Host,
// history reads failed, …) by key (the Host, the error's text, …) so
// that a client in a loop cannot flood the log and nothing is dropped
// without a count: the first event of a key is logged at once (note says
// so, the caller writes the line), the next ones are counted, and one
// summary line per period (every) at most gives the key's count since
// its last line ("refused N in D"). The summary is written by the key's
// next event after the period, by any event once a period has passed
// since the last sweep, by the gateway's sweep every period (sweep), or
// as it stops (flushAll). A sweep forgets a key with no event in the last
// period (its next one is a first one again) and keeps one still
// counted, its summary written: a client retrying writes one line a
// period. At most max keys are followed; the events of any more are
// counted together under othersKey (a first line, then summaries), so a
// client rotating through values grows neither the memory nor the log
// without bound. It keeps no clock: every call is given the time. Safe
// for concurrent use.
type countedLog struct {
	every time.Duration
	max   int
	level zerolog.Level
	msg   string // a summary line's message
	// count names a summary's count: "refused" (the default) or
	// "failed".
	count string
	// extra, when set, adds fields to every summary line.
	extra func(*zerolog.Event) *zerolog.Event

	mu   sync.Mutex
	keys map[string]*counted
	// others counts the events of the keys that found keys full since
	// its first line; nil until one does, and again once its summary is
	// written a period or more later.
	others *counted
	swept  time.Time // the last sweep of the keys gone quiet
	// due is when the first of the keys (and others) the last sweep left
	// can be due (its last line then, a period on; zero: none left). Full,
	// the log sweeps at a new key's event only from then: before it no
	// key can be forgotten, and a rotating flood would have every event
	// look at every key under the lock.
	due    time.Time
	sweeps int // how many sweeps, for the tests
}

// counted are one key's events since its last line.
type counted struct {
	since time.Time // its last line
	last  time.Time // its last event
	n     int       // events since, not logged
	// from is who its last event came from, and value the value its last
	// event held (noteValue) or else, others', its key (the keys past max
	// each have their own), for the summary.
	from  from
	value string
}

// from is who an event came from: the request's TCP peer (remote) and
// the client a trusted proxy named (client; "" when none did). A summary
// names its last event's (last_remote, last_client), as the first line
// names its own: a second client refused under the same key (another
// script with a wrong token, the same route and way) is not hidden behind
// the first one's line. The zero from (a failure's) names none.
type from struct{ remote, client string }

// newCountedLog is a countedLog writing at level, its summaries with
// message msg.
func newCountedLog(every time.Duration, max int, level zerolog.Level, msg string) *countedLog {
	return &countedLog{every: every, max: max, level: level, msg: msg}
}

// note counts an event of key at now and returns the event of its line
// when one is to be written (nil otherwise: the event is counted for a
// summary); others says the key is counted as othersKey, the log
// following max keys already. It may write the summaries of keys whose
// period has passed, on log.
func (c *countedLog) note(log zerolog.Logger, key string, now time.Time) (ev *zerolog.Event, others bool) {
	return c.noteFrom(log, key, from{}, now)
}

// noteFrom is note of an event that came from f (from), for its key's
// summary to name.
func (c *countedLog) noteFrom(log zerolog.Logger, key string, f from, now time.Time) (ev *zerolog.Event, others bool) {
	return c.noteValue(log, key, f, "", now)
}

// noteValue is noteFrom of an event that holds value (the header it
// could not read, …): unless "", the key's summary names its last event's
// as last_value, and so does the others' (rather than its key).
func (c *countedLog) noteValue(log zerolog.Logger, key string, f from, value string, now time.Time) (ev *zerolog.Event, others bool) {
	if key == othersKey {
		key = othersKeyQuoted
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]*counted{}
	}
	r := c.keys[key]
	full := r == nil && len(c.keys) >= c.max
	if (full && !now.Before(c.due)) || now.Sub(c.swept) >= c.every {
		// Full, it sweeps at the event of a new key once a key can be
		// due: at most max entries to look at, and the quiet ones leave
		// room.
		c.sweepLocked(log, now, r, false)
		full = r == nil && len(c.keys) >= c.max
	}
	switch {
	case full && c.others == nil:
		c.others = &counted{since: now, last: now}
		return log.WithLevel(c.level), true
	case full:
		c.others.n++
		c.others.last, c.others.from, c.others.value = now, f, key
		if value != "" {
			// The value is what the summary promises (the header),
			// its key the remote it came from (last_remote) names.
			c.others.value = value
		}
	case r == nil:
		c.keys[key] = &counted{since: now, last: now}
		return log.WithLevel(c.level), false
	case now.Sub(r.since) < c.every:
		r.n++
		r.last, r.from = now, f
		if value != "" {
			r.value = value
		}
	default:
		r.n++
		r.last, r.from = now, f
		if value != "" {
			r.value = value
		}
		c.flush(log, r, key, now)
		r.since = now
	}
	return nil, full
}

// first adds to ev, the event of a first line note returned, the period
// of its summaries (summary_every) and, when the key is counted as
// others, counted_as othersKey and how many keys are followed one by one
// (keys).
func (c *countedLog) first(ev *zerolog.Event, others bool) *zerolog.Event {
	if others {
		ev = ev.Str("counted_as", othersKey).Int("keys", c.max)
	}
	return ev.Dur("summary_every", c.every)
}

// sweep writes the summaries of the keys (and others) whose last line is
// a period old or more, and forgets those with no event in the last
// period; the gateway calls it every period, so that the events of a
// client that stopped are written even when no event follows.
func (c *countedLog) sweep(log zerolog.Logger, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(log, now, nil, false)
}

// flushAll writes every summary not yet written, whatever its age, and
// forgets every key: the gateway calls it as it stops.
func (c *countedLog) flushAll(log zerolog.Logger, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(log, now, nil, true)
}

// sweepLocked writes the summaries of the keys but except's (the entry
// of the key whose event note is counting, whose line note writes; nil:
// none), and of others, whose
// last line is a period old or more (all, with all), and forgets those
// with no event in the last period (all, with all). A key counted since
// keeps its place, its next summary a period after this one: forgotten,
// a client still retrying would have its next event logged as a first
// one, two lines a period.
func (c *countedLog) sweepLocked(log zerolog.Logger, now time.Time, except *counted, all bool) {
	c.swept = now
	c.sweeps++
	var first time.Time // the earliest last line of those kept
	keep := func(r *counted) {
		if first.IsZero() || r.since.Before(first) {
			first = r.since
		}
	}
	for k, r := range c.keys {
		if r != except && c.dueLocked(log, r, k, now, all) {
			delete(c.keys, k)
			continue
		}
		keep(r)
	}
	if c.others != nil && c.dueLocked(log, c.others, othersKey, now, all) {
		c.others = nil
	} else if c.others != nil {
		keep(c.others)
	}
	c.due = time.Time{}
	if !first.IsZero() {
		c.due = first.Add(c.every)
	}
}

// dueLocked writes the summary of r's events of key (flush) when its last line
// is a period old or more, or when all is set, and reports whether r is
// to be forgotten: with all, or when it had no event in the last period;
// else the summary written is its last line.
func (c *countedLog) dueLocked(log zerolog.Logger, r *counted, key string, now time.Time, all bool) (forget bool) {
	if !all && now.Sub(r.since) < c.every {
		return false
	}
	c.flush(log, r, key, now)
	if all || now.Sub(r.last) >= c.every {
		return true
	}
	r.since = now
	return false
}

// flush writes the summary of r's events of key, if any: counted_as
// names the key (othersKey for the keys past max, the last of which, or
// its value (noteValue), is last_value), refused (or count) how many
// events came since its last line, in how long ago that line was,
// last_remote and last_client who the last came from (from).
func (c *countedLog) flush(log zerolog.Logger, r *counted, key string, now time.Time) {
	if r.n == 0 {
		return
	}
	ev := log.WithLevel(c.level).Str("counted_as", key).Int(c.countField(), r.n).Dur("in", now.Sub(r.since))
	if r.value != "" {
		ev = ev.Str("last_value", r.value)
	}
	if r.from.remote != "" {
		ev = ev.Str("last_remote", r.from.remote)
	}
	if r.from.client != "" {
		ev = ev.Str("last_client", r.from.client)
	}
	if c.extra != nil {
		ev = c.extra(ev)
	}
	ev.Msg(c.msg)
	r.n = 0
}

// countField is the field a summary's count goes in.
func (c *countedLog) countField() string {
	if c.count == "" {
		return "refused"
	}
	return c.count
}

// len is how many keys it follows one by one.
func (c *countedLog) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}
