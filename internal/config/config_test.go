package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/policy"
	"github.com/headroomhq/headroom/internal/scrape"
)

func TestExampleLoads(t *testing.T) {
	f, err := config.Load(filepath.Join("..", "..", "deploy", "headroom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Apps) != 2 || f.Apps[0].Name != "shop" || f.Apps[1].Name != "shop-shadow" {
		t.Fatalf("apps %+v", f.Apps)
	}
	p, ok := f.Policy("shop", config.ValidationBase())
	if !ok || p.Tiers[0].Min != 2 || p.Tiers[2].MaxStep != 4 || p.Tiers[1].Upstream != "web" || p.Tiers[1].Quantile != 0.9 {
		t.Fatalf("shop policy %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	sh, _ := f.Policy("shop-shadow", config.ValidationBase())
	if sh.Tiers[0].Target != 0.8 || sh.Tiers[2].Upstream != "cache" {
		t.Fatalf("shadow policy %+v", sh.Tiers)
	}
}

func TestFullLoads(t *testing.T) {
	f, err := config.Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	api, _ := f.App("api")
	if api.Scrape.Interval != 30*time.Second || api.Scrape.Timeout != 10*time.Second || api.Scrape.MaxSamples != scrape.MaxSamples || len(api.Tiers) != 2 {
		t.Fatalf("api %+v", api)
	}
	m, err := api.Tiers[0].Mapping()
	if err != nil || len(m.Rules()) != 4 || m.Rules()[2].Kind != scrape.KindHistogram || m.Rules()[1].Over == nil || m.Rules()[0].Over != nil {
		t.Fatalf("mapping %v %v", m, err)
	}
	base := policy.DefaultAppConfig()
	p, _ := f.Policy("api", base)
	if p.BudgetPerHour != 3 || p.Tiers[0].Name != "frontend" || p.Tiers[0].Target != 0.6 || p.Tiers[1].LeadTime != 5*time.Minute || p.Tick != 30*time.Second ||
		p.OutageHold != 2*time.Hour || p.ForecastWeightLead != 0 || base.ForecastWeightLead == 0 ||
		p.RampLead != 5*time.Minute || p.JumpLead != 0 || base.JumpLead == 0 || p.UpstreamSurges || !base.UpstreamSurges {
		t.Fatalf("api policy %+v", p)
	}
	// Every guard can be switched and tuned from the file, each differing
	// from the default here; seasonal_peaks: false takes the hour-phase
	// guard with it.
	if p.RiseBin != 0 || base.RiseBin == 0 || p.JumpSigmas != 4 || p.RampSigmas != 2.5 || p.JumpBin == base.JumpBin || p.JumpFallBin == base.JumpFallBin ||
		p.HPAGuardTarget != 0.8 || p.ShortStabilization != 0 || base.ShortStabilization == 0 || p.HoldWorth != 0.1 ||
		p.SeasonalPeaks || p.PhasePeaks || !base.PhasePeaks || p.SkillQuantiles == nil || len(p.SkillQuantiles) != 0 || len(base.SkillQuantiles) == 0 ||
		p.ReactiveHeadroom != 1.2 {
		t.Fatalf("api policy guards %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("api policy: %v", err)
	}
	nasa, _ := f.App("nasa")
	if nasa.Trace.File != filepath.Join("testdata", "nasa_2h.csv") || nasa.Trace.Scale != 20 {
		t.Fatalf("trace %+v", nasa.Trace)
	}
	if f.Push.Token != "t0ken-0123456789abcdef" || f.Push.MaxFutureSkew != time.Minute {
		t.Fatalf("push %+v", f.Push)
	}
	if p, ok := f.Policy("other", base); ok || len(p.Tiers) != 3 {
		t.Fatal("unknown app did not fall back to the base")
	}
}

// TestErrors checks that each mistake is reported at its line with its field.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // "line: field: text" fragments, in order
	}{
		{"unknown field", "apps:\n  shop:\n    source: sim\n    tiers:\n      - name: web\n        tagret: 0.5\n",
			[]string{"x.yaml:6: apps.shop.tiers[0].tagret: unknown field \"tagret\""}},
		{"wrong type", "apps:\n  shop:\n    source: sim\n    tiers:\n      - name: web\n        target: lots\n",
			[]string{"x.yaml:6: apps.shop.tiers[0].target: cannot unmarshal"}},
		{"bad duration", "apps:\n  shop:\n    source: sim\n    policy:\n      tick: soon\n",
			[]string{"x.yaml:5: apps.shop.policy.tick:"}},
		{"tick against scrapes", "apps:\n  api:\n    source: scrape\n    policy:\n      tick: 1m\n    tiers:\n      - name: web\n        scrape: {targets: [\"http://127.0.0.1:9100/metrics\"]}\n",
			[]string{"x.yaml:5: apps.api.policy.tick: 1m0s differs from scrape.interval 15s"}},
		{"syntax", "apps:\n  shop: [\n", []string{"x.yaml:"}},
		{"no apps", "push: {}\n", []string{"x.yaml:1: apps: no applications"}},
		{"missing source", "apps:\n  shop:\n    policy: {tick: 1m}\n", []string{"x.yaml:2: apps.shop.source: missing"}},
		{"bad source", "apps:\n  shop:\n    source: kafka\n", []string{"x.yaml:3: apps.shop.source: \"kafka\""}},
		{"bad app token", "apps:\n  Shop:\n    source: sim\n", []string{"x.yaml:2: apps.Shop: app name \"Shop\""}},
		{"range errors", "apps:\n  shop:\n    source: sim\n    tiers:\n      - name: web\n        target: 1.5\n        quantile: 1\n      - name: db\n        upstream: queue\n        min: 5\n        max: 2\n",
			[]string{"x.yaml:6: apps.shop.tiers[0].target: 1.5 is not in (0, 1]", "x.yaml:7: apps.shop.tiers[0].quantile: 1 is not in (0, 1)",
				"x.yaml:9: apps.shop.tiers[1].upstream: \"queue\"", "x.yaml:11: apps.shop.tiers[1].max: 2"}},
		{"sim tiers", "apps:\n  shop:\n    source: sim\n    tiers:\n      - name: queue\n", []string{"x.yaml:5: apps.shop.tiers[0].name: \"queue\": the sim source models"}},
		{"duplicate tier", "apps:\n  a:\n    source: push\n    tiers:\n      - name: web\n      - name: web\n", []string{"x.yaml:6: apps.a.tiers[1].name: tier \"web\" listed twice"}},
		{"push needs tiers", "apps:\n  a:\n    source: push\n", []string{"x.yaml:2: apps.a.tiers: no tiers"}},
		{"scrape mistakes", "apps:\n  a:\n    source: scrape\n    scrape: {interval: 10s, timeout: 20s}\n    tiers:\n      - name: web\n        scrape:\n          targets: [\"ftp://x\"]\n          metrics:\n            - name: latency\n              series: h\n              kind: histogram\n",
			[]string{"x.yaml:4: apps.a.scrape.timeout: 20s", "x.yaml:8: apps.a.tiers[0].scrape.targets[0]: \"ftp://x\"", "x.yaml:10: apps.a.tiers[0].scrape.metrics[0].quantile:"}},
		// A refused target is quoted without its user information: the
		// error reaches the log.
		{"scrape target with credentials", scrapeTargets(`"ftp://ops:hunter2-pw@x/metrics", "http://ops:hunter2-pw@x:bad/metrics", "http://ops:a/hunter2-pw@x/metrics"`),
			[]string{"x.yaml:7: apps.a.tiers[0].scrape.targets[0]: \"ftp://REDACTED@x/metrics\": want an http(s) URL",
				"x.yaml:7: apps.a.tiers[0].scrape.targets[1]: \"http://REDACTED@x:bad/metrics\": want an http(s) URL",
				"x.yaml:7: apps.a.tiers[0].scrape.targets[2]: \"http://REDACTED@x/metrics\": want an http(s) URL"}},
		{"scrape max_samples over its cap", "apps:\n  a:\n    source: scrape\n    scrape: {max_samples: 2000000}\n    tiers:\n      - name: web\n        scrape:\n          targets: [\"http://x/metrics\"]\n          metrics:\n            - {name: rps, series: r, kind: gauge}\n",
			[]string{"x.yaml:4: apps.a.scrape.max_samples: 2000000: want 1 to 1000000"}},
		{"scrape max_samples negative", "apps:\n  a:\n    source: scrape\n    scrape: {max_samples: -1}\n    tiers:\n      - name: web\n        scrape:\n          targets: [\"http://x/metrics\"]\n          metrics:\n            - {name: rps, series: r, kind: gauge}\n",
			[]string{"x.yaml:4: apps.a.scrape.max_samples: -1: want 1 to 1000000"}},
		{"scrape section on a sim app", "apps:\n  a:\n    source: sim\n    tiers:\n      - name: web\n        scrape:\n          targets: [\"http://x/metrics\"]\n",
			[]string{"x.yaml:6: apps.a.tiers[0].scrape: only used with source: scrape"}},
		{"trace file missing", "apps:\n  a:\n    source: trace\n    trace:\n      file: nowhere.csv\n      speed: -1\n",
			[]string{"x.yaml:5: apps.a.trace.file:", "x.yaml:6: apps.a.trace.speed: -1 is negative"}},
		{"push limits", "push:\n  max_age: -1h\napps:\n  a: {source: sim}\n", []string{"x.yaml:2: push.max_age: -1h0m0s is negative"}},
		{"policy fields", "apps:\n  a:\n    source: sim\n    policy:\n      forecast_weight: 2\n      default_headroom: 0.5\n",
			[]string{"x.yaml:5: apps.a.policy.forecast_weight: 2 is not in [0, 1]", "x.yaml:6: apps.a.policy.default_headroom: 0.5 is below 1"}},
		{"policy durations", "apps:\n  a:\n    source: sim\n    policy:\n      forecast_weight_lead: -1m\n      outage_hold: -2h\n      ramp_lead: -3m\n      jump_lead: -4m\n",
			[]string{"x.yaml:5: apps.a.policy.forecast_weight_lead: -1m0s is negative", "x.yaml:6: apps.a.policy.outage_hold: -2h0m0s is negative",
				"x.yaml:7: apps.a.policy.ramp_lead: -3m0s is negative", "x.yaml:8: apps.a.policy.jump_lead: -4m0s is negative"}},
		{"policy guards", "apps:\n  a:\n    source: sim\n    policy:\n      rise_bin: -0.3\n      jump_sigmas: -1\n      hpa_guard_target: 1.5\n      skill_quantiles: [0.9, 1]\n      hold_worth: -2\n      seasonal_peaks: false\n      phase_peaks: true\n",
			[]string{"x.yaml:5: apps.a.policy.rise_bin: -0.3 is negative", "x.yaml:6: apps.a.policy.jump_sigmas: -1 is negative",
				"x.yaml:7: apps.a.policy.hpa_guard_target: 1.5 is not in [0, 1]", "x.yaml:8: apps.a.policy.skill_quantiles[1]: 1 is not in (0, 1)",
				"x.yaml:9: apps.a.policy.hold_worth: -2 is negative", "x.yaml:11: apps.a.policy.phase_peaks: the hour-phase guard"}},
		{"upstream loop", "apps:\n  a:\n    source: push\n    tiers:\n      - {name: x, upstream: y}\n      - {name: y, upstream: x}\n",
			[]string{"x.yaml:2: apps.a.policy: upstream chain loops"}},
		// Authority is read only where it is written (red-team S5): a merge
		// key made c live from a's anchor, so anchors, aliases and merge
		// keys are refused anywhere; so are a differently-cased mode and
		// duplicate keys, which would let the last one win unseen.
		{"merge key grants mode", "apps:\n  a: &b\n    source: push\n    mode: live\n    tiers: [{name: web}]\n  c:\n    <<: *b\n",
			[]string{"x.yaml:2: apps.a: anchor &b: YAML anchors are not allowed", "x.yaml:7: apps.c.<<: merge key <<: YAML merge keys are not allowed",
				"x.yaml:7: apps.c.<<: alias *b: YAML aliases are not allowed"}},
		{"merge key on one line", "apps: {a: &b {source: push, mode: live, tiers: [{name: web}]}, c: {<<: *b}}\n",
			[]string{"x.yaml:1: ", "x.yaml:1: ", "x.yaml:1: "}},
		{"inline merge", "apps:\n  c:\n    <<: {source: push, mode: live, tiers: [{name: web}]}\n",
			[]string{"x.yaml:3: apps.c.<<"}},
		{"alias of a mode", "modes:\n  - &m live\napps:\n  a:\n    source: push\n    mode: *m\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:2: modes[0]: anchor &m: YAML anchors are not allowed", "x.yaml:6: apps.a.mode: alias *m: YAML aliases are not allowed"}},
		{"mode LIVE", "apps:\n  a:\n    source: push\n    mode: LIVE\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:4: apps.a.mode: \"LIVE\""}},
		{"duplicate app", "apps:\n  a:\n    source: push\n    tiers: [{name: web}]\n  a:\n    source: push\n    mode: live\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:5: apps.a: mapping key \"a\" already defined at line 2"}},
		{"duplicate mode", "apps:\n  a:\n    source: push\n    mode: dry-run\n    mode: live\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:5: apps.a.mode: mapping key \"mode\" already defined at line 4"}},
		// More of the red-team's refused attempts at authority, each live
		// if it were read: an unknown key (authority is only mode), an app
		// named as a wildcard, and workloads a Kubernetes API path would
		// not take as written (".." climbs out of the namespace).
		{"unknown key authority", "apps:\n  a:\n    source: push\n    authority: live\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:4: apps.a.authority: unknown field \"authority\""}},
		{"top-level authority", "authority: live\napps:\n  a:\n    source: push\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:1: authority: unknown field \"authority\""}},
		{"app named *", "apps:\n  \"*\":\n    source: push\n    mode: live\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:2: apps.*: app name \"*\""}},
		{"live app Shop", "apps:\n  Shop:\n    source: push\n    mode: live\n    tiers: [{name: web}]\n",
			[]string{"x.yaml:2: apps.Shop: app name \"Shop\""}},
		{"workload ../x/deployment/y", workload("../x/deployment/y"), []string{"x.yaml:7: apps.a.tiers[0].workload: \"../x/deployment/y\""}},
		{"workload ../deployment/y", workload("../deployment/y"), []string{"x.yaml:7: apps.a.tiers[0].workload: \"../deployment/y\""}},
		{"workload x/deployment/..", workload("x/deployment/.."), []string{"x.yaml:7: apps.a.tiers[0].workload: \"x/deployment/..\""}},
		{"workload X/deployment/Y", workload("X/deployment/Y"), []string{"x.yaml:7: apps.a.tiers[0].workload: \"X/deployment/Y\""}},
		{"workload ns/deployment/a%2Fb", workload("ns/deployment/a%2Fb"), []string{"x.yaml:7: apps.a.tiers[0].workload: \"ns/deployment/a%2Fb\""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A refused file is no file: nothing in it is live.
			f, err := config.Parse("x.yaml", []byte(c.yaml))
			if err == nil || f != nil {
				t.Fatalf("accepted: %v", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) < len(c.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(lines), len(c.want), err)
			}
			for i, w := range c.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, lines[i], w)
				}
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Line < 1 {
				t.Errorf("not a located *config.Error: %#v", err)
			}
		})
	}
}

