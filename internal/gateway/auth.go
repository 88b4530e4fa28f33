package gateway

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// loopbackNames are the Host names always allowed on the listening port.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// splitHost splits a Host header into a lower-case name (brackets and a
// trailing dot removed) and a port ("" when absent).
func splitHost(hostport string) (name, port string) {
	name = hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		name, port = h, p
	}
	name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
	return name, port
}

// checkHost guards against DNS rebinding: a page on a name the attacker
// controls, re-pointed at 127.0.0.1, sends its own name as Host. Allowed:
// localhost, 127.0.0.1 and [::1] on the port the request arrived on, and
// the configured names (a name alone allows any port).
func (g *Gateway) checkHost(r *http.Request) bool {
	name, port := splitHost(r.Host)
	if name == "" {
		return false
	}
	for _, h := range g.cfg.AllowedHosts {
		if h == "*" {
			return true
		}
		hn, hp := splitHost(h)
		if hn == name && (hp == "" || hp == port) {
			return true
		}
	}
	local := ""
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		_, local, _ = net.SplitHostPort(a.String())
	}
	for _, l := range loopbackNames {
		if name == l && (port == local || (port == "" && local == "80")) {
			return true
		}
	}
	return false
}

// guard refuses requests whose Host is not allowed (403) before h runs.
func (g *Gateway) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.checkHost(r) {
			g.metrics.connections.WithLabelValues("host").Inc()
			g.log.Warn().Str("host", r.Host).Str("remote", r.RemoteAddr).Str("path", r.URL.Path).Msg("request for a foreign Host refused (DNS rebinding?)")
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

// checkToken accepts the request when no token is configured, or when it
// carries the token as a bearer header or as the token query parameter
// (browsers cannot set headers on a WebSocket).
func (g *Gateway) checkToken(r *http.Request) bool {
	if g.cfg.Token == "" {
		return true
	}
	got := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		got = strings.TrimSpace(tok)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(g.cfg.Token)) == 1
}
