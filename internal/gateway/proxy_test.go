package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
)

// refusedAs dials with header h and wants the per-address cap's 429 naming
// key ("203.0.113.1/32"), or, with key "", an accepted connection.
func refusedAs(t *testing.T, srvURL, what string, h http.Header, key string) {
	t.Helper()
	c, resp, err := dial(t, srvURL, "", h)
	if key == "" {
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Fatalf("%s: refused (%d, %v), want accepted", what, status, err)
		}
		if f := c.next(t); f.Type != gateway.FrameHello {
			t.Fatalf("%s: first frame %+v, want hello", what, f)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: accepted, want 429 for %s", what, key)
	}
	if resp == nil {
		t.Fatalf("%s: %v, no HTTP answer", what, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "too many clients from " + key + ":"; resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), want) {
		t.Fatalf("%s: %d %q, want 429 %q", what, resp.StatusCode, body, want)
	}
}

// TestPerAddrBehindProxy: with -gateway.trusted-proxies naming the peer
// (here every client's, 127.0.0.1, as an ingress would be), the
// per-address cap counts the client the forwarding header names, read
// from the right: two viewers behind one proxy each get their place, the
// second connection of one of them is refused naming its address, and
// what a client writes left of its proxy's entry (a spoofed address) is
// not read. Both headers, each alone.
func TestPerAddrBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		header string
		entry  func(addr string) string // one proxy's entry naming addr
	}{
		{"X-Forwarded-For", func(a string) string { return a }},
		{"Forwarded", func(a string) string { return "for=" + a + ";proto=https" }},
	} {
		t.Run(tc.header, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			cfg.MaxClients, cfg.MaxClientsPerAddr = 10, 1
			cfg.TrustedProxies, cfg.ForwardedHeader = []string{"127.0.0.1"}, tc.header
			logs := newSyncBuf()
			e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
			hdr := func(entries ...string) http.Header {
				for i, a := range entries {
					entries[i] = tc.entry(a)
				}
				return http.Header{tc.header: {strings.Join(entries, ", ")}}
			}
			refusedAs(t, e.srv.URL, "viewer A", hdr("203.0.113.1"), "")
			refusedAs(t, e.srv.URL, "viewer B behind the same proxy", hdr("203.0.113.2"), "")
			refusedAs(t, e.srv.URL, "viewer A again", hdr("203.0.113.1"), "203.0.113.1/32")
			// A writes another address itself; its proxy appends A's.
			refusedAs(t, e.srv.URL, "viewer A spoofing", hdr("198.51.100.7", "203.0.113.1"), "203.0.113.1/32")
			// Through two trusted hops: the right-most untrusted entry.
			refusedAs(t, e.srv.URL, "viewer A through two proxies", hdr("198.51.100.7", "203.0.113.1", "127.0.0.1"), "203.0.113.1/32")
			// The other header, which this proxy would pass on as written,
			// is not read: the peer counts, its place still free.
			other := http.Header{"X-Forwarded-For": {"203.0.113.1"}}
			if tc.header == "X-Forwarded-For" {
				other = http.Header{"Forwarded": {"for=203.0.113.1"}}
			}
			refusedAs(t, e.srv.URL, "the other header", other, "")
			refusedAs(t, e.srv.URL, "the proxy itself again", nil, "127.0.0.1/32")
			if got := metricstest.ByLabel(t, e.reg, "headroom_gateway_connections_total", "result"); got["accepted"] != 3 || got["addr_limit"] != 4 {
				t.Errorf("headroom_gateway_connections_total by result %v, want accepted 3, addr_limit 4", got)
			}
			if n := gateway.AddrsOpen(e.gw); n != 3 {
				t.Errorf("%d addresses counted, want 3 (A, B, the proxy)", n)
			}
			if l := logs.String(); !strings.Contains(l, `"client":"203.0.113.1"`) || strings.Contains(l, "198.51.100.7") {
				t.Errorf("refusal log does not name the client 203.0.113.1, or names the spoofed address:\n%s", l)
			}
		})
	}
}

// TestPerAddrUntrustedPeer: a forwarding header from a peer that is not a
// trusted proxy is ignored, whatever it says: the peer is the client.
func TestPerAddrUntrustedPeer(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxClients, cfg.MaxClientsPerAddr = 10, 1
	cfg.TrustedProxies = []string{"10.0.0.0/8"}
	e := startEnv(t, cfg)
	refusedAs(t, e.srv.URL, "first", http.Header{"X-Forwarded-For": {"203.0.113.1"}}, "")
	refusedAs(t, e.srv.URL, "second naming another client", http.Header{"X-Forwarded-For": {"203.0.113.2"}}, "127.0.0.1/32")
	if n, _ := metricstest.Sum(t, e.reg, "headroom_gateway_forwarded_unreadable_total"); n != 0 {
		t.Errorf("headroom_gateway_forwarded_unreadable_total %v, want 0: an untrusted peer's header is not read", n)
	}
}

// TestPerAddrUnreadableHeader: a trusted proxy's header that cannot be
// read ("unknown", a name, an entry the walk reaches) counts the proxy as
// the client, as the push API does, and is counted and logged (the
// first at once, the second in the proxy's summary).
func TestPerAddrUnreadableHeader(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxClients, cfg.MaxClientsPerAddr = 10, 1
	cfg.TrustedProxies = []string{"127.0.0.0/8"}
	logs := newSyncBuf()
	e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
	refusedAs(t, e.srv.URL, "unknown", http.Header{"X-Forwarded-For": {"unknown"}}, "")
	refusedAs(t, e.srv.URL, "a name", http.Header{"X-Forwarded-For": {"203.0.113.9, client.example"}}, "127.0.0.1/32")
	refusedAs(t, e.srv.URL, "readable", http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "")
	if n, _ := metricstest.Sum(t, e.reg, "headroom_gateway_forwarded_unreadable_total"); n != 2 {
		t.Errorf("headroom_gateway_forwarded_unreadable_total %v, want 2", n)
	}
	// One proxy: the first header's line, the second's summary as the
	// gateway stops (last_value).
	e.stop()
	if l := logs.String(); strings.Count(l, "forwarding header from a trusted proxy") != 2 || !strings.Contains(l, "client.example") {
		t.Errorf("want the two unreadable headers logged with their value:\n%s", l)
	}
}

// TestPerAddrBehindProxyIPv6: a client the trusted proxy names by an IPv6
// address counts by its /64, as a peer does: another address of the same
// /64 is refused naming the /64, one of the next /64 is not; an
// IPv4-mapped address counts as its IPv4 address.
func TestPerAddrBehindProxyIPv6(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxClients, cfg.MaxClientsPerAddr = 10, 1
	cfg.TrustedProxies = []string{"127.0.0.1"}
	e := startEnv(t, cfg)
	xff := func(a string) http.Header { return http.Header{"X-Forwarded-For": {"198.51.100.7, " + a}} }
	refusedAs(t, e.srv.URL, "first of a /64", xff("2001:db8:1:2::1"), "")
	refusedAs(t, e.srv.URL, "another of the /64", xff("[2001:db8:1:2:ffff::9]:4711"), "2001:db8:1:2::/64")
	refusedAs(t, e.srv.URL, "the next /64", xff("2001:db8:1:3::1"), "")
	refusedAs(t, e.srv.URL, "IPv4", xff("203.0.113.1"), "")
	refusedAs(t, e.srv.URL, "IPv4, mapped", xff("::ffff:203.0.113.1"), "203.0.113.1/32")
}
