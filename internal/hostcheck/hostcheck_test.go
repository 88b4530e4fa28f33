package hostcheck_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/hostcheck"
)

// request is a request with Host host that arrived on local (ip:port), as
// net/http marks it in the context.
func request(host, local string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = host
	addr, err := net.ResolveTCPAddr("tcp", local)
	if err != nil {
		panic(err)
	}
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
}

// TestAllowed allows loopback names on the arriving port and the
// configured names, and refuses the DNS-rebinding Host (an attacker's name
// on the right port) and loopback names on another port.
func TestAllowed(t *testing.T) {
	for _, c := range []struct {
		name, host, local string
		allowed           []string
		want              bool
	}{
		{"rebinding name", "evil.example:8080", "127.0.0.1:8080", nil, false},
		{"rebinding name without port", "evil.example", "127.0.0.1:80", nil, false},
		{"empty Host", "", "127.0.0.1:8080", nil, false},
		{"localhost", "localhost:8080", "127.0.0.1:8080", nil, true},
		{"LOCALHOST with trailing dot", "LOCALHOST.:8080", "127.0.0.1:8080", nil, true},
		{"127.0.0.1", "127.0.0.1:8080", "127.0.0.1:8080", nil, true},
		{"[::1]", "[::1]:8080", "[::1]:8080", nil, true},
		{"loopback on port 80 without port", "localhost", "127.0.0.1:80", nil, true},
		{"loopback, other port", "localhost:9090", "127.0.0.1:8080", nil, false},
		{"configured name, any port", "ops.example.com:443", "10.0.0.5:8080", []string{"ops.example.com"}, true},
		{"configured host:port", "ops.example.com:8080", "10.0.0.5:8080", []string{"ops.example.com:8080"}, true},
		{"configured host:port, other port", "ops.example.com:9", "10.0.0.5:8080", []string{"ops.example.com:8080"}, false},
		{"configured name is not a suffix", "evilops.example.com", "10.0.0.5:80", []string{"ops.example.com"}, false},
		{"star", "evil.example:8080", "127.0.0.1:8080", []string{"*"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := hostcheck.Allowed(request(c.host, c.local), c.allowed); got != c.want {
				t.Fatalf("Allowed(Host %q on %s, %q) = %v, want %v", c.host, c.local, c.allowed, got, c.want)
			}
		})
	}
}

// TestAllowedWithoutLocalAddr refuses loopback names when the request's
// arriving port is unknown (a handler called outside net/http's server).
func TestAllowedWithoutLocalAddr(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = "localhost:8080"
	if hostcheck.Allowed(r, nil) {
		t.Fatal("loopback allowed without knowing the arriving port")
	}
}

// TestCheck refuses entries that can never match a Host header and names
// the flag.
func TestCheck(t *testing.T) {
	if err := hostcheck.Check("x.hosts", []string{"*", "a.example", "a.example:8080", "[::1]:80", "10.0.0.5"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"http://a.example", "a.example/x", "u@a.example", "a b", ""} {
		if err := hostcheck.Check("x.hosts", []string{bad}); err == nil || !strings.Contains(err.Error(), "x.hosts") {
			t.Fatalf("%q: %v, want an error naming x.hosts", bad, err)
		}
	}
}

// TestSplit trims names and drops empty ones.
func TestSplit(t *testing.T) {
	got := hostcheck.Split(" a.example, ,b:80,")
	if len(got) != 2 || got[0] != "a.example" || got[1] != "b:80" {
		t.Fatalf("%q", got)
	}
	if hostcheck.Split("") != nil {
		t.Fatal("empty list not nil")
	}
}

// TestLoopback tells the listen addresses only this machine reaches from
// those that listen on every interface or a routable address.
func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true,
		"127.0.0.2:8080": true,
		"[::1]:8080":     true,
		"localhost:8080": true,
		"LocalHost:8080": true,
		"localhost":      true,
		"::1":            true,
		"127.0.0.1":      true,
		":8080":          false,
		"0.0.0.0:8080":   false,
		"[::]:8080":      false,
		"10.0.0.5:8080":  false,
		"example.com:80": false,
		"localhost.evil": false,
	} {
		if got := hostcheck.Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
