package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
)

// PushToken is one bearer token of the push API and what it may push: the
// apps it names, no others, within its own rate limit.
type PushToken struct {
	// Name identifies the token in logs, metrics and refusals (never the
	// token itself); empty, it is "push.tokens[i]".
	Name string `yaml:"name"`
	// Token is the bearer token, or "sha256:" followed by the 64 hex
	// digits of its SHA-256, so the file need not hold the secret.
	Token string `yaml:"token"`
	// Apps lists the apps the token may push for: names, or patterns in
	// which "*" stands for any run of characters ("team-a-*", "*").
	Apps []string `yaml:"apps"`
	// RateLimit is the token's ticks per second, nil for push.rate_limit;
	// 0 turns the limit off for this token.
	RateLimit *float64 `yaml:"rate_limit"`
	// RateBurst is the most ticks the token may push at once; nil keeps
	// push.rate_burst.
	RateBurst *int `yaml:"rate_burst"`

	// Digest is the SHA-256 of the bearer token, filled by Parse.
	Digest [sha256.Size]byte `yaml:"-"`
}

// TokenHashPrefix marks a token written as its SHA-256 (see TokenDigest).
const TokenHashPrefix = "sha256:"

// ErrTokenHash reports a "sha256:" token that is not 64 hex digits.
var ErrTokenHash = errors.New("want sha256: followed by the 64 hex digits of the token's SHA-256 (sha256sum of the token, without its newline)")

// TokenDigest returns the SHA-256 of the bearer token s configures: the
// digest written when s is "sha256:<64 hex digits>" (either case), else the
// SHA-256 of s itself. An s starting with "sha256:" that is not followed by
// exactly 64 hex digits is an error wrapping ErrTokenHash, so a mistyped
// hash is not taken for a literal token. The error never quotes s.
func TokenDigest(s string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	if !tokenHashed(s) {
		return sha256.Sum256([]byte(s)), nil
	}
	h := s[len(TokenHashPrefix):]
	if len(h) != 2*sha256.Size {
		return d, fmt.Errorf("%d characters after sha256: %w", len(h), ErrTokenHash)
	}
	if _, err := hex.Decode(d[:], []byte(h)); err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("not hex: %w", ErrTokenHash)
	}
	return d, nil
}

// tokenHashed reports whether the token s is written as its SHA-256
// ("sha256:…", either case), which CheckSecret cannot measure.
func tokenHashed(s string) bool {
	return len(s) >= len(TokenHashPrefix) && strings.EqualFold(s[:len(TokenHashPrefix)], TokenHashPrefix)
}

// checkPlainToken refuses a plaintext token of the file shorter than
// MinSecretBytes (CheckSecret); a token written as its SHA-256 passes.
func checkPlainToken(v *validator, at, token string) {
	if tokenHashed(token) {
		return
	}
	if err := secretLength(token); err != nil {
		v.errf(at, "%v", err)
	}
}

// CheckAppPattern accepts an app name or a pattern of one: 1 to 64
// characters of [a-z0-9_-], any of which may be "*".
func CheckAppPattern(p string) error {
	if p == "" || len(p) > 64 {
		return fmt.Errorf("app pattern %q: want 1 to 64 characters of [a-z0-9_-*]", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '*') {
			return fmt.Errorf("app pattern %q: want 1 to 64 characters of [a-z0-9_-*]", p)
		}
	}
	return nil
}

