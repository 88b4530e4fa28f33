package ingest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// The guards of issue 10: every refusal is answered before anything is
// published, with a JSON error naming what was refused, against a real
// HTTP server and a real embedded JetStream.

// TestPushRefusesContentTypes refuses every body type but JSON and msgpack,
// the ones a web page may send cross-site without a preflight (form,
// multipart, text/plain) and a missing type included.
func TestPushRefusesContentTypes(t *testing.T) {
	s := start(t)
	bearer := "Bearer " + token
	body := mustJSON(tickJSON(nil))
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "text/plain; charset=utf-8", "multipart/form-data; boundary=x",
		"none", "application/x-msgpack", "application/jsonx", "garbage;;"} {
		t.Run(ct, func(t *testing.T) {
			status, out := s.post(t, body, ct, bearer)
			if status != http.StatusUnsupportedMediaType || out["field"] != "Content-Type" {
				t.Fatalf("%q: %d %v, want 415 on Content-Type", ct, status, out)
			}
			if msg, _ := out["error"].(string); !strings.Contains(msg, "application/json") && !strings.Contains(msg, "media") {
				t.Fatalf("error %q does not say what is wanted", msg)
			}
		})
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored by refused requests", n)
	}
	if status, out := s.post(t, body, "application/json; charset=utf-8", bearer); status != http.StatusAccepted {
		t.Fatalf("JSON with a charset: %d %v", status, out)
	}
}

// TestPushRefusesForeignOrigin refuses a browser request from another
// origin (the CSRF case of issue 10: form type and Origin evil.example)
// and accepts the same origin, an allowlisted one, and no Origin.
func TestPushRefusesForeignOrigin(t *testing.T) {
	s := start(t, func(c *ingest.Config) { c.AllowedOrigins = []string{"https://ops.example.com"} })
	host := strings.TrimPrefix(strings.TrimSuffix(s.url, ingest.Path), "http://")
	body := mustJSON(tickJSON(nil))
	h := func(origin, ct string) map[string]string {
		return map[string]string{"Origin": origin, "Content-Type": ct, "Authorization": "Bearer " + token}
	}
	for _, c := range []struct {
		name, origin, ct string
		status           int
	}{
		{"the attack: form post from evil.example", "http://evil.example", "application/x-www-form-urlencoded", 403},
		{"JSON from evil.example", "http://evil.example", "application/json", 403},
		{"same host, other port", "http://" + strings.Split(host, ":")[0] + ":1", "", 403},
		{"opaque origin", "null", "", 403},
		{"allowlisted but other scheme", "http://ops.example.com", "", 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, out, _ := s.do(t, http.MethodPost, body, h(c.origin, c.ct))
			if status != c.status || out["field"] != "Origin" {
				t.Fatalf("%d %v, want %d on Origin", status, out, c.status)
			}
		})
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored by refused requests", n)
	}
	for _, origin := range []string{"http://" + host, "https://ops.example.com", ""} {
		if status, out, _ := s.do(t, http.MethodPost, body, h(origin, "")); status != http.StatusAccepted {
			t.Fatalf("origin %q: %d %v", origin, status, out)
		}
	}
}

// TestPushRefusesForeignHost refuses the DNS-rebinding request of
// red-team S2: a page on evil.example re-pointed at 127.0.0.1 posts with
// its own name as Host and as Origin (same-origin to the browser), without
// a token. It gets 403 on Host and publishes nothing; loopback names on the
// listening port and an allowed name still get 202.
func TestPushRefusesForeignHost(t *testing.T) {
	s := start(t, func(c *ingest.Config) { c.Token, c.AllowedHosts = "", []string{"ops.example.com"} })
	host := strings.TrimPrefix(strings.TrimSuffix(s.url, ingest.Path), "http://")
	port := host[strings.LastIndex(host, ":")+1:]
	body := mustJSON(tickJSON(nil))
	for _, c := range []struct{ name, host, origin string }{
		{"the attack: rebinding name as Host and Origin", "evil.example:" + port, "http://evil.example:" + port},
		{"rebinding name, no Origin", "evil.example:" + port, ""},
		{"loopback name, other port", "localhost:1", ""},
		{"allowed name as a suffix", "evilops.example.com:" + port, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, out, _ := s.do(t, http.MethodPost, body, map[string]string{"Host": c.host, "Origin": c.origin, "Content-Type": ""})
			if status != http.StatusForbidden || out["field"] != "Host" {
				t.Fatalf("%d %v, want 403 on Host", status, out)
			}
		})
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored by refused requests", n)
	}
	for i, c := range []struct{ host, origin string }{
		{host, "http://" + host},
		{"localhost:" + port, ""},
		{"ops.example.com:" + port, "http://ops.example.com:" + port},
	} {
		body := mustJSON(tickJSON(map[string]any{"time": fmt.Sprintf("2026-01-02T03:0%d:00Z", i+1)}))
		if status, out, _ := s.do(t, http.MethodPost, body, map[string]string{"Host": c.host, "Origin": c.origin, "Content-Type": ""}); status != http.StatusAccepted {
			t.Fatalf("Host %q: %d %v", c.host, status, out)
		}
	}
	if n := len(s.stored(t)); n != 3 {
		t.Fatalf("%d ticks stored, want 3", n)
	}
}

