package collector

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestScrapeTargetCredentialsHidden: a target whose URL carries
// credentials (user:password@, or a token in its query, as some exporters
// take one) is scraped with them, but the log lines naming it (the
// effective targets, a target down) and its metrics' target label show it
// without them: /metrics and the log are read by more than who holds the
// password.
func TestScrapeTargetCredentialsHidden(t *testing.T) {
	const secret = "hunter2-do-not-print"
	for _, c := range []struct {
		name string
		// target and masked make the target's URL and its masked form
		// from the server's.
		target, masked func(srv string) string
		// sent reads the credential the server was asked with.
		sent func(r *http.Request) string
	}{
		{"userinfo",
			func(srv string) string {
				return strings.Replace(srv, "http://", "http://ops:"+secret+"@", 1) + "/metrics"
			},
			func(srv string) string { return strings.Replace(srv, "http://", "http://REDACTED@", 1) + "/metrics" },
			func(r *http.Request) string { u, p, _ := r.BasicAuth(); return u + ":" + p }},
		{"query token",
			func(srv string) string { return srv + "/metrics?job=web&token=" + secret },
			func(srv string) string { return srv + "/metrics?job=web&token=REDACTED" },
			func(r *http.Request) string { return "ops:" + r.URL.Query().Get("token") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var sent string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sent = c.sent(r)
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			t.Cleanup(srv.Close)
			h := newHarness(t, DefaultConfig(), scrapedApp("{interval: 15s, timeout: 10s}", c.target(srv.URL),
				"{name: inflight, series: inflight, kind: gauge, agg: sum}"))
			var logs lockedBuffer
			h.svc.log = zerolog.New(&logs)
			h.svc.logEffective()
			src := h.svc.sources[0].(*scrapeSource)
			src.log = zerolog.New(&logs)
			if err := src.round(context.Background(), t0); err != nil {
				t.Fatal(err)
			}
			if sent != "ops:"+secret {
				t.Errorf("target asked with %q, want the URL's credential", sent)
			}
			masked := c.masked(srv.URL)
			out := logs.String()
			if strings.Contains(out, secret) || !strings.Contains(out, `"targets":["`+masked+`"]`) || !strings.Contains(out, `"target":"`+masked+`"`) {
				t.Errorf("log shows the password or not the masked target %s:\n%s", masked, out)
			}
			fams, err := h.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			labelled := false
			for _, f := range fams {
				for _, m := range f.GetMetric() {
					for _, l := range m.GetLabel() {
						if strings.Contains(l.GetValue(), secret) {
							t.Errorf("%s{%s=%q}: shows the password", f.GetName(), l.GetName(), l.GetValue())
						}
						labelled = labelled || l.GetName() == "target" && l.GetValue() == masked
					}
				}
			}
			if !labelled {
				t.Errorf("no metric labelled target=%q", masked)
			}
		})
	}
}

// TestScrapeTargetsDifferingInCredentials: two targets of a tier that
// differ only in their user information (one endpoint asked as two users)
// keep a target label each, told apart by their place in the list: masked
// alike, they shared one series, the up gauge of one hiding the other's.
func TestScrapeTargetsDifferingInCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, _, _ := r.BasicAuth(); user != "good" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("inflight 3\n"))
	}))
	t.Cleanup(srv.Close)
	good := strings.Replace(srv.URL, "http://", "http://good:s3cret-one@", 1) + "/metrics"
	bad := strings.Replace(srv.URL, "http://", "http://bad:s3cret-two@", 1) + "/metrics"
	other := srv.URL + "/other"
	yaml := fmt.Sprintf("apps:\n  api:\n    source: scrape\n    scrape: {interval: 15s, timeout: 10s}\n    tiers:\n      - name: web\n        scrape:\n          targets: [%q, %q, %q]\n          metrics:\n            - {name: inflight, series: inflight, kind: gauge, agg: sum}\n", good, bad, other)
	h := newHarness(t, DefaultConfig(), yaml)
	var logs lockedBuffer
	h.svc.log = zerolog.New(&logs)
	h.svc.logEffective()
	src := h.svc.sources[0].(*scrapeSource)
	if err := src.round(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	masked := strings.Replace(srv.URL, "http://", "http://REDACTED@", 1) + "/metrics"
	want := map[string]float64{masked + " (targets[0])": 1, masked + " (targets[1])": 0, other: 0}
	// The start's list of targets names them as the labels and the
	// scrape's log lines do, so a "target down" line is found in it.
	if list := fmt.Sprintf(`"targets":[%q,%q,%q]`, masked+" (targets[0])", masked+" (targets[1])", other); !strings.Contains(logs.String(), list) {
		t.Errorf("the start's log does not list %s:\n%s", list, logs.String())
	}
	got := map[string]float64{}
	fams, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "headroom_scrape_target_up" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target" {
					got[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("headroom_scrape_target_up by target = %v, want %v", got, want)
	}
}
