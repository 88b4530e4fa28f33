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
	"github.com/headroomhq/headroom/internal/metricstest"
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

// TestPushAbandonedIsNotUnavailable: a pusher that hangs up while its
// ticks wait to be stored is counted apart (499), not as the store's
// failure (503, which HeadroomPushUnavailable alerts on). The publisher
// cancels the request itself once it holds the ticks, as a pusher's
// hang-up would, so nothing here waits on a timer.
func TestPushAbandonedIsNotUnavailable(t *testing.T) {
	ctx, hangUp := context.WithCancel(context.Background())
	abandoned := func(ctx context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
		}
		hangUp()
		<-ctx.Done()
		return ctx.Err()
	}
	reg := prometheus.NewRegistry()
	h, err := ingest.NewHandler(ingest.DefaultConfig(), abandoned, func() time.Time { return now }, zerolog.Nop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1"+ingest.Path, bytes.NewReader(mustJSON([]any{tickJSON(nil)}))).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	mux.ServeHTTP(httptest.NewRecorder(), req)
	byStatus := metricstest.ByLabel(t, reg, "headroom_push_rejected_total", "status")
	if byStatus["503"] != 0 || byStatus["499"] != 1 {
		t.Errorf("rejections by status %v, want one 499 and no 503", byStatus)
	}
	if _, ok := byStatus["400"]; !ok {
		t.Error("status 400's series does not exist before the first 400: an alert on increase() would miss it")
	}
}
