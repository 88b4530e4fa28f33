package ingest

import (
	"container/list"
	"math"
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

// An IPv6 client's failures count against its /48 too, the block a site
// is usually given, with authSiteFactor times a client's allowance: each
// of a /48's 65,536 /64s starts with a full allowance, so a guesser
// rotating through them would otherwise never be held back.
const (
	authSiteBits   = 48
	authSiteFactor = 16
)

// authGuard counts the failed authentications of each client address in
// a token bucket read at the handler's clock, and of each IPv6 client's
// /48 in another. An address whose bucket, or whose /48's, is empty is
// blocked: every request from it is refused, one with the right token
// too, until a failure's worth has refilled. It remembers at most max
// addresses and /48s, forgetting the one that failed least recently
// first, so its memory is bounded whatever the number of clients.
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

// authBlock says why a client is blocked: the address or /48 (from) out
// of failures, its allowance, and how long until it may try again.
type authBlock struct {
	from  netip.Prefix
	limit float64
	burst int
	wait  time.Duration
}

// who names the blocked address, or /48, for the refusal.
func (b authBlock) who() string {
	switch {
	case !b.from.IsValid():
		return "this client"
	case b.from.IsSingleIP():
		return b.from.Addr().String()
	}
	return b.from.String()
}

// newAuthGuard returns nil when limit is 0 (no limit).
func newAuthGuard(limit float64, burst, max int) *authGuard {
	if limit <= 0 {
		return nil
	}
	return &authGuard{limit: rate.Limit(limit), burst: burst, max: max, addrs: map[netip.Prefix]*list.Element{}}
}

// siteOf is the /48 of an IPv6 client, whose failures count too.
func siteOf(client netip.Prefix) (netip.Prefix, bool) {
	if !client.Addr().Is6() {
		return netip.Prefix{}, false
	}
	p, err := client.Addr().Prefix(authSiteBits)
	return p, err == nil
}

// blocked reports whether client may not try a token at now, and why.
func (g *authGuard) blocked(client netip.Prefix, now time.Time) (authBlock, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, blocked := g.empty(client, now)
	if site, ok := siteOf(client); ok {
		if sb, sblocked := g.empty(site, now); sblocked && (!blocked || sb.wait > b.wait) {
			b, blocked = sb, true
		}
	}
	return b, blocked
}

// empty reports whether p's bucket has no failure left at now. g.mu is
// held.
func (g *authGuard) empty(p netip.Prefix, now time.Time) (authBlock, bool) {
	e, ok := g.addrs[p]
	if !ok {
		return authBlock{}, false
	}
	lim := e.Value.(*authEntry).lim
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return authBlock{}, false
	}
	return authBlock{from: p, limit: float64(lim.Limit()), burst: lim.Burst(), wait: seconds((1 - tokens) / float64(lim.Limit()))}, true
}

// failed counts a failed authentication of client, and of its /48, at now.
func (g *authGuard) failed(client netip.Prefix, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if site, ok := siteOf(client); ok {
		g.spend(site, g.limit*authSiteFactor, min(g.burst, math.MaxInt/authSiteFactor)*authSiteFactor, now)
	}
	g.spend(client, g.limit, g.burst, now)
}

// spend takes a failure from p's bucket, one of limit and burst when p is
// new, forgetting the least recently failing beyond max. g.mu is held.
func (g *authGuard) spend(p netip.Prefix, limit rate.Limit, burst int, now time.Time) {
	e, ok := g.addrs[p]
	if ok {
		g.lru.MoveToFront(e)
	} else {
		if g.lru.Len() >= g.max {
			oldest := g.lru.Back()
			delete(g.addrs, oldest.Value.(*authEntry).client)
			g.lru.Remove(oldest)
		}
		e = g.lru.PushFront(&authEntry{client: p, lim: rate.NewLimiter(limit, burst)})
		g.addrs[p] = e
	}
	e.Value.(*authEntry).lim.AllowN(now, 1)
}

// len is how many addresses g remembers.
func (g *authGuard) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lru.Len()
}
