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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// guessing posts one tick to h from the TCP peer remote with the bearer
// token tok, and returns the status, the Retry-After header and the body.
func guessing(t *testing.T, h http.Handler, remote, tok string, m int) (int, string, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(mustJSON(at("shop", "web", m))))
	req.RemoteAddr = remote
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	// A proxy header naming another client is not believed: the limit
	// is the TCP peer's.
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, rec.Header().Get("Retry-After"), out
}

// TestAuthGuessesLimited: with the default settings (2 failed
// authentications a second per client address, bursts of 10), the 11th
// wrong token in a row from one address is refused 429 with Retry-After,
// counted as reason auth_rate, and so is the right token from that
// address while it is blocked; other addresses are not held back, an IPv6
// client is one /64, and X-Forwarded-For changes nothing. Half a second
// later (the handler's clock) the address has one attempt again; a
// success does not reset its count.
func TestAuthGuessesLimited(t *testing.T) {
	clock := &fakeClock{t: now}
	reg := prometheus.NewRegistry()
	cfg := ingest.DefaultConfig()
	cfg.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}}}
	cfg.RateLimit = 0
	drain := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
		}
		return nil
	}
	h, err := ingest.NewHandler(cfg, drain, clock.now, zerolog.New(&natstest.Logs{}), reg)
	if err != nil {
		t.Fatal(err)
	}
	const guesser, other = "192.0.2.1:40000", "192.0.2.2:40000"
	m := 0
	next := func() int { m++; return m }
	for i := range 10 {
		if status, _, out := guessing(t, h, guesser, "guess", next()); status != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d %v, want 401 within the burst", i+1, status, out)
		}
	}
	status, retry, out := guessing(t, h, guesser, "guess", next())
	if status != http.StatusTooManyRequests || retry != "1" {
		t.Fatalf("11th wrong token at once: %d, Retry-After %q (%v), want 429 and 1", status, retry, out)
	}
	if msg, _ := out["error"].(string); !strings.Contains(msg, "failed authentications from 192.0.2.1 (10 in a row, then 2 a second)") {
		t.Errorf("error %q does not say why", msg)
	}
	// From another port of the same host, the right token: still refused.
	if status, retry, out := guessing(t, h, "192.0.2.1:40001", tokenA, next()); status != http.StatusTooManyRequests || retry != "1" {
		t.Fatalf("the right token from a blocked address: %d, Retry-After %q (%v), want 429", status, retry, out)
	}
	if status, _, out := guessing(t, h, other, tokenA, next()); status != http.StatusAccepted {
		t.Fatalf("another address with the right token: %d %v", status, out)
	}
	if status, _, out := guessing(t, h, other, "guess", next()); status != http.StatusUnauthorized {
		t.Fatalf("another address, a wrong token: %d %v, want 401", status, out)
	}
	// IPv6: the addresses of one /64 share an allowance.
	for i := range 10 {
		host := fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1)
		if status, _, out := guessing(t, h, host, "guess", next()); status != http.StatusUnauthorized {
			t.Fatalf("IPv6 wrong token %d: %d %v", i+1, status, out)
		}
	}
	if status, _, _ := guessing(t, h, "[2001:db8:1:2:ffff::1]:443", tokenA, next()); status != http.StatusTooManyRequests {
		t.Fatalf("another address of the same /64: %d, want 429", status)
	}
	if status, _, _ := guessing(t, h, "[2001:db8:1:3::1]:443", tokenA, next()); status != http.StatusAccepted {
		t.Fatalf("an address of another /64: %d, want 202", status)
	}
	clock.advance(500 * time.Millisecond)
	if status, _, out := guessing(t, h, guesser, tokenA, next()); status != http.StatusAccepted {
		t.Fatalf("half a second on, the right token: %d %v, want 202", status, out)
	}
	if status, _, _ := guessing(t, h, guesser, "guess", next()); status != http.StatusUnauthorized {
		t.Fatalf("half a second on, one wrong token: %d, want 401", status)
	}
	if status, _, _ := guessing(t, h, guesser, tokenA, next()); status != http.StatusTooManyRequests {
		t.Fatalf("after a success and one more wrong token: %d, want 429 (a success resets nothing)", status)
	}
	rejected := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "reason")
	if rejected["auth_rate"] != 4 || rejected["token"] != 22 {
		t.Errorf("refusals by reason %v, want 4 auth_rate and 22 token", rejected)
	}
}

