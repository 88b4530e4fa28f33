package ingest

import (
	"container/list"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The default limit of failed authentications per client address: a
// client that mistypes its token hears 401 ten times in a row, then 429;
// a guesser tries 2 tokens a second at most from each address (more
// than DefaultAuthFailAddrs addresses, and it is not held back at all).
const (
	DefaultAuthFailLimit = 2
	DefaultAuthFailBurst = 10
	// DefaultAuthFailAddrs is the most client addresses whose failures
	// are remembered: some 2.5 MB (BenchmarkAuthGuardFull measures it),
	// 5 MB once the map has churned through millions (deleted entries'
	// room is kept).
	DefaultAuthFailAddrs = 10000
)

// authGuard counts the failed authentications of each client address in
// a token bucket read at the handler's clock. An address whose bucket is
// empty is blocked: every request from it is refused, one with the right
// token too, until a failure's worth has refilled. It remembers at most
// max addresses, forgetting the one that failed least recently first, so
// its memory is bounded whatever the number of clients.
type authGuard struct {
	limit rate.Limit
	burst int
	max   int

	mu    sync.Mutex
	addrs map[netip.Prefix]*list.Element // values are *authEntry
	lru   list.List                      // front: the latest failure
}

type authEntry struct {
	client netip.Prefix
	lim    *rate.Limiter
}

// newAuthGuard returns nil when limit is 0 (no limit).
func newAuthGuard(limit float64, burst, max int) *authGuard {
	if limit <= 0 {
		return nil
	}
	return &authGuard{limit: rate.Limit(limit), burst: burst, max: max, addrs: map[netip.Prefix]*list.Element{}}
}

// blocked reports whether client may not try a token at now, and how long
// until it may.
func (g *authGuard) blocked(client netip.Prefix, now time.Time) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.addrs[client]
	if !ok {
		return 0, false
	}
	if tokens := e.Value.(*authEntry).lim.TokensAt(now); tokens < 1 {
		return seconds((1 - tokens) / float64(g.limit)), true
	}
	return 0, false
}

// failed counts a failed authentication of client at now.
func (g *authGuard) failed(client netip.Prefix, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.addrs[client]
	if ok {
		g.lru.MoveToFront(e)
	} else {
		if g.lru.Len() >= g.max {
			oldest := g.lru.Back()
			delete(g.addrs, oldest.Value.(*authEntry).client)
			g.lru.Remove(oldest)
		}
		e = g.lru.PushFront(&authEntry{client: client, lim: rate.NewLimiter(g.limit, g.burst)})
		g.addrs[client] = e
	}
	e.Value.(*authEntry).lim.AllowN(now, 1)
}

// len is how many addresses g remembers.
func (g *authGuard) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lru.Len()
}

// clientOf is the client a request's failures count against: the TCP
// peer's address (http.Request.RemoteAddr, "ip:port"), an IPv4 address
// alone and an IPv6 one by its /64, the block one host is usually given.
// Headers such as X-Forwarded-For are not read: a client could name any
// address in them. A RemoteAddr that is not an address (a server on a
// Unix socket) maps to the zero prefix, one client for all of them.
func clientOf(remote string) netip.Prefix {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(remote); err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}
