package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// fakeClock is the handler's wall clock, moved by the test: the rate
// limiter reads the time as a value, so no test sleeps through a window.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ticks is n distinct ticks of app (tier t0, t1, …) at minute m before now.
func ticks(app string, n, m int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = at(app, "t"+string(rune('a'+i)), m)
	}
	return out
}

// TestPushRateLimit: each token pushes within its own rate (1 tick a
// second, bursts of 3 here). Beyond, 429 with Retry-After saying when the
// request would pass, counted as reason "rate", nothing published; once
// the window has passed, by the handler's clock, the same token pushes
// again. A request larger than the burst could never pass: 413. Another
// token has its own allowance, and a refused request spends none.
func TestPushRateLimit(t *testing.T) {
	clock := &fakeClock{t: now}
	reg := prometheus.NewRegistry()
	one, three := 1.0, 3
	s := startAt(t, clock.now, reg, func(c *ingest.Config) {
		c.Tokens = []ingest.Token{
			{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}, RateLimit: &one, RateBurst: three},
			{Name: "team-b", Digest: digest(t, tokenB), Apps: []string{"api-*"}, RateLimit: &one, RateBurst: three},
		}
	})
	a, b := "Bearer "+tokenA, "Bearer "+tokenB
	steps := []struct {
		name       string
		advance    time.Duration
		auth       string
		body       any
		status     int
		retryAfter string
		stored     int
	}{
		{"a burst of 3 passes", 0, a, ticks("shop", 3, 1), 202, "", 3},
		{"the 4th tick at once is refused before its body is read", 0, a, ticks("shop", 1, 2), 429, "1", 0},
		{"another token keeps its own allowance", 0, b, ticks("api-eu", 2, 2), 202, "", 2},
		{"a tick the token may not push", 0, b, at("shop", "web", 3), 403, "", 0},
		{"spent nothing of the allowance", 0, b, at("api-eu", "web", 3), 202, "", 1},
		{"half a second on: still nothing", 500 * time.Millisecond, a, ticks("shop", 1, 3), 429, "1", 0},
		{"a second on: one tick, not two", 500 * time.Millisecond, a, ticks("shop", 2, 4), 429, "1", 0},
		{"that second's tick passes", 0, a, ticks("shop", 1, 5), 202, "", 1},
		{"2.5 s on: 3 ticks wait 0.5 s, told as 1", 2500 * time.Millisecond, a, ticks("shop", 3, 6), 429, "1", 0},
		{"2 of them pass", 0, a, ticks("shop", 2, 7), 202, "", 2},
		{"more than the burst: never, 413", 10 * time.Second, a, ticks("shop", 4, 8), 413, "", 0},
		{"a full burst after the window", 0, a, ticks("shop", 3, 9), 202, "", 3},
		{"1.1 s on: 3 ticks wait 1.9 s, told as 2", 1100 * time.Millisecond, a, ticks("shop", 3, 10), 429, "2", 0},
		{"recovered after the window", 2 * time.Second, a, ticks("shop", 3, 10), 202, "", 3},
	}
	total := 0
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.advance(st.advance)
			status, out, hdr := s.do(t, http.MethodPost, mustJSON(st.body), map[string]string{"Content-Type": "", "Authorization": st.auth})
			if status != st.status {
				t.Fatalf("status %d, want %d (%v)", status, st.status, out)
			}
			if got := hdr.Get("Retry-After"); got != st.retryAfter {
				t.Errorf("Retry-After %q, want %q (%v)", got, st.retryAfter, out)
			}
			if msg, _ := out["error"].(string); status == 429 && !strings.Contains(msg, "rate limit") {
				t.Errorf("error %q does not name the rate limit", msg)
			}
			total += st.stored
			if n := len(s.stored(t)); n != total {
				t.Fatalf("%d ticks stored in all, want %d", n, total)
			}
		})
	}
	rejected := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "reason")
	if rejected["rate"] != 5 || rejected["burst"] != 1 || rejected["concurrency"] != 0 || rejected["scope"] != 1 {
		t.Errorf("refusals by reason %v, want 5 rate, 1 burst, 1 scope", rejected)
	}
}

