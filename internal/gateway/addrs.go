package gateway

import (
	"net/netip"
	"sync"

	"github.com/headroomhq/headroom/internal/clientaddr"
)

// addrCounts counts the open WebSocket connections of each client address,
// so that one address cannot take every one of Config.MaxClients and lock
// the other dashboards out. An IPv6 address counts with its /64, which one
// host usually holds whole. It holds an entry only while a connection is
// open, so it never outgrows MaxClients. Safe for concurrent use.
type addrCounts struct {
	mu sync.Mutex
	n  map[netip.Prefix]int
}

// addrKey is the prefix a client address (Gateway.client) counts under,
// as the push API counts a client (internal/clientaddr): its IPv4
// address, or its IPv6 /64. ok is false for the zero address (a peer that
// is not an address, a Unix socket's), which is not counted.
func addrKey(a netip.Addr) (netip.Prefix, bool) {
	return clientaddr.Prefix(a), a.IsValid()
}

// take counts one more connection of k unless it has limit open already.
func (c *addrCounts) take(k netip.Prefix, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[k] >= limit {
		return false
	}
	if c.n == nil {
		c.n = map[netip.Prefix]int{}
	}
	c.n[k]++
	return true
}

// give counts one connection of k less.
func (c *addrCounts) give(k netip.Prefix) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[k]--; c.n[k] <= 0 {
		delete(c.n, k)
	}
}

// len is how many addresses have a connection open.
func (c *addrCounts) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.n)
}

// addrSlots bounds the history replays the connections of one client
// address run at once (Config.HistoryPerAddr): a semaphore per address
// key (addrKey), held only while a replay of the address runs or waits,
// so it never outgrows the replays in flight. Safe for concurrent use.
type addrSlots struct {
	mu sync.Mutex
	m  map[netip.Prefix]*addrSlot
}

// addrSlot is one address's semaphore and how many replays hold it or
// wait for it.
type addrSlot struct {
	sem   chan struct{}
	users int
}

// join returns k's semaphore, of limit places, counting one more user
// of it; the user calls leave once it no longer holds nor waits for a
// place.
func (a *addrSlots) join(k netip.Prefix, limit int) (sem chan struct{}, leave func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.m[k]
	if s == nil {
		if a.m == nil {
			a.m = map[netip.Prefix]*addrSlot{}
		}
		s = &addrSlot{sem: make(chan struct{}, limit)}
		a.m[k] = s
	}
	s.users++
	return s.sem, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if s.users--; s.users == 0 {
			delete(a.m, k)
		}
	}
}

// len is how many addresses have a replay running or waiting.
func (a *addrSlots) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m)
}
