package ingest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// The scoped tokens of the push API, attacked against a real HTTP server
// and a real embedded JetStream: a pusher trusted for one app must not move
// another's load (pushing rps 0 scales it to its minimum, a surge costs).

const (
	tokenA = "tok-a"        // team A: app shop only
	tokenB = "tok-b-secret" // team B: apps api-*, configured by its SHA-256
)

// hashOf is the configured form of a token given by its hash.
func hashOf(token string) string {
	d := sha256.Sum256([]byte(token))
	return config.TokenHashPrefix + hex.EncodeToString(d[:])
}

func digest(t *testing.T, s string) [sha256.Size]byte {
	t.Helper()
	d, err := config.TokenDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// scoped configures the all-apps token (token) beside team A's and team
// B's scoped ones.
func scoped(t *testing.T) func(*ingest.Config) {
	return func(c *ingest.Config) {
		c.Tokens = []ingest.Token{
			{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}},
			{Name: "team-b", Digest: digest(t, hashOf(tokenB)), Apps: []string{"api-*"}},
		}
	}
}

// at is a tick of app's tier at minute m before now, so no two cases'
// ticks share an id (a repeat would be acknowledged and dropped).
func at(app, tier string, m int) map[string]any {
	return tickJSON(map[string]any{"app": app, "tier": tier, "time": now.Add(-time.Duration(m) * time.Minute).Format(time.RFC3339)})
}

