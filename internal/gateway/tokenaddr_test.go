package gateway_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/service"
)

// TestTokenBeyondLoopback: without a token the gateway serves only on a
// loopback address, whoever builds it (the standalone gateway, the
// all-in-one): New refuses an address beyond loopback before it needs a
// bus or registers a route, and RequireTokenOn, which the mains call before
// they start, says the same. A token, a loopback address or no address
// (New given no listener) is not refused.
func TestTokenBeyondLoopback(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		addr, token string
		refused     bool
	}{
		{addr: "0.0.0.0:8081", refused: true},
		{addr: ":8081", refused: true},
		{addr: "[::]:8081", refused: true},
		{addr: "192.0.2.1:8081", refused: true},
		{addr: "headroom.example:8081", refused: true},
		{addr: "0.0.0.0:8081", token: token},
		{addr: "127.0.0.1:8081"},
		{addr: "[::1]:8081"},
		{addr: "localhost:8081"},
		{addr: ""},
	} {
		cfg := gateway.DefaultConfig()
		cfg.Token = c.token
		mux := http.NewServeMux()
		_, newErr := gateway.New(cfg, service.Deps{Log: zerolog.Nop(), Reg: prometheus.NewRegistry(), Ready: service.NewReady(), Mux: mux, HTTPAddr: c.addr})
		checkErr := cfg.RequireTokenOn(c.addr)
		if !c.refused {
			if checkErr != nil || errors.Is(newErr, gateway.ErrTokenRequired) {
				t.Errorf("%q, token %v: RequireTokenOn %v, New %v; want no refusal for the token", c.addr, c.token != "", checkErr, newErr)
			}
			continue
		}
		for name, err := range map[string]error{"New": newErr, "RequireTokenOn": checkErr} {
			if !errors.Is(err, gateway.ErrTokenRequired) || !strings.Contains(err.Error(), "it listens on "+c.addr+", which is not a loopback address; set -gateway.token / HEADROOM_GATEWAY_TOKEN") {
				t.Errorf("%s with %q and no token: %v, want the dashboard's token required", name, c.addr, err)
			}
		}
		if _, pattern := mux.Handler(httptest.NewRequest(http.MethodGet, "/ws", nil)); pattern != "" {
			t.Errorf("%q refused, yet New registered %s", c.addr, pattern)
		}
	}
}
