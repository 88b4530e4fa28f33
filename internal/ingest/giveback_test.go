package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// tickingClock moves on by a microsecond at every reading, as the wall
// clock does between two readings in the handler.
type tickingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tickingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

// TestPushRateSpentWhenHandedToStore: a request refused after its ticks
// were counted gives them back only when none of them reached the store:
// refused for the series limits (422), or by a store that failed before
// taking any (503). Ticks handed to the store are spent whatever the
// answer, a failed acknowledgement (503) or a client that hung up before
// it (499): they may be stored, and giving them back would let a sender
// push past its rate by hanging up once its body is sent. Each case runs
// with a clock that moves between readings, as the wall clock does, and
// with a frozen one. The retry is a request of the same size right after
// (1 tick a second, bursts of 3).
func TestPushRateSpentWhenHandedToStore(t *testing.T) {
	body := func(tiers ...string) []byte {
		out := make([]any, len(tiers))
		for i, tier := range tiers {
			out[i] = at("shop", tier, i+1)
		}
		return mustJSON(out)
	}
	cases := []struct {
		name   string
		first  []byte
		take   int  // ticks the store takes before failing (0: it asks for none; -1: all)
		hangUp bool // the client hangs up once the store has them
		status int  // the first request's answer (0: none, the client hung up)
		retry  int  // the retry's answer
	}{
		{"series limit, 422: given back", body("ta", "tb", "tc"), 0, false, 422, 202},
		{"store down before taking any, 503: given back", body("ta", "ta", "ta"), 0, false, 503, 202},
		{"store took one, then failed, 503: spent", body("ta", "ta", "ta"), 1, false, 503, 429},
		{"store took all, the ack failed, 503: spent", body("ta", "ta", "ta"), -1, false, 503, 429},
		{"store took all, the client hung up: spent", body("ta", "ta", "ta"), -1, true, 0, 429},
	}
	clocks := []struct {
		name string
		now  func() func() time.Time
	}{
		{"ticking", func() func() time.Time { return (&tickingClock{t: now}).now }},
		{"frozen", func() func() time.Time { return func() time.Time { return now } }},
	}
	for _, clk := range clocks {
		for _, c := range cases {
			t.Run(clk.name+"/"+c.name, func(t *testing.T) {
				var mu sync.Mutex
				failing := true
				var stored int
				publish := func(ctx context.Context, ticks iter.Seq[*proto.Metrics]) error {
					mu.Lock()
					defer mu.Unlock()
					if !failing {
						for range ticks {
							stored++
						}
						return nil
					}
					if c.take != 0 {
						taken := 0
						for range ticks {
							taken++
							stored++
							if taken == c.take {
								break
							}
						}
					}
					if c.hangUp {
						cancel := ctx.Value(cancelKey{}).(context.CancelFunc)
						cancel()
						<-ctx.Done()
						return ctx.Err()
					}
					return errors.New("nats: no responders")
				}
				cfg := ingest.DefaultConfig()
				cfg.RateLimit, cfg.RateBurst = 1, 3
				cfg.Series = limits.NewRecent(2, 0, time.Hour)
				h, err := ingest.NewHandler(cfg, publish, clk.now(), zerolog.New(&natstest.Logs{}), prometheus.NewRegistry())
				if err != nil {
					t.Fatal(err)
				}
				post := func(b []byte) int {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					ctx = context.WithValue(ctx, cancelKey{}, context.CancelFunc(cancel))
					req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(b))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					return rec.Code
				}
				code := post(c.first)
				if c.status == 0 {
					c.status = http.StatusOK // nothing written: the recorder's default
				}
				if code != c.status {
					t.Fatalf("first request: %d, want %d", code, c.status)
				}
				mu.Lock()
				failing = false
				before := stored
				mu.Unlock()
				if code := post(body("ta", "ta", "ta")); code != c.retry {
					t.Fatalf("the retry right after: %d, want %d (the first request handed %d ticks to the store)", code, c.retry, before)
				}
			})
		}
	}
}

// cancelKey carries the request's cancel function to the test's store, so
// that it can hang up for the client once it holds the ticks.
type cancelKey struct{}

// TestPushRateRetryAfterSlowRate: a rate so slow that the next tick is
// centuries away still answers a Retry-After that far, before the body is
// read and after, not a wait overflowed into "retry in 1 s".
func TestPushRateRetryAfterSlowRate(t *testing.T) {
	cfg := ingest.DefaultConfig()
	cfg.RateLimit, cfg.RateBurst = 1e-12, 2
	stored := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
		}
		return nil
	}
	h, err := ingest.NewHandler(cfg, stored, func() time.Time { return now }, zerolog.New(&natstest.Logs{}), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	post := func(n int) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(mustJSON(ticks("shop", n, 1))))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Header().Get("Retry-After")
	}
	if code, _ := post(1); code != http.StatusAccepted {
		t.Fatalf("the first tick: %d", code)
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"after its body, 2 ticks with 1 left", 2}, {"before its body, none left", 1}} {
		if c.n == 1 {
			if code, _ := post(1); code != http.StatusAccepted {
				t.Fatalf("the second tick: %d", code)
			}
		}
		code, ra := post(c.n)
		secs, err := strconv.ParseInt(ra, 10, 64)
		if code != http.StatusTooManyRequests || err != nil || secs < 1e9 {
			t.Errorf("%s: %d, Retry-After %q, want 429 and at least 1e9 s", c.name, code, ra)
		}
	}
}
