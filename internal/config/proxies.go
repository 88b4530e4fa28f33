package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseTrustedProxy reads one entry of a trusted-proxies list: a CIDR
// ("10.0.0.0/8", "2001:db8::/32") or a single address ("10.0.0.5", taken
// as its /32 or /128). A CIDR with bits set past its length is refused,
// lest a typo ("10.0.0.5/8") trust a whole block the writer did not mean;
// so is a /0, which would trust every peer's X-Forwarded-For and let any
// client name whatever address it likes, and any block wider than /8
// (IPv4) or /7 (IPv6), a /0 split in halves. IPv4-mapped IPv6 addresses
// and blocks are read as IPv4 (::ffff:10.0.0.0/104 is 10.0.0.0/8), before
// those checks. It is the one check of every trusted-proxies list: the
// file's push.trusted_proxies, -push.trusted-proxies and -gateway.trusted-proxies
// (internal/clientaddr.ParseProxies, for the push API and the gateway).
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: want a CIDR (10.0.0.0/8, 2001:db8::/32) or an address", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set past its /%d: write %s, or the address alone", s, p.Bits(), p.Masked())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		// Unmapped first, so that ::ffff:0:0/96 meets the checks below
		// as the 0.0.0.0/0 it is.
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%q trusts every address: any client could then name itself in X-Forwarded-For; list the proxies' own addresses", s)
	}
	if floor := minTrustedBits(p.Addr()); p.Bits() < floor {
		return netip.Prefix{}, fmt.Errorf("%q trusts a block wider than /%d: every client in it could name itself in X-Forwarded-For; list the proxies' own addresses or ranges", s, floor)
	}
	return p, nil
}

// minTrustedBits is the widest block ParseTrustedProxy accepts: /8 for
// IPv4 (10.0.0.0/8, the widest private range), /7 for IPv6 (fc00::/7, the
// unique local addresses). No proxy fleet is wider; a wider block is a
// way round the refusal of a /0 (0.0.0.0/1 with 128.0.0.0/1, ::/1), which
// would let most of the Internet name any client it likes.
func minTrustedBits(a netip.Addr) int {
	if a.Is4() {
		return 8
	}
	return 7
}

// The request headers a trusted proxy may name the client in
// (ForwardedHeader).
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// ForwardedHeader reads the name of the header the trusted proxies append
// the client's address to: X-Forwarded-For (the default, also for "") or
// Forwarded (RFC 7239), in any case, returned in its canonical form. It is
// one header, never both: a proxy appends to one, and passes the other on
// as the client wrote it, so a client could name any address it likes in
// the header its proxy leaves alone. Traefik and Envoy append
// X-Forwarded-For and pass Forwarded through; nginx appends whichever its
// configuration says (real_ip_header likewise reads one named header).
func ForwardedHeader(s string) (string, error) {
	switch {
	case s == "" || strings.EqualFold(s, HeaderXForwardedFor):
		return HeaderXForwardedFor, nil
	case strings.EqualFold(s, HeaderForwarded):
		return HeaderForwarded, nil
	}
	return "", fmt.Errorf("%q: want %s or %s, the header the trusted proxies append the client's address to", s, HeaderXForwardedFor, HeaderForwarded)
}
