package executor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"k8s.io/klog/v2"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/kubelog"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// KlogServerEnv names, in a child run of the test binary, the API server
// URL TestKubeClientLogsReachTheLogMasked's child runs an executor against.
const KlogServerEnv = "EXECUTOR_TEST_KLOG_SERVER"

// TestKubeClientLogsReachTheLogMasked: an executor with the kubernetes
// driver, whose API server URL carries a token as its user and whose
// server's certificate it does not trust, logs client-go's complaint (the reflector's
// "Failed to watch", which quotes the request URL: net/http hides a
// password there but not a user) as a JSON line of its own log, logger
// client-go/UnhandledError, with the token masked, and writes nothing to stderr, where
// klog writes by default. It runs in a child process: klog's logger is one
// per process, and the child's stderr is all of its stderr.
func TestKubeClientLogsReachTheLogMasked(t *testing.T) {
	if server := os.Getenv(KlogServerEnv); server != "" {
		klogChild(t, server)
		return
	}
	const secret = "t0ken-do-not-print"
	addr, conns := untrustedServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKubeClientLogsReachTheLogMasked$", "-test.count=1")
	cmd.Env = append(os.Environ(), KlogServerEnv+"=https://"+secret+"@"+addr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("child stdout:\n%s", stdout.String())
	if err != nil {
		t.Errorf("child: %v, want it to have seen client-go's line in its log", err)
	}
	if stderr.Len() > 0 {
		t.Errorf("child wrote to stderr, want nothing there:\n%s", stderr.String())
	}
	select {
	case <-conns:
	default:
		t.Error("the server saw no connection: client-go never called it")
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(out, secret) {
			t.Errorf("the token is in the child's %s", name)
		}
	}
	var line map[string]any
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) == nil && l["message"] == "Failed to watch" {
			line = l
			break
		}
	}
	if line == nil {
		t.Fatal("no JSON line \"Failed to watch\" in the child's log")
	}
	for k, want := range map[string]string{"level": "error", "logger": "client-go/UnhandledError", "service": "executor-test", "part": "executor"} {
		if line[k] != want {
			t.Errorf("%s: %v, want %q (line %v)", k, line[k], want, line)
		}
	}
	if e, _ := line["error"].(string); !strings.Contains(e, "https://REDACTED@"+addr+"/apis/apps/v1/namespaces/shop/deployments") {
		t.Errorf("error %q, want the request URL with its user masked", e)
	}
}

// untrustedServer starts a TLS server whose certificate a client does not
// trust (a wrong CA): every list client-go makes of it fails at once, the
// error quoting the request URL, and the reflector logs "Failed to
// watch". conns gets a value for each connection it accepts.
func untrustedServer(t *testing.T) (addr string, conns <-chan struct{}) {
	t.Helper()
	c := make(chan struct{}, 64)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // its TLS handshake errors
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), c
}

// klogChild is TestKubeClientLogsReachTheLogMasked's child run: it builds
// an executor with the kubernetes driver against server, starts the
// driver's watches and passes once its log (on stdout) shows the
// reflector's "Failed to watch" from client-go.
func klogChild(t *testing.T, server string) {
	cfg := DefaultConfig()
	cfg.Driver = DriverKubernetes
	cfg.Kubernetes.Kubeconfig = writeKubeconfig(t, server)
	cfg.Kubernetes.Targets = map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}}
	seen := &lineWatch{w: os.Stdout, want: `"message":"Failed to watch"`, seen: make(chan struct{})}
	s, err := New(cfg, service.Deps{Log: zerolog.New(seen).With().Str("service", "executor-test").Logger(), Ready: service.NewReady()})
	if err != nil {
		t.Fatal(err)
	}
	d := s.driver.(*KubeDriver)
	t.Cleanup(d.Close)
	d.Watch()
	select {
	case <-seen.seen:
	case <-time.After(20 * time.Second):
		t.Fatal("no \"Failed to watch\" line in the log within 20s")
	}
}

// lineWatch writes to w and closes seen at the first write holding want
// (zerolog writes a line at a time).
type lineWatch struct {
	w    io.Writer
	want string
	once sync.Once
	seen chan struct{}
}

func (l *lineWatch) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(l.want)) {
		l.once.Do(func() { close(l.seen) })
	}
	return l.w.Write(p)
}

// lockedBuffer is a bytes.Buffer safe for the writes of several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// writeKubeconfig writes a kubeconfig for server and returns its path.
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"" + server + "\"\n" +
		"users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKubeLogLeavesTheServiceLog: client-go's lines reach the executor's
// log while it runs, and go back where they went before (here another
// logger, else stderr) when Run returns, or when New fails: client-go's
// goroutines may outlive the service, and its log (a test's) may be
// served no longer.
func TestKubeLogLeavesTheServiceLog(t *testing.T) {
	var before lockedBuffer
	t.Cleanup(kubelog.Install(zerolog.New(&before)))
	cfg := DefaultConfig()
	cfg.Driver = DriverKubernetes
	cfg.Kubernetes.Targets = map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}}

	t.Run("New fails", func(t *testing.T) {
		cfg := cfg
		cfg.Kubernetes.Kubeconfig = filepath.Join(t.TempDir(), "missing")
		var svc lockedBuffer
		if _, err := New(cfg, service.Deps{Log: zerolog.New(&svc), Ready: service.NewReady()}); err == nil {
			t.Fatal("New with a missing kubeconfig: no error")
		}
		klog.ErrorS(nil, "after New failed")
		if strings.Contains(svc.String(), "after New failed") || !strings.Contains(before.String(), "after New failed") {
			t.Errorf("after New failed, client-go's line went to the service's log %q, want the logger before's (%q)", svc.String(), before.String())
		}
	})

	t.Run("Run returns", func(t *testing.T) {
		addr, _ := untrustedServer(t)
		cfg := cfg
		cfg.Kubernetes.Kubeconfig = writeKubeconfig(t, "https://"+addr)
		bcfg := bus.DefaultConfig()
		bcfg.URL, bcfg.Name = natstest.RunJetStream(t), "executor"
		b, err := bus.Connect(context.Background(), bcfg, zerolog.Nop(), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		if err := b.EnsureStreams(context.Background()); err != nil {
			t.Fatal(err)
		}
		var svc lockedBuffer
		s, err := New(cfg, service.Deps{Bus: b, Log: zerolog.New(&svc), Ready: service.NewReady()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.driver.(*KubeDriver).Close)
		stop := natstest.Serve(t, "executor", s.Run)
		natstest.Eventually(t, 20*time.Second, func() error {
			if !strings.Contains(svc.String(), `"logger":"client-go/UnhandledError"`) || !strings.Contains(svc.String(), `"message":"Failed to watch"`) {
				return fmt.Errorf("no \"Failed to watch\" from client-go in the service's log yet: %s; before: %s", svc.String(), before.String())
			}
			return nil
		})
		stop()
		klog.ErrorS(nil, "after Run returned")
		if strings.Contains(svc.String(), "after Run returned") || !strings.Contains(before.String(), "after Run returned") {
			t.Errorf("after Run returned, client-go's line went to the service's log, want the logger before's (%q)", before.String())
		}
	})
}
