package executor_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
)

// hook is a local webhook receiver answering attempts with scripted statuses
// (the last one repeats) and recording each request.
type hook struct {
	mu       sync.Mutex
	statuses []int
	// hijack closes the connection without answering on these attempts (1-based).
	hijack map[int]bool
	// stall holds these attempts until the client gives up.
	stall map[int]bool
	reqs  []*http.Request
	body  []executor.WebhookPayload
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p executor.WebhookPayload
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &p)
	h.mu.Lock()
	h.reqs = append(h.reqs, r)
	h.body = append(h.body, p)
	n := len(h.reqs)
	status := h.statuses[min(n, len(h.statuses))-1]
	h.mu.Unlock()
	switch {
	case h.hijack[n]:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	case h.stall[n]:
		<-r.Context().Done()
		return
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status))
}

func (h *hook) attempts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reqs)
}

func webhookDriver(t *testing.T, h *hook, mutate func(*executor.WebhookConfig)) *executor.WebhookDriver {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := executor.DefaultWebhookConfig()
	cfg.URL = srv.URL + "/scale?key=secret"
	cfg.Backoff, cfg.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	cfg.Timeout, cfg.TotalTimeout = 2*time.Second, 5*time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := executor.NewWebhookDriver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWebhookRetries(t *testing.T) {
	r := req
	r.Reason = "web 4→6: forecast p90 812 rps"
	cases := []struct {
		name     string
		hook     *hook
		attempts int
		ok       bool
		errHas   string
	}{
		{"503 twice then 200", &hook{statuses: []int{503, 503, 200}}, 3, true, ""},
		{"400 is not retried", &hook{statuses: []int{400, 200}}, 1, false, "status 400: Bad Request"},
		{"404 is not retried", &hook{statuses: []int{404, 200}}, 1, false, "status 404"},
		{"429 is retried", &hook{statuses: []int{429, 204}}, 2, true, ""},
		{"500 until the attempts run out", &hook{statuses: []int{500}}, 4, false, "attempt 4 of 4: status 500"},
		{"redirect is not followed", &hook{statuses: []int{307, 200}}, 1, false, "status 307"},
		{"closed connection is retried", &hook{statuses: []int{200}, hijack: map[int]bool{1: true}}, 2, true, ""},
		{"stalled attempt times out and is retried", &hook{statuses: []int{200}, stall: map[int]bool{1: true}}, 2, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := webhookDriver(t, c.hook, func(cfg *executor.WebhookConfig) {
				cfg.Token, cfg.Header = "tok3n-0123456789abcdef", "X-Cluster: prod-eu"
				cfg.Timeout = 300 * time.Millisecond
			})
			res, err := d.Scale(context.Background(), r)
			if got := c.hook.attempts(); got != c.attempts {
				t.Fatalf("%d attempts, want %d (err %v)", got, c.attempts, err)
			}
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if res.Ready != r.Replicas {
					t.Fatalf("result %+v", res)
				}
			} else if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("err %v, want it to contain %q", err, c.errHas)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the URL's query: %v", err)
			}
			want := executor.WebhookPayload{App: "shop", Tier: "web", Replicas: 6, DecisionID: r.DecisionID, Time: "2026-01-02T00:00:00.000Z", Reason: r.Reason}
			for i, hr := range c.hook.reqs {
				if c.hook.hijack[i+1] || c.hook.stall[i+1] {
					continue
				}
				if c.hook.body[i] != want {
					t.Errorf("attempt %d body %+v, want %+v", i+1, c.hook.body[i], want)
				}
				for k, v := range map[string]string{"Authorization": "Bearer tok3n-0123456789abcdef", "X-Cluster": "prod-eu", "Idempotency-Key": r.DecisionID, "Content-Type": "application/json"} {
					if got := hr.Header.Get(k); got != v {
						t.Errorf("attempt %d header %s %q, want %q", i+1, k, got, v)
					}
				}
				if hr.Method != http.MethodPost || hr.URL.Path != "/scale" {
					t.Errorf("attempt %d: %s %s", i+1, hr.Method, hr.URL)
				}
			}
		})
	}
}

