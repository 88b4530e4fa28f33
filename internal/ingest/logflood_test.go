package ingest_test

import (
	"context"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// TestPushRejectionLogBounded: a flood of refused requests, each carrying
// a 64 KiB header or field name the refusal quotes, writes a bounded log:
// a few warnings, each of bounded size, however many requests come, while
// headroom_push_rejected_total counts every one. Without the bound every
// refusal is a warning quoting what the sender chose, so a sender (no
// token needed: the Host, Origin and Content-Type checks come first) turns
// each byte it sends into a byte of log.
func TestPushRejectionLogBounded(t *testing.T) {
	const requests = 300
	long := strings.Repeat("x", 64<<10)
	for _, c := range []struct {
		name   string
		status int
		set    func(r *http.Request)
		body   string
	}{
		{"host", http.StatusForbidden, func(r *http.Request) { r.Host = long }, `{}`},
		{"origin", http.StatusForbidden, func(r *http.Request) { r.Header.Set("Origin", "http://"+long) }, `{}`},
		{"content type", http.StatusUnsupportedMediaType, func(r *http.Request) { r.Header.Set("Content-Type", "text/"+long) }, `{}`},
		{"field name", http.StatusBadRequest, func(*http.Request) {}, `{"` + long + `":1}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			logs := &natstest.Logs{}
			reg := prometheus.NewRegistry()
			none := func(context.Context, iter.Seq[*proto.Metrics]) error { return nil }
			h, err := ingest.NewHandler(ingest.DefaultConfig(), none, func() time.Time { return now }, zerolog.New(logs), reg)
			if err != nil {
				t.Fatal(err)
			}
			for range requests {
				req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/json")
				c.set(req)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != c.status {
					t.Fatalf("status %d (%.200s), want %d", rec.Code, rec.Body, c.status)
				}
			}
			if n := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "status")[strconv.Itoa(c.status)]; n != requests {
				t.Errorf("%v refusals counted, want %d", n, requests)
			}
			lines := logs.Lines(t, "push rejected")
			var size int
			for _, l := range lines {
				for _, v := range l {
					if s, ok := v.(string); ok {
						size += len(s)
					}
				}
			}
			if len(lines) > 20 || size > 20*1024 {
				t.Errorf("%d refusals logged %d warnings of %d bytes in all, want at most 20 lines and 20 KiB", requests, len(lines), size)
			}
			if len(lines) == 0 {
				t.Error("no refusal logged")
			}
		})
	}
}

// TestPushRejectionLogPerStatus: the log's bound holds per status, so a
// flood of one kind of refusal (malformed bodies) does not hide the first
// refusal of another (a foreign Origin) from the operator reading it.
func TestPushRejectionLogPerStatus(t *testing.T) {
	logs := &natstest.Logs{}
	none := func(context.Context, iter.Seq[*proto.Metrics]) error { return nil }
	h, err := ingest.NewHandler(ingest.DefaultConfig(), none, func() time.Time { return now }, zerolog.New(logs), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	post := func(origin, body string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for range 100 {
		post("", `{"app":`)
	}
	post("http://evil.example", `{}`)
	var forbidden int
	for _, l := range logs.Lines(t, "push rejected") {
		if l["status"] == float64(http.StatusForbidden) {
			forbidden++
		}
	}
	if forbidden != 1 {
		t.Fatalf("%d warnings of the foreign origin after 100 malformed bodies, want 1", forbidden)
	}
}

// TestPushRejectionLogPerReason: the log's bound holds per status and
// reason, so a blocked token guesser's flood of 429s (auth_rate) does not
// hide the warning naming a token beyond its rate (a 429 too, reason
// rate), the one HeadroomPushRateLimited sends the operator to.
func TestPushRejectionLogPerReason(t *testing.T) {
	logs := &natstest.Logs{}
	cfg := ingest.DefaultConfig()
	cfg.Tokens = []ingest.Token{{Name: "team-a", Digest: digest(t, tokenA), Apps: []string{"shop"}}}
	cfg.RateLimit, cfg.RateBurst = 1, 1
	drain := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
		}
		return nil
	}
	h, err := ingest.NewHandler(cfg, drain, func() time.Time { return now }, zerolog.New(logs), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if status, _, out := guessing(t, h, "192.0.2.1:1", "guess", i); status != http.StatusUnauthorized && status != http.StatusTooManyRequests {
			t.Fatalf("guess %d: %d %v", i, status, out)
		}
	}
	if status, _, out := guessing(t, h, "192.0.2.2:1", tokenA, 100); status != http.StatusAccepted {
		t.Fatalf("team-a's first push: %d %v", status, out)
	}
	if status, _, out := guessing(t, h, "192.0.2.2:1", tokenA, 101); status != http.StatusTooManyRequests {
		t.Fatalf("team-a's second push at once: %d %v, want 429 for its rate", status, out)
	}
	var auth, rate int
	for _, l := range logs.Lines(t, "push rejected") {
		switch {
		case l["refusal"] == "auth_rate":
			auth++
		case l["refusal"] == "rate" && l["sender"] == "team-a":
			rate++
		}
	}
	if auth == 0 || rate != 1 {
		t.Fatalf("%d warnings of the guesser's blocked requests and %d of team-a's rate after 90 blocked guesses, want some and 1", auth, rate)
	}
}