// TestPushMethodNotAllowed answers every method but POST with 405 and
// Allow: POST (a CORS preflight OPTIONS included, so no browser sends the
// real request).
func TestPushMethodNotAllowed(t *testing.T) {
	s := start(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodPatch} {
		status, out, hdr := s.do(t, m, nil, map[string]string{"Authorization": "Bearer " + token})
		if status != http.StatusMethodNotAllowed || hdr.Get("Allow") != "POST" || out["error"] == nil {
			t.Fatalf("%s: %d, Allow %q, %v", m, status, hdr.Get("Allow"), out)
		}
	}
}

// TestPushRefusesAppsOfOtherSources refuses ticks for an app the
// configuration feeds from another source (409 naming it), accepts a push
// app and an unconfigured one, and a batch with one refused app stores none.
func TestPushRefusesAppsOfOtherSources(t *testing.T) {
	s := start(t, func(c *ingest.Config) {
		c.Sources = map[string]string{"shop": "sim", "nasa": "trace", "api": "scrape", "edge": "push"}
	})
	bearer := "Bearer " + token
	for app, src := range map[string]string{"shop": "sim", "nasa": "trace", "api": "scrape"} {
		status, out := s.post(t, mustJSON([]any{tickJSON(map[string]any{"app": "edge"}), tickJSON(map[string]any{"app": app})}), "", bearer)
		want := fmt.Sprintf("app %s takes its metrics from source %s, not push", app, src)
		if status != http.StatusConflict || out["field"] != "[1].app" || out["error"] != want {
			t.Fatalf("%s: %d %v, want 409 %q", app, status, out, want)
		}
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored by refused requests", n)
	}
	for _, app := range []string{"edge", "unconfigured"} {
		if status, out := s.post(t, mustJSON(tickJSON(map[string]any{"app": app})), "", bearer); status != http.StatusAccepted {
			t.Fatalf("%s: %d %v", app, status, out)
		}
	}
}

// TestPushUnitRanges refuses well-known metrics outside their documented
// units, naming the field and the tick's index.
func TestPushUnitRanges(t *testing.T) {
	s := start(t)
	bearer := "Bearer " + token
	for _, c := range []struct {
		name  string
		value float64
		want  string
	}{
		{"cpu", 5, "cpu 5: want 0..1"}, {"cpu", -0.1, "want 0..1"}, {"mem", 1.01, "want 0..1"}, {"error_rate", 2, "want 0..1"},
		{"latency_p50_ms", -1, "want ≥ 0"}, {"latency_p95_ms", -0.5, "want ≥ 0"}, {"latency_p99_ms", -3, "want ≥ 0"}, {"rps", -1, "want ≥ 0"},
	} {
		body := mustJSON([]any{tickJSON(nil), tickJSON(map[string]any{"time": "2026-01-02T03:03:00Z", "values": map[string]any{c.name: c.value}})})
		status, out := s.post(t, body, "", bearer)
		if status != http.StatusBadRequest || out["field"] != "[1].values."+c.name || !strings.Contains(fmt.Sprint(out["error"]), c.want) {
			t.Fatalf("%s %v: %d %v", c.name, c.value, status, out)
		}
	}
	if status, out := s.post(t, mustJSON(tickJSON(map[string]any{"replicas": 100001})), "", bearer); status != http.StatusBadRequest || out["field"] != "replicas" {
		t.Fatalf("replicas beyond the bound: %d %v", status, out)
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored by refused requests", n)
	}
	edge := map[string]any{"cpu": 1, "mem": 0, "error_rate": 0.5, "latency_p99_ms": 0, "rps": 0, "queue_depth": -7}
	if status, out := s.post(t, mustJSON(tickJSON(map[string]any{"values": edge})), "", bearer); status != http.StatusAccepted {
		t.Fatalf("values at the edges and a custom negative: %d %v", status, out)
	}
}

