package ingest

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/headroomhq/headroom/internal/config"
)

// proxies are the trusted reverse proxies (Config.TrustedProxies).
type proxies []netip.Prefix

// parseProxies reads Config.TrustedProxies, which Validate has checked.
func parseProxies(list []string) (proxies, error) {
	var ps proxies
	for _, s := range list {
		p, err := config.ParseTrustedProxy(s)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// contains reports whether a is one of the trusted proxies.
func (ps proxies) contains(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor finds the client in the X-Forwarded-For values xff (every
// header line, in order) of a request whose TCP peer is a trusted proxy.
// Each proxy appends the address it heard from, so the entries a client
// wrote itself lie to the left of the one its first trusted proxy
// appended: the walk goes from the right and stops at the first address
// that is not a trusted proxy. When every address is a trusted proxy the
// client is the left-most, the furthest hop known. found is false without
// any entry (the proxy sent no header); ok is false when an entry the walk
// reaches is not an address ("unknown", an empty one, a name), and the
// caller should then keep the peer as the client: nothing right of it
// could be trusted to say who the client is.
func forwardedFor(xff []string, trusted proxies) (client netip.Addr, found, ok bool) {
	var last netip.Addr
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for {
			entry := v
			j := strings.LastIndexByte(v, ',')
			if j >= 0 {
				entry, v = v[j+1:], v[:j]
			}
			a, readable := forwardedAddr(entry)
			if !readable {
				return netip.Addr{}, true, false
			}
			if !trusted.contains(a) {
				return a, true, true
			}
			last = a
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

// client is whom a request's failed authentications count against: the
// TCP peer (addrOf), or, when the peer is a trusted proxy, the client
// its X-Forwarded-For names (forwardedFor), by prefixOf. A header that
// cannot be read leaves the peer, counted and logged.
func (h *Handler) client(r *http.Request) netip.Prefix {
	peer, a, forwarded, readable := h.forwarded(r)
	if !readable {
		h.unreadable.Inc()
		if ev := h.forwardLog.Warn(); ev.Enabled() {
			ev.Str("remote", r.RemoteAddr).Str("x_forwarded_for", clip(strings.Join(r.Header.Values("X-Forwarded-For"), ", "))).
				Msg("X-Forwarded-For from a trusted proxy holds an entry that is not an address: the proxy's address counts the request's failed authentications")
		}
	}
	if !forwarded {
		return prefixOf(peer)
	}
	return prefixOf(a)
}

// forwarded reads a request's TCP peer and, when the peer is a trusted
// proxy, the client its X-Forwarded-For names (forwardedFor): forwarded
// says there is one, readable is false when the header could not be
// read. It counts and logs nothing, for the refusal logs to call too.
func (h *Handler) forwarded(r *http.Request) (peer, client netip.Addr, forwarded, readable bool) {
	peer, ok := addrOf(r.RemoteAddr)
	if !ok || !h.trusted.contains(peer) {
		return peer, netip.Addr{}, false, true
	}
	a, found, readable := forwardedFor(r.Header.Values("X-Forwarded-For"), h.trusted)
	return peer, a, found && readable, readable
}
