package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestPushNotStoredNamesSeries: a push whose ticks cannot be stored answers
// 503 (a retry is safe) and the error line names the series it carried, so
// an operator can tell whose metrics are missing.
func TestPushNotStoredNamesSeries(t *testing.T) {
	logs := &natstest.Logs{}
	fail := func(context.Context, iter.Seq[*proto.Metrics]) error { return errors.New("nats: no responders") }
	h, err := ingest.NewHandler(ingest.DefaultConfig(), fail, func() time.Time { return now }, zerolog.New(logs), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	body := mustJSON([]any{tickJSON(nil), tickJSON(map[string]any{"tier": "db"})})
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503", rec.Code, rec.Body)
	}
	lines := logs.Lines(t, "push not stored")
	if len(lines) != 1 {
		t.Fatalf("%d 'push not stored' lines, want 1", len(lines))
	}
	series, _ := lines[0]["series"].([]any)
	if len(series) != 2 || series[0] != "shop.web" || series[1] != "shop.db" || lines[0]["ticks"] != 2.0 {
		t.Errorf("log line %v, want ticks 2 and series [shop.web shop.db]", lines[0])
	}
}
