package gateway

import (
	"net/netip"
	"sync"
	"sync/atomic"
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
// Config.MaxClientsPerAddr, by the address's key (its prefix) through a
// countedLog: an address's first refusal at once, then at most one
// summary line per interval (every) with how many were refused since;
// headroom_gateway_connections_total counts each exactly. It follows at
// most refusalAddrs addresses one by one: the refusals of any more are
// logged together as "others". The gateway sweeps it every interval and
// flushes it as it stops (countedLog). Safe for concurrent use.
type refusalLog struct {
	every time.Duration
	now   func() time.Time

	once  sync.Once
	log   *countedLog
	limit atomic.Int64 // the last refusal's, for the summaries
}

// counted is l's countedLog, made at its first use.
func (l *refusalLog) counted() *countedLog {
	l.once.Do(func() {
		l.log = newCountedLog(l.every, refusalAddrs, zerolog.WarnLevel,
			"websocket connections refused: their address had gateway.max-clients-per-addr clients open")
		l.log.extra = func(ev *zerolog.Event) *zerolog.Event { return ev.Int("limit", int(l.limit.Load())) }
	})
	return l.log
}

// refused logs, unless its address had a line within every, the refusal
// of a connection of client (under key k) by limit; remote is the TCP
// peer. It may write the summaries of other addresses gone quiet.
func (l *refusalLog) refused(log zerolog.Logger, k netip.Prefix, client netip.Addr, remote string, limit int) {
	l.limit.Store(int64(limit))
	ev, others := l.counted().noteFrom(log, k.String(), from{remote: remote, client: client.String()}, l.now())
	if ev == nil {
		return
	}
	ev = ev.Str("client", client.String()).Str("counted_as", k.String()).Str("remote", remote).Int("limit", limit).
		Dur("summary_every", l.every)
	if others {
		ev.Int("addresses", refusalAddrs).
			Msg("websocket refused: its address has gateway.max-clients-per-addr clients open; more addresses than the log follows one by one are refused (the refusals of the others: one summary line per summary_every at most, counted_as \"others\")")
		return
	}
	ev.Msg("websocket refused: its address has gateway.max-clients-per-addr clients open (its further refusals: one summary line per summary_every at most)")
}

// sweep writes the summaries of the addresses (and others) whose last
// line is an interval old or more, and forgets those refused in none of
// the last interval (countedLog.sweep).
func (l *refusalLog) sweep(log zerolog.Logger, now time.Time) { l.counted().sweep(log, now) }

// flushAll writes every summary not yet written and forgets every
// address: the gateway calls it as it stops.
func (l *refusalLog) flushAll(log zerolog.Logger, now time.Time) { l.counted().flushAll(log, now) }

// len is how many addresses it holds.
func (l *refusalLog) len() int { return l.counted().len() }
