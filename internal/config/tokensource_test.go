package config_test

import (
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/config"
)

// TestPushTokenNamesOtherSource: a token naming exactly an app the file
// feeds from another source (sim, scrape, trace) could never push for it
// (409 every time): refused at start, naming the token, the app and its
// source, with the line. Patterns matching such an app, apps nobody
// configured and pushed apps are accepted.
func TestPushTokenNamesOtherSource(t *testing.T) {
	const apps = "apps:\n  shop: {source: sim}\n  web: {source: scrape, tiers: [{name: fe, scrape: {targets: [\"http://10.0.0.1:9100/metrics\"], metrics: [{name: rps, series: http_requests_total, kind: counter}]}}]}\n  api: {source: push, tiers: [{name: web}]}\n"
	for _, c := range []struct {
		name, apps, want string
	}{
		{"a sim app", "[api, shop]", `x.yaml:5: push.tokens[0].apps[1]: token "team-a" names app shop, whose source is sim, not push`},
		{"a scrape app", "[web]", `x.yaml:5: push.tokens[0].apps[0]: token "team-a" names app web, whose source is scrape, not push`},
		{"a pattern matching a sim app", "[\"sho*\", api]", ""},
		{"every app", "[\"*\"]", ""},
		{"an app nobody configured", "[batch]", ""},
		{"a pushed app", "[api]", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse("x.yaml", []byte("push:\n  tokens:\n    - name: team-a\n      token: tok-x-0123456789abcdef\n      apps: "+c.apps+"\n"+apps))
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want an error with %q", err, c.want)
			}
			if strings.Contains(err.Error(), "tok-x-0123456789abcdef") {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

// TestPushTokenNamesAppWithoutSource: a token naming an app whose source
// is missing or unknown gets no error of its own (the app's source has
// one, which says what to write); only the source is refused, not with
// "whose source is , not push".
func TestPushTokenNamesAppWithoutSource(t *testing.T) {
	for _, c := range []struct{ name, app, want string }{
		{"missing", "{tiers: [{name: web}]}", "apps.shop.source: missing: want sim, scrape, trace or push"},
		{"unknown", "{source: Push, tiers: [{name: web}]}", `apps.shop.source: "Push": want sim, scrape, trace or push`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse("x.yaml", []byte("push:\n  tokens:\n    - name: team-a\n      token: tok-x-0123456789abcdef\n      apps: [shop]\napps:\n  shop: "+c.app+"\n"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want an error with %q", err, c.want)
			}
			if strings.Contains(err.Error(), "push.tokens") {
				t.Errorf("the token is refused too, for the app's source: %v", err)
			}
		})
	}
}
