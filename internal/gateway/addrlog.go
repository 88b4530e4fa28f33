package gateway

import (
	"net/netip"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// refusalEvery is how often at most one address's refusals by
// Config.MaxClientsPerAddr are logged after its first: a client retrying
// in a loop would otherwise write a warning per attempt.
const refusalEvery = time.Minute

// refusalAddrs is how many addresses refusalLog holds, each with its own
// lines: past it, the refusals of further addresses share one first line
// and one summary line per interval, so that a client rotating through
// addresses (an IPv6 one holds many /64s) grows neither the memory nor
// the log without bound. The addresses at the limit at once are at most
// Config.MaxClients / Config.MaxClientsPerAddr; a few hundred is
// generous.
const refusalAddrs = 256

// refusalLog logs the WebSocket connections refused by
// Config.MaxClientsPerAddr: an address's first refusal at once, then at
// most one summary line per interval (every) with how many were refused
// since; headroom_gateway_connections_total counts each exactly. The
// summary is written by the address's next refusal after the interval,
// or by any refusal once the interval has passed, or by the gateway's
// sweep every interval (sweep), or as the gateway stops (flushAll). A
// sweep forgets an address refused in none of the last interval (it
// stopped trying; its next refusal is a first one again), and keeps one
// still refused, whose summary it wrote: a client retrying in a loop
// writes one line an interval, not a summary and a first line. So it
// holds only the addresses refused in the last interval or two, and at
// most refusalAddrs of them: the refusals of any more are logged
// together as "others". Safe for concurrent use.
type refusalLog struct {
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	addrs map[netip.Prefix]*refusals
	// others are the refusals of the addresses that found addrs full
	// since its first line; nil until one does, and again once its
	// summary is written, an interval or more later.
	others *refusals
	swept  time.Time // the last sweep of the addresses gone quiet
}

// refusals are one address's refusals since its last line.
type refusals struct {
	since time.Time // its last line
	last  time.Time // its last refusal
	n     int       // refused since, not logged
	limit int
}

// refused logs, unless its address had a line within every, the refusal
// of a connection of client (under key k) by limit; remote is the TCP
// peer. It may write the summaries of other addresses gone quiet.
func (l *refusalLog) refused(log zerolog.Logger, k netip.Prefix, client netip.Addr, remote string, limit int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs == nil {
		l.addrs = map[netip.Prefix]*refusals{}
	}
	r := l.addrs[k]
	full := r == nil && len(l.addrs) >= refusalAddrs
	if full || now.Sub(l.swept) >= l.every {
		// Full, it sweeps at every refusal of a new address: at most
		// refusalAddrs entries to look at, and the quiet ones leave room.
		l.sweepLocked(log, now, k, false)
		full = r == nil && len(l.addrs) >= refusalAddrs
	}
	switch {
	case full && l.others == nil:
		l.others = &refusals{since: now, last: now, limit: limit}
		log.Warn().Str("client", client.String()).Str("counted_as", k.String()).Str("remote", remote).Int("limit", limit).
			Dur("summary_every", l.every).Int("addresses", refusalAddrs).
			Msg("websocket refused: its address has gateway.max-clients-per-addr clients open; more addresses than the log follows one by one are refused (the refusals of the others: one summary line per summary_every at most, counted_as \"others\")")
	case full:
		l.others.n++
		l.others.last, l.others.limit = now, limit
	case r == nil:
		l.addrs[k] = &refusals{since: now, last: now, limit: limit}
		log.Warn().Str("client", client.String()).Str("counted_as", k.String()).Str("remote", remote).Int("limit", limit).
			Dur("summary_every", l.every).
			Msg("websocket refused: its address has gateway.max-clients-per-addr clients open (its further refusals: one summary line per summary_every at most)")
	case now.Sub(r.since) < l.every:
		r.n++
		r.last, r.limit = now, limit
	default:
		r.n++
		r.last, r.limit = now, limit
		r.flush(log, k.String(), now)
		r.since = now
	}
}

// sweep writes the summaries of the addresses (and others) whose last
// line is an interval old or more, and forgets those refused in none of
// the last interval; the gateway calls it every interval while it runs,
// so that the refusals of a client that stopped trying are written even
// when no refusal follows.
func (l *refusalLog) sweep(log zerolog.Logger, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(log, now, netip.Prefix{}, false)
}

// flushAll writes every summary not yet written, whatever its age, and
// forgets every address: the gateway calls it as it stops.
func (l *refusalLog) flushAll(log zerolog.Logger, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(log, now, netip.Prefix{}, true)
}

// sweepLocked writes the summaries of the addresses but except (the one
// being refused, whose line refused writes), and of others, whose last
// line is an interval old or more (all, with every), and forgets those
// refused in none of the last interval (all, with every). One refused
// since keeps its place, its next summary an interval after this one:
// forgotten, a client still retrying would have its next refusal logged
// as a first one, two lines an interval.
func (l *refusalLog) sweepLocked(log zerolog.Logger, now time.Time, except netip.Prefix, every bool) {
	l.swept = now
	for pk, pr := range l.addrs {
		if pk != except && pr.due(log, pk.String(), now, l.every, every) {
			delete(l.addrs, pk)
		}
	}
	if l.others != nil && l.others.due(log, "others", now, l.every, every) {
		l.others = nil
	}
}

// due writes the summary of r's refusals of key (flush) when its last
// line is interval old or more, or when all is set, and reports whether
// r is to be forgotten: with all, or when refused in none of the last
// interval; else the written summary is its last line.
func (r *refusals) due(log zerolog.Logger, key string, now time.Time, interval time.Duration, all bool) (forget bool) {
	if !all && now.Sub(r.since) < interval {
		return false
	}
	r.flush(log, key, now)
	if all || now.Sub(r.last) >= interval {
		return true
	}
	r.since = now
	return false
}

// flush writes the summary of r's refusals of key (an address's prefix,
// or "others"), if any. The line names it counted_as, as the first line
// does beside the client's address: a summary may sum up several
// addresses (an IPv6 /64's), so it has no client of its own.
func (r *refusals) flush(log zerolog.Logger, key string, now time.Time) {
	if r.n == 0 {
		return
	}
	log.Warn().Str("counted_as", key).Int("refused", r.n).Dur("in", now.Sub(r.since)).Int("limit", r.limit).
		Msg("websocket connections refused: their address had gateway.max-clients-per-addr clients open")
	r.n = 0
}

// len is how many addresses it holds.
func (l *refusalLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}
