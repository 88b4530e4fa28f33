package executor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubeClientErrorHidesServerCredentials: a kubeconfig whose server URL
// carries credentials (user:password@) and that the client refuses fails
// NewKubeDriver without the password. The executor builds its driver after
// NATS is up, so the error reaches the log and the all-in-one's /readyz.
func TestKubeClientErrorHidesServerCredentials(t *testing.T) {
	const secret = "hunter2-do-not-print"
	for _, server := range []string{
		"https://ops:" + secret + "@kube.example:bad/",
		"https://ops:" + secret + "@kube example/",
		"https://ops:" + secret + "@kube.example/%zz",
		"https://" + secret + "@kube.example:bad/",
		"https://ops:a/" + secret + "@kube.example:bad/",
	} {
		t.Run(server, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "kubeconfig")
			kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"" + server + "\"\n" +
				"users:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
			if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig().Kubernetes
			cfg.Kubeconfig, cfg.Targets = p, map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}}
			_, err := NewKubeDriver(cfg)
			if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "kubernetes client") {
				t.Errorf("NewKubeDriver with server %q: %v, want the client's refusal without the password", server, err)
			}
		})
	}
}

// TestKubeConfigErrorHidesProxyCredentials: a kubeconfig whose proxy-url
// carries credentials and that client-go refuses (a scheme it does not
// take, a port that is no number, a raw / in the password) fails
// KubeRESTConfig, and so NewKubeDriver, without the password: client-go's
// validation quotes the proxy URL whole, twice.
func TestKubeConfigErrorHidesProxyCredentials(t *testing.T) {
	const secret = "hunter2-do-not-print"
	for _, proxy := range []string{
		"ftp://ops:" + secret + "@proxy:21",
		"http://ops:" + secret + "@proxy:bad",
		"http://ops:a/" + secret + "@proxy:3128",
	} {
		t.Run(proxy, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "kubeconfig")
			kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://kube.example\n    proxy-url: \"" + proxy + "\"\n" +
				"users:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
			if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig().Kubernetes
			cfg.Kubeconfig, cfg.Targets = p, map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}}
			_, err := KubeRESTConfig(cfg)
			if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "proxy-url") {
				t.Errorf("KubeRESTConfig with proxy-url %q: %v, want client-go's refusal without the password", proxy, err)
			}
			if _, err := NewKubeDriver(cfg); err == nil || strings.Contains(err.Error(), secret) {
				t.Errorf("NewKubeDriver with proxy-url %q: %v, want a refusal without the password", proxy, err)
			}
		})
	}
}
