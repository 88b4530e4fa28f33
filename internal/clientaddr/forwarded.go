package clientaddr

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/headroomhq/headroom/internal/config"
)

// Forwarding reads who a request's client is behind trusted reverse
// proxies: the TCP peer, or, when the peer is one of Trusted, the client
// its forwarding header (Header) names. The push API (internal/ingest) and
// the gateway read their clients through it, each with its own settings.
// The zero value trusts no proxy: the peer is the client.
type Forwarding struct {
	// Trusted are the proxies whose forwarding header is read.
	Trusted Proxies
	// Header is config.HeaderXForwardedFor or config.HeaderForwarded (RFC
	// 7239, its for parameter): the one header the proxies append the
	// client's address to, never both.
	Header string
}

// NewForwarding reads a trusted-proxies list (ParseProxies) and the name
// of the forwarding header (config.ForwardedHeader: X-Forwarded-For, also
// for "", or Forwarded).
func NewForwarding(trusted []string, header string) (Forwarding, error) {
	ps, err := ParseProxies(trusted)
	if err != nil {
		return Forwarding{}, fmt.Errorf("trusted proxy %w", err)
	}
	h, err := config.ForwardedHeader(header)
	if err != nil {
		return Forwarding{}, fmt.Errorf("forwarded header %w", err)
	}
	return Forwarding{Trusted: ps, Header: h}, nil
}

// Resolve reads a request's TCP peer (its RemoteAddr, Parse; the zero
// address when it is not one) and, when the peer is a trusted proxy, the
// client the forwarding header among h names (forwardedFor): forwarded
// says there is one; readable is false when the header could not be
// read, and the caller should then take the peer as the client (and
// count or log it: Resolve does neither).
func (f Forwarding) Resolve(remoteAddr string, h http.Header) (peer, client netip.Addr, forwarded, readable bool) {
	peer, ok := Parse(remoteAddr)
	if !ok || !f.Trusted.Contains(peer) {
		return peer, netip.Addr{}, false, true
	}
	entry := forwardedAddr
	if f.Header == config.HeaderForwarded {
		entry = forwardedElem
	}
	a, found, readable := forwardedFor(h.Values(f.Header), f.Trusted, entry)
	return peer, a, found && readable, readable
}

// Client is the address a request counts as (Resolve): the client its
// trusted proxy names, or else its peer.
func (f Forwarding) Client(remoteAddr string, h http.Header) (client netip.Addr, readable bool) {
	peer, a, forwarded, readable := f.Resolve(remoteAddr, h)
	if forwarded {
		return a, readable
	}
	return peer, readable
}

// Proxies are the trusted reverse proxies of a server: only from a peer
// inside one of them is its forwarding header read.
type Proxies []netip.Prefix

