package allinone_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestPushedTierIsDecided pushes ticks of an app and tiers no policy names
// ("api"/"frontend" and "api"/"worker") to the all-in-one's push API, each
// tier by its own request at its own second of the minute, as two pushers
// would, within half a minute of a minute: the pipeline forecasts, scores
// and decides both with the default front-tier policy, together, at that
// minute (the decider's tick).
func TestPushedTierIsDecided(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	r := start(t, testConfig(t, time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), 3))
	now := time.Now().UTC().Truncate(time.Minute)
	tiers := []struct {
		name string
		at   time.Duration // from each minute
	}{{"frontend", 7250 * time.Millisecond}, {"worker", -19 * time.Second}}
	for i := 10; i > 0; i-- {
		for _, tier := range tiers {
			tick := fmt.Sprintf(`{"app":"api","tier":%q,"time":%q,"replicas":2,"values":{"rps":%d,"cpu":0.5}}`,
				tier.name, now.Add(-time.Duration(i)*time.Minute+tier.at).Format(time.RFC3339Nano), 100+i)
			resp, err := http.Post("http://"+r.sys.HTTPAddr+"/api/v1/metrics", "application/json", strings.NewReader(tick))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("push: %s", resp.Status)
			}
		}
	}
	natstest.Eventually(t, time.Minute, func() error {
		times := map[string][]time.Time{}
		for _, tier := range tiers {
			ds := all[proto.Decision](t, r.b, "DECISIONS", "apm.decision.api."+tier.name)
			if len(ds) < 9 { // every tick but the last, which waits for a later one
				// Say how far the pipeline got, so a failure points at a stage.
				return fmt.Errorf("%d decisions for api/%s; stored for api: %d ticks, %d forecasts, %d anomaly messages; %d dead letters",
					len(ds), tier.name, len(all[proto.Metrics](t, r.b, "METRICS", "apm.metrics.api.>")), len(all[proto.Forecast](t, r.b, "FORECASTS", "apm.forecast.api.>")),
					len(all[proto.Anomaly](t, r.b, "ANOMALIES", "apm.anomaly.api.>")), len(natstest.Payloads(t, r.b, "DLQ", "apm.dlq.>")))
			}
			if ds[0].Reason == "" {
				return fmt.Errorf("decision without reason: %+v", ds[0])
			}
			for _, d := range ds {
				times[tier.name] = append(times[tier.name], d.EventTime())
			}
		}
		for i, at := range times["frontend"] {
			if want := now.Add(time.Duration(i-10) * time.Minute); !at.Equal(want) || !times["worker"][i].Equal(want) {
				t.Fatalf("decision %d of frontend at %s and of worker at %s, want both at %s (the ticks' nearest minute)",
					i, at.Format(time.StampMilli), times["worker"][i].Format(time.StampMilli), want.Format(time.StampMilli))
			}
		}
		return nil
	})
}

// TestPushRefusalsOnAllInOne replays the push attacks of issue 10 against
// the all-in-one's own HTTP server: a cross-site form post, a form post
// without Origin, a GET, ticks for the simulated shop and cpu 5, and the
// DNS rebinding of red-team S2 (a page on evil.example re-pointed at
// 127.0.0.1, whose Origin matches its Host). Each is refused with its
// status and a JSON error, and none reaches METRICS. A name in
// -gateway.allowed-hosts is answered, as it is by the dashboard.
func TestPushRefusalsOnAllInOne(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	cfg := testConfig(t, time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), 2)
	cfg.Collector.Backfill = 0
	cfg.Gateway.AllowedHosts = []string{"ops.example"}
	r := start(t, cfg)
	url := "http://" + r.sys.HTTPAddr + "/api/v1/metrics"
	evil := "evil.example:" + r.sys.HTTPAddr[strings.LastIndex(r.sys.HTTPAddr, ":")+1:]
	at := time.Now().UTC().Format(time.RFC3339)
	tick := func(app, values string) string {
		return fmt.Sprintf(`{"app":%q,"tier":"web","time":%q,"replicas":2,"values":%s}`, app, at, values)
	}
	for _, c := range []struct {
		name, method, ct, origin, body string
		status                         int
		text                           string
		host                           string
	}{
		{"DNS rebinding", http.MethodPost, "application/json", "http://" + evil, tick("kube-public", `{"rps":1}`), 403, "evil.example", evil},
		{"cross-site form post", http.MethodPost, "application/x-www-form-urlencoded", "http://evil.example", tick("kube-public", `{"rps":1}`), 403, "evil.example", ""},
		{"form post without Origin", http.MethodPost, "application/x-www-form-urlencoded", "", tick("kube-public", `{"rps":1}`), 415, "application/json", ""},
		{"text/plain", http.MethodPost, "text/plain", "", tick("kube-public", `{"rps":1}`), 415, "application/json", ""},
		{"GET", http.MethodGet, "", "", "", 405, "POST", ""},
		{"the simulated shop", http.MethodPost, "application/json", "", tick("shop", `{"rps":1}`), 409, "app shop takes its metrics from source sim, not push", ""},
		{"cpu 5", http.MethodPost, "application/json", "", tick("api", `{"cpu":5}`), 400, "cpu 5", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, url, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.host != "" {
				req.Host = c.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatalf("status %d without a JSON error: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != c.status || !strings.Contains(out["error"], c.text) {
				t.Fatalf("%d %v, want %d mentioning %q", resp.StatusCode, out, c.status, c.text)
			}
		})
	}
	for _, app := range []string{"kube-public", "api"} {
		if n := len(natstest.Payloads(t, r.b, "METRICS", "apm.metrics."+app+".>")); n != 0 {
			t.Fatalf("%d ticks of %s stored by refused pushes", n, app)
		}
	}
	// The dashboard refuses the rebinding Host too; the allowed name is
	// answered by both.
	for _, c := range []struct {
		host   string
		dash   int
		pushed int
	}{{evil, http.StatusForbidden, http.StatusForbidden}, {"ops.example", http.StatusOK, http.StatusAccepted}} {
		if got := statusFor(t, http.MethodGet, "http://"+r.sys.HTTPAddr+"/", c.host, nil, ""); got != c.dash {
			t.Fatalf("dashboard with Host %s: %d, want %d", c.host, got, c.dash)
		}
		push := map[string]string{"Content-Type": "application/json", "Origin": "http://" + c.host}
		if got := statusFor(t, http.MethodPost, url, c.host, push, tick("edge", `{"rps":1}`)); got != c.pushed {
			t.Fatalf("push with Host %s: %d, want %d", c.host, got, c.pushed)
		}
	}
	for _, m := range all[proto.Metrics](t, r.b, "METRICS", "apm.metrics.shop.>") {
		if m.Source == "push" {
			t.Fatalf("a pushed shop tick was stored: %+v", m)
		}
	}
}

// statusFor sends a request with the given headers and body, and Host
// host unless empty, and returns its status.
func statusFor(t *testing.T, method, url, host string, header map[string]string, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
