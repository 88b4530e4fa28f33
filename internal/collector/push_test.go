package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// TestPushTokenRequiredAtStart: the collector refuses to start its push API
// without a token when a real driver is live or when it listens beyond
// loopback, and starts with a token or on loopback. Standalone, it cannot
// see the executor's driver, so a file that names an app mode: live counts
// as a real driver live; the all-in-one, which knows its driver is the
// simulated one, starts without a token.
func TestPushTokenRequiredAtStart(t *testing.T) {
	bc := bus.DefaultConfig()
	bc.URL, bc.Name = natstest.RunJetStream(t), "collector"
	b, err := bus.Connect(context.Background(), bc, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	build := func(token string, live bool, addr string) error {
		cfg := DefaultConfig()
		cfg.Push.Token, cfg.RealDriverLive = token, live
		_, err := New(cfg, service.Deps{Bus: b, Log: zerolog.Nop(), Ready: service.NewReady(), Mux: http.NewServeMux(), HTTPAddr: addr})
		return err
	}
	liveFile, err := config.Parse("live.yaml", []byte("apps:\n  api:\n    source: push\n    mode: live\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	withFile := func(token string, knowsDriver bool) error {
		cfg := DefaultConfig()
		cfg.Push.Token, cfg.File, cfg.KnowsDriver = token, liveFile, knowsDriver
		_, err := New(cfg, service.Deps{Bus: b, Log: zerolog.Nop(), Ready: service.NewReady(), Mux: http.NewServeMux(), HTTPAddr: "127.0.0.1:8082"})
		return err
	}
	if err := withFile("", false); !errors.Is(err, ingest.ErrTokenRequired) || !strings.Contains(err.Error(), "mode: live") {
		t.Fatalf("standalone, a file naming an app live, no token: %v", err)
	}
	for _, c := range []struct {
		token       string
		knowsDriver bool
	}{{"tok-0123456789abcdef", false}, {"", true}} {
		if err := withFile(c.token, c.knowsDriver); err != nil {
			t.Fatalf("a file naming an app live, %+v: %v", c, err)
		}
	}
	for _, c := range []struct {
		live bool
		addr string
	}{{true, "127.0.0.1:8082"}, {false, ":8082"}, {false, "0.0.0.0:8082"}} {
		err := build("", c.live, c.addr)
		if !errors.Is(err, ingest.ErrTokenRequired) || !strings.Contains(err.Error(), "push.token") {
			t.Fatalf("live %v on %s without token: %v", c.live, c.addr, err)
		}
	}
	for _, c := range []struct {
		token string
		live  bool
		addr  string
	}{{"tok-0123456789abcdef", true, ":8082"}, {"", false, "127.0.0.1:8082"}, {"", false, "localhost:0"}} {
		if err := build(c.token, c.live, c.addr); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
	}
}

// TestPushFollowsTheFile: the collector's push API refuses apps the file
// feeds from another source (and the flag-configured simulated app without
// a file) and applies the file's series limits.
func TestPushFollowsTheFile(t *testing.T) {
	post := func(h *harness, body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, ingest.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	tick := func(app, tier string) string {
		return `{"app":"` + app + `","tier":"` + tier + `","time":"2026-01-02T03:04:00Z","replicas":3,"values":{"rps":1}}`
	}
	// The file's own tiers count against its limits (the simulated shop
	// has three), so edge's three leave no room for a fourth.
	cfg := DefaultConfig()
	cfg.Push.AllowedHosts = []string{"example.com"} // httptest.NewRequest's Host
	h := newHarness(t, cfg, "limits: {max_series_per_app: 3}\napps:\n  shop: {source: sim}\n  edge:\n    source: push\n    tiers: [{name: web}, {name: cache}, {name: db}]\n")
	h.svc.Now = func() time.Time { return t0 }
	if code, body := post(h, tick("shop", "web")); code != http.StatusConflict || !strings.Contains(body, "app shop takes its metrics from source sim, not push") {
		t.Fatalf("push into the sim app: %d %s", code, body)
	}
	for _, tier := range []string{"web", "cache", "db"} {
		if code, body := post(h, tick("edge", tier)); code != http.StatusAccepted {
			t.Fatalf("push app: %d %s", code, body)
		}
	}
	if code, body := post(h, tick("edge", "queue")); code != http.StatusUnprocessableEntity || !strings.Contains(body, "limits.max_series_per_app") {
		t.Fatalf("fourth series of edge with a limit of 3: %d %s", code, body)
	}
	// The file's series hold their places before any push: a limit the
	// file fills leaves no room for a pushed app.
	full := newHarness(t, cfg, "limits: {max_series: 4}\napps:\n  edge:\n    source: push\n    tiers: [{name: web}, {name: cache}, {name: db}, {name: queue}]\n")
	full.svc.Now = func() time.Time { return t0 }
	if code, body := post(full, tick("other", "web")); code != http.StatusUnprocessableEntity || !strings.Contains(body, "limits.max_series") {
		t.Fatalf("a pushed app beyond the file's series: %d %s", code, body)
	}
	if n := len(h.stored(t)); n != 3 {
		t.Fatalf("%d ticks stored, want 3", n)
	}
	if h.svc.cfg.SeriesLimits() == config.DefaultLimits() {
		t.Fatal("file limits not used")
	}

	flags := newHarness(t, cfg, "")
	flags.svc.Now = func() time.Time { return t0 }
	if code, body := post(flags, tick("shop", "web")); code != http.StatusConflict {
		t.Fatalf("push into the flag-simulated shop: %d %s", code, body)
	}
}

// TestPushFreesIdleSeries: a pushed app that has sent nothing for 5/4 of
// limits.idle_after (by the collector's clock) gives its series' places
// back, once the stages downstream have dropped their state, so apps
// pushed once (a typo, a test) do not lock every new series out until the
// collector restarts. The file's own series keep their places however
// long they are quiet, and a series still pushing keeps its place.
func TestPushFreesIdleSeries(t *testing.T) {
	post := func(h *harness, app, tier string, at time.Time) (int, string) {
		body := `{"app":"` + app + `","tier":"` + tier + `","time":"` + at.Format(time.RFC3339) + `","replicas":3,"values":{"rps":1}}`
		req := httptest.NewRequest(http.MethodPost, ingest.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	cfg := DefaultConfig()
	cfg.Push.AllowedHosts = []string{"example.com"} // httptest.NewRequest's Host
	h := newHarness(t, cfg, "limits: {max_series: 3, idle_after: 1h}\napps:\n  edge:\n    source: push\n    tiers: [{name: web}]\n")
	now := t0
	h.svc.Now = func() time.Time { return now }
	for _, c := range []struct {
		app, tier string
		after     time.Duration // since the previous push
		want      int
	}{
		{"typo", "web", 0, http.StatusAccepted},
		{"api", "web", 0, http.StatusAccepted},
		{"new", "web", 0, http.StatusUnprocessableEntity},                // the limit: edge.web, typo.web, api.web
		{"api", "web", 50 * time.Minute, http.StatusAccepted},            // api keeps pushing
		{"new", "web", 15 * time.Minute, http.StatusUnprocessableEntity}, // typo quiet for 65 min, past 1 h: a stage may hold it still
		{"new", "web", 20 * time.Minute, http.StatusAccepted},            // typo quiet for 85 min, past 75: its place is free
		{"other", "web", 0, http.StatusUnprocessableEntity},              // edge.web (the file's), api.web, new.web
		{"other", "web", 3 * time.Hour, http.StatusAccepted},             // api and new quiet for 3 h
		{"edge", "web", 0, http.StatusAccepted},                          // the file's series kept its place
		{"typo", "web", 0, http.StatusAccepted},                          // a returning series is admitted again
		{"third", "web", 0, http.StatusUnprocessableEntity},              // edge.web, other.web, typo.web
	} {
		now = now.Add(c.after)
		if code, body := post(h, c.app, c.tier, now); code != c.want {
			t.Fatalf("%s.%s at +%v: %d %s, want %d", c.app, c.tier, now.Sub(t0), code, body, c.want)
		}
	}
}

// TestPushScopedTokensFromFile: the file's push.tokens reach the push API
// with their apps and rate limits, its push.token (written as its SHA-256)
// replaces the flag's and pushes for every app, and a file naming scoped
// tokens only lets a collector listen beyond loopback.
func TestPushScopedTokensFromFile(t *testing.T) {
	sum := sha256.Sum256([]byte("ops-secret"))
	yaml := "push:\n  token: \"sha256:" + hex.EncodeToString(sum[:]) + "\"\n  rate_burst: 5\n  tokens:\n" +
		"    - {name: team-a, token: tok-a-0123456789abcdef, apps: [shop], rate_limit: 1, rate_burst: 2}\n" +
		"apps:\n  shop:\n    source: push\n    tiers: [{name: web}]\n  api:\n    source: push\n    tiers: [{name: web}]\n"
	cfg := DefaultConfig()
	cfg.Push.Token = "flag-secret-0123456789"
	cfg.Push.AllowedHosts = []string{"example.com"} // httptest.NewRequest's Host
	h := newHarness(t, cfg, yaml)
	h.svc.Now = func() time.Time { return t0 }
	post := func(auth string, apps ...string) (int, string) {
		var ticks []string
		for _, app := range apps {
			ticks = append(ticks, `{"app":"`+app+`","tier":"web","time":"2026-01-02T03:04:00Z","replicas":3,"values":{"rps":1}}`)
		}
		req := httptest.NewRequest(http.MethodPost, ingest.Path, strings.NewReader("["+strings.Join(ticks, ",")+"]"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, c := range []struct {
		name, auth string
		apps       []string
		want       int
	}{
		{"team A's token for its app", "Bearer tok-a-0123456789abcdef", []string{"shop"}, http.StatusAccepted},
		{"team A's token for another app", "Bearer tok-a-0123456789abcdef", []string{"api"}, http.StatusForbidden},
		{"team A's token for both", "Bearer tok-a-0123456789abcdef", []string{"shop", "api"}, http.StatusForbidden},
		{"team A's burst of 2, one spent", "Bearer tok-a-0123456789abcdef", []string{"shop", "shop"}, http.StatusTooManyRequests},
		{"the flag's token, replaced by the file's", "Bearer flag-secret-0123456789", []string{"api"}, http.StatusUnauthorized},
		{"the file's token written as its hash", "Bearer ops-secret", []string{"api", "shop"}, http.StatusAccepted},
		{"its burst of 5 from push.rate_burst", "Bearer ops-secret", []string{"api", "api", "api", "api"}, http.StatusTooManyRequests},
	} {
		if code, body := post(c.auth, c.apps...); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	pc := h.svc.cfg.PushConfig()
	if !pc.HasToken() || pc.Token != "" || len(pc.Tokens) != 2 || pc.RateBurst != 5 || pc.RateLimit != ingest.DefaultRateLimit {
		t.Errorf("push config %+v", pc)
	}

	f, err := config.Parse("scoped.yaml", []byte("push:\n  tokens: [{name: a, token: tok-a-0123456789abcdef, apps: [\"*\"]}]\napps:\n  shop:\n    source: push\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	bc := bus.DefaultConfig()
	bc.URL, bc.Name = natstest.RunJetStream(t), "collector"
	b, err := bus.Connect(context.Background(), bc, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	open := DefaultConfig()
	open.File = f
	if _, err := New(open, service.Deps{Bus: b, Log: zerolog.Nop(), Ready: service.NewReady(), Mux: http.NewServeMux(), HTTPAddr: ":8082"}); err != nil {
		t.Fatalf("scoped tokens only, listening on :8082: %v", err)
	}
}

// TestPushTokenNamesAllApps: the start's log names the tokens that may push
// for every app apart from the scoped ones, the flag's token left beside a
// file's push.tokens included, so an operator moving to scoped tokens sees
// the old one still valid.
func TestPushTokenNamesAllApps(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("push:\n  tokens:\n    - {name: team-a, token: tok-a-0123456789abcdef, apps: [shop, \"shop-*\"]}\n"+
		"    - {name: batch, token: tok-b-0123456789abcdef, apps: [shop, \"**\"]}\napps:\n  shop:\n    source: push\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Push.Token, cfg.File = "flag-secret-0123456789", f
	allApps, scoped := pushTokenNames(cfg.PushConfig())
	if strings.Join(allApps, ",") != "push.token (-push.token or HEADROOM_PUSH_TOKEN),batch" || strings.Join(scoped, ",") != "team-a" {
		t.Fatalf("all apps %q, scoped %q", allApps, scoped)
	}
	if strings.Contains(strings.Join(allApps, ","), "flag-secret-0123456789") {
		t.Fatalf("names quote the token: %q", allApps)
	}
}