// TestPushSeriesLimit refuses a request bringing a series beyond the
// per-app or total limit with 422 naming the limit and its value, storing
// nothing of it; known series keep flowing.
func TestPushSeriesLimit(t *testing.T) {
	s := start(t, func(c *ingest.Config) { c.Series = limits.NewRecent(2, 3, 0) })
	bearer := "Bearer " + token
	tk := func(app, tier string) map[string]any { return tickJSON(map[string]any{"app": app, "tier": tier}) }
	if status, out := s.post(t, mustJSON([]any{tk("api", "a"), tk("api", "b")}), "", bearer); status != http.StatusAccepted {
		t.Fatalf("two series: %d %v", status, out)
	}
	status, out := s.post(t, mustJSON([]any{tk("api", "a"), tk("api", "c")}), "", bearer)
	if status != http.StatusUnprocessableEntity || out["field"] != "[1].tier" ||
		!strings.Contains(fmt.Sprint(out["error"]), "app api has 2 series, the limit limits.max_series_per_app") {
		t.Fatalf("third tier of api: %d %v", status, out)
	}
	if status, out := s.post(t, mustJSON([]any{tk("web", "a")}), "", bearer); status != http.StatusAccepted {
		t.Fatalf("third series: %d %v", status, out)
	}
	status, out = s.post(t, mustJSON(tk("db", "a")), "", bearer)
	if status != http.StatusUnprocessableEntity || out["field"] != "tier" || !strings.Contains(fmt.Sprint(out["error"]), "3 series known, the limit limits.max_series") {
		t.Fatalf("fourth series: %d %v", status, out)
	}
	if n := len(s.stored(t)); n != 3 {
		t.Fatalf("%d ticks stored, want the 3 admitted", n)
	}
}

// held is a request whose body is sent in part and held open.
type held struct {
	w    *io.PipeWriter
	done chan result
}

type result struct {
	status int
	err    error
}

func hold(t *testing.T, url string, first []byte) *held {
	t.Helper()
	return holdAs(t, url, "Bearer "+token, first)
}

// holdAs is hold with the Authorization header auth.
func holdAs(t *testing.T, url, auth string, first []byte) *held {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	h := &held{w: pw, done: make(chan result, 1)}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			h.done <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h.done <- result{status: resp.StatusCode}
	}()
	go func() { _, _ = pw.Write(first) }()
	return h
}

func (h *held) wait(t *testing.T) result {
	t.Helper()
	select {
	case r := <-h.done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no answer in 30s")
	}
	return result{}
}

// TestPushConcurrencyCap holds MaxConcurrent requests open: the next one is
// answered 429 with Retry-After at once, before its body is read; once the
// held ones finish, requests are served again.
func TestPushConcurrencyCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startAt(t, func() time.Time { return now }, reg, func(c *ingest.Config) { c.MaxConcurrent = 2; c.ReadTimeout = 0 })
	tick := mustJSON(tickJSON(nil))
	var hs []*held
	for range 2 {
		hs = append(hs, hold(t, s.url, []byte("[")))
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := s.h.InFlight(); n != 2 {
			return fmt.Errorf("%d requests in flight", n)
		}
		return nil
	})
	status, out, hdr := s.do(t, http.MethodPost, tick, map[string]string{"Content-Type": "", "Authorization": "Bearer " + token})
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(fmt.Sprint(out["error"]), "push.max_concurrent") {
		t.Fatalf("third request: %d %v Retry-After %q", status, out, hdr.Get("Retry-After"))
	}
	// Counted apart from a token's rate limit, the other 429.
	if r := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "reason"); r["concurrency"] != 1 || r["rate"] != 0 {
		t.Errorf("refusals by reason %v, want 1 concurrency and no rate", r)
	}
	for _, h := range hs {
		_, _ = h.w.Write(append(tick, ']'))
		_ = h.w.Close()
		if r := h.wait(t); r.err != nil || r.status != http.StatusAccepted {
			t.Fatalf("held request: %+v", r)
		}
	}
	if status, out := s.post(t, tick, "", "Bearer "+token); status != http.StatusAccepted {
		t.Fatalf("after the held requests: %d %v", status, out)
	}
}

