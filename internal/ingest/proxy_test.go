package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// via posts one tick to h from the TCP peer remote with the bearer token
// tok and, unless xff is nil, these X-Forwarded-For lines; it returns the
// status and the error message.
func via(t *testing.T, h http.Handler, remote string, xff []string, tok string, m int) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(mustJSON(at("shop", "web", m))))
	req.RemoteAddr = remote
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	for _, v := range xff {
		req.Header.Add("X-Forwarded-For", v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.Error
}

// TestAuthTrustedProxies: X-Forwarded-For is read only from a TCP peer
// among the trusted proxies, and names the right-most address in it that
// is not a trusted proxy. A forged header from any other peer changes
// nothing; behind a trusted proxy two clients have allowances of their
// own; a client that writes an address of its own choosing in front of
// the one its proxy appends, or a trusted hop behind it, gets no fresh
// allowance; an IPv6 client is its /64 there too; the refusals' log names
// the client beside the proxy; a header that cannot be read leaves the
// proxy as the client, counted and logged.
func TestAuthTrustedProxies(t *testing.T) {
	clock := &fakeClock{t: now}
	reg := prometheus.NewRegistry()
	logs := &natstest.Logs{}
	cfg := ingest.DefaultConfig()
	cfg.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}}}
	cfg.RateLimit = 0
	cfg.TrustedProxies = []string{"10.0.0.0/8", "2001:db8:ffff::/48"}
	drain := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
		}
		return nil
	}
	h, err := ingest.NewHandler(cfg, drain, clock.now, zerolog.New(logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	m := 0
	next := func() int { m++; return m }
	spend := func(what, remote string, xff func(i int) []string) {
		t.Helper()
		for i := range 10 {
			if status, msg := via(t, h, remote, xff(i), "guess", next()); status != http.StatusUnauthorized {
				t.Fatalf("%s, wrong token %d: %d %q, want 401 within the burst", what, i+1, status, msg)
			}
		}
	}
	blocked := func(what, remote string, xff []string, who string) {
		t.Helper()
		status, msg := via(t, h, remote, xff, tokenA, next())
		if status != http.StatusTooManyRequests || !strings.Contains(msg, "failed authentications from "+who+" ") {
			t.Fatalf("%s: %d %q, want 429 naming %s", what, status, msg, who)
		}
	}
	passes := func(what, remote string, xff []string) {
		t.Helper()
		if status, msg := via(t, h, remote, xff, tokenA, next()); status != http.StatusAccepted {
			t.Fatalf("%s: %d %q, want 202", what, status, msg)
		}
	}

	// An untrusted peer naming a fresh client each time: its guesses
	// count against it all the same.
	spend("untrusted peer", "192.0.2.1:1000", func(i int) []string { return []string{fmt.Sprintf("198.51.100.%d", i+1)} })
	blocked("untrusted peer, another forged client", "192.0.2.1:1000", []string{"198.51.100.99"}, "192.0.2.1")

	// Two clients behind one trusted proxy.
	const proxy = "10.0.0.1:443"
	spend("client A behind the proxy", proxy, func(int) []string { return []string{"203.0.113.1"} })
	blocked("client A", proxy, []string{"203.0.113.1"}, "203.0.113.1")
	passes("client B behind the same proxy", proxy, []string{"203.0.113.2"})
	if status, msg := via(t, h, proxy, []string{"203.0.113.2"}, "guess", next()); status != http.StatusUnauthorized {
		t.Fatalf("client B's wrong token: %d %q, want 401 (its own allowance)", status, msg)
	}
	passes("the proxy's own request", proxy, nil)
	// The refusals' log names the client behind the trusted proxy beside
	// the proxy (remote), and never what an untrusted peer forged.
	var fromProxy, fromUntrusted int
	for _, l := range logs.Lines(t, "push rejected") {
		switch l["remote"] {
		case proxy:
			fromProxy++
			if l["client"] != "203.0.113.1" && l["client"] != "203.0.113.2" {
				t.Errorf("a refusal through the proxy logged as %v, want its client", l)
			}
		case "192.0.2.1:1000":
			fromUntrusted++
			if _, ok := l["client"]; ok {
				t.Errorf("a refusal from an untrusted peer names a client: %v", l)
			}
		}
	}
	if fromProxy == 0 || fromUntrusted == 0 {
		t.Errorf("%d refusals through the proxy logged, %d from the untrusted peer; want some of each", fromProxy, fromUntrusted)
	}
	// Client A writes an address in front of the one its proxy appends,
	// on one line or on a line of its own; or comes through a second
	// trusted proxy, which appends A's address after it.
	blocked("client A prepending a forged address", proxy, []string{"198.51.100.9, 203.0.113.1"}, "203.0.113.1")
	blocked("client A's forged line before the proxy's", proxy, []string{"198.51.100.9", "203.0.113.1"}, "203.0.113.1")
	blocked("client A through two trusted proxies", proxy, []string{"198.51.100.9, 203.0.113.1:5555, 10.9.9.9"}, "203.0.113.1")
	blocked("client A through an IPv6 proxy", "[2001:db8:ffff::1]:443", []string{"203.0.113.1"}, "203.0.113.1")

	// IPv6 clients behind the proxy: one /64 is one client.
	spend("an IPv6 client", proxy, func(i int) []string { return []string{fmt.Sprintf("2001:db8:1:2::%x", i+1)} })
	blocked("another address of its /64", proxy, []string{"[2001:db8:1:2:ffff::1]:4711"}, "2001:db8:1:2::/64")
	passes("an address of another /64", proxy, []string{"2001:db8:1:3::1"})

	// A header that cannot be read: the proxy is the client.
	const proxy2 = "10.0.0.2:443"
	spend("unreadable headers", proxy2, func(i int) []string { return []string{[]string{"unknown", "203.0.113.5, ", "proxy.example"}[i%3]} })
	blocked("the proxy, out of failures", proxy2, []string{"unknown"}, "10.0.0.2")
	passes("a readable header through that proxy", proxy2, []string{"203.0.113.7"})
	if n, _ := metricstest.Sum(t, reg, "headroom_push_forwarded_unreadable_total"); n != 11 {
		t.Errorf("headroom_push_forwarded_unreadable_total %v, want 11", n)
	}
	if lines := logs.Lines(t, "X-Forwarded-For from a trusted proxy holds an entry that is not an address: the proxy's address counts the request's failed authentications"); len(lines) == 0 || lines[0]["remote"] != proxy2 {
		t.Errorf("unreadable headers logged as %v", lines)
	}
}

// TestTrustedProxiesRefused: the list is checked as the file's is.
func TestTrustedProxiesRefused(t *testing.T) {
	cfg := ingest.DefaultConfig()
	cfg.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.5/8"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `push trusted proxy "10.0.0.5/8" has bits set past its /8`) {
		t.Fatalf("%v", err)
	}
}

