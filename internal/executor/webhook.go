package executor

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/redact"
)

// WebhookConfig configures the webhook driver.
type WebhookConfig struct {
	// URL receives the POSTs (http or https).
	URL string
	// Timeout bounds one attempt; TotalTimeout bounds all attempts and the
	// waits between them.
	Timeout      time.Duration
	TotalTimeout time.Duration
	// Attempts is the most attempts per change (1: no retry).
	Attempts int
	// Backoff is the wait before the first retry; it doubles at each retry up
	// to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Token, when set, is sent as "Authorization: Bearer <Token>".
	Token string
	// Header, when set, is one extra header "Name: value". One that
	// carries a secret (headerSecret: Authorization's credentials, or
	// the value of a name ending in token, secret, key, password) must
	// pass config.CheckSecret, as Token does; one the driver sets itself
	// (headerReserved: Content-Type, Idempotency-Key, Authorization
	// beside Token) is refused.
	Header string
}

// DefaultWebhookConfig returns 10 s per attempt, 30 s in all, 4 attempts
// with a backoff of 0.5 s doubling up to 8 s.
func DefaultWebhookConfig() WebhookConfig {
	return WebhookConfig{Timeout: 10 * time.Second, TotalTimeout: 30 * time.Second, Attempts: 4,
		Backoff: 500 * time.Millisecond, MaxBackoff: 8 * time.Second}
}

func (c *WebhookConfig) registerFlags(f *cli.Flags) {
	d := DefaultWebhookConfig()
	f.String(&c.URL, "executor.webhook.url", "", "webhook driver: URL receiving a JSON POST per change")
	f.Duration(&c.Timeout, "executor.webhook.timeout", d.Timeout, "webhook driver: timeout of one attempt")
	f.Duration(&c.TotalTimeout, "executor.webhook.total-timeout", d.TotalTimeout, "webhook driver: timeout of all attempts of one change")
	f.Int(&c.Attempts, "executor.webhook.attempts", d.Attempts, "webhook driver: attempts per change; 5xx, 429 and network errors are retried, other 4xx are not")
	f.Duration(&c.Backoff, "executor.webhook.backoff", d.Backoff, "webhook driver: wait before the first retry, doubling at each retry")
	f.Duration(&c.MaxBackoff, "executor.webhook.max-backoff", d.MaxBackoff, "webhook driver: longest wait between retries")
	f.String(&c.Token, "executor.webhook.token", "", "webhook driver: bearer token (prefer the environment variable)")
	f.String(&c.Header, "executor.webhook.header", "", "webhook driver: one extra header, 'Name: value' (not Content-Type or Idempotency-Key, which the driver sets, nor Authorization beside .token); the credentials of an Authorization or Proxy-Authorization header (a Basic one's password), and the value of one whose name's last word ends in token, secret, key, password or passwd (X-Api-Key, X-Auth-Token), must be 16 bytes or more, as a token's")
}

