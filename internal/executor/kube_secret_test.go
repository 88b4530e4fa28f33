package executor

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
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

// TestKubeScaleErrorHidesServerToken: a driver whose server URL carries a
// token as its user (https://TOKEN@host) and cannot reach it fails Scale
// without the token: net/http's error quotes the request URL, hiding a
// password but not a user, and Scale's error is logged and published.
func TestKubeScaleErrorHidesServerToken(t *testing.T) {
	const secret = "t0ken-do-not-print"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	for _, server := range []string{"https://" + secret + "@" + addr, "https://ops:" + secret + "@" + addr} {
		t.Run(server, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "kubeconfig")
			kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"" + server + "\"\n    insecure-skip-tls-verify: true\n" +
				"users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
			if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig().Kubernetes
			cfg.Kubeconfig, cfg.Targets = p, map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}}
			cfg.Timeout = 300 * time.Millisecond
			d, err := NewKubeDriver(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Scale(context.Background(), Request{App: "shop", Tier: "web", Replicas: 2, Time: time.Now()})
			if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "REDACTED@"+addr) {
				t.Errorf("Scale against %s: %v, want the failure without the token", server, err)
			}
		})
	}
}

// TestKubeWatchErrorHidesServerToken: a driver whose server URL carries a
// token as its user and whose API server it does not trust reports its
// failed workload watches (client-go logs them to stderr, through
// utilruntime's error handlers) without the token: net/http's error
// quotes the request URL, hiding a password but not a user. (A refused
// connection is retried without a word.)
func TestKubeWatchErrorHidesServerToken(t *testing.T) {
	const secret = "t0ken-do-not-print"
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	seen := make(chan string, 64)
	// Left in place: the watches' goroutines may still read the list
	// after the driver closes; sends past the buffer are dropped.
	utilruntime.ErrorHandlers = append(utilruntime.ErrorHandlers, func(_ context.Context, err error, msg string, _ ...any) {
		if err != nil && strings.Contains(err.Error(), addr) {
			select {
			case seen <- msg + ": " + err.Error():
			default:
			}
		}
	})
	p := filepath.Join(t.TempDir(), "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"https://" + secret + "@" + addr + "\"\n" +
		"users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig().Kubernetes
	cfg.Kubeconfig, cfg.Targets = p, map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}, "shop.db": {"shop", KindStatefulSet, "db"}}
	cfg.SyncTimeout = 100 * time.Millisecond
	d, err := NewKubeDriver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Watch()
	t.Cleanup(d.Close)
	select {
	case msg := <-seen:
		if strings.Contains(msg, secret) || !strings.Contains(msg, "REDACTED@"+addr) {
			t.Errorf("a failed watch is reported as %q, want it without the token", msg)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no failed watch reported in 20s")
	}
}
