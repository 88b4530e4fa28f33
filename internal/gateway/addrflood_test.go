package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestPerAddrRefusalsNotFlooding: a client retrying in a loop past
// MaxClientsPerAddr gets 429 every time and every refusal is counted, but
// only its first is logged: the rest of the minute's are summed up by a
// later line (TestRefusalLog), not written one by one.
func TestPerAddrRefusalsNotFlooding(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxClients, cfg.MaxClientsPerAddr = 10, 1
	logs := newSyncBuf()
	e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
	mustDial(t, e.srv.URL)
	const tries = 25
	for i := range tries {
		_, resp, err := dial(t, e.srv.URL, "", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("try %d: %v, want 429", i+1, err)
		}
		resp.Body.Close()
	}
	if got := metricstest.ByLabel(t, e.reg, "headroom_gateway_connections_total", "result"); got["addr_limit"] != tries {
		t.Errorf("addr_limit counted %v, want %d: the metric counts every refusal", got["addr_limit"], tries)
	}
	// The refusal is logged before the 429 is written: every line is in.
	if n := strings.Count(logs.String(), "gateway.max-clients-per-addr"); n != 1 {
		t.Errorf("%d refusal lines for %d refusals of one address within a minute, want 1:\n%s", n, tries, logs.String())
	}
}

// TestPerAddrRefusalSummaryWithoutRetry: a client refused a few times that
// then stops trying still gets its summary line, written by the gateway's
// own sweep once the interval has passed, not only by a later refusal
// (here none comes): the lines account for every refusal.
func TestPerAddrRefusalSummaryWithoutRetry(t *testing.T) {
	cfg := gateway.WithRefusalEvery(gateway.DefaultConfig(), 2*time.Second)
	cfg.MaxClients, cfg.MaxClientsPerAddr = 10, 1
	logs := newSyncBuf()
	e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
	mustDial(t, e.srv.URL)
	const tries = 5
	for i := range tries {
		_, resp, err := dial(t, e.srv.URL, "", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("try %d: %v, want 429", i+1, err)
		}
		resp.Body.Close()
	}
	// One refusal per first line, "refused" per summary.
	natstest.Eventually(t, 15*time.Second, func() error {
		n := 0
		for _, s := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				return fmt.Errorf("%q: %w", s, err)
			}
			if r, ok := m["refused"].(float64); ok {
				n += int(r)
			} else if strings.Contains(s, "gateway.max-clients-per-addr") {
				n++
			}
		}
		if n != tries {
			return fmt.Errorf("the log accounts for %d refusals of %d:\n%s", n, tries, logs.String())
		}
		return nil
	})
}