// TestAuthGuessesLimitOff: AuthFailLimit 0 turns the limit off; without a
// token there is nothing to guess, and nothing is refused for it.
func TestAuthGuessesLimitOff(t *testing.T) {
	drain := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
		}
		return nil
	}
	off := ingest.DefaultConfig()
	off.Token, off.RateLimit, off.AuthFailLimit = token, 0, 0
	h, err := ingest.NewHandler(off, drain, func() time.Time { return now }, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if status, _, out := guessing(t, h, "192.0.2.1:1", "guess", i); status != http.StatusUnauthorized {
			t.Fatalf("wrong token %d with the limit off: %d %v", i, status, out)
		}
	}
	if status, _, out := guessing(t, h, "192.0.2.1:1", token, 60); status != http.StatusAccepted {
		t.Fatalf("the right token with the limit off: %d %v", status, out)
	}
}

// TestAuthFailConfigRefused: the failed-authentication limit is checked
// as the tick rate limits are.
func TestAuthFailConfigRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*ingest.Config)
		want string
	}{
		{"negative", func(c *ingest.Config) { c.AuthFailLimit = -1 }, "push auth fail limit -1 is negative"},
		{"no burst", func(c *ingest.Config) { c.AuthFailBurst = 0 }, "push auth fail burst 0: want at least 1"},
		{"no table", func(c *ingest.Config) { c.AuthFailAddrs = 0 }, "push auth fail addresses 0: want at least 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ingest.DefaultConfig()
			c.set(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestAuthGuessesLimitedPerSite: an IPv6 client's failures count against
// its /48 too, which may fail 16 times as often as one /64: a guesser
// rotating through the 65,536 /64s of its /48 (each starting with a full
// allowance) is held back once the /48's is spent, in a /64 it has not
// used yet too, the right token included; another /48 is not.
func TestAuthGuessesLimitedPerSite(t *testing.T) {
	clock := &fakeClock{t: now}
	cfg := ingest.DefaultConfig()
	cfg.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}}}
	cfg.RateLimit = 0
	drain := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
		}
		return nil
	}
	h, err := ingest.NewHandler(cfg, drain, clock.now, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := 0
	next := func() int { m++; return m }
	for n := range 16 {
		for i := range ingest.DefaultAuthFailBurst {
			remote := fmt.Sprintf("[2001:db8:1:%x::1]:1", n)
			if status, _, out := guessing(t, h, remote, "guess", next()); status != http.StatusUnauthorized {
				t.Fatalf("/64 %d, wrong token %d: %d %v, want 401 within the /48's allowance", n, i+1, status, out)
			}
		}
	}
	for _, tok := range []string{"guess", tokenA} {
		status, retry, out := guessing(t, h, "[2001:db8:1:ff::1]:1", tok, next())
		if status != http.StatusTooManyRequests || retry == "" {
			t.Fatalf("a fresh /64 of a /48 out of failures, token %q: %d, Retry-After %q (%v), want 429", tok, status, retry, out)
		}
		if msg, _ := out["error"].(string); !strings.Contains(msg, "2001:db8:1::/48") {
			t.Errorf("error %q does not name the /48", msg)
		}
	}
	if status, _, out := guessing(t, h, "[2001:db8:2::1]:1", tokenA, next()); status != http.StatusAccepted {
		t.Fatalf("another /48 with the right token: %d %v", status, out)
	}
	clock.advance(time.Second / 32)
	if status, _, out := guessing(t, h, "[2001:db8:1:ff::1]:1", "guess", next()); status != http.StatusUnauthorized {
		t.Fatalf("1/32 s on (the /48 refills 32 a second), a wrong token: %d %v, want 401", status, out)
	}
}
