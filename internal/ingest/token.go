package ingest

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/hostcheck"
)

// ErrTokenRequired is returned by RequireToken and RequireTokenOn when the
// push API would be open without a token where it must not be.
var ErrTokenRequired = errors.New("the push API needs a token")

// RequireToken says whether cfg may serve the push API: when a real
// executor driver (command, webhook, …) is live, pushed ticks can change
// real infrastructure, so a token is required and its absence is an error
// to fail the start with. It never looks at the token's value beyond
// "set or not", so nothing secret reaches the message.
func RequireToken(cfg Config, realDriverLive bool) error {
	if realDriverLive && !cfg.HasToken() {
		return fmt.Errorf("%w: a real executor driver may act live (a configuration naming an app mode: live, for a collector that cannot see the executor's driver); set push.token or push.tokens in the configuration file, or -push.token / HEADROOM_PUSH_TOKEN", ErrTokenRequired)
	}
	return nil
}

// RequireTokenOn says whether cfg may serve the push API on the listen
// address addr (host:port). A standalone collector does not know which
// driver the executor runs, so it requires a token whenever addr is
// reachable from other hosts: any address but a loopback IP or
// "localhost" (":8080" and "0.0.0.0:8080" listen on every interface). An
// empty addr is not checked.
func RequireTokenOn(cfg Config, addr string) error {
	if cfg.HasToken() || addr == "" || hostcheck.Loopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: it listens on %s, which is not a loopback address; set push.token or push.tokens in the configuration file, or -push.token / HEADROOM_PUSH_TOKEN, or listen on 127.0.0.1", ErrTokenRequired, addr)
}

// Token is a bearer token limited to some apps.
type Token struct {
	// Name identifies the token in logs, metrics and refusals; the token
	// itself is never logged nor kept, only its digest.
	Name string
	// Digest is the SHA-256 of the bearer token (config.TokenDigest).
	Digest [sha256.Size]byte
	// Apps are the apps the token may push for: names or patterns
	// (config.MatchApp: "*" stands for any run of characters).
	Apps []string
	// RateLimit, when set, replaces Config.RateLimit for this token (0:
	// no limit); RateBurst, when positive, replaces Config.RateBurst.
	RateLimit *float64
	RateBurst int
}

// HasToken reports whether the push API requires a token: Token or any of
// Tokens is set.
func (c Config) HasToken() bool { return c.Token != "" || len(c.Tokens) > 0 }

// legacyName is the name of Config.Token in logs and refusals.
const legacyName = "push.token"

func (c Config) checkTokens() error {
	var errs []error
	if err := config.CheckRate(c.RateLimit, "ticks"); err != nil {
		errs = append(errs, fmt.Errorf("push rate limit %w", err))
	}
	if err := config.CheckBurst(c.RateBurst); c.RateLimit > 0 && err != nil {
		errs = append(errs, fmt.Errorf("push rate burst %w", err))
	}
	seen := map[[sha256.Size]byte]string{}
	if c.Token != "" {
		if err := config.CheckSecret("push token (-push.token or HEADROOM_PUSH_TOKEN)", c.Token); err != nil {
			errs = append(errs, err)
		}
		seen[sha256.Sum256([]byte(c.Token))] = legacyName
	}
	names := map[string]bool{legacyName: c.Token != "", anonymous: true}
	for i, t := range c.Tokens {
		what := fmt.Sprintf("push token %d (%q)", i, t.Name)
		if t.Name == "" || names[t.Name] {
			errs = append(errs, fmt.Errorf("%s: want a name of its own", what))
		}
		names[t.Name] = true
		if t.Digest == ([sha256.Size]byte{}) {
			errs = append(errs, fmt.Errorf("%s: no digest", what))
		} else if t.Digest == sha256.Sum256(nil) {
			errs = append(errs, fmt.Errorf("%s: the digest of the empty token", what))
		} else if first, ok := seen[t.Digest]; ok {
			errs = append(errs, fmt.Errorf("%s: the same token as %s", what, first))
		}
		seen[t.Digest] = t.Name
		if len(t.Apps) == 0 {
			errs = append(errs, fmt.Errorf("%s: no apps", what))
		}
		for _, a := range t.Apps {
			if err := config.CheckAppPattern(a); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
			}
		}
		if t.RateLimit != nil {
			if err := config.CheckRate(*t.RateLimit, "ticks"); err != nil {
				errs = append(errs, fmt.Errorf("%s: rate limit %w", what, err))
			}
		}
		if t.RateBurst < 0 {
			errs = append(errs, fmt.Errorf("%s: rate burst %d: want ≥ 0", what, t.RateBurst))
		}
		if t.RateLimit != nil && *t.RateLimit > 0 && t.RateBurst == 0 && c.RateBurst < 1 {
			errs = append(errs, fmt.Errorf("%s: a rate limit without a burst", what))
		}
	}
	return errors.Join(errs...)
}

