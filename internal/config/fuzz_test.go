package config_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/headroomhq/headroom/internal/config"
)

// FuzzParse feeds arbitrary YAML to the configuration loader: it must not
// panic, and a file it accepts must name only valid apps.
func FuzzParse(f *testing.F) {
	f.Add([]byte("apps:\n  shop:\n    source: sim\n"))
	f.Add([]byte("apps:\n  api:\n    source: push\n    mode: shadow\n    tiers: [{name: web, target: 0.7}]\n"))
	f.Add([]byte("push: {max_body_bytes: -1}\napps: {x: {source: trace}}\n"))
	f.Add([]byte("push:\n  token: t-0123456789abcdef\n  tokens:\n    - {name: a, token: \"sha256:" + strings.Repeat("0f", 32) + "\", apps: [\"x-*\"], rate_limit: 1, rate_burst: 2}\napps: {x: {source: sim}}\n"))
	f.Add([]byte("push: {tokens: [{token: a-0123456789abcdef, apps: [x]}, {token: b-0123456789abcdef, apps: [\"*\"]}]}\napps: {x: {source: sim}}\n"))
	f.Add([]byte("push: {rate_limit: .nan, tokens: [{name: a, token: a-0123456789abcdef, apps: [x], rate_limit: .inf}]}\napps: {x: {source: sim}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		// An accepted file's push tokens are each a digest, distinct, with
		// a name of its own and at least one app pattern; a plaintext one
		// has 16 bytes or more, no white space around it and no control
		// character (what CheckSecret asks, written out here again).
		plainOK := func(tok string) bool {
			return strings.HasPrefix(strings.ToLower(tok), "sha256:") ||
				len(tok) >= 16 && strings.TrimSpace(tok) == tok && !strings.ContainsFunc(tok, unicode.IsControl)
		}
		if file.Push.Token != "" && !plainOK(file.Push.Token) {
			t.Fatalf("accepted push.token of %d bytes %q", len(file.Push.Token), file.Push.Token)
		}
		digests, names := map[[32]byte]bool{}, map[string]bool{}
		for _, tok := range file.Push.Tokens {
			if tok.Digest == ([32]byte{}) || digests[tok.Digest] || tok.Name == "" || names[tok.Name] || len(tok.Apps) == 0 {
				t.Fatalf("accepted push token %+v", tok)
			}
			if !plainOK(tok.Token) {
				t.Fatalf("accepted push token %q of %d bytes %q", tok.Name, len(tok.Token), tok.Token)
			}
			if tok.Digest == sha256.Sum256([]byte(tok.Name)) {
				t.Fatalf("accepted push token %q named by itself", tok.Name)
			}
			if r := tok.RateLimit; r != nil && !(*r >= 0 && !math.IsInf(*r, 0)) {
				t.Fatalf("accepted push token %q with rate limit %v", tok.Name, *r)
			}
			digests[tok.Digest], names[tok.Name] = true, true
			for _, a := range tok.Apps {
				if config.CheckAppPattern(a) != nil {
					t.Fatalf("accepted app pattern %q", a)
				}
			}
		}
		if r := file.Push.RateLimit; r != nil && !(*r >= 0 && !math.IsInf(*r, 0)) {
			t.Fatalf("accepted push.rate_limit %v", *r)
		}
		if file.Push.Token != "" && digests[file.Push.TokenDigest] {
			t.Fatalf("accepted a scoped token equal to push.token")
		}
		for _, a := range file.Apps {
			if a.Name == "" {
				t.Fatalf("accepted an app without a name: %+v", a)
			}
		}
	})
}

// FuzzTokenDigest: a configured token is either its own SHA-256 written
// as sha256:<64 hex digits>, read back exactly, or a literal token hashed;
// a sha256: prefix with anything else is an error, never a literal.
func FuzzTokenDigest(f *testing.F) {
	f.Add("tok")
	f.Add("")
	f.Add("sha256:" + strings.Repeat("ab", 32))
	f.Add("SHA256:" + strings.Repeat("AB", 32))
	f.Add("sha256:abc")
	f.Add("sha256")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := config.TokenDigest(s)
		hashed := len(s) >= 7 && strings.EqualFold(s[:7], "sha256:")
		switch {
		case !hashed && (err != nil || d != sha256.Sum256([]byte(s))):
			t.Fatalf("literal %q: digest %x, error %v", s, d, err)
		case hashed && err == nil && hex.EncodeToString(d[:]) != strings.ToLower(s[7:]):
			t.Fatalf("hashed %q read as %x", s, d)
		case hashed && err != nil && !errors.Is(err, config.ErrTokenHash):
			t.Fatalf("hashed %q: error %v not ErrTokenHash", s, err)
		}
	})
}

// FuzzMatchApp: MatchApp agrees with the regular expression in which each
// "*" is ".*" and every other character is itself.
func FuzzMatchApp(f *testing.F) {
	for _, c := range [][2]string{{"shop", "shop"}, {"api-*", "api-eu"}, {"a*b*c", "aXbYc"}, {"*", ""}, {"**a", "ba"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, app string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(app) {
			t.Skip("the oracle, a regular expression, reads UTF-8; app names are ASCII")
		}
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile(`^(?s:` + strings.Join(parts, ".*") + `)$`)
		if got, want := config.MatchApp(pattern, app), re.MatchString(app); got != want {
			t.Fatalf("MatchApp(%q, %q) = %v, the regular expression says %v", pattern, app, got, want)
		}
	})
}
