package ingest

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrTokenRequired is returned by RequireToken and RequireTokenOn when the
// push API would be open without a token where it must not be.
var ErrTokenRequired = errors.New("the push API needs a token")

// RequireToken says whether cfg may serve the push API: when a real
// executor driver (command, webhook, …) is live, pushed ticks can change
// real infrastructure, so a token is required and its absence is an error
// to fail the start with. It never looks at the token's value beyond
// "set or not", so nothing secret reaches the message.
func RequireToken(cfg Config, realDriverLive bool) error {
	if realDriverLive && cfg.Token == "" {
		return fmt.Errorf("%w: a real executor driver may act live (a configuration naming an app mode: live, for a collector that cannot see the executor's driver); set push.token in the configuration file or -push.token / HEADROOM_PUSH_TOKEN", ErrTokenRequired)
	}
	return nil
}

// RequireTokenOn says whether cfg may serve the push API on the listen
// address addr (host:port). A standalone collector does not know which
// driver the executor runs, so it requires a token whenever addr is
// reachable from other hosts: any address but a loopback IP or
// "localhost" (":8080" and "0.0.0.0:8080" listen on every interface). An
// empty addr is not checked.
func RequireTokenOn(cfg Config, addr string) error {
	if cfg.Token != "" || addr == "" || Loopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: it listens on %s, which is not a loopback address; set push.token in the configuration file or -push.token / HEADROOM_PUSH_TOKEN, or listen on 127.0.0.1", ErrTokenRequired, addr)
}

// Loopback reports whether the listen address addr (host:port or a bare
// host) only accepts connections from this machine.
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
