// Package clientaddr names the client an HTTP request's peer stands for,
// as the limits that count per client (the push API's failed
// authentications, the gateway's WebSocket connections per address) count
// it: an IPv4 address alone, an IPv6 one by its /64, the block one host is
// usually given; behind trusted reverse proxies (Forwarding), the client
// their X-Forwarded-For or RFC 7239 Forwarded header names. It takes
// values and returns values.
package clientaddr

import "net/netip"

// Parse reads the address of a RemoteAddr ("ip:port", "[ip6]:port" or an
// address alone), unmapped (an IPv4-mapped IPv6 address is its IPv4
// address) and without zone. ok is false for one that is not an address
// (a name, a Unix socket's peer).
func Parse(remote string) (a netip.Addr, ok bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		a = ap.Addr()
	} else if a, err = netip.ParseAddr(remote); err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// Prefix is the client a counts as: an IPv4 address alone (its /32), an
// IPv6 one by its /64; the zero prefix for the zero address.
func Prefix(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
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
