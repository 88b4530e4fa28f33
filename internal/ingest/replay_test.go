package ingest_test

import (
	"net/http"
	"testing"
)

// TestPushReplayStoredOnce: a push request sent again (captured and
// replayed, or retried by its pusher), and another naming the same tier
// and time with other values (a second sender rewriting a stored tick),
// store nothing: a tick's message id is its app, tier and time, so the
// stream keeps the first within its duplicate window
// (-stream.dedupe-window, 10 minutes) and the consumers never see the
// others. Both are answered 202, as the tick they name is stored.
func TestPushReplayStoredOnce(t *testing.T) {
	s := start(t)
	bearer := "Bearer " + token
	first := mustJSON([]any{tickJSON(nil), tickJSON(map[string]any{"tier": "db"})})
	for i, body := range [][]byte{
		first,
		first,
		mustJSON(tickJSON(map[string]any{"values": map[string]any{"rps": 9000.0, "cpu": 0.99}})),
	} {
		if status, out := s.post(t, body, "application/json", bearer); status != http.StatusAccepted {
			t.Fatalf("request %d: %d %v, want 202", i+1, status, out)
		}
	}
	got := s.stored(t)
	if len(got) != 2 {
		t.Fatalf("%d ticks stored, want the first request's 2", len(got))
	}
	for _, m := range got {
		if m.Tier == "web" && m.Values["rps"] != 120.5 {
			t.Fatalf("web's tick stored with rps %v, want the first request's 120.5", m.Values["rps"])
		}
	}
}