// TestPushTokenScope: a token pushes for its own apps only. A request
// whose token is valid but not for every app in its body is refused whole
// (403 naming the first app it may not push for) and publishes nothing,
// the ticks of its allowed apps included; the hashed token is accepted;
// near misses of a token, and its hash sent as the token, are refused.
func TestPushTokenScope(t *testing.T) {
	reg := prometheus.NewRegistry()
	// Its near misses, all from one address at one instant, are more
	// than a client's burst of failed authentications: that limit is
	// TestAuthGuessesLimited's, and off here.
	s := startAt(t, func() time.Time { return now }, reg, scoped(t), func(c *ingest.Config) { c.AuthFailLimit = 0 })
	cases := []struct {
		name   string
		auth   string
		body   any
		status int
		field  string
		text   string
		stored int // ticks stored by the request
	}{
		{"team A pushes its app", "Bearer " + tokenA, at("shop", "web", 1), 202, "", "", 1},
		{"the attack: team A pushes rps 0 for team B's app", "Bearer " + tokenA,
			tickJSON(map[string]any{"app": "api-eu", "values": map[string]any{"rps": 0}}), 403, "app", "may not push for app api-eu", 0},
		{"a mixed body, the foreign app second", "Bearer " + tokenA, []any{at("shop", "web", 2), at("api-eu", "web", 2)}, 403, "[1].app", "app api-eu", 0},
		{"a mixed body, the foreign app first", "Bearer " + tokenA, []any{at("api-eu", "web", 3), at("shop", "web", 3)}, 403, "[0].app", "app api-eu", 0},
		{"a mixed body names the first foreign app", "Bearer " + tokenA, []any{at("shop", "web", 4), at("billing", "db", 4), at("api-eu", "web", 4)}, 403, "[1].app", "app billing", 0},
		{"an unconfigured app is not everyone's", "Bearer " + tokenA, at("newapp", "web", 5), 403, "app", "app newapp", 0},
		{"hashed token accepted for its pattern", "Bearer " + tokenB, []any{at("api-eu", "web", 6), at("api-us", "db", 6)}, 202, "", "", 2},
		{"the pattern is not a prefix of its own", "Bearer " + tokenB, at("api", "web", 7), 403, "app", "app api", 0},
		{"team B may not push team A's app", "Bearer " + tokenB, at("shop", "web", 8), 403, "app", "token team-b may not push for app shop", 0},
		{"the all-apps token pushes any app", "Bearer " + token, []any{at("shop", "db", 9), at("api-eu", "cache", 9), at("newapp", "web", 9)}, 202, "", "", 3},
		// Near misses and look-alikes: none is a token.
		{"the configured hash sent as the token", "Bearer " + hashOf(tokenB), at("api-eu", "web", 10), 401, "Authorization", "wrong token", 0},
		{"the bare hex of the hash", "Bearer " + strings.TrimPrefix(hashOf(tokenB), config.TokenHashPrefix), at("api-eu", "web", 10), 401, "Authorization", "wrong token", 0},
		{"a prefix of the token", "Bearer " + tokenA[:len(tokenA)-1], at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		{"the token and one more byte", "Bearer " + tokenA + "a", at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		{"the token upper-cased", "Bearer " + strings.ToUpper(tokenA), at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		{"two tokens glued", "Bearer " + tokenA + tokenB, at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		{"two spaces after Bearer", "Bearer  " + tokenA, at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		{"no scheme", tokenA, at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		{"another scheme", "Basic " + tokenA, at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		{"an empty bearer", "Bearer ", at("shop", "web", 10), 401, "Authorization", "", 0},
		{"the token's name", "Bearer team-a", at("shop", "web", 10), 401, "Authorization", "wrong token", 0},
		// The scheme is case-insensitive (RFC 9110, section 11.1).
		{"the scheme in lower case", "bearer " + tokenA, at("shop", "web", 11), 202, "", "", 1},
		{"the scheme in upper case", "BEARER " + tokenA, at("shop", "web", 12), 202, "", "", 1},
	}
	total := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := s.post(t, mustJSON(c.body), "", c.auth)
			if status != c.status {
				t.Fatalf("status %d, want %d (%v)", status, c.status, out)
			}
			if c.field != "" && out["field"] != c.field {
				t.Errorf("field %v, want %q (%v)", out["field"], c.field, out)
			}
			if msg, _ := out["error"].(string); !strings.Contains(msg, c.text) {
				t.Errorf("error %q does not mention %q", msg, c.text)
			}
			for _, secret := range []string{tokenA, tokenB} {
				if msg, _ := out["error"].(string); strings.Contains(msg, secret) {
					t.Errorf("the answer quotes a token: %q", msg)
				}
			}
			total += c.stored
			if got := s.stored(t); len(got) != total {
				t.Fatalf("%d ticks stored in all, want %d", len(got), total)
			}
		})
	}
	byReason := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "reason")
	if byReason["scope"] != 7 || byReason["token"] != 11 {
		t.Errorf("refusals by reason %v, want 7 scope and 11 token", byReason)
	}
}

// TestPushTokenScopeMsgpack: the scope holds for msgpack bodies too.
func TestPushTokenScopeMsgpack(t *testing.T) {
	s := start(t, scoped(t))
	status, out := s.post(t, packArray(tickPack("app", "shop"), tickPack("app", "api-eu")), "application/msgpack", "Bearer "+tokenA)
	if status != http.StatusForbidden || out["field"] != "[1].app" {
		t.Fatalf("%d %v, want 403 on [1].app", status, out)
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored by a refused request", n)
	}
}

// TestScopedTokenCountsAsToken: a set of scoped tokens alone is "a token
// is set" for RequireToken and RequireTokenOn, and requests then need one.
func TestScopedTokenCountsAsToken(t *testing.T) {
	c := ingest.DefaultConfig()
	scoped(t)(&c)
	if err := ingest.RequireToken(c, true); err != nil {
		t.Errorf("RequireToken with scoped tokens: %v", err)
	}
	if err := ingest.RequireTokenOn(c, ":8082"); err != nil {
		t.Errorf("RequireTokenOn with scoped tokens: %v", err)
	}
	s := start(t, func(c *ingest.Config) { c.Token = "" }, scoped(t))
	if status, out := s.post(t, mustJSON(at("shop", "web", 1)), "", ""); status != http.StatusUnauthorized {
		t.Fatalf("no token with scoped tokens set: %d %v", status, out)
	}
	if status, out := s.post(t, mustJSON(at("shop", "web", 1)), "", "Bearer "+tokenA); status != http.StatusAccepted {
		t.Fatalf("team A's token alone: %d %v", status, out)
	}
}

// TestTokenConfigRefused: NewHandler refuses token sets that would let a
// token mean two senders or nothing.
func TestTokenConfigRefused(t *testing.T) {
	neg := -1.0
	for _, c := range []struct {
		name   string
		tokens []ingest.Token
		legacy string
		want   string
	}{
		{"the same token twice", []ingest.Token{{Name: "a", Digest: digest(t, "x"), Apps: []string{"a"}}, {Name: "b", Digest: digest(t, hashOf("x")), Apps: []string{"b"}}}, "", "the same token as a"},
		{"a scoped token equal to the all-apps one", []ingest.Token{{Name: "a", Digest: digest(t, "x"), Apps: []string{"a"}}}, "x", "the same token as push.token"},
		{"no apps", []ingest.Token{{Name: "a", Digest: digest(t, "x")}}, "", "no apps"},
		{"a bad pattern", []ingest.Token{{Name: "a", Digest: digest(t, "x"), Apps: []string{"Shop"}}}, "", "app pattern"},
		{"no digest", []ingest.Token{{Name: "a", Apps: []string{"a"}}}, "", "no digest"},
		{"the empty token", []ingest.Token{{Name: "a", Digest: digest(t, ""), Apps: []string{"a"}}}, "", "empty token"},
		{"no name", []ingest.Token{{Digest: digest(t, "x"), Apps: []string{"a"}}}, "", "a name of its own"},
		{"the anonymous sender's name", []ingest.Token{{Name: "anonymous", Digest: digest(t, "x"), Apps: []string{"a"}}}, "", "a name of its own"},
		{"a name twice", []ingest.Token{{Name: "a", Digest: digest(t, "x"), Apps: []string{"a"}}, {Name: "a", Digest: digest(t, "y"), Apps: []string{"a"}}}, "", "a name of its own"},
		{"a negative rate", []ingest.Token{{Name: "a", Digest: digest(t, "x"), Apps: []string{"a"}, RateLimit: &neg}}, "", "rate limit -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ingest.DefaultConfig()
			cfg.Token, cfg.Tokens = c.legacy, c.tokens
			_, err := ingest.NewHandler(cfg, nil, time.Now, zerolog.Nop(), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want an error with %q", err, c.want)
			}
			if c.legacy != "" && strings.Contains(err.Error(), fmt.Sprintf("%q", c.legacy)) {
				t.Fatalf("the error quotes the token: %v", err)
			}
		})
	}
}

// TestOneTokenCannotTakeEverySlot: with several tokens set, one token's
// requests held open (slow bodies, up to push.read_timeout each) take at
// most half of push.max_concurrent; its next is refused 429, and another
// token is still served. With MaxConcurrent 4, team A holds 2.
func TestOneTokenCannotTakeEverySlot(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startAt(t, func() time.Time { return now }, reg, func(c *ingest.Config) {
		scoped(t)(c)
		c.MaxConcurrent = 4
		c.ReadTimeout = 0
	})
	var hs []*held
	// A failure must not leave bodies open, or the server's shutdown
	// waits for them.
	t.Cleanup(func() {
		for _, h := range hs {
			_ = h.w.CloseWithError(errors.New("test over"))
		}
	})
	for range 2 {
		hs = append(hs, holdAs(t, s.url, "Bearer "+tokenA, []byte("[")))
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := s.h.InFlight(); n != 2 {
			return fmt.Errorf("%d requests in flight", n)
		}
		return nil
	})
	status, out := s.post(t, mustJSON(at("shop", "web", 20)), "", "Bearer "+tokenA)
	if status != http.StatusTooManyRequests || !strings.Contains(fmt.Sprint(out["error"]), "token team-a has 2 push requests in progress") {
		t.Fatalf("team A's third request: %d %v, want 429 for its share of the slots", status, out)
	}
	if r := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "reason"); r["sender_concurrency"] != 1 || r["concurrency"] != 0 {
		t.Errorf("refusals by reason %v, want 1 sender_concurrency", r)
	}
	if status, out := s.post(t, mustJSON(at("api-eu", "web", 21)), "", "Bearer "+tokenB); status != http.StatusAccepted {
		t.Fatalf("team B while team A holds its share: %d %v, want 202", status, out)
	}
	tick := mustJSON(at("shop", "web", 22))
	for i, h := range hs {
		if i == 1 {
			tick = mustJSON(at("shop", "web", 23))
		}
		_, _ = h.w.Write(append(tick, ']'))
		_ = h.w.Close()
		if r := h.wait(t); r.err != nil || r.status != http.StatusAccepted {
			t.Fatalf("team A's held request: %+v", r)
		}
	}
	if status, out := s.post(t, mustJSON(at("shop", "web", 24)), "", "Bearer "+tokenA); status != http.StatusAccepted {
		t.Fatalf("team A once its held requests finished: %d %v", status, out)
	}
}
