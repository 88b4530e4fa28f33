package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
)

// forwardLines are the lines of logs about unreadable forwarding
// headers, decoded.
func forwardLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.Contains(s, "forwarding header from a trusted proxy holds an entry that is not an address") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		out = append(out, m)
	}
	return out
}

// TestForwardUnreadableCounted: a trusted proxy sending unreadable
// forwarding headers in a flood writes one line (quoting the header,
// naming the proxy) and then a counted summary, not a line per request
// nor a burst of lines with the rest dropped unsaid: the lines account
// for every header headroom_gateway_forwarded_unreadable_total counts,
// and the summary names the last header (last_value) and the proxy
// (counted_as, last_remote).
func TestForwardUnreadableCounted(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.TrustedProxies = []string{"127.0.0.0/8"}
	logs := newSyncBuf()
	e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
	const tries = 30
	for i := range tries {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		v := "unknown"
		if i == tries-1 {
			v = "client.example"
		}
		req.Header.Set("X-Forwarded-For", v)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n, _ := metricstest.Sum(t, e.reg, "headroom_gateway_forwarded_unreadable_total"); n != tries {
		t.Fatalf("headroom_gateway_forwarded_unreadable_total %v, want %d", n, tries)
	}
	e.stop() // writes the summary
	lines := forwardLines(t, logs.String())
	if len(lines) != 2 {
		t.Fatalf("%d lines for %d unreadable headers from one proxy, want 2 (the first, a summary):\n%s", len(lines), tries, logs.String())
	}
	first, sum := lines[0], lines[1]
	if first["value"] != "unknown" || !strings.HasPrefix(fmt.Sprint(first["remote"]), "127.0.0.1:") || first["header"] != "X-Forwarded-For" || first["counted_as"] != "127.0.0.1" {
		t.Errorf("first line %v, want value unknown, remote 127.0.0.1:*, header X-Forwarded-For, counted_as 127.0.0.1", first)
	}
	if sum["unreadable"] != float64(tries-1) || sum["counted_as"] != "127.0.0.1" || sum["last_value"] != "client.example" || !strings.HasPrefix(fmt.Sprint(sum["last_remote"]), "127.0.0.1:") {
		t.Errorf("summary %v, want unreadable %d, counted_as 127.0.0.1, last_value client.example, last_remote 127.0.0.1:*", sum, tries-1)
	}
}
