package gateway_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestAPIRequestSeriesFromStart: every route and result of
// headroom_gateway_api_requests_total, every result of
// headroom_gateway_connections_total, and every pass of
// headroom_gateway_history_failures_total, exists at 0 before any
// request, so that an alert's increase() sees the first refusal.
func TestAPIRequestSeriesFromStart(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	for _, c := range []struct{ name, label, value string }{
		{"headroom_gateway_api_requests_total", "route", "apps"},
		{"headroom_gateway_api_requests_total", "route", "fleet"},
		{"headroom_gateway_api_requests_total", "route", "health"},
		{"headroom_gateway_history_failures_total", "pass", "history"},
		{"headroom_gateway_history_failures_total", "pass", "catchup"},
	} {
		if v, found := metricstest.Sum(t, e.reg, c.name, c.label, c.value); !found || v != 0 {
			t.Errorf("%s{%s=%q} before any request: %v (found %v), want a series at 0", c.name, c.label, c.value, v, found)
		}
	}
	for _, result := range []string{"accepted", "origin", "token", "limit", "addr_limit", "unavailable", "upgrade", "host"} {
		if _, found := metricstest.Sum(t, e.reg, "headroom_gateway_connections_total", "result", result); !found {
			t.Errorf("headroom_gateway_connections_total{result=%q} missing before any request", result)
		}
	}
	for _, route := range []string{"apps", "fleet"} {
		for _, result := range []string{"ok", "token", "limit", "unavailable", "canceled"} {
			if _, found := metricstest.Sum(t, e.reg, "headroom_gateway_api_requests_total", "route", route, "result", result); !found {
				t.Errorf("headroom_gateway_api_requests_total{route=%q,result=%q} missing before any request", route, result)
			}
		}
	}
}

// TestTokenRefusalsCountedAndLogged: requests with a wrong token, on the
// WebSocket and on every /api/v1 route, are answered 401, each counted
// (headroom_gateway_connections_total{result="token"} for the
// WebSocket, headroom_gateway_api_requests_total{result="token"} by
// route for the API), and logged sampled, the first of each route
// written however many came before: an operator whose dashboard has a
// wrong token gets a line. The token is never logged.
func TestTokenRefusalsCountedAndLogged(t *testing.T) {
	logs := newSyncBuf()
	cfg := gateway.DefaultConfig()
	cfg.Token = "0123456789abcdef0123456789abcdef"
	e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
	const guess, tries = "guessed-7f3a9c", 30
	for _, c := range []struct{ route, path string }{{"ws", "/ws"}, {"apps", "/api/v1/apps"}, {"fleet", "/api/v1/fleet"}, {"health", "/api/v1/health"}} {
		for i := range tries {
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+guess)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s try %d with a wrong token: %d, want 401", c.path, i+1, resp.StatusCode)
			}
		}
		var got float64
		if c.route == "ws" {
			got, _ = metricstest.Sum(t, e.reg, "headroom_gateway_connections_total", "result", "token")
		} else {
			got, _ = metricstest.Sum(t, e.reg, "headroom_gateway_api_requests_total", "route", c.route, "result", "token")
		}
		if got != tries {
			t.Errorf("%d token refusals on %s counted %v, want %d", tries, c.path, got, tries)
		}
		if !strings.Contains(logs.String(), `"route":"`+c.route+`","presented":"bearer"`) {
			t.Errorf("after %d token refusals on %s (and those before on other routes), none logged for route %s\n%.1500s", tries, c.path, c.route, logs.String())
		}
	}
	// 10 sampled in the period, plus the first of each route.
	if n := strings.Count(logs.String(), `"message":"request with a missing or wrong token refused"`); n > 10+4 {
		t.Errorf("%d token refusals logged %d lines, want at most 14 (sampled)\n%.1500s", 4*tries, n, logs.String())
	}
	if strings.Contains(logs.String(), guess) {
		t.Errorf("the token presented was logged:\n%.1500s", logs.String())
	}
	t.Logf("log:\n%.1200s", logs.String())
}

