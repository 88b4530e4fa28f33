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

// refusalLog logs the WebSocket connections refused by
// Config.MaxClientsPerAddr: an address's first refusal at once, then at
// most one summary line per interval (every) with how many were refused
// since; headroom_gateway_connections_total counts each exactly. The
// summary is written by the address's next refusal after the interval,
// or, for an address that stopped trying, by any refusal once the
// interval has passed, which also forgets it; so it holds only the
// addresses refused in the last interval or so. Safe for concurrent use.
type refusalLog struct {
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	addrs map[netip.Prefix]*refusals
	swept time.Time // the last sweep of the addresses gone quiet
}

// refusals are one address's refusals since its last line.
type refusals struct {
	since time.Time // its last line
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
	if now.Sub(l.swept) >= l.every {
		l.swept = now
		for pk, r := range l.addrs {
			if pk != k && now.Sub(r.since) >= l.every {
				r.flush(log, pk, now)
				delete(l.addrs, pk)
			}
		}
	}
	r := l.addrs[k]
	switch {
	case r == nil:
		l.addrs[k] = &refusals{since: now, limit: limit}
		log.Warn().Str("client", client.String()).Str("remote", remote).Int("limit", limit).
			Dur("summary_every", l.every).
			Msg("websocket refused: its address has gateway.max-clients-per-addr clients open (its further refusals: one summary line per summary_every at most)")
	case now.Sub(r.since) < l.every:
		r.n++
		r.limit = limit
	default:
		r.n++
		r.limit = limit
		r.flush(log, k, now)
		r.since = now
	}
}

// flush writes the summary of r's refusals of k, if any.
func (r *refusals) flush(log zerolog.Logger, k netip.Prefix, now time.Time) {
	if r.n == 0 {
		return
	}
	log.Warn().Str("client", k.String()).Int("refused", r.n).Dur("in", now.Sub(r.since)).Int("limit", r.limit).
		Msg("websocket connections refused: their address had gateway.max-clients-per-addr clients open")
	r.n = 0
}

// len is how many addresses it holds.
func (l *refusalLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}
