// Package hostcheck guards HTTP handlers against DNS rebinding. A page on a
// name the attacker controls, re-pointed at 127.0.0.1 after it loaded,
// reaches a loopback server as a same-origin request that carries the
// attacker's name as its Host header. Allowed answers only requests whose
// Host is a loopback name on the port they arrived on, or a configured name.
// The gateway (dashboard, /ws, /api/v1/*) and the push API (internal/ingest)
// both use it, with the same rules. Loopback tells the listen addresses on
// which they may serve without a token.
package hostcheck

import (
	"errors"
	"fmt"
	"net"
	"net/http"
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

// Allowed reports whether r's Host header is allowed: localhost, 127.0.0.1
// and [::1] on the port the request arrived on (read from
// http.LocalAddrContextKey, which net/http sets; port 80 when Host has
// none), or a name in allowed, where a name alone allows any port, host:port
// that port only, and "*" any Host at all (for a proxy that checks it).
func Allowed(r *http.Request, allowed []string) bool {
	name, port := splitHost(r.Host)
	if name == "" {
		return false
	}
	for _, h := range allowed {
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

// Check returns an error naming flag for each entry of allowed that is not
// host, host:port or "*" (a URL, say, which would never match a Host header).
func Check(flag string, allowed []string) error {
	var errs []error
	for _, h := range allowed {
		if h == "*" {
			continue
		}
		if h == "" || strings.ContainsAny(h, "/@ ") || strings.Contains(h, "://") {
			errs = append(errs, fmt.Errorf("%s: %q is not host or host:port", flag, h))
		}
	}
	return errors.Join(errs...)
}

// Loopback reports whether the listen address addr (host:port or a bare
// host) only accepts connections from this machine: "localhost" or a
// loopback IP (":8080" and "0.0.0.0:8080" listen on every interface). The
// push API and the gateway require a token on any other address.
func Loopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Split parses a comma-separated flag value into its names, trimmed, with
// empty ones dropped; nil when there are none.
func Split(list string) []string {
	var out []string
	for _, h := range strings.Split(list, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}