// TestPushReadTimeout answers a body that stops arriving with 408 once
// push.read_timeout has passed, freeing its slot.
func TestPushReadTimeout(t *testing.T) {
	s := start(t, func(c *ingest.Config) { c.ReadTimeout = 300 * time.Millisecond })
	h := hold(t, s.url, []byte(`[`+string(mustJSON(tickJSON(nil)))+`,`))
	r := h.wait(t)
	_ = h.w.CloseWithError(errors.New("test over"))
	if r.err != nil || r.status != http.StatusRequestTimeout {
		t.Fatalf("held body: %+v, want 408", r)
	}
	if n := s.h.InFlight(); n != 0 {
		t.Fatalf("%d slots held after the timeout", n)
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored from a timed-out body", n)
	}
}

// TestRequireToken fails a start without a token when a real driver is
// live or the push API listens beyond loopback, never echoing the token.
func TestRequireToken(t *testing.T) {
	open := ingest.DefaultConfig()
	closed := ingest.DefaultConfig()
	closed.Token = "do-not-print"
	if err := ingest.RequireToken(open, true); !errors.Is(err, ingest.ErrTokenRequired) || !strings.Contains(err.Error(), "push.token") {
		t.Fatalf("real driver, no token: %v", err)
	}
	for _, c := range []struct {
		cfg  ingest.Config
		live bool
	}{{open, false}, {closed, true}, {closed, false}} {
		if err := ingest.RequireToken(c.cfg, c.live); err != nil {
			t.Fatalf("token %q, live %v: %v", c.cfg.Token, c.live, err)
		}
	}
	for _, addr := range []string{":8082", "0.0.0.0:8082", "[::]:8082", "10.0.0.5:8082", "collector:8080"} {
		err := ingest.RequireTokenOn(open, addr)
		if !errors.Is(err, ingest.ErrTokenRequired) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("%s without token: %v", addr, err)
		}
		if err := ingest.RequireTokenOn(closed, addr); err != nil {
			t.Fatalf("%s with token: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8082", "[::1]:8082", "localhost:8082", "127.0.0.2:0", ""} {
		if err := ingest.RequireTokenOn(open, addr); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	if bytes.Contains([]byte(fmt.Sprint(ingest.RequireTokenOn(closed, ":1"), ingest.RequireToken(closed, true))), []byte("do-not-print")) {
		t.Fatal("token in a message")
	}
}

// TestPushBodyTooLarge refuses a body over max_body_bytes with 413 both
// when Content-Length says so (before reading it) and when a chunked body
// grows past it (after reading at most the limit).
func TestPushBodyTooLarge(t *testing.T) {
	s := start(t, func(c *ingest.Config) { c.MaxBody = 4096 })
	big := append(append([]byte(`[`), bytes.Repeat([]byte(` `), 5000)...), ']')
	if status, out := s.post(t, big, "", "Bearer "+token); status != http.StatusRequestEntityTooLarge || !strings.Contains(fmt.Sprint(out["error"]), "Content-Length") {
		t.Fatalf("declared: %d %v", status, out)
	}
	h := hold(t, s.url, nil)
	go func() {
		_, _ = h.w.Write(big)
		_ = h.w.Close()
	}()
	if r := h.wait(t); r.err != nil || r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: %+v", r)
	}
	if n := len(s.stored(t)); n != 0 {
		t.Fatalf("%d ticks stored", n)
	}
}

// TestPushTokenTooShort refuses at start a -push.token shorter than 16
// bytes, naming the flag and its variable, never the token.
func TestPushTokenTooShort(t *testing.T) {
	cfg := ingest.DefaultConfig()
	cfg.Token = "hunter2"
	err := cfg.Validate()
	if !errors.Is(err, config.ErrWeakSecret) || !strings.Contains(err.Error(), "(-push.token or HEADROOM_PUSH_TOKEN): 7 bytes") {
		t.Fatalf("a 7-byte token: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("the error quotes the token: %v", err)
	}
	cfg.Token = "hunter2-hunter2-"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a 16-byte token: %v", err)
	}
}
