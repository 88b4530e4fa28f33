package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/proto"
)

// TestPushMaxTicks: a request may carry push.max_ticks ticks, in JSON and
// in msgpack; one more is refused with 400 naming the cap, and nothing of
// it is published.
func TestPushMaxTicks(t *testing.T) {
	cfg := ingest.DefaultConfig()
	cfg.MaxTicks = 3
	published := 0
	count := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
			published++
		}
		return nil
	}
	h, err := ingest.NewHandler(cfg, count, func() time.Time { return now }, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	jsonTicks := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = tickJSON(nil)
		}
		return out
	}
	packTicks := func(n int) packed {
		out := make([]packed, n)
		for i := range out {
			out[i] = tickPack("app", "shop")
		}
		return packArray(out...)
	}
	for _, c := range []struct {
		name, contentType string
		body              []byte
		status            int
		msg               string
	}{
		{"json at the cap", "application/json", mustJSON(jsonTicks(3)), http.StatusAccepted, ""},
		{"json past it", "application/json", mustJSON(jsonTicks(4)), http.StatusBadRequest, "more than 3 ticks, at most 3 per request"},
		{"msgpack at the cap", "application/msgpack", packTicks(3), http.StatusAccepted, ""},
		{"msgpack past it", "application/msgpack", packTicks(4), http.StatusBadRequest, "4 ticks, at most 3 per request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			published = 0
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(c.body))
			req.Header.Set("Content-Type", c.contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var out map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			if rec.Code != c.status || (c.msg != "" && (out["field"] != "body" || !strings.Contains(out["error"].(string), c.msg))) {
				t.Fatalf("%d %v, want %d %q", rec.Code, out, c.status, c.msg)
			}
			if want := map[bool]int{true: 3, false: 0}[c.status == http.StatusAccepted]; published != want {
				t.Fatalf("%d ticks published, want %d", published, want)
			}
		})
	}
}
