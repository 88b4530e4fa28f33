package executor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/service"
)

// TestTakesLeasesBeforeBuild: Config.TakesLeases, which a main asks
// before building the executor (whether to wait for the lease bucket),
// says what the built executor's takesLeases says, for every driver and
// mode given by flags and by the file; only a driver that does not fence
// its calls, acting live somewhere, waits.
func TestTakesLeasesBeforeBuild(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://a.example:6443"}}
users:
- {name: u, user: {token: t0k3n}}
contexts:
- {name: ctx-a, context: {cluster: a, user: u}}
current-context: ctx-a
`), 0o600); err != nil {
		t.Fatal(err)
	}
	const live = `apps:
  shop:
    source: sim
    mode: live
    tiers:
      - name: web
`
	const dry = `apps:
  shop:
    source: sim
    mode: dry-run
    tiers:
      - name: web
`
	command := []string{"-executor.driver", "command", "-executor.command", "kubectl scale deployment/{tier} --replicas={replicas}"}
	webhook := []string{"-executor.driver", "webhook", "-executor.webhook.url", "https://hooks.example.com/scale"}
	kube := []string{"-executor.driver", "kubernetes", "-executor.kubernetes.kubeconfig", kc, "-executor.kubernetes.targets", "shop.web=shop/deployment/web"}
	for _, tc := range []struct {
		name string
		args []string
		file string // "": none
		want bool
	}{
		{"sim, the default", nil, "", false},
		{"sim, file live", []string{"-executor.driver", "sim"}, live, false},
		{"kubernetes, live", kube, live, false},
		{"command, live by default", command, "", true},
		{"command, every app dry-run", append(command, "-executor.modes", "*=dry-run"), "", false},
		{"command, file live", command, live, true},
		{"command, file dry-run", command, dry, true}, // every other app is still live by default
		{"command, * shadow, one app live", append(command, "-executor.modes", "*=shadow,shop=live"), "", true},
		{"webhook, live", webhook, "", true},
		{"webhook, * dry-run", append(webhook, "-executor.modes", "*=dry-run"), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			f := cli.New("executor", func(string) string { return "" })
			cfg.RegisterFlags(f)
			if err := f.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var file *config.File
			if tc.file != "" {
				path := filepath.Join(t.TempDir(), "headroom.yaml")
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				var err error
				if file, err = config.Load(path); err != nil {
					t.Fatal(err)
				}
			}
			got := cfg.TakesLeases(file)
			if got != tc.want {
				t.Errorf("TakesLeases = %v, want %v", got, tc.want)
			}
			s, err := New(cfg, service.Deps{Log: zerolog.Nop(), Ready: service.NewReady(), Config: file})
			if err != nil {
				t.Fatal(err)
			}
			if w, ok := s.driver.(*KubeDriver); ok {
				w.Close()
			}
			if built := s.takesLeases(); built != got {
				t.Errorf("the built executor's takesLeases = %v, TakesLeases before building = %v", built, got)
			}
		})
	}
}
