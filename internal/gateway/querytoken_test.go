package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
)

// TestQueryTokenOnlyOnWebSocket: the token goes in a URL only where a
// browser cannot send a header, the WebSocket upgrade. /api/v1 refuses it
// there, right or wrong and even beside a good header (the URL already
// carried it into proxies' logs and the browser's history), with a 401
// that says to send the header; the header alone is served, and /ws still
// takes ?token=, as the dashboard (web/static/feed.js) sends it.
func TestQueryTokenOnlyOnWebSocket(t *testing.T) {
	const token = "s3cret-0123456789abcdef"
	cfg := gateway.DefaultConfig()
	cfg.Token = token
	e := startEnv(t, cfg)
	get := func(path string, h http.Header) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	bearer := http.Header{"Authorization": {"Bearer " + token}}
	for _, route := range []string{"/api/v1/apps", "/api/v1/fleet", "/api/v1/health"} {
		for _, c := range []struct {
			name   string
			query  string
			header http.Header
			status int
		}{
			{"query token", "?token=" + token, nil, http.StatusUnauthorized},
			{"query token beside the header", "?token=" + token, bearer, http.StatusUnauthorized},
			{"wrong query token", "?token=nope", nil, http.StatusUnauthorized},
			{"header", "", bearer, http.StatusOK},
		} {
			status, body := get(route+c.query, c.header)
			if status != c.status {
				t.Errorf("%s, %s: status %d, want %d (%s)", route, c.name, status, c.status, strings.TrimSpace(body))
				continue
			}
			if c.query != "" && !strings.Contains(body, "Authorization: Bearer") {
				t.Errorf("%s, %s: refusal %q does not say to send the Authorization header", route, c.name, strings.TrimSpace(body))
			}
		}
	}
	if status, body := get("/api/v1/apps", nil); status != http.StatusUnauthorized || !strings.Contains(body, "missing or wrong token") {
		t.Errorf("/api/v1/apps without a token: %d %q, want 401 missing or wrong token", status, strings.TrimSpace(body))
	}
	if _, resp, err := dial(t, e.srv.URL, "?token="+token, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("/ws with the query token: %v %v, want it upgraded", resp, err)
	}
}

// TestURLTokenRefusalLogged: /api/v1 refuses a token in its URL even
// beside a good bearer header, and its log line must say the token came
// in the URL (presented query), not bearer: an operator reading
// "presented bearer" would look for a wrong or rotated header token
// where the header was right.
func TestURLTokenRefusalLogged(t *testing.T) {
	const token = "s3cret-0123456789abcdef"
	logs := newSyncBuf()
	cfg := gateway.DefaultConfig()
	cfg.Token = token
	e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/fleet?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/api/v1/fleet with the token in its URL and its header: %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), `"route":"fleet","presented":"query"`) {
		t.Errorf("the refusal of a token in the URL beside a good header is not logged as presented query:\n%.1500s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the token presented was logged:\n%.1500s", logs.String())
	}
}