// scrapeTargets is a scraped app whose tier web has the targets list
// (line 7).
func scrapeTargets(list string) string {
	return "apps:\n  a:\n    source: scrape\n    tiers:\n      - name: web\n        scrape:\n          targets: [" + list + "]\n" +
		"          metrics:\n            - {name: rps, series: r, kind: gauge}\n"
}

// workload is a live push app whose tier web runs as w (line 7).
func workload(w string) string {
	return "apps:\n  a:\n    source: push\n    mode: live\n    tiers:\n      - name: web\n        workload: \"" + w + "\"\n"
}

func TestMode(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("apps:\n  a:\n    source: push\n    mode: shadow\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := f.App("a"); a.Mode != "shadow" {
		t.Fatalf("mode %q", a.Mode)
	}
	// Mode omitted: not live, and the file grants no authority.
	f, err = config.Parse("x.yaml", []byte("apps:\n  a:\n    source: push\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := f.App("a"); a.Live() || f.GrantsLive() {
		t.Fatalf("mode omitted: app live %v (mode %q), file grants live %v", a.Live(), a.Mode, f.GrantsLive())
	}
	_, err = config.Parse("x.yaml", []byte("apps:\n  a:\n    source: push\n    mode: yolo\n    tiers: [{name: web}]\n"))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:4: apps.a.mode") {
		t.Fatalf("err %v", err)
	}
}
