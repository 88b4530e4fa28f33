package gateway

import (
	"crypto/subtle"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/hostcheck"
)

// checkHost guards against DNS rebinding (see internal/hostcheck): the
// loopback names on the listening port and Config.AllowedHosts pass.
func (g *Gateway) checkHost(r *http.Request) bool {
	return hostcheck.Allowed(r, g.cfg.AllowedHosts)
}

// guard refuses requests whose Host is not allowed (403) before h runs.
func (g *Gateway) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.checkHost(r) {
			g.metrics.connections.WithLabelValues(connHost).Inc()
			host := quoted(r.Host)
			client, forwarded := g.forwardedClient(r)
			if ev, others := g.hostLog.noteFrom(g.log, host, fromClient(r.RemoteAddr, client, forwarded), time.Now()); ev != nil {
				ev = g.hostLog.first(ev, others).Str("host", host).Str("remote", r.RemoteAddr).Str("path", quoted(r.URL.Path))
				withClient(ev, client, forwarded).Msg("request for a foreign Host refused (DNS rebinding?)")
			}
			http.Error(w, "host not allowed: add it to -gateway.allowed-hosts", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// checkOrigin allows requests without an Origin header (non-browser
// clients), from the gateway's own host, or from a configured origin.
func (g *Gateway) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range g.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), u.Scheme+"://"+u.Host) {
			return true
		}
	}
	return false
}

// checkToken accepts the request to route (ws, apps, fleet, health) when
// no token is configured, or when it carries the token as a bearer header
// or, on ws (the WebSocket upgrade: browsers cannot set headers on a
// WebSocket), as the token query parameter. Elsewhere (/api/v1) a token
// query parameter is refused even beside a good header (urlTokenRefused):
// a token in a URL lands in proxies' logs and browsers' history, and
// refuseToken tells the client to send the header.
func (g *Gateway) checkToken(r *http.Request, route string) bool {
	if g.cfg.Token == "" {
		return true
	}
	if urlTokenRefused(r, route) {
		return false
	}
	got := ""
	if route == routeWS {
		got = r.URL.Query().Get("token")
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		got = strings.TrimSpace(tok)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(g.cfg.Token)) == 1
}

// routeWS is the route (checkToken, refuseToken) of the WebSocket
// upgrade, the only one that reads a token from the URL.
const routeWS = "ws"

// urlTokenRefused reports whether r, a request to route, carries a token
// in its URL where only the WebSocket takes one: refused, right or wrong.
func urlTokenRefused(r *http.Request, route string) bool {
	return route != routeWS && r.URL.Query().Has("token")
}

// refuseToken answers 401 a request to route (ws, apps, fleet, health)
// with a missing or wrong token, or a token in the URL of a route other
// than ws (its text then says to send the header), and logs it (g.tokenLog): the first
// refusal of each route and way of presenting a token at once, the
// others counted in a summary line a period, so a dashboard with a
// wrong token gets its line even while a guesser retries. The token
// itself is never logged, only how it came (tokenPresented); client and
// forwarded are the client r counts as (Gateway.client,
// forwardedClient). The caller counts the refusal.
func (g *Gateway) refuseToken(w http.ResponseWriter, r *http.Request, route string, client netip.Addr, forwarded bool) {
	how := tokenPresented(r)
	inURL := urlTokenRefused(r, route)
	if inURL {
		// The URL's token is what was refused, whatever header came
		// beside it: a bearer there may well be right.
		how = presentedQuery
	}
	if ev, others := g.tokenLog.noteFrom(g.log, route+" "+how, fromClient(r.RemoteAddr, client, forwarded), time.Now()); ev != nil {
		ev = g.tokenLog.first(ev, others).Str("route", route).Str("presented", how).Str("remote", r.RemoteAddr)
		withClient(ev, client, forwarded).Msg("request with a missing or wrong token refused")
	}
	if inURL {
		http.Error(w, "token in the URL refused: send it as the header \"Authorization: Bearer <token>\" (only the WebSocket /ws takes ?token=)", http.StatusUnauthorized)
		return
	}
	http.Error(w, "missing or wrong token", http.StatusUnauthorized)
}

// forwardedClient is the client r's trusted proxy names, forwarded when
// one does. Unlike Gateway.client it counts no unreadable header: it is
// for the log lines of requests the gateway refuses before it counts
// anything.
func (g *Gateway) forwardedClient(r *http.Request) (client netip.Addr, forwarded bool) {
	_, a, forwarded, _ := g.fwd.Resolve(r.RemoteAddr, r.Header)
	return a, forwarded
}

// fromClient is the from of a request from remote, client when a trusted
// proxy named it (forwarded).
func fromClient(remote string, client netip.Addr, forwarded bool) from {
	f := from{remote: remote}
	if forwarded {
		f.client = client.String()
	}
	return f
}

// withClient adds to ev the client (the field client; remote is the
// peer) when a trusted proxy named it (forwarded).
func withClient(ev *zerolog.Event, client netip.Addr, forwarded bool) *zerolog.Event {
	if forwarded {
		ev = ev.Str("client", client.String())
	}
	return ev
}

// presentedQuery is tokenPresented's way of a token in the URL; on an
// /api/v1 route refuseToken logs every refusal of a URL token so, even
// beside a header, as the URL's token is what it refused.
const presentedQuery = "query"

// tokenPresented is how a request carries its token, as checkToken reads
// it on /ws: "bearer" (an Authorization Bearer header), "authorization"
// (an Authorization header of another scheme), "query" (the token
// parameter) or "none".
func tokenPresented(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, _, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return "bearer"
		}
		return "authorization"
	}
	if r.URL.Query().Has("token") {
		return presentedQuery
	}
	return "none"
}