// TestAuthForwardedHeader: with ForwardedHeader Forwarded, the client is
// read from the trusted proxy's RFC 7239 Forwarded header and a forged
// X-Forwarded-For changes nothing; by default X-Forwarded-For is read and
// a forged Forwarded changes nothing. A bad header name is refused.
func TestAuthForwardedHeader(t *testing.T) {
	const proxy = "10.0.0.1:443"
	for _, tc := range []struct {
		header        string
		read, ignored string // the header read, the one forged
		client        func(i int) string
	}{
		{"Forwarded", "Forwarded", "X-Forwarded-For", func(i int) string { return fmt.Sprintf(`for="[2001:db8:1:2::%x]:4711";proto=https`, i+1) }},
		{"", "X-Forwarded-For", "Forwarded", func(i int) string { return fmt.Sprintf("[2001:db8:1:2::%x]:4711", i+1) }},
	} {
		cfg := ingest.DefaultConfig()
		cfg.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}}}
		cfg.RateLimit = 0
		cfg.TrustedProxies = []string{"10.0.0.0/8"}
		cfg.ForwardedHeader = tc.header
		h, err := ingest.NewHandler(cfg, func(context.Context, iter.Seq[*proto.Metrics]) error { return nil }, (&fakeClock{t: now}).now, zerolog.Nop(), nil)
		if err != nil {
			t.Fatal(err)
		}
		post := func(read, forged string, tok string) (int, string) {
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(mustJSON(at("shop", "web", 1))))
			req.RemoteAddr = proxy
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			if read != "" {
				req.Header.Set(tc.read, read)
			}
			req.Header.Set(tc.ignored, forged)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code, rec.Body.String()
		}
		// One client's /64, each guess with a fresh forged address in the
		// header not read: blocked all the same.
		for i := range 10 {
			if status, body := post(tc.client(i), fmt.Sprintf("198.51.100.%d", i+1), "guess"); status != http.StatusUnauthorized {
				t.Fatalf("%s: wrong token %d: %d %s", tc.read, i+1, status, body)
			}
		}
		if status, body := post(tc.client(99), "198.51.100.99", tokenA); status != http.StatusTooManyRequests || !strings.Contains(body, "2001:db8:1:2::/64") {
			t.Fatalf("%s: the client's /64: %d %s, want 429 naming it", tc.read, status, body)
		}
		// The proxy itself, and another client, are not blocked.
		if status, body := post("", "198.51.100.1", tokenA); status != http.StatusAccepted {
			t.Fatalf("%s: the proxy's own request: %d %s", tc.read, status, body)
		}
	}
	cfg := ingest.DefaultConfig()
	cfg.ForwardedHeader = "X-Real-IP"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `push forwarded header "X-Real-IP": want X-Forwarded-For or Forwarded`) {
		t.Errorf("X-Real-IP: %v", err)
	}
}