// Validate checks the settings.
func (c WebhookConfig) Validate() error {
	var errs []error
	if _, err := parseWebhookURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 || c.TotalTimeout <= 0 {
		errs = append(errs, fmt.Errorf("executor.webhook.timeout %v and total-timeout %v: want > 0", c.Timeout, c.TotalTimeout))
	}
	if c.Attempts < 1 {
		errs = append(errs, fmt.Errorf("executor.webhook.attempts %d: want >= 1", c.Attempts))
	}
	if c.Backoff < 0 || c.MaxBackoff < c.Backoff {
		errs = append(errs, fmt.Errorf("executor.webhook.backoff %v, max-backoff %v: want 0 <= backoff <= max-backoff", c.Backoff, c.MaxBackoff))
	}
	if c.Token != "" {
		// CheckSecret refuses a line break too (ErrSecretSpace), which
		// would split the Authorization header.
		if err := config.CheckSecret("executor.webhook.token (HEADROOM_EXECUTOR_WEBHOOK_TOKEN)", c.Token); err != nil {
			errs = append(errs, err)
		}
	}
	if name, value, err := parseHeader(c.Header); err != nil {
		errs = append(errs, err)
	} else if err := c.headerReserved(name); err != nil {
		errs = append(errs, err)
	} else if secret, what, ok := headerSecret(name, value); ok {
		// A secret in the extra header is a token by another name: the
		// same rule as -executor.webhook.token's, the error naming the
		// header, never its value.
		if err := config.CheckSecret("executor.webhook.header (HEADROOM_EXECUTOR_WEBHOOK_HEADER) "+what, secret); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// headerSecret reports whether the extra header name carries a secret,
// which part of value it is, and what to call it in an error (never the
// value). The rule, in any case: Authorization and Proxy-Authorization
// carry their credentials after the scheme ("Bearer x" → x; the whole
// value without a scheme), and a Basic one its password (what follows
// the first ":" of the decoded credentials: "Basic YWRtaW46YWRtaW4=" is
// admin:admin, 16 bytes encoded, 5 of password); a header whose name's
// last word (after its last "-" or "_") ends in "token", "secret", "key",
// "password" or "passwd" carries its whole value: X-Api-Key, Api-Key,
// X-Apikey, X-Auth-Token, X-AccessToken, X-Webhook-Secret, X-Password.
// Other headers are not secrets, those merely naming one too (X-Key-Id,
// X-Token-Type, X-Secret-Version): they are not refused for a short
// value.
func headerSecret(name, value string) (secret, what string, ok bool) {
	if isAuthorization(name) {
		scheme, cred, ok := strings.Cut(value, " ")
		if !ok {
			return value, name + "'s credentials", true
		}
		cred = strings.TrimLeft(cred, " \t")
		if strings.EqualFold(scheme, "Basic") {
			if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if _, pass, ok := strings.Cut(string(b), ":"); ok {
					return pass, name + "'s Basic password", true
				}
			}
		}
		return cred, name + "'s credentials", true
	}
	last := strings.ToLower(name[strings.LastIndexAny(name, "-_")+1:])
	for _, w := range []string{"token", "secret", "key", "password", "passwd"} {
		if strings.HasSuffix(last, w) {
			return value, name + "'s value", true
		}
	}
	return "", "", false
}

// isAuthorization reports whether name is Authorization or
// Proxy-Authorization, in any case.
func isAuthorization(name string) bool {
	return strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization")
}

// headerReserved refuses an extra header the driver sets itself, which it
// would replace: Content-Type (the body is JSON), Idempotency-Key (the
// decision's ID: one fixed value would have the receiver drop every
// change after the first as a repeat), and Authorization beside
// -executor.webhook.token. The error names the header, never its value.
func (c WebhookConfig) headerReserved(name string) error {
	switch {
	case strings.EqualFold(name, "Content-Type"), strings.EqualFold(name, "Idempotency-Key"):
		return fmt.Errorf("executor.webhook.header (HEADROOM_EXECUTOR_WEBHOOK_HEADER) %s: the driver sets it itself", name)
	case strings.EqualFold(name, "Authorization") && c.Token != "":
		return fmt.Errorf("executor.webhook.header (HEADROOM_EXECUTOR_WEBHOOK_HEADER) %s: executor.webhook.token (HEADROOM_EXECUTOR_WEBHOOK_TOKEN) sets it: give one or the other", name)
	}
	return nil
}

func parseWebhookURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("executor.webhook.url is empty: the webhook driver needs a URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		// Nothing of the URL is quoted: the log and /readyz show the
		// error. The *url.Error quotes it whole, or up to a raw # or ?,
		// where no @ is left to tell a password from a port; its cause
		// may quote the password's start as a port, or an escape or a
		// character of it; masked (redact.Error), a password whose start
		// could be a port (digits, then a raw /) still showed.
		return nil, fmt.Errorf("executor.webhook.url does not parse: %s (the URL is not shown: it may hold a password; percent-encode any /, ?, #, @, %% or space in one)", urlFault(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Neither its host nor its scheme: with a raw / in a password
		// whose start is digits, url.Parse reads user:digits as the host,
		// and with no scheme written, the user name as the scheme.
		return nil, errors.New("executor.webhook.url: want an http or https URL with a host (the URL is not shown: it may hold a password)")
	}
	if u.User == nil {
		// A password whose start is digits, then a raw / or ?, parses:
		// user:digits as the host and port, the password's rest, the @
		// and the real host as the path or query, which the driver would
		// send there with every change.
		rest := s[strings.Index(s, "://")+len("://"):] // the scheme is http(s)
		if i := strings.IndexAny(rest, "/?#"); i >= 0 && strings.Contains(rest[i:], "@") {
			return nil, errors.New("executor.webhook.url holds an @ after its host and no user information: a password holding a raw / or ? ends the host early (percent-encode them); an @ meant in the path or query must be written %40 (the URL is not shown: it may hold a password)")
		}
	}
	return u, nil
}

// urlFault says what url.Parse found wrong in a URL without quoting any
// of it: its causes that quote a part (a port, an escape, a character of
// the host) are named by kind; the others are fixed texts, kept as they
// are if known.
func urlFault(err error) string {
	var ee url.EscapeError
	var he url.InvalidHostError
	var ue *url.Error
	switch {
	case errors.As(err, &ee):
		return "an invalid %-escape"
	case errors.As(err, &he):
		return "an invalid character in the host"
	case !errors.As(err, &ue):
		return "a fault not shown"
	case strings.HasPrefix(ue.Err.Error(), "invalid port "):
		return "a port that is not a number (or a raw / ? or # in a password)"
	}
	switch msg := ue.Err.Error(); msg {
	case "net/url: invalid userinfo", "missing ']' in host", "invalid control character in URL",
		"first path segment in URL cannot contain colon", "missing protocol scheme":
		return msg
	}
	return "a fault not shown"
}

// parseHeader splits "Name: value"; the empty string is no header.
func parseHeader(s string) (name, value string, err error) {
	if s == "" {
		return "", "", nil
	}
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
		return "", "", fmt.Errorf("executor.webhook.header: want 'Name: value' on one line")
	}
	return name, value, nil
}

// WebhookPayload is the JSON body the webhook driver POSTs for a change.
type WebhookPayload struct {
	// App and Tier name the tier to scale.
	App  string `json:"app"`
	Tier string `json:"tier"`
	// Replicas is the total count wanted (ready plus booting), absolute.
	Replicas int `json:"replicas"`
	// DecisionID identifies the decision; it is also sent as the
	// Idempotency-Key header, so a receiver can drop repeats.
	DecisionID string `json:"decision_id"`
	// Time is the decision's event time, RFC 3339 in UTC with
	// milliseconds always written (WebhookTimeFormat: the decision's own
	// precision), so the times of a tier's decisions sort as strings. A
	// tier's decisions come in event-time order, so a receiver
	// that must never go back to an older count refuses a request whose
	// time is before the last it applied to the app's tier (see
	// Service.handle: a member paused past its lease); the same time is
	// the same decision, sent again.
	Time string `json:"time"`
	// Reason is the decision's plain-language reason, when it has one.
	Reason string `json:"reason,omitempty"`
}

// WebhookTimeFormat is the layout of WebhookPayload.Time: RFC 3339 with a
// fixed three-digit fraction. time.RFC3339Nano drops a zero fraction, so
// "…:05Z" would sort after "…:05.5Z".
const WebhookTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// WebhookDriver POSTs a WebhookPayload per change. A 2xx answer is success;
// 5xx, 429 and network errors are retried with exponential backoff within
// the total timeout; any other answer fails at once. Redirects are not
// followed, so the token never leaves for another host.
type WebhookDriver struct {
	cfg         WebhookConfig
	url         string
	host        string // scheme://host, for errors: paths and queries may hold secrets
	hname, hval string
	client      *http.Client
}

// NewWebhookDriver checks cfg and builds the driver.
func NewWebhookDriver(cfg WebhookConfig) (*WebhookDriver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := parseWebhookURL(cfg.URL)
	hname, hval, _ := parseHeader(cfg.Header)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &WebhookDriver{
		cfg: cfg, url: cfg.URL, host: u.Scheme + "://" + u.Host, hname: hname, hval: hval,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

// Scale POSTs the change, retrying as configured.
func (d *WebhookDriver) Scale(ctx context.Context, r Request) (Result, error) {
	body, err := json.Marshal(WebhookPayload{App: r.App, Tier: r.Tier, Replicas: r.Replicas, DecisionID: r.DecisionID,
		Time: r.Time.UTC().Format(WebhookTimeFormat), Reason: r.Reason})
	if err != nil {
		return Result{}, fmt.Errorf("webhook payload: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.TotalTimeout)
	defer cancel()
	wait := d.cfg.Backoff
	attempt := 1
	for ; ; attempt++ {
		retry, err := d.post(ctx, body, r.DecisionID)
		if err == nil {
			return Result{Ready: r.Replicas}, nil
		}
		if !retry || attempt >= d.cfg.Attempts {
			return Result{}, fmt.Errorf("webhook %s: attempt %d of %d: %w", d.host, attempt, d.cfg.Attempts, err)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return Result{}, fmt.Errorf("webhook %s: attempt %d of %d, no time left to retry: %w", d.host, attempt, d.cfg.Attempts, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, fmt.Errorf("webhook %s: attempt %d of %d: %w (then %w)", d.host, attempt, d.cfg.Attempts, err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, d.cfg.MaxBackoff)
	}
}

// maxSnippet bounds the bytes of a refusal's answer quoted in the error.
const maxSnippet = 512

// post makes one attempt; retry reports whether another may succeed.
func (d *WebhookDriver) post(ctx context.Context, body []byte, decisionID string) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "headroom-executor")
	req.Header.Set("Idempotency-Key", decisionID)
	if d.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+d.cfg.Token)
	}
	if d.hname != "" {
		req.Header.Set(d.hname, d.hval)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		// url.Error quotes the full URL; keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxSnippet))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	// The receiver's answer may echo the request it refuses, or name
	// another URL (a redirect's page), with a password or a token:
	// masked as every error quoting a URL is. A snippet that fills its
	// bound may be cut within a URL's user information, no @ left to
	// tell the password by (redact.Snippet).
	text := redact.Snippet(snippet, len(snippet) == maxSnippet)
	err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(text))
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests, err
}