// sender is who a request authenticated as: a token (or, without any, the
// anonymous sender) with the apps it may push for and its rate limiter.
type sender struct {
	name   string
	digest [sha256.Size]byte
	apps   []string      // nil: every app
	lim    *rate.Limiter // nil: no limit
	// inFlight counts the sender's requests in progress (see
	// Handler.perSender).
	inFlight atomic.Int32
}

// anonymous names the sender when no token is set.
const anonymous = "anonymous"

// what names s in a refusal: its token's name, never the token.
func (s *sender) what() string {
	if s.name == anonymous {
		return "the push API (no token is set)"
	}
	return "token " + s.name
}

// allows reports whether s may push ticks of app.
func (s *sender) allows(app string) bool {
	if s.apps == nil {
		return true
	}
	for _, p := range s.apps {
		if config.MatchApp(p, app) {
			return true
		}
	}
	return false
}

func limiter(limit float64, burst int) *rate.Limiter {
	if limit <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(limit), burst)
}

// senders builds who may push: one sender per token, or, when no token is
// set, the anonymous sender alone (returned as anon).
func (c Config) senders() (tokens []*sender, anon *sender) {
	if !c.HasToken() {
		return nil, &sender{name: anonymous, lim: limiter(c.RateLimit, c.RateBurst)}
	}
	if c.Token != "" {
		tokens = append(tokens, &sender{name: legacyName, digest: sha256.Sum256([]byte(c.Token)), lim: limiter(c.RateLimit, c.RateBurst)})
	}
	for _, t := range c.Tokens {
		limit, burst := c.RateLimit, c.RateBurst
		if t.RateLimit != nil {
			limit = *t.RateLimit
		}
		if t.RateBurst > 0 {
			burst = t.RateBurst
		}
		tokens = append(tokens, &sender{name: t.Name, digest: t.Digest, apps: append([]string{}, t.Apps...), lim: limiter(limit, burst)})
	}
	return tokens, nil
}

// authenticate finds the sender of a request from its Authorization
// header: the anonymous one when no token is set, else the token it bears.
// The bearer token is hashed and its digest compared with every token's in
// constant time, all of them each time, so neither the time taken nor the
// token's length tells how close a guess came.
func (h *Handler) authenticate(header string) (*sender, *Error) {
	if h.anon != nil {
		return h.anon, nil
	}
	if header == "" {
		return nil, &Error{Status: http.StatusUnauthorized, Field: "Authorization", Message: "missing bearer token", Reason: "token"}
	}
	// The scheme is case-insensitive (RFC 9110, section 11.1): "bearer"
	// and "BEARER" name it as "Bearer" does. One space, then the token.
	scheme, secret, ok := strings.Cut(header, " ")
	ok = ok && strings.EqualFold(scheme, "Bearer")
	d := sha256.Sum256([]byte(secret))
	var found *sender
	for _, s := range h.senders {
		if subtle.ConstantTimeCompare(d[:], s.digest[:]) == 1 && found == nil {
			found = s
		}
	}
	if !ok || secret == "" || found == nil {
		return nil, &Error{Status: http.StatusUnauthorized, Field: "Authorization", Message: "wrong token", Reason: "token"}
	}
	return found, nil
}

// seconds is the duration of s seconds, the longest one for a wait beyond
// it (a very slow rate limit), so that it does not overflow into a short
// or negative one.
func seconds(s float64) time.Duration {
	if s*float64(time.Second) >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

// retryAfter is the Retry-After value for a wait of d: whole seconds,
// rounded up, at least 1.
func retryAfter(d time.Duration) string {
	return fmt.Sprint(max(1, int64(math.Ceil(d.Seconds()))))
}
