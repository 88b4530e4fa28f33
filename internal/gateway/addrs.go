package gateway

import (
	"net"
	"net/netip"
	"sync"
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

// addrKey is the prefix remoteAddr (an http.Request's RemoteAddr, host:port)
// counts under: its IPv4 address, or its IPv6 /64. ok is false for an
// address that does not parse (a test's or a unix socket's), which is not
// counted.
func addrKey(remoteAddr string) (netip.Prefix, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	return p, err == nil
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