// TestUnreadableCountedWithoutLimit: a trusted proxy's unreadable
// X-Forwarded-For is counted and logged whether or not failed
// authentications are limited: with the limit off, and without a token
// (nothing to guess, no limit) too. A readable one is not counted. The
// log says the proxy's address counts the failures only when it does:
// with the limit off, that nothing counts.
func TestUnreadableCountedWithoutLimit(t *testing.T) {
	const (
		counts   = "X-Forwarded-For from a trusted proxy holds an entry that is not an address: the proxy's address counts the request's failed authentications"
		limitOff = "X-Forwarded-For from a trusted proxy holds an entry that is not an address: the request is taken as the proxy's, whose address would count its failed authentications were they limited (they are not)"
	)
	for _, tc := range []struct {
		name  string
		limit float64
		token bool
		msg   string
	}{
		{"limit on", ingest.DefaultAuthFailLimit, true, counts},
		{"limit off", 0, true, limitOff},
		{"no token", ingest.DefaultAuthFailLimit, false, limitOff},
	} {
		reg := prometheus.NewRegistry()
		logs := &natstest.Logs{}
		cfg := ingest.DefaultConfig()
		if tc.token {
			cfg.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}}}
		}
		cfg.RateLimit = 0
		cfg.AuthFailLimit = tc.limit
		cfg.TrustedProxies = []string{"10.0.0.0/8"}
		h, err := ingest.NewHandler(cfg, func(context.Context, iter.Seq[*proto.Metrics]) error { return nil }, (&fakeClock{t: now}).now, zerolog.New(logs), reg)
		if err != nil {
			t.Fatal(err)
		}
		for i, xff := range [][]string{{"unknown"}, {"203.0.113.1"}, {"203.0.113.1, proxy.example"}, nil} {
			if status, msg := via(t, h, "10.0.0.1:443", xff, tokenA, i+1); status != http.StatusAccepted {
				t.Fatalf("%s: %q: %d %q", tc.name, xff, status, msg)
			}
		}
		if n, _ := metricstest.Sum(t, reg, "headroom_push_forwarded_unreadable_total"); n != 2 {
			t.Errorf("%s: headroom_push_forwarded_unreadable_total %v, want 2", tc.name, n)
		}
		if lines := logs.Lines(t, tc.msg); len(lines) != 2 {
			t.Errorf("%s: %d unreadable headers logged %q, want 2 (all: %v)", tc.name, len(lines), tc.msg, logs.Lines(t, ""))
		}
	}
}