// ParseProxies reads a trusted-proxies list (-push.trusted-proxies,
// -gateway.trusted-proxies), each entry checked by
// config.ParseTrustedProxy; its error names the entry.
func ParseProxies(list []string) (Proxies, error) {
	var ps Proxies
	for _, s := range list {
		p, err := config.ParseTrustedProxy(s)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Contains reports whether a is inside one of the trusted proxies.
func (ps Proxies) Contains(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor finds the client in the values (every header line, in
// order) of a request's forwarding header whose TCP peer is a trusted
// proxy; entry reads one of their comma-separated entries (forwardedAddr
// for X-Forwarded-For, forwardedElem for Forwarded). Each proxy appends
// the address it heard from, so the entries a client wrote itself lie to
// the left of the one its first trusted proxy appended: the walk goes
// from the right and stops at the first address that is not a trusted
// proxy. When every address is a trusted proxy the client is the
// left-most, the furthest hop known. found is false without any entry
// (the proxy sent no header, or only empty Forwarded elements); ok is
// false when an entry the walk reaches
// cannot be read ("unknown", an empty one, a name), and the caller should
// then keep the peer as the client: nothing right of it could be trusted
// to say who the client is. Entries left of where the walk stops are
// never read, so what a client writes there (an unterminated quote
// included) cannot spoil its proxy's entry. An entry read as readable
// but without an address is an empty list element (Forwarded's, which
// RFC 9110 §5.6.1.2 has a recipient ignore): skipped.
func forwardedFor(values []string, trusted Proxies, entry func(string) (netip.Addr, bool)) (client netip.Addr, found, ok bool) {
	var last netip.Addr
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for {
			e := v
			j := strings.LastIndexByte(v, ',')
			if j >= 0 {
				e, v = v[j+1:], v[:j]
			}
			a, readable := entry(e)
			switch {
			case !readable:
				return netip.Addr{}, true, false
			case !a.IsValid():
				// An empty element: nothing to read.
			case !trusted.Contains(a):
				return a, true, true
			default:
				last = a
			}
			if j < 0 {
				break
			}
		}
	}
	return last, last.IsValid(), true
}

// forwardedAddr reads one X-Forwarded-For entry: an address, with or
// without a port ("192.0.2.1", "192.0.2.1:4711", "2001:db8::1",
// "[2001:db8::1]:4711"), amid optional white space; unmapped, without
// zone.
func forwardedAddr(entry string) (netip.Addr, bool) {
	entry = strings.Trim(entry, " \t")
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(entry); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// forwardedElem reads the address of one element of an RFC 7239
// Forwarded header (amid optional white space): its pairs, separated by
// ";" (empty ones allowed, as the ABNF does: "for=192.0.2.60;"), each a
// parameter name (any case) "=" a token or a quoted string, exactly one
// of them for. An empty element (white space at most) is readable
// without an address: forwardedFor skips it. The for value is an IPv4 address
// ("for=192.0.2.60"), with a port when quoted ("for=\"192.0.2.60:4711\""),
// or an IPv6 address in brackets, quoted, with or without a port
// ("for=\"[2001:db8::1]:4711\""); the port may be obfuscated ("_p1").
// Unreadable: an element without for or with two, "unknown", an
// obfuscated identifier ("_hidden"), a name, an IPv6 address without
// brackets, any syntax error. A quoted value may not hold a comma: the
// walk splits entries at every comma.
func forwardedElem(elem string) (netip.Addr, bool) {
	rest := strings.Trim(elem, " \t")
	if rest == "" {
		return netip.Addr{}, true
	}
	var forValue string
	found := false
	for {
		name, value, tail, ok := forwardedPair(rest)
		if !ok {
			return netip.Addr{}, false
		}
		if name == "" {
			// An empty pair: ";" at most amid white space.
		} else if strings.EqualFold(name, "for") {
			if found {
				return netip.Addr{}, false
			}
			forValue, found = value, true
		}
		if tail == "" {
			break
		}
		rest = tail
	}
	if !found {
		return netip.Addr{}, false
	}
	return forwardedNode(forValue)
}

// forwardedPair reads the first pair of s, name=value, returning the
// value unquoted and what follows the ";" after it ("" at the end). An
// empty pair, s blank or starting with ";", has name "".
func forwardedPair(s string) (name, value, tail string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return "", "", "", true
	}
	if s[0] == ';' {
		return "", "", s[1:], true
	}
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 || i == len(s) || s[i] != '=' {
		return "", "", "", false
	}
	name, s = s[:i], s[i+1:]
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		j := 1
		for ; j < len(s) && s[j] != '"'; j++ {
			c := s[j]
			if c == '\\' {
				j++
				if j == len(s) {
					return "", "", "", false
				}
				c = s[j]
			}
			if c < 0x20 && c != '\t' || c == 0x7f {
				return "", "", "", false
			}
			b.WriteByte(c)
		}
		if j == len(s) {
			return "", "", "", false
		}
		value, s = b.String(), s[j+1:]
	} else {
		j := 0
		for j < len(s) && isTokenChar(s[j]) {
			j++
		}
		if j == 0 {
			return "", "", "", false
		}
		value, s = s[:j], s[j:]
	}
	s = strings.TrimLeft(s, " \t")
	switch {
	case s == "":
		return name, value, "", true
	case s[0] == ';':
		return name, value, s[1:], true
	}
	// Anything else after the value.
	return "", "", "", false
}

// isTokenChar reports whether c may be in an HTTP token (RFC 9110 tchar).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// forwardedNode reads the address of a Forwarded for value (RFC 7239
// node): IPv4 or [IPv6], then optionally ":" and a port, digits or an
// obfuscated one ("_" and letters, digits, ".", "_", "-"); unmapped.
func forwardedNode(v string) (netip.Addr, bool) {
	host, port := v, ""
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		host, port = v[1:end], v[end+1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" || !nodePort(port) {
			return netip.Addr{}, false
		}
		return a.Unmap(), true
	}
	if i := strings.IndexByte(v, ':'); i >= 0 {
		host, port = v[:i], v[i:]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() || !nodePort(port) {
		return netip.Addr{}, false
	}
	return a, true
}

// nodePort reports whether p is empty or ":" and a port: 1 to 5 digits
// up to 65535, or an obfuscated port.
func nodePort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) == 1 {
		return false
	}
	p = p[1:]
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return len(p) > 1
	}
	_, err := strconv.ParseUint(p, 10, 16)
	return err == nil && len(p) <= 5
}
