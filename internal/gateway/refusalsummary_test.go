package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
)

// accounted is how many refusals the lines of logs whose message holds
// msg account for: one per line without a count, the count (refused) of
// each summary; and how many summaries name counted_as key.
func accounted(logs string, msg, key string) (refusals, summaries int, err error) {
	for _, s := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.Contains(s, msg) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return 0, 0, fmt.Errorf("%q: %w", s, err)
		}
		if n, ok := m["refused"].(float64); ok {
			refusals += int(n)
			if m["counted_as"] == key {
				summaries++
			}
		} else {
			refusals++
		}
	}
	return refusals, summaries, nil
}

// summariesNamingLast is how many summaries (lines with refused) of
// logs' lines whose message holds msg name their last refusal's peer
// (last_remote), and how many do not.
func summariesNamingLast(logs, msg string) (naming, not int) {
	for _, s := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if !strings.Contains(s, msg) || json.Unmarshal([]byte(s), &m) != nil || m["refused"] == nil {
			continue
		}
		if r, _ := m["last_remote"].(string); strings.HasPrefix(r, "127.0.0.1:") {
			naming++
		} else {
			not++
		}
	}
	return naming, not
}

// TestRefusalSummaries: the Host, Origin and token refusals of one
// value after its first line (a page or a script in a loop) are not
// dropped unsaid: a summary line (counted_as the value, refused the
// count) is written by the gateway's sweep once the period has passed,
// though no refusal follows, or as the gateway stops, whichever comes
// first; the lines account for every refusal, and each summary names
// its last refusal's peer (last_remote), as the first line names its own.
func TestRefusalSummaries(t *testing.T) {
	kinds := []struct {
		kind, msg, key string
	}{
		// msg is the first line's whole message: the summaries hold it
		// too, so a search for the one finds the other.
		{"host", "request for a foreign Host refused (DNS rebinding?)", "evil.example"},
		{"origin", "websocket origin refused", "http://evil.example"},
		{"token", "request with a missing or wrong token refused", "apps none"},
	}
	for _, k := range kinds {
		for _, when := range []string{"sweep", "stop"} {
			t.Run(k.kind+" at the "+when, func(t *testing.T) {
				cfg := gateway.DefaultConfig()
				if when == "sweep" {
					cfg = gateway.WithRefusalEvery(cfg, 2*time.Second)
				}
				if k.kind == "token" {
					cfg.Token = "0123456789abcdef0123456789abcdef"
				}
				logs := newSyncBuf()
				e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
				const tries = 25 // past a sampler's burst (10), as the loops that flood are
				for i := range tries {
					switch k.kind {
					case "origin":
						_, wresp, err := dial(t, e.srv.URL, "", http.Header{"Origin": {k.key}})
						if err == nil || wresp == nil || wresp.StatusCode != http.StatusForbidden {
							t.Fatalf("try %d, foreign Origin: %v, want 403", i+1, err)
						}
						wresp.Body.Close()
					default:
						req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/apps", nil)
						if err != nil {
							t.Fatal(err)
						}
						want := http.StatusUnauthorized
						if k.kind == "host" {
							req.Host, want = k.key, http.StatusForbidden
						}
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						resp.Body.Close()
						if resp.StatusCode != want {
							t.Fatalf("try %d: %d, want %d", i+1, resp.StatusCode, want)
						}
					}
				}
				check := func() error {
					n, summaries, err := accounted(logs.String(), k.msg, k.key)
					if err != nil {
						return err
					}
					if n != tries || summaries == 0 {
						return fmt.Errorf("the %s refusal lines account for %d refusals of %d, in %d summaries (want at least 1):\n%s", k.kind, n, tries, summaries, logs.String())
					}
					if naming, not := summariesNamingLast(logs.String(), k.msg); naming == 0 || not != 0 {
						return fmt.Errorf("%d %s refusal summaries name their last peer (last_remote), %d do not:\n%s", naming, k.kind, not, logs.String())
					}
					return nil
				}
				if when == "stop" {
					e.stop()
					if err := check(); err != nil {
						t.Error(err)
					}
					return
				}
				natstest.Eventually(t, 15*time.Second, check)
			})
		}
	}
}

// TestRotatingHostFloodBounded: a client sending 10,000 requests, each
// with another foreign Host (a rebinding page rotating names), gets each
// counted but has the log follow at most RefusedValues Hosts one by one
// (the memory held), writes a bounded number of lines, and once the
// gateway stops the lines account for every refusal: those of the Hosts
// past the limit are summed up under counted_as "others", not dropped.
func TestRotatingHostFloodBounded(t *testing.T) {
	logs := newSyncBuf()
	b := mustBus(t, natstest.RunJetStream(t), "test")
	g, mux, _, stop := startGatewayLog(t, b, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
	const hosts = 10000
	for i := range hosts {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/apps", nil)
		req.Host = fmt.Sprintf("h%d.rebind.example", i)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("request %d with a foreign Host: %d, want 403", i, rec.Code)
		}
	}
	if n := gateway.HostLogLen(g); n > gateway.RefusedValues {
		t.Errorf("the Host log holds %d Hosts after %d distinct ones, want at most %d", n, hosts, gateway.RefusedValues)
	}
	lines := func() int { return strings.Count(logs.String(), "foreign Host refused") }
	if n := lines(); n == 0 || n > gateway.RefusedValues+1 {
		t.Errorf("%d Host refusal lines for %d distinct Hosts, want 1 to %d", n, hosts, gateway.RefusedValues+1)
	}
	stop()
	if n := lines(); n > 2*(gateway.RefusedValues+1) {
		t.Errorf("%d Host refusal lines once stopped, want at most %d", n, 2*(gateway.RefusedValues+1))
	}
	if out := logs.String(); len(out) > 64<<10 {
		t.Errorf("%d bytes of log for the flood, want at most 64 KiB", len(out))
	}
	n, summaries, err := accounted(logs.String(), "foreign Host refused", "others")
	if err != nil {
		t.Fatal(err)
	}
	if n != hosts || summaries != 1 {
		t.Errorf("the Host refusal lines account for %d refusals of %d, %d summaries counted_as others (want 1):\n%.3000s", n, hosts, summaries, logs.String())
	}
}
