package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestScrapeTargetCredentialsHidden: a target whose URL carries
// credentials (user:password@) is scraped with them, but the log lines
// naming it (the effective targets, a target down) and its metrics'
// target label show it without its user information: /metrics and the
// log are read by more than who holds the password.
func TestScrapeTargetCredentialsHidden(t *testing.T) {
	const secret = "hunter2-do-not-print"
	var gotUser, gotPass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	target := strings.Replace(srv.URL, "http://", "http://ops:"+secret+"@", 1) + "/metrics"
	h := newHarness(t, DefaultConfig(), scrapedApp("{interval: 15s, timeout: 10s}", target,
		"{name: inflight, series: inflight, kind: gauge, agg: sum}"))
	var logs lockedBuffer
	h.svc.log = zerolog.New(&logs)
	h.svc.logEffective()
	src := h.svc.sources[0].(*scrapeSource)
	src.log = zerolog.New(&logs)
	if err := src.round(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	if gotUser != "ops" || gotPass != secret {
		t.Errorf("target asked with basic auth %q:%q, want the URL's", gotUser, gotPass)
	}
	masked := strings.Replace(srv.URL, "http://", "http://REDACTED@", 1) + "/metrics"
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
}