// TestWebhookTotalTimeout keeps answering 503: the driver stops retrying
// when the overall timeout would pass, long before its attempts run out.
func TestWebhookTotalTimeout(t *testing.T) {
	h := &hook{statuses: []int{503}}
	d := webhookDriver(t, h, func(cfg *executor.WebhookConfig) {
		cfg.Attempts, cfg.Backoff, cfg.MaxBackoff, cfg.TotalTimeout = 1000, 50*time.Millisecond, 50*time.Millisecond, 300*time.Millisecond
	})
	start := time.Now()
	_, err := d.Scale(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("err %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("gave up after %v, total timeout 300ms", el)
	}
	if n := h.attempts(); n < 2 || n > 7 {
		t.Fatalf("%d attempts in 300ms with 50ms backoff", n)
	}
}

// TestWebhookTokenTooShort: an -executor.webhook.token shorter than 16
// bytes is refused at start, naming the flag and its variable, never the
// token.
func TestWebhookTokenTooShort(t *testing.T) {
	c := executor.DefaultWebhookConfig()
	c.URL = "https://hooks.example.com/scale"
	c.Token = "tok3n"
	err := c.Validate()
	if !errors.Is(err, config.ErrWeakSecret) || !strings.Contains(err.Error(), "executor.webhook.token (HEADROOM_EXECUTOR_WEBHOOK_TOKEN): 5 bytes") {
		t.Fatalf("a 5-byte token: %v", err)
	}
	if strings.Contains(err.Error(), "tok3n") {
		t.Fatalf("the error quotes the token: %v", err)
	}
}

// TestWebhookURLHidesPassword: a webhook URL that does not parse is
// refused naming the flag and the fault, never the URL itself, which may
// carry a password (user:password@): the error reaches the log and the
// all-in-one's /readyz.
func TestWebhookURLHidesPassword(t *testing.T) {
	for _, u := range []string{
		"https://ops:hunter2-pw@hooks.example.com:bad/scale", // bad port
		"https://ops:hunter2-pw@hooks.example.com/%zz",       // bad escape
		"https://ops:hunter2-pw@[::1/scale",                  // bad IPv6 host
		// A raw / in the password: url.Parse reads the host up to it,
		// and its error quotes the password's start as the port.
		"https://ops:hunter2/pw@hooks.example.com/scale",
		// A raw # or ? in the password: url.Parse cuts the fragment or
		// the query off first, and its error quotes the URL up to it,
		// with no @ left to tell the password from a port.
		"https://ops:hunter2#pw@hooks.example.com/scale",
		"https://ops:hunter2?pw@hooks.example.com:bad/scale",
		// A password whose start could be a port, a raw / after it: the
		// URL reads like a host with a path, quoted whole by an escape
		// error after it, or by the scheme's refusal.
		"https://ops:2718/hunter2@hooks.example.com/%zz",
		"ftp://ops:2718/hunter2@hooks.example.com/scale",
		// A space in a token: the error quotes the URL whole.
		"https://hunter2 pw@hooks.example.com/scale",
		// No scheme written: url.Parse takes the user name for one.
		"hunter2://pw@hooks.example.com/scale",
	} {
		c := executor.DefaultWebhookConfig()
		c.URL = u
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "executor.webhook.url") ||
			strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "2718") {
			t.Errorf("%s: %v, want the flag and the fault without the password", u, err)
		}
	}
}

