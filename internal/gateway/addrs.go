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
