package ingest

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/headroomhq/headroom/internal/clientaddr"
	"github.com/headroomhq/headroom/internal/config"
)

// client is whom a request's failed authentications count against: the
// TCP peer (clientaddr.Parse; a RemoteAddr that is not an address, a
// server on a Unix socket, reads as the zero address, whose prefix is one
// client for all of them), or, when the peer is a trusted proxy, the
// client its forwarding header names (clientaddr.Forwarding), by clientaddr.Prefix.
// A header that cannot be read leaves the peer, counted and logged
// (h.readable).
func (h *Handler) client(r *http.Request) netip.Prefix {
	a, readable := h.fwd.Client(r.RemoteAddr, r.Header)
	h.readable(r, readable)
	return clientaddr.Prefix(a)
}

// readable counts and logs, sampled, a request whose forwarding header
// from a trusted proxy could not be read (readable false). The log says
// what follows: with the failed-authentication limit on, the request's
// failures count against the proxy's address; without it (off, or no
// token) nothing counts yet, but would once the limit is turned on.
func (h *Handler) readable(r *http.Request, readable bool) {
	if readable {
		return
	}
	h.unreadable.Inc()
	if ev := h.forwardLog.Warn(); ev.Enabled() {
		key := "x_forwarded_for"
		if h.fwd.Header == config.HeaderForwarded {
			key = "forwarded"
		}
		msg := " from a trusted proxy holds an entry that is not an address: the proxy's address counts the request's failed authentications"
		if h.auth == nil {
			msg = " from a trusted proxy holds an entry that is not an address: the request is taken as the proxy's, whose address would count its failed authentications were they limited (they are not)"
		}
		ev.Str("remote", r.RemoteAddr).Str(key, clip(strings.Join(r.Header.Values(h.fwd.Header), ", "))).Msg(h.fwd.Header + msg)
	}
}

// forwarded reads a request's TCP peer and, when the peer is a trusted
// proxy, the client its forwarding header (Config.ForwardedHeader) names
// (clientaddr.Forwarding.Resolve): forwarded says there is one, readable
// is false when the header could not be read. It counts and logs
// nothing, for the refusal logs to call too.
func (h *Handler) forwarded(r *http.Request) (peer, client netip.Addr, forwarded, readable bool) {
	return h.fwd.Resolve(r.RemoteAddr, r.Header)
}
