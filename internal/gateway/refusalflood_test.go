package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
)

// TestHostAndOriginRefusalsNotFlooding: requests refused for a foreign
// Host (a rebinding page polling, say) or a foreign Origin are each
// counted, but logged at most a burst's worth in a period, and a long
// Host is quoted cut, not whole: a client in a loop, or one sending a
// header of up to the server's 1 MiB, cannot fill the log.
func TestHostAndOriginRefusalsNotFlooding(t *testing.T) {
	logs := newSyncBuf()
	e := startEnvLog(t, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
	const tries = 40
	long := strings.Repeat("h", 64<<10) + ".example"
	for i := range tries {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/apps", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "evil.example"
		if i == 0 {
			req.Host = long
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("try %d with a foreign Host: %d, want 403", i+1, resp.StatusCode)
		}
		_, wresp, err := dial(t, e.srv.URL, "", http.Header{"Origin": {"http://evil.example"}})
		if err == nil || wresp == nil || wresp.StatusCode != http.StatusForbidden {
			t.Fatalf("try %d with a foreign Origin: %v, want 403", i+1, err)
		}
		wresp.Body.Close()
	}
	got := metricstest.ByLabel(t, e.reg, "headroom_gateway_connections_total", "result")
	if got["host"] != tries || got["origin"] != tries {
		t.Errorf("refusals counted %v, want %d by host and %d by origin: the metric counts each", got, tries, tries)
	}
	out := logs.String()
	hosts, origins := strings.Count(out, "foreign Host refused"), strings.Count(out, "websocket origin refused")
	if hosts == 0 || hosts > 10 || origins == 0 || origins > 10 {
		t.Errorf("%d Host and %d Origin refusal lines for %d of each, want 1 to 10 of each (sampled)", hosts, origins, tries)
	}
	if len(out) > 8<<10 {
		t.Errorf("the refusals wrote %d bytes of log, want at most 8 KiB: a long Host is quoted whole", len(out))
	}
	if !strings.Contains(out, "bytes)") {
		t.Errorf("the long Host's line does not give its length:\n%.2000s", out)
	}
}

// TestHostFloodDoesNotHideOriginRefusal: a flood of one kind of refusal
// (a rebinding page polling with a foreign Host, past the burst) leaves
// the other kind its own lines: a WebSocket refused for its Origin right
// after (a real page missing from -gateway.allowed-origins, say) is still
// logged, and so is a Host refused after an Origin flood.
func TestHostFloodDoesNotHideOriginRefusal(t *testing.T) {
	for _, first := range []string{"host", "origin"} {
		t.Run(first+" flood first", func(t *testing.T) {
			logs := newSyncBuf()
			e := startEnvLog(t, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
			refuseHost := func() {
				t.Helper()
				req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/apps", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = "evil.example"
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("foreign Host: %d, want 403", resp.StatusCode)
				}
			}
			refuseOrigin := func(origin string) {
				t.Helper()
				_, wresp, err := dial(t, e.srv.URL, "", http.Header{"Origin": {origin}})
				if err == nil || wresp == nil || wresp.StatusCode != http.StatusForbidden {
					t.Fatalf("foreign Origin %s: %v, want 403", origin, err)
				}
				wresp.Body.Close()
			}
			const flood = 30 // three bursts' worth, well within a period
			want := "websocket origin refused"
			for range flood {
				if first == "host" {
					refuseHost()
				} else {
					refuseOrigin("http://evil.example")
				}
			}
			if first == "host" {
				refuseOrigin("https://dashboard.example")
			} else {
				refuseHost()
				want = "foreign Host refused"
			}
			if out := logs.String(); !strings.Contains(out, want) {
				t.Errorf("after %d %s refusals, the other kind's refusal was not logged (%q missing): the flood of one hides the other\n%.1500s", flood, first, want, out)
			}
		})
	}
}

// TestRefusalFloodDoesNotHideAnotherValue: within one kind too, a flood
// of refusals of one value (a page polling with its foreign Host or
// Origin, past the burst) does not hide the first refusal of another (the
// operator's own new hostname, or a real page's Origin, not yet allowed).
func TestRefusalFloodDoesNotHideAnotherValue(t *testing.T) {
	for _, kind := range []string{"host", "origin"} {
		t.Run(kind, func(t *testing.T) {
			logs := newSyncBuf()
			e := startEnvLog(t, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
			refuse := func(v string) {
				t.Helper()
				if kind == "origin" {
					_, wresp, err := dial(t, e.srv.URL, "", http.Header{"Origin": {"http://" + v}})
					if err == nil || wresp == nil || wresp.StatusCode != http.StatusForbidden {
						t.Fatalf("foreign Origin %s: %v, want 403", v, err)
					}
					wresp.Body.Close()
					return
				}
				req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/apps", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Host = v
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("foreign Host %s: %d, want 403", v, resp.StatusCode)
				}
			}
			const flood = 30 // three bursts' worth, well within a period
			for range flood {
				refuse("evil.example")
			}
			refuse("dashboard.example")
			out := logs.String()
			if !strings.Contains(out, "dashboard.example") {
				t.Errorf("after %d refusals of evil.example, the first of dashboard.example was not logged\n%.1500s", flood, out)
			}
			if n := strings.Count(out, "evil.example"); n > 10 {
				t.Errorf("evil.example refused %d times logged %d lines, want at most 10", flood, n)
			}
		})
	}
}
