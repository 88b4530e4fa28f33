package executor_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/service"
)

// TestFlags parses the executor flags from the command line and the
// environment, and builds a service from them.
func TestFlags(t *testing.T) {
	env := map[string]string{
		"HEADROOM_EXECUTOR_MODES":                 "shop=dry-run,blog=shadow",
		"HEADROOM_EXECUTOR_SIM_BOOT_DELAYS":       "web=30s,db=5m",
		"HEADROOM_EXECUTOR_WEBHOOK_TOKEN":         "s3cret-0123456789abcdef",
		"HEADROOM_EXECUTOR_WEBHOOK_TOTAL_TIMEOUT": "45s",
	}
	f := cli.New("executor", func(k string) string { return env[k] })
	cfg := executor.DefaultConfig()
	cfg.RegisterFlags(f)
	if err := f.Parse([]string{"-executor.driver", "webhook", "-executor.webhook.url", "https://hooks.example.com/scale",
		"-executor.webhook.attempts", "6", "-executor.webhook.header", "X-Cluster: eu"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := cfg.Webhook
	if cfg.Driver != "webhook" || w.Token != "s3cret-0123456789abcdef" || w.TotalTimeout != 45*time.Second || w.Attempts != 6 || w.Header != "X-Cluster: eu" || w.Timeout != 10*time.Second {
		t.Fatalf("config %+v", cfg)
	}
	r, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"shop": "dry-run", "blog": "shadow"}; !maps.Equal(r.Modes, want) {
		t.Fatalf("modes %v, want %v", r.Modes, want)
	}
	if want := map[string]time.Duration{"web": 30 * time.Second, "db": 5 * time.Minute}; !maps.Equal(r.BootDelays, want) {
		t.Fatalf("boot delays %v, want %v", r.BootDelays, want)
	}
	if _, err := executor.New(cfg, service.Deps{Log: zerolog.Nop(), Reg: prometheus.NewRegistry(), Ready: service.NewReady()}); err != nil {
		t.Fatal(err)
	}
}

func TestParseModes(t *testing.T) {
	m, err := executor.ParseModes(" shop=dry-run, blog=shadow ,api=live,*=dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"shop": "dry-run", "blog": "shadow", "api": "live", "*": "dry-run"}; !maps.Equal(m, want) {
		t.Fatalf("modes %v", m)
	}
	for _, s := range []string{"shop", "shop=off", "Shop=live", "a;b=live", "**=live"} {
		if _, err := executor.ParseModes(s); err == nil {
			t.Errorf("ParseModes(%q) accepted", s)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	script := filepath.Join(t.TempDir(), "x")
	cases := []struct {
		name   string
		mutate func(*executor.Config)
		ok     bool
	}{
		{"default sim", func(*executor.Config) {}, true},
		{"unknown driver", func(c *executor.Config) { c.Driver = "kubectl" }, false},
		{"command without template", func(c *executor.Config) { c.Driver = "command" }, false},
		{"command template", func(c *executor.Config) { c.Driver, c.Command.Template = "command", script+" {tier}" }, true},
		{"command bad placeholder", func(c *executor.Config) { c.Driver, c.Command.Template = "command", "kubectl {tiers}" }, false},
		{"command placeholder program", func(c *executor.Config) { c.Driver, c.Command.Template = "command", "{app} x" }, false},
		{"command zero timeout", func(c *executor.Config) {
			c.Driver, c.Command.Template, c.Command.Timeout = "command", "kubectl", 0
		}, false},
		{"webhook without url", func(c *executor.Config) { c.Driver = "webhook" }, false},
		{"webhook", func(c *executor.Config) { c.Driver, c.Webhook.URL = "webhook", "http://127.0.0.1:9/x" }, true},
		{"failure rate", func(c *executor.Config) { c.FailureRate = 1.5 }, false},
		{"mode", func(c *executor.Config) { c.Modes = map[string]string{"shop": "maybe"} }, false},
		{"sim without the future check", func(c *executor.Config) { c.MaxFutureSkew = 0 }, true},
		{"webhook without the future check", func(c *executor.Config) {
			c.Driver, c.Webhook.URL, c.MaxFutureSkew = "webhook", "http://127.0.0.1:9/x", 0
		}, false},
		{"command without the future check", func(c *executor.Config) {
			c.Driver, c.Command.Template, c.MaxFutureSkew = "command", script+" {tier}", 0
		}, false},
	}
	for _, c := range cases {
		cfg := executor.DefaultConfig()
		c.mutate(&cfg)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	// Bad list flags fail validation too.
	for _, kv := range [][2]string{{"HEADROOM_EXECUTOR_MODES", "shop=sometimes"}, {"HEADROOM_EXECUTOR_SIM_BOOT_DELAYS", "web=soon"}} {
		f := cli.New("executor", func(k string) string { return map[string]string{kv[0]: kv[1]}[k] })
		cfg := executor.DefaultConfig()
		cfg.RegisterFlags(f)
		if err := f.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s=%s accepted", kv[0], kv[1])
		}
	}
}

func TestConfigWithFileModes(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("apps:\n  a:\n    source: push\n    mode: shadow\n    tiers: [{name: web}]\n  b:\n    source: push\n    mode: dry-run\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := executor.DefaultConfig()
	c.Modes = map[string]string{"b": executor.ModeLive} // a flag wins over the file
	got := c.WithFile(f).Modes
	if got["a"] != executor.ModeShadow || got["b"] != executor.ModeLive {
		t.Fatalf("modes %v", got)
	}
}

// TestConfigWithFileStarModes: a "*" in -executor.modes is a brake over
// the file's modes: it sets every app the flag does not name whose mode in
// the file acts more (live, then shadow, then dry-run), so "*=dry-run"
// holds apps the file names live (deploy/kubernetes starts with it), but
// "*=live" does not turn the file's shadow app (a replay under another
// name, README) into a live one a real driver only refuses, nor its
// dry-run app into one the simulated driver acts on.
func TestConfigWithFileStarModes(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte(`apps:
  sh: {source: push, mode: shadow, tiers: [{name: web}]}
  dr: {source: push, mode: dry-run, tiers: [{name: web}]}
  lv: {source: push, mode: live, tiers: [{name: web}]}
  no: {source: push, tiers: [{name: web}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		flag string
		want map[string]string // each app's mode
	}{
		{"", map[string]string{"sh": "shadow", "dr": "dry-run", "lv": "live", "no": "live"}},
		{"*=dry-run", map[string]string{"sh": "dry-run", "dr": "dry-run", "lv": "dry-run", "no": "dry-run"}},
		{"*=dry-run,lv=live", map[string]string{"sh": "dry-run", "dr": "dry-run", "lv": "live", "no": "dry-run"}},
		{"*=shadow", map[string]string{"sh": "shadow", "dr": "dry-run", "lv": "shadow", "no": "shadow"}},
		{"*=live", map[string]string{"sh": "shadow", "dr": "dry-run", "lv": "live", "no": "live"}},
	} {
		t.Run(c.flag, func(t *testing.T) {
			cfg := executor.DefaultConfig()
			if c.flag != "" {
				if cfg.Modes, err = executor.ParseModes(c.flag); err != nil {
					t.Fatal(err)
				}
			}
			modes := cfg.WithFile(f).Modes
			for app, want := range c.want {
				got, ok := modes[app]
				if !ok {
					got, ok = modes["*"]
				}
				if !ok {
					got = executor.ModeLive
				}
				if got != want {
					t.Errorf("%s: mode %s, want %s (modes %v)", app, got, want, modes)
				}
			}
		})
	}
}

// TestConfigWithFileAuthority: only an explicit mode: live grants a real
// driver authority, over the listed tiers; each tier's workload becomes a
// kubernetes target unless the flag names one.
func TestConfigWithFileAuthority(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte(`apps:
  shop:
    source: push
    mode: live
    tiers:
      - {name: web, workload: shop/deployment/web}
      - {name: db, upstream: web, workload: shop/statefulset/db}
  quiet:
    source: push
    tiers: [{name: web, workload: quiet/deployment/web}]
`))
	if err != nil {
		t.Fatal(err)
	}
	c := executor.DefaultConfig()
	c.Kubernetes.Targets = map[string]executor.KubeTarget{"shop.db": {Namespace: "other", Kind: executor.KindStatefulSet, Name: "pg"}}
	got := c.WithFile(f)
	if !slices.Equal(got.Authority["shop"], []string{"web", "db"}) || len(got.Authority) != 1 {
		t.Fatalf("authority %v, want shop's web and db only (quiet has no explicit mode)", got.Authority)
	}
	want := map[string]executor.KubeTarget{
		"shop.web":  {Namespace: "shop", Kind: executor.KindDeployment, Name: "web"},
		"shop.db":   {Namespace: "other", Kind: executor.KindStatefulSet, Name: "pg"},
		"quiet.web": {Namespace: "quiet", Kind: executor.KindDeployment, Name: "web"},
	}
	if !maps.Equal(got.Kubernetes.Targets, want) {
		t.Fatalf("targets %v, want %v", got.Kubernetes.Targets, want)
	}
	if len(c.Kubernetes.Targets) != 1 {
		t.Fatalf("WithFile changed the caller's targets: %v", c.Kubernetes.Targets)
	}
	if _, err := config.Parse("y.yaml", []byte("apps:\n  a:\n    source: push\n    tiers: [{name: web, workload: web}]\n")); err == nil || !strings.Contains(err.Error(), "workload") {
		t.Fatalf("a malformed workload: %v", err)
	}
}

// TestNewTakesWorkloadsFromTheFile: a tier's Kubernetes workload given only
// in the configuration file is enough for the kubernetes driver (New used
// to validate the flags before reading the file).
func TestNewTakesWorkloadsFromTheFile(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("apps:\n  shop:\n    source: push\n    mode: live\n    tiers: [{name: web, workload: shop/deployment/web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := executor.DefaultConfig()
	c.Driver = executor.DriverKubernetes
	c.Kubernetes.Kubeconfig = filepath.Join(t.TempDir(), "missing-kubeconfig")
	_, err = executor.New(c, service.Deps{Log: zerolog.Nop(), Reg: prometheus.NewRegistry(), Ready: service.NewReady(), Config: f})
	if err != nil && strings.Contains(err.Error(), "targets") {
		t.Fatalf("New refused a workload given in the file: %v", err)
	}
	if _, err := executor.New(c, service.Deps{Log: zerolog.Nop(), Reg: prometheus.NewRegistry(), Ready: service.NewReady()}); err == nil || !strings.Contains(err.Error(), "targets") {
		t.Fatalf("without the file New should name the missing targets, got %v", err)
	}
}

// TestConfigWithFileBounds: each configured tier's replica bounds are its
// policy's: the file's min and max, the default policy's where it gives none.
func TestConfigWithFileBounds(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("apps:\n  shop:\n    source: push\n    mode: live\n    tiers: [{name: web, min: 2, max: 12}, {name: api}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := executor.DefaultConfig().WithFile(f).Bounds
	want := map[string]executor.Bounds{"web": {Min: 2, Max: 12}, "api": {Min: 1, Max: 200}}
	if !maps.Equal(got["shop"], want) || len(got) != 1 {
		t.Fatalf("bounds %v, want shop's %v", got, want)
	}
}

// TestConfigWithFileNamed: Named, the tiers the replica bucket keeps room
// for (Service.room), holds every tier the file's sources produce, in any
// mode: a sim (or trace) app that lists no tiers produces the simulated
// shop's (config.File.Series), as deploy/headroom.yaml's shop does.
func TestConfigWithFileNamed(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte(`apps:
  shop:
    source: sim
    mode: live
  api:
    source: push
    tiers: [{name: front}, {name: back}]
`))
	if err != nil {
		t.Fatal(err)
	}
	got := executor.DefaultConfig().WithFile(f).Named
	want := map[string][]string{"shop": {"web", "cache", "db"}, "api": {"front", "back"}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("named %v, want %v", got, want)
	}
}