func TestWebhookConfigValidate(t *testing.T) {
	ok := executor.DefaultWebhookConfig()
	ok.URL = "https://hooks.example.com/scale"
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*executor.WebhookConfig){
		"no url":          func(c *executor.WebhookConfig) { c.URL = "" },
		"ftp url":         func(c *executor.WebhookConfig) { c.URL = "ftp://example.com/x" },
		"no host":         func(c *executor.WebhookConfig) { c.URL = "http:///x" },
		"zero attempts":   func(c *executor.WebhookConfig) { c.Attempts = 0 },
		"zero timeout":    func(c *executor.WebhookConfig) { c.Timeout = 0 },
		"backoff > max":   func(c *executor.WebhookConfig) { c.Backoff = time.Minute },
		"header no colon": func(c *executor.WebhookConfig) { c.Header = "X-Cluster prod" },
		"header newline":  func(c *executor.WebhookConfig) { c.Header = "X-A: b\r\nX-Evil: 1" },
		"token newline":   func(c *executor.WebhookConfig) { c.Token = "0123456789abcdef\nb" },
	} {
		c := ok
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestWebhookTimesSortAsStrings: a tier's decision times, formatted as the
// webhook sends them, sort as strings in time order, a whole second
// included (time.RFC3339Nano writes "…:05Z", which sorts after "…:05.5Z").
func TestWebhookTimesSortAsStrings(t *testing.T) {
	base := time.Date(2026, 1, 2, 0, 0, 4, 0, time.UTC)
	var prev string
	for _, d := range []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2*time.Second + time.Millisecond, time.Hour} {
		s := base.Add(d).Format(executor.WebhookTimeFormat)
		if got, err := time.Parse(time.RFC3339, s); err != nil || !got.Equal(base.Add(d)) {
			t.Fatalf("%s: parsed as RFC 3339 %v, %v; want %v", s, got, err, base.Add(d))
		}
		if prev != "" && s <= prev {
			t.Errorf("%q sorts at or before %q, the earlier time", s, prev)
		}
		prev = s
	}
}

