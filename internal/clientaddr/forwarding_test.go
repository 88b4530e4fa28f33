package clientaddr_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/clientaddr"
)

// TestForwardingClient: only a trusted peer's header is read, from the
// right; an unreadable one leaves the peer; the other header is ignored.
func TestForwardingClient(t *testing.T) {
	xff, err := clientaddr.NewForwarding([]string{"10.0.0.0/8"}, "x-forwarded-for")
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := clientaddr.NewForwarding([]string{"10.0.0.0/8"}, "forwarded")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		f        clientaddr.Forwarding
		remote   string
		header   http.Header
		want     string
		readable bool
	}{
		{"no proxies", clientaddr.Forwarding{}, "10.1.1.1:80", http.Header{"X-Forwarded-For": {"203.0.113.1"}}, "10.1.1.1", true},
		{"trusted peer", xff, "10.1.1.1:80", http.Header{"X-Forwarded-For": {"203.0.113.1"}}, "203.0.113.1", true},
		{"untrusted peer", xff, "192.0.2.9:80", http.Header{"X-Forwarded-For": {"203.0.113.1"}}, "192.0.2.9", true},
		{"spoofed left", xff, "10.1.1.1:80", http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.1"}}, "203.0.113.1", true},
		{"no header", xff, "10.1.1.1:80", http.Header{}, "10.1.1.1", true},
		{"unreadable", xff, "10.1.1.1:80", http.Header{"X-Forwarded-For": {"unknown"}}, "10.1.1.1", false},
		{"other header ignored", xff, "10.1.1.1:80", http.Header{"Forwarded": {"for=203.0.113.1"}}, "10.1.1.1", true},
		{"forwarded", fwd, "10.1.1.1:80", http.Header{"Forwarded": {"for=198.51.100.1, for=\"[2001:db8::1]:4711\""}}, "2001:db8::1", true},
	} {
		a, readable := c.f.Client(c.remote, c.header)
		if a.String() != c.want || readable != c.readable {
			t.Errorf("%s: Client = %s, %v; want %s, %v", c.name, a, readable, c.want, c.readable)
		}
	}
	if _, err := clientaddr.NewForwarding([]string{"0.0.0.0/0"}, ""); err == nil || !strings.HasPrefix(err.Error(), "trusted proxy ") {
		t.Errorf("NewForwarding(0.0.0.0/0) = %v, want a trusted proxy error", err)
	}
	if _, err := clientaddr.NewForwarding(nil, "X-Real-IP"); err == nil || !strings.HasPrefix(err.Error(), "forwarded header ") {
		t.Errorf("NewForwarding(X-Real-IP) = %v, want a forwarded header error", err)
	}
}
