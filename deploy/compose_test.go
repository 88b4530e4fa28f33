// Package deploy_test checks the deployment files against the source tree.
package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestComposeServicesExist parses docker-compose.yml and checks that every
// service it builds names a main package under services/, and that every
// service there except the all-in-one appears in the compose file and the Procfile.
func TestComposeServicesExist(t *testing.T) {
	data, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build struct {
				Dockerfile string            `yaml:"dockerfile"`
				Args       map[string]string `yaml:"args"`
			} `yaml:"build"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	built := map[string]bool{}
	for name, s := range compose.Services {
		svc := s.Build.Args["SERVICE"]
		if name == "nats" {
			continue
		}
		if svc == "" {
			t.Errorf("compose service %s builds no SERVICE", name)
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "services", svc, "main.go")); err != nil {
			t.Errorf("compose service %s builds services/%s, which does not exist", name, svc)
		}
		if _, err := os.Stat(filepath.Join("..", s.Build.Dockerfile)); err != nil {
			t.Errorf("compose service %s: dockerfile %s: %v", name, s.Build.Dockerfile, err)
		}
		built[svc] = true
	}
	var commands strings.Builder
	for _, cmd := range procfile(t) {
		commands.WriteString(cmd + "\n")
	}
	dirs, err := os.ReadDir("../services")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "headroom" {
			continue
		}
		if !built[d.Name()] {
			t.Errorf("services/%s is missing from docker-compose.yml", d.Name())
		}
		if !strings.Contains(commands.String(), "./services/"+d.Name()+" ") {
			t.Errorf("services/%s is missing from the Procfile", d.Name())
		}
	}
}

// TestComposeIsSafeByDefault: no password or token falls back to a default,
// published ports bind to loopback only, and the dashboard needs a token.
func TestComposeIsSafeByDefault(t *testing.T) {
	data, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, ":-") {
			t.Errorf("a default value in %q", strings.TrimSpace(line))
		}
	}
	var compose struct {
		Services map[string]struct {
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatal(err)
	}
	for name, s := range compose.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond loopback", name, p)
			}
		}
		for k, v := range s.Environment {
			if (strings.HasSuffix(k, "PASSWORD") || strings.HasSuffix(k, "TOKEN")) && !strings.Contains(v, ":?") {
				t.Errorf("%s: %s=%q is not required from the environment", name, k, v)
			}
		}
		// nats.conf lets each user receive only on its own inbox prefix.
		if user := s.Environment["HEADROOM_NATS_USER"]; user != "" {
			if got := s.Environment["HEADROOM_NATS_INBOX_PREFIX"]; got != "_INBOX_"+user {
				t.Errorf("%s: HEADROOM_NATS_INBOX_PREFIX=%q, want _INBOX_%s (deploy/nats.conf)", name, got, user)
			}
		}
	}
	if tok := compose.Services["gateway"].Environment["HEADROOM_GATEWAY_TOKEN"]; tok == "" {
		t.Error("the gateway runs without a dashboard token")
	}
	if _, ok := compose.Services["provision"]; !ok {
		t.Error("no provision step")
	}
}