// MatchApp reports whether app matches the pattern p, in which "*" stands
// for any run of characters, the empty one included, and every other
// character for itself. It takes time linear in len(p)·len(app) at worst.
func MatchApp(p, app string) bool {
	// The classic wildcard walk: on a mismatch, go back to the last star
	// and let it swallow one more character.
	pi, ai := 0, 0
	star, mark := -1, 0
	for ai < len(app) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ai
			pi++
		case pi < len(p) && p[pi] == app[ai]:
			pi++
			ai++
		case star >= 0:
			mark++
			pi, ai = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// pushTokens checks push.token, push.tokens and the rate limits, and fills
// in the tokens' digests and names. No message quotes a token.
func (v *validator) pushTokens(p *Push) {
	checkRate(v, "push.rate_limit", p.RateLimit)
	if p.RateBurst < 0 {
		v.errf("push.rate_burst", "%d is negative", p.RateBurst)
	}
	seen := map[[sha256.Size]byte]string{} // digest → where it is set
	if p.Token != "" {
		d, err := TokenDigest(p.Token)
		if err != nil {
			v.errf("push.token", "%v", err)
		} else {
			checkPlainToken(v, "push.token", p.Token)
			p.TokenDigest = d
			seen[d] = "push.token"
		}
	}
	// The all-apps token is named push.token in logs, and a push API
	// without tokens anonymous: names kept for them.
	names := map[string]string{"push.token": "the all-apps token", "anonymous": "the sender when no token is set"}
	for i := range p.Tokens {
		t := &p.Tokens[i]
		at := fmt.Sprintf("push.tokens[%d]", i)
		switch {
		case t.Name == "":
			t.Name = at
		case !validTokenName(t.Name):
			v.errf(at+".name", "%q: want 1 to 64 characters of [A-Za-z0-9_.-]", t.Name)
		}
		if first, ok := names[t.Name]; ok {
			v.errf(at+".name", "%q: named already by %s", t.Name, first)
		} else {
			names[t.Name] = at
		}
		if t.Token == "" {
			v.errf(at+".token", "missing: want the bearer token, or sha256:<hex> of it")
		} else if d, err := TokenDigest(t.Token); err != nil {
			v.errf(at+".token", "%v", err)
		} else if first, ok := seen[d]; ok {
			v.errf(at+".token", "the same token as %s: give each sender its own", first)
		} else {
			checkPlainToken(v, at+".token", t.Token)
			t.Digest = d
			seen[d] = at
			if d == sha256.Sum256([]byte(t.Name)) {
				// The name is logged and shown in refusals: it must
				// not be the secret.
				v.errf(at+".name", "is the token itself: name the sender, and keep the token secret")
			}
		}
		if len(t.Apps) == 0 {
			v.errf(at+".apps", "empty: name the apps the token may push for (\"*\" for all)")
		}
		for j, a := range t.Apps {
			if err := CheckAppPattern(a); err != nil {
				v.errf(fmt.Sprintf("%s.apps[%d]", at, j), "%v", err)
			}
		}
		checkRate(v, at+".rate_limit", t.RateLimit)
		if t.RateBurst != nil {
			if err := CheckBurst(*t.RateBurst); err != nil {
				v.errf(at+".rate_burst", "%v", err)
			}
		}
	}
}

// CheckRate accepts a rate limit of unit ("ticks", …) per second: finite
// and ≥ 0, 0 meaning no limit. It is the one check of every push rate,
// the file's here and the push API's own settings (internal/ingest).
func CheckRate(r float64, unit string) error {
	switch {
	case r < 0:
		return fmt.Errorf("%v is negative: want %s per second, or 0 for no limit", r, unit)
	case math.IsNaN(r) || math.IsInf(r, 0):
		return fmt.Errorf("%v: want %s per second, or 0 for no limit", r, unit)
	}
	return nil
}

// CheckBurst accepts the burst of a rate limit in force: at least 1.
func CheckBurst(b int) error {
	if b < 1 {
		return fmt.Errorf("%d: want at least 1", b)
	}
	return nil
}

// checkRate refuses a rate limit in the file (CheckRate); nil is unset.
func checkRate(v *validator, at string, r *float64) {
	if r == nil {
		return
	}
	if err := CheckRate(*r, "ticks"); err != nil {
		v.errf(at, "%v", err)
	}
}

// validTokenName accepts 1 to 64 characters of [A-Za-z0-9_.-].
func validTokenName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
