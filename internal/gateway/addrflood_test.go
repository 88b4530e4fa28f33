package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
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
