package config_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
)

// TestPushAndLimits reads the push API's guards and the series limits, and
// fills the limits' defaults when the section is absent.
func TestPushAndLimits(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("push:\n  max_concurrent: 4\n  read_timeout: 3s\n  allowed_origins: [\"https://ops.example.com\", \"http://127.0.0.1:3000\"]\n"+
		"limits: {max_series_per_app: 20, idle_after: 30m}\napps:\n  a: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Push.MaxConcurrent != 4 || f.Push.ReadTimeout != 3*time.Second || len(f.Push.AllowedOrigins) != 2 {
		t.Fatalf("push %+v", f.Push)
	}
	if f.Limits.MaxSeriesPerApp != 20 || f.Limits.MaxSeries != config.DefaultLimits().MaxSeries || f.Limits.IdleAfter != 30*time.Minute {
		t.Fatalf("limits %+v", f.Limits)
	}
	f, err = config.Parse("x.yaml", []byte("apps:\n  a: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Limits != config.DefaultLimits() || f.Limits != config.LimitsOf(nil) || f.Limits.MaxSeriesPerApp <= 0 || f.Limits.MaxSeries < f.Limits.MaxSeriesPerApp || f.Limits.IdleAfter <= 0 {
		t.Fatalf("default limits %+v", f.Limits)
	}
}

// TestPushAndLimitErrors names the line and field of each bad setting.
func TestPushAndLimitErrors(t *testing.T) {
	_, err := config.Parse("x.yaml", []byte("push:\n  max_concurrent: -1\n  read_timeout: -1s\n  allowed_origins: [\"evil.example\", \"https://ok.example/path\"]\n"+
		"limits:\n  max_series_per_app: -2\n  max_series: -3\n  idle_after: -1h\napps:\n  a: {source: sim}\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"x.yaml:2: push.max_concurrent: -1 is negative", "x.yaml:3: push.read_timeout: -1s is negative",
		"push.allowed_origins[0]: \"evil.example\": want", "push.allowed_origins[1]: \"https://ok.example/path\"",
		"x.yaml:6: limits.max_series_per_app: -2 is negative", "x.yaml:7: limits.max_series: -3 is negative", "x.yaml:8: limits.idle_after: -1h0m0s is negative"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
}

// TestConfiguredSeriesWithinLimits refuses a file whose own sources pass
// the series limits, naming the limit (the push API's, internal/limits).
func TestConfiguredSeriesWithinLimits(t *testing.T) {
	_, err := config.Parse("x.yaml", []byte("limits: {max_series_per_app: 2}\napps:\n  a:\n    source: scrape\n    tiers:\n"+
		"      - {name: web, scrape: {targets: [\"http://127.0.0.1:9100/metrics\"]}}\n"+
		"      - {name: api, scrape: {targets: [\"http://127.0.0.1:9101/metrics\"]}}\n"+
		"      - {name: db, scrape: {targets: [\"http://127.0.0.1:9102/metrics\"]}}\n"))
	if err == nil || !strings.Contains(err.Error(), "apps.a.tiers") || !strings.Contains(err.Error(), "the limit limits.max_series_per_app") {
		t.Fatalf("3 scraped tiers under a limit of 2: %v", err)
	}
	_, err = config.Parse("x.yaml", []byte("limits: {max_series: 5}\napps:\n  a: {source: sim}\n  b: {source: trace, trace: {file: t.csv}}\n"))
	if err == nil || !strings.Contains(err.Error(), "the limit limits.max_series") {
		t.Fatalf("6 simulated series under a limit of 5: %v", err)
	}
	f, err := config.Parse("x.yaml", []byte("limits: {max_series: 6}\napps:\n  a: {source: sim}\n  b: {source: sim}\n"))
	if err != nil || len(f.Series()) != 6 {
		t.Fatalf("6 series within 6: %v", err)
	}
}

// TestPushTokens reads scoped push tokens: a plain one, one written as its
// SHA-256 (either case), names defaulted, rate limits kept as written.
func TestPushTokens(t *testing.T) {
	sum := sha256.Sum256([]byte("tok-b"))
	hexSum := hex.EncodeToString(sum[:])
	f, err := config.Parse("x.yaml", []byte("push:\n  token: all-apps-0123456789abcdef\n  rate_limit: 0\n  rate_burst: 50\n  tokens:\n"+
		"    - {name: team-a, token: tok-a-0123456789abcdef, apps: [shop, \"api-*\"], rate_limit: 2.5, rate_burst: 100}\n"+
		"    - {token: \"SHA256:"+strings.ToUpper(hexSum)+"\", apps: [\"*\"]}\n"+
		"apps:\n  a: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Push
	if p.RateLimit == nil || *p.RateLimit != 0 || p.RateBurst != 50 || p.TokenDigest != sha256.Sum256([]byte("all-apps-0123456789abcdef")) || len(p.Tokens) != 2 {
		t.Fatalf("push %+v", p)
	}
	a, b := p.Tokens[0], p.Tokens[1]
	if a.Name != "team-a" || a.Digest != sha256.Sum256([]byte("tok-a-0123456789abcdef")) || len(a.Apps) != 2 || *a.RateLimit != 2.5 || *a.RateBurst != 100 {
		t.Errorf("team-a %+v", a)
	}
	if b.Name != "push.tokens[1]" || b.Digest != sum || b.RateLimit != nil || b.RateBurst != nil {
		t.Errorf("the hashed token %+v", b)
	}
}

// TestPushTokenErrors names the line and field of each bad token entry,
// and never quotes a token.
func TestPushTokenErrors(t *testing.T) {
	sum := sha256.Sum256([]byte("tok-x-0123456789abcdef"))
	cases := []struct {
		name, yaml, want string
	}{
		{"empty token", "    - {name: a, token: \"\", apps: [shop]}\n", "x.yaml:4: push.tokens[0].token: missing"},
		{"no token", "    - {name: a, apps: [shop]}\n", "x.yaml:4: push.tokens[0].token: missing"},
		{"duplicate token", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop]}\n    - {name: b, token: tok-x-0123456789abcdef, apps: [api]}\n", "x.yaml:5: push.tokens[1].token: the same token as push.tokens[0]"},
		{"duplicate token, once by its hash", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop]}\n    - {name: b, token: \"sha256:" + hex.EncodeToString(sum[:]) + "\", apps: [api]}\n", "push.tokens[1].token: the same token as push.tokens[0]"},
		{"the all-apps token again", "    - {name: a, token: legacy-secret-0123456789, apps: [shop]}\n", "x.yaml:4: push.tokens[0].token: the same token as push.token"},
		{"unknown field", "    - {name: a, token: tok-x-0123456789abcdef, app: [shop]}\n", "x.yaml:4: push.tokens[0].app: unknown field \"app\""},
		{"empty app list", "    - {name: a, token: tok-x-0123456789abcdef, apps: []}\n", "x.yaml:4: push.tokens[0].apps: empty"},
		{"no app list", "    - {name: a, token: tok-x-0123456789abcdef}\n", "push.tokens[0].apps: empty"},
		{"bad app pattern", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop, Shop.1]}\n", "push.tokens[0].apps[1]: app pattern \"Shop.1\""},
		{"empty app pattern", "    - {name: a, token: tok-x-0123456789abcdef, apps: [\"\"]}\n", "push.tokens[0].apps[0]: app pattern \"\""},
		{"short hash", "    - {name: a, token: \"sha256:abc\", apps: [shop]}\n", "push.tokens[0].token: 3 characters after sha256"},
		{"hash not hex", "    - {name: a, token: \"sha256:" + strings.Repeat("zz", 32) + "\", apps: [shop]}\n", "push.tokens[0].token: not hex"},
		{"duplicate name", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop]}\n    - {name: a, token: tok-y-0123456789abcdef, apps: [api]}\n", "x.yaml:5: push.tokens[1].name: \"a\": named already by push.tokens[0]"},
		{"the all-apps token's name", "    - {name: push.token, token: tok-x-0123456789abcdef, apps: [shop]}\n", "push.tokens[0].name: \"push.token\": named already by the all-apps token"},
		{"the anonymous sender's name", "    - {name: anonymous, token: tok-x-0123456789abcdef, apps: [shop]}\n", "push.tokens[0].name: \"anonymous\": named already by the sender when no token is set"},
		{"bad name", "    - {name: \"team a\", token: tok-x-0123456789abcdef, apps: [shop]}\n", "push.tokens[0].name: \"team a\": want"},
		{"negative rate", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop], rate_limit: -1}\n", "push.tokens[0].rate_limit: -1 is negative"},
		{"rate not a number", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop], rate_limit: .nan}\n", "x.yaml:4: push.tokens[0].rate_limit: NaN: want ticks per second"},
		{"infinite rate", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop], rate_limit: .inf}\n", "x.yaml:4: push.tokens[0].rate_limit: +Inf: want ticks per second"},
		{"the name is the token", "    - {name: tok-x-0123456789abcdef, token: tok-x-0123456789abcdef, apps: [shop]}\n", "x.yaml:4: push.tokens[0].name: is the token itself"},
		{"the name is the hashed token", "    - {name: tok-x-0123456789abcdef, token: \"sha256:" + hex.EncodeToString(sum[:]) + "\", apps: [shop]}\n", "push.tokens[0].name: is the token itself"},
		{"zero burst", "    - {name: a, token: tok-x-0123456789abcdef, apps: [shop], rate_burst: 0}\n", "push.tokens[0].rate_burst: 0: want at least 1"},
		{"a token not a list", "    name: a\n", "push.tokens"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse("x.yaml", []byte("push:\n  token: legacy-secret-0123456789\n  tokens:\n"+c.yaml+"apps:\n  shop: {source: sim}\n"))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("missing %q in\n%v", c.want, err)
			}
			for _, secret := range []string{"tok-x-0123456789abcdef", "tok-y-0123456789abcdef", "legacy-secret-0123456789"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes a token: %v", err)
				}
			}
		})
	}
	_, err := config.Parse("x.yaml", []byte("push:\n  token: \"sha256:00\"\n  rate_limit: -2\n  rate_burst: -1\napps:\n  shop: {source: sim}\n"))
	for _, w := range []string{"x.yaml:2: push.token: 2 characters after sha256", "x.yaml:3: push.rate_limit: -2 is negative", "x.yaml:4: push.rate_burst: -1 is negative"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
	for _, rate := range []string{".nan", ".inf", "-.inf"} {
		_, err := config.Parse("x.yaml", []byte("push:\n  rate_limit: "+rate+"\napps:\n  shop: {source: sim}\n"))
		if err == nil || !strings.Contains(err.Error(), "x.yaml:2: push.rate_limit: ") || !strings.Contains(err.Error(), "want ticks per second") {
			t.Errorf("push.rate_limit %s: %v", rate, err)
		}
	}
}

// TestMatchApp: "*" stands for any run of characters, the empty one
// included; every other character for itself.
func TestMatchApp(t *testing.T) {
	for _, c := range []struct {
		pattern, app string
		want         bool
	}{
		{"shop", "shop", true}, {"shop", "shop2", false}, {"shop", "sho", false}, {"shop", "", false},
		{"*", "anything", true}, {"*", "", true}, {"api-*", "api-eu", true}, {"api-*", "api-", true}, {"api-*", "api", false},
		{"api-*", "xapi-eu", false}, {"*-prod", "shop-prod", true}, {"*-prod", "shop-prod2", false},
		{"a*b*c", "abc", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbYcZ", false}, {"a*b*c", "acb", false},
		{"**", "x", true}, {"a*a*a", "aaaa", true}, {"a*a*a", "aa", false}, {"*ab", "aab", true},
	} {
		if got := config.MatchApp(c.pattern, c.app); got != c.want {
			t.Errorf("MatchApp(%q, %q) = %v, want %v", c.pattern, c.app, got, c.want)
		}
	}
}