// TestAPIUnavailableCounted: while the streams cannot be read, every
// /api/v1/apps and /api/v1/fleet 503 is counted
// (headroom_gateway_api_requests_total{result="unavailable"}), though
// their log lines are sampled; a request served is counted ok.
func TestAPIUnavailableCounted(t *testing.T) {
	e := startEnvLog(t, gateway.DefaultConfig(), zerolog.Nop())
	get := func(path string, want int) {
		t.Helper()
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	for _, route := range []string{"apps", "fleet", "health"} {
		get("/api/v1/"+route, http.StatusOK)
		if v, _ := metricstest.Sum(t, e.reg, "headroom_gateway_api_requests_total", "route", route, "result", "ok"); v != 1 {
			t.Errorf("headroom_gateway_api_requests_total{route=%q,result=ok} %v after one request served, want 1", route, v)
		}
	}
	if err := natstest.JetStream(t, e.bus).DeleteStream(context.Background(), proto.StreamName(e.bus.Prefix(), proto.KindMetrics)); err != nil {
		t.Fatal(err)
	}
	const tries = 30
	for _, route := range []string{"apps", "fleet"} {
		for range tries {
			get("/api/v1/"+route, http.StatusServiceUnavailable)
		}
		if v, _ := metricstest.Sum(t, e.reg, "headroom_gateway_api_requests_total", "route", route, "result", "unavailable"); v != tries {
			t.Errorf("headroom_gateway_api_requests_total{route=%q,result=unavailable} %v after %d 503s, want %d", route, v, tries, tries)
		}
	}
}

// TestHistoryFailuresNotFlooding: while a stream cannot be read, every
// subscription asking for its history gets an error frame and is counted
// (headroom_gateway_history_failures_total{pass="history"}), but the
// error is logged sampled, its first line written: a client subscribing
// in a loop would otherwise write an error line per subscription.
func TestHistoryFailuresNotFlooding(t *testing.T) {
	logs := newSyncBuf()
	e := startEnvLog(t, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
	if err := natstest.JetStream(t, e.bus).DeleteStream(context.Background(), proto.StreamName(e.bus.Prefix(), proto.KindMetrics)); err != nil {
		t.Fatal(err)
	}
	c := mustDial(t, e.srv.URL)
	const tries = 30
	for i := range tries {
		id := "h" + strconv.Itoa(i)
		c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: id, Subjects: []string{"apm.metrics.shop.web"}, Since: millis(0), Until: millis(60)})
		var sawError bool
		for _, f := range c.until(t, gateway.FrameHistoryDone) {
			sawError = sawError || (f.Type == gateway.FrameError && f.Sub == id)
		}
		if !sawError {
			t.Fatalf("subscription %d without the METRICS stream: no error frame before history_done", i+1)
		}
	}
	if v, _ := metricstest.Sum(t, e.reg, "headroom_gateway_history_failures_total", "pass", "history"); v != tries {
		t.Errorf("headroom_gateway_history_failures_total{pass=history} %v after %d failed replays, want %d", v, tries, tries)
	}
	if n := strings.Count(logs.String(), `"message":"history replay failed"`); n == 0 || n > 11 {
		t.Errorf("%d failed replays logged %d lines, want 1 to 11 (sampled, the first of each error)\n%.1500s", tries, n, logs.String())
	}
	t.Logf("log:\n%.800s", logs.String())
}

// TestAPIRefusedDeprecated: headroom_gateway_api_refused_total counts
// what headroom_gateway_api_requests_total{result="limit"} counts; it is
// kept for the dashboards that read it, and its help says it is
// deprecated and what replaces it, where a scraper's user sees it.
func TestAPIRefusedDeprecated(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "headroom_gateway_api_refused_total" {
			continue
		}
		if help := f.GetHelp(); !strings.HasPrefix(help, "Deprecated") || !strings.Contains(help, `headroom_gateway_api_requests_total{result="limit"}`) {
			t.Errorf("headroom_gateway_api_refused_total's help %q: want it to say it is deprecated for headroom_gateway_api_requests_total{result=\"limit\"}", help)
		}
		return
	}
	t.Fatal("headroom_gateway_api_refused_total is not exported: dashboards reading it see nothing")
}

// TestHistoryFailureOfAnotherErrorLogged: after one failing stream has
// taken the sampled log's burst, the first failure of another error (a
// second stream that cannot be read) is still written: sampling a client
// that loops on one broken stream hides no other.
func TestHistoryFailureOfAnotherErrorLogged(t *testing.T) {
	logs := newSyncBuf()
	e := startEnvLog(t, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
	for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast} {
		if err := natstest.JetStream(t, e.bus).DeleteStream(context.Background(), proto.StreamName(e.bus.Prefix(), k)); err != nil {
			t.Fatal(err)
		}
	}
	c := mustDial(t, e.srv.URL)
	subscribe := func(id, subject string) {
		t.Helper()
		c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: id, Subjects: []string{subject}, Since: millis(0), Until: millis(60)})
		var sawError bool
		for _, f := range c.until(t, gateway.FrameHistoryDone) {
			sawError = sawError || (f.Type == gateway.FrameError && f.Sub == id)
		}
		if !sawError {
			t.Fatalf("subscription %s to %s without its stream: no error frame before history_done", id, subject)
		}
	}
	const tries = 30
	for i := range tries {
		subscribe("m"+strconv.Itoa(i), "apm.metrics.shop.web")
	}
	subscribe("f", "apm.forecast.shop.web")
	if n := strings.Count(logs.String(), `"error":"history of forecast`); n != 1 {
		t.Errorf("the first failed replay of the forecast stream, after %d of the metrics stream, logged %d times, want 1\n%.2500s", tries, n, logs.String())
	}
}

// TestTokenRefusalOfAnotherWayLogged: while a guesser's bearer tokens
// take the sampled log's burst on a route, the first refusal there of a
// token that came another way (a dashboard's query parameter, or none at
// all) is still written: the first line is per route and way presented.
func TestTokenRefusalOfAnotherWayLogged(t *testing.T) {
	logs := newSyncBuf()
	cfg := gateway.DefaultConfig()
	cfg.Token = "0123456789abcdef0123456789abcdef"
	e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
	refused := func(path, bearer string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: %d, want 401", path, resp.StatusCode)
		}
	}
	for range 30 {
		refused("/api/v1/apps", "guessed-7f3a9c")
	}
	refused("/api/v1/apps?token=rotated-0b1d", "")
	refused("/api/v1/apps", "")
	for _, how := range []string{"query", "none"} {
		if n := strings.Count(logs.String(), `"route":"apps","presented":"`+how+`"`); n != 1 {
			t.Errorf("the first refusal on apps of a token presented %s, after 30 bearer ones, logged %d times, want 1\n%.2500s", how, n, logs.String())
		}
	}
	if strings.Contains(logs.String(), "rotated-0b1d") {
		t.Errorf("the token presented was logged:\n%.2500s", logs.String())
	}
}