// TestPushRateLimitOff: a rate limit of 0 lets a token push as much as the
// other limits allow; the all-apps token and the anonymous sender (no
// token set) are limited by the default.
func TestPushRateLimitOff(t *testing.T) {
	zero := 0.0
	clock := &fakeClock{t: now}
	s := startAt(t, clock.now, prometheus.NewRegistry(), func(c *ingest.Config) {
		c.RateLimit, c.RateBurst = 1, 2
		c.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}, RateLimit: &zero}}
	})
	for m := range 5 {
		if status, out := s.post(t, mustJSON(ticks("shop", 5, m+1)), "", "Bearer "+tokenA); status != http.StatusAccepted {
			t.Fatalf("push %d with no limit: %d %v", m, status, out)
		}
	}
	if status, out := s.post(t, mustJSON(ticks("shop", 2, 20)), "", "Bearer "+token); status != http.StatusAccepted {
		t.Fatalf("all-apps token within its limit: %d %v", status, out)
	}
	if status, out := s.post(t, mustJSON(ticks("shop", 1, 21)), "", "Bearer "+token); status != http.StatusTooManyRequests {
		t.Fatalf("all-apps token beyond its limit: %d %v", status, out)
	}
	anon := startAt(t, clock.now, prometheus.NewRegistry(), func(c *ingest.Config) { c.Token, c.RateLimit, c.RateBurst = "", 1, 2 })
	if status, out := anon.post(t, mustJSON(ticks("shop", 2, 30)), "", ""); status != http.StatusAccepted {
		t.Fatalf("anonymous within the limit: %d %v", status, out)
	}
	if status, out := anon.post(t, mustJSON(ticks("shop", 1, 31)), "", ""); status != http.StatusTooManyRequests {
		t.Fatalf("anonymous beyond the limit: %d %v", status, out)
	}
}

// TestPushRateGivenBack: ticks that could not be stored (503) are given
// back to their sender's allowance, so its retry is not refused for them.
func TestPushRateGivenBack(t *testing.T) {
	var mu sync.Mutex
	down := true
	publish := func(ctx context.Context, ticks iter.Seq[*proto.Metrics]) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return errors.New("nats: no responders")
		}
		for range ticks {
		}
		return nil
	}
	cfg := ingest.DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 1, 3
	h, err := ingest.NewHandler(cfg, publish, func() time.Time { return now }, zerolog.New(&natstest.Logs{}), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	post := func() int {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(mustJSON(ticks("shop", 3, 1))))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post(); code != http.StatusServiceUnavailable {
		t.Fatalf("store down: %d, want 503", code)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if code := post(); code != http.StatusAccepted {
		t.Fatalf("the retry at the same instant: %d, want 202 (the failed push's ticks given back)", code)
	}
	if code := post(); code != http.StatusTooManyRequests {
		t.Fatalf("a third push at once: %d, want 429", code)
	}
}

// TestPushRateFloodLogBounded: a token flooding past its rate limit is
// refused every time, each refusal counted, and logged as the other
// refusals are, sampled: a few warnings naming the token by its name and
// the refusal "rate", none quoting the token.
func TestPushRateFloodLogBounded(t *testing.T) {
	const requests = 300
	logs := &natstest.Logs{}
	reg := prometheus.NewRegistry()
	cfg := ingest.DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 1, 1
	cfg.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}}}
	none := func(context.Context, iter.Seq[*proto.Metrics]) error { return nil }
	h, err := ingest.NewHandler(cfg, none, func() time.Time { return now }, zerolog.New(logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[int]int{}
	for range requests + 1 {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(mustJSON(tickJSON(nil))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokenA)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		codes[rec.Code]++
	}
	if codes[http.StatusAccepted] != 1 || codes[http.StatusTooManyRequests] != requests {
		t.Fatalf("answers %v, want 1 accepted and %d refused", codes, requests)
	}
	if n := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "reason")["rate"]; n != requests {
		t.Errorf("%v rate refusals counted, want %d", n, requests)
	}
	lines := logs.Lines(t, "push rejected")
	if len(lines) == 0 || len(lines) > 20 {
		t.Fatalf("%d refusals logged %d warnings, want 1 to 20", requests, len(lines))
	}
	for _, l := range lines {
		if l["sender"] != "team-a" || l["refusal"] != "rate" || l["status"] != 429.0 {
			t.Errorf("warning %v, want sender team-a, refusal rate, status 429", l)
		}
		if strings.Contains(fmt.Sprint(l), tokenA) {
			t.Errorf("warning quotes the token: %v", l)
		}
	}
}
