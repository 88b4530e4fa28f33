package ingest_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestPushTokenNotTakenFromURL: the push API reads its token from the
// Authorization header only. The right token in the query string (where
// proxies' and servers' access logs, and shell histories, would keep it)
// is refused 401 as a missing token, whatever the parameter's name and
// with a wrong bearer beside it, nothing is stored, and the refusal's log
// line does not hold it.
func TestPushTokenNotTakenFromURL(t *testing.T) {
	logs := &natstest.Logs{}
	cfg := ingest.DefaultConfig()
	cfg.Token = token
	stored := 0
	count := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
			stored++
		}
		return nil
	}
	h, err := ingest.NewHandler(cfg, count, func() time.Time { return now }, zerolog.New(logs), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	q := url.QueryEscape(token)
	for _, c := range []struct{ name, query, auth string }{
		{"token", "?token=" + q, ""},
		{"access_token", "?access_token=" + q, ""},
		{"beside a wrong bearer", "?token=" + q, "Bearer wrong-token-0123456789"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path+c.query, strings.NewReader(string(mustJSON(tickJSON(nil)))))
			req.Header.Set("Content-Type", "application/json")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d (%.200s), want 401", rec.Code, rec.Body)
			}
		})
	}
	if stored != 0 {
		t.Errorf("%d ticks stored from requests whose token was in the URL", stored)
	}
	if len(logs.Lines(t, "push rejected")) == 0 {
		t.Error("no refusal logged")
	}
	if all := fmt.Sprint(logs.Lines(t, "")); strings.Contains(all, token) || strings.Contains(all, q) {
		t.Errorf("the token in the URL was logged:\n%.1500s", all)
	}
}