// TestWebhookHeaderSecret: an -executor.webhook.header carrying a secret
// (the credentials of Authorization or Proxy-Authorization after the
// scheme, the value of a header whose name's last word ends in token,
// secret, key, password or passwd) must pass the tokens' rule, the error
// naming the flag, its variable and the header, never the value; other
// headers, those merely naming a secret among them (X-Key-Id), are not
// checked. A header the driver sets itself is refused, its value never
// printed either.
func TestWebhookHeaderSecret(t *testing.T) {
	const strong = "0123456789abcdef0123"
	const flag = "executor.webhook.header (HEADROOM_EXECUTOR_WEBHOOK_HEADER) "
	for _, tc := range []struct {
		header string
		token  string // -executor.webhook.token
		weak   string // the refused part, "" when accepted
		want   string // in the error, after flag
	}{
		{"Authorization: Bearer tok3n", "", "tok3n", "Authorization's credentials: 5 bytes"},
		{"authorization: bearer   tok3n", "", "tok3n", "authorization's credentials: 5 bytes"},
		{"Authorization: tok3n", "", "tok3n", "Authorization's credentials: 5 bytes"},
		{"Authorization: Bearer", "", "Bearer", "Authorization's credentials: 6 bytes"},
		{"Authorization: Basic dTpw", "", "dTpw", "Authorization's Basic password: 1 bytes"}, // u:p
		// admin:admin, 16 bytes encoded, a 5-byte password.
		{"Authorization: Basic YWRtaW46YWRtaW4=", "", "admin", "Authorization's Basic password: 5 bytes"},
		{"Authorization: basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+strong)), "", "", ""},
		// Not base64, or without a colon: the credentials as they are.
		{"Authorization: Basic " + strong, "", "", ""},
		{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon-0123456789")), "", "", ""},
		{"Proxy-Authorization: Bearer tok3n", "", "tok3n", "Proxy-Authorization's credentials: 5 bytes"},
		{"X-Api-Key: s3cr3t", "", "s3cr3t", "X-Api-Key's value: 6 bytes"},
		{"Api-Key: s3cr3t", "", "s3cr3t", "Api-Key's value: 6 bytes"},
		{"X-APIKEY: s3cr3t", "", "s3cr3t", "X-APIKEY's value: 6 bytes"},
		{"X-Functions-Key: s3cr3t", "", "s3cr3t", "X-Functions-Key's value: 6 bytes"},
		{"X-Auth-Token: s3cr3t", "", "s3cr3t", "X-Auth-Token's value: 6 bytes"},
		{"X-AccessToken: s3cr3t", "", "s3cr3t", "X-AccessToken's value: 6 bytes"},
		{"X-Webhook-SECRET: s3cr3t", "", "s3cr3t", "X-Webhook-SECRET's value: 6 bytes"},
		{"X_Client_Secret: s3cr3t", "", "s3cr3t", "X_Client_Secret's value: 6 bytes"},
		{"X-Password: s3cr3t", "", "s3cr3t", "X-Password's value: 6 bytes"},
		{"X-Api-Key: " + strong + " ", "", "", ""}, // parseHeader trims the value
		{"Authorization: Bearer " + strong, "", "", ""},
		{"Authorization: " + strong, "", "", ""},
		{"Proxy-Authorization: Bearer " + strong, strong, "", ""},
		{"X-Api-Key: " + strong, "", "", ""},
		// Names that merely name a secret, or none: not checked.
		{"X-Key-Id: 7", "", "", ""},
		{"X-Token-Type: jwt", "", "", ""},
		{"X-Secret-Version: 3", "", "", ""},
		{"Keep-Alive: timeout=5", "", "", ""},
		{"X-Cluster: prod", "", "", ""},
		{"", "", "", ""},
		// Set by the driver itself: refused, whatever the value.
		{"Idempotency-Key: s3cr3t", "", "s3cr3t", "Idempotency-Key: the driver sets it itself"},
		{"content-type: text/plain", "", "text/plain", "content-type: the driver sets it itself"},
		{"Authorization: Bearer " + strong, strong, strong[4:], "Authorization: executor.webhook.token (HEADROOM_EXECUTOR_WEBHOOK_TOKEN) sets it"},
	} {
		c := executor.DefaultWebhookConfig()
		c.URL = "https://hooks.example.com/scale"
		c.Header = tc.header
		c.Token = tc.token
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.header, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), flag+tc.want) {
			t.Errorf("%q: %v, want %q", tc.header, err, flag+tc.want)
			continue
		}
		if strings.HasSuffix(tc.want, "bytes") && !errors.Is(err, config.ErrWeakSecret) {
			t.Errorf("%q: %v, want ErrWeakSecret", tc.header, err)
		}
		if strings.Contains(err.Error(), tc.weak) {
			t.Errorf("%q: the error quotes the value: %v", tc.header, err)
		}
	}
}

// TestWebhookURLWithAPasswordReadAsAPortIsRefused: a password whose start
// is digits and that holds a raw / or ? parses: url.Parse reads user:digits
// as the host and port, and the rest of the password, @ and the real host
// as the path or query. Accepted, the driver sent the password's rest to
// that host (ops, port 2718) with every change, and named user:digits as
// the webhook's host in its errors. Such a URL is refused, quoting none of
// it; one with its user information parsed, or no @ after its host, is
// still taken, and an @ meant after the host can be written %40.
func TestWebhookURLWithAPasswordReadAsAPortIsRefused(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://ops:2718/hunter2@hooks.example.com/scale":        false,
		"https://ops:2718?hunter2@hooks.example.com/scale":        false,
		"https://ops:2718/hunter2%40hooks.example.com/scale":      true, // percent-encoded: no user information, no password
		"https://ops:hunter2@hooks.example.com/scale?to=a@b.test": true,
		"https://hooks.example.com:8443/scale?to=a%40b.test":      true,
		"https://hooks.example.com:8443/scale":                    true,
	} {
		c := executor.DefaultWebhookConfig()
		c.URL = u
		err := c.Validate()
		if ok != (err == nil) {
			t.Errorf("%s: %v, want accepted %v", u, err, ok)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "2718")) {
			t.Errorf("%s: %v quotes the password", u, err)
		}
	}
}
