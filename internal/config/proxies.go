package config

import (
	"fmt"
	"net/netip"
)

// ParseTrustedProxy reads one entry of a trusted-proxies list: a CIDR
// ("10.0.0.0/8", "2001:db8::/32") or a single address ("10.0.0.5", taken
// as its /32 or /128). A CIDR with bits set past its length is refused,
// lest a typo ("10.0.0.5/8") trust a whole block the writer did not mean;
// so is a /0, which would trust every peer's X-Forwarded-For and let any
// client name whatever address it likes. IPv4-mapped IPv6 addresses are
// read as IPv4. It is the one check of every trusted-proxies list: the
// file's push.trusted_proxies and -push.trusted-proxies (internal/ingest).
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
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%q trusts every address: any client could then name itself in X-Forwarded-For; list the proxies' own addresses", s)
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}
