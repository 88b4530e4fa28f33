package gateway

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

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
