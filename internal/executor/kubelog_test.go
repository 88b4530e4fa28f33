package executor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/service"
)

// KlogServerEnv names, in a child run of the test binary, the API server
// URL TestKubeClientLogsReachTheLogMasked's child runs an executor against.
const KlogServerEnv = "EXECUTOR_TEST_KLOG_SERVER"

// TestKubeClientLogsReachTheLogMasked: an executor with the kubernetes
// driver, whose API server URL carries a token as its user and whose
// server's certificate it does not trust, logs client-go's complaint (the reflector's
// "Failed to watch", which quotes the request URL: net/http hides a
// password there but not a user) as a JSON line of its own log, component
// client-go, with the token masked, and writes nothing to stderr, where
// klog writes by default. It runs in a child process: klog's logger is one
// per process, and the child's stderr is all of its stderr.
func TestKubeClientLogsReachTheLogMasked(t *testing.T) {
	if server := os.Getenv(KlogServerEnv); server != "" {
		klogChild(t, server)
		return
	}
	const secret = "t0ken-do-not-print"
	// A TLS server whose certificate the client does not trust (a wrong
	// CA): every list fails at once, the error quoting the request URL.
	conns := make(chan struct{}, 64)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			select {
			case conns <- struct{}{}:
			default:
			}
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // its TLS handshake errors
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()

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
	for k, want := range map[string]string{"level": "error", "component": "client-go", "service": "executor-test", "part": "executor"} {
		if line[k] != want {
			t.Errorf("%s: %v, want %q (line %v)", k, line[k], want, line)
		}
	}
	if e, _ := line["error"].(string); !strings.Contains(e, "https://REDACTED@"+addr+"/apis/apps/v1/namespaces/shop/deployments") {
		t.Errorf("error %q, want the request URL with its user masked", e)
	}
}

// klogChild is TestKubeClientLogsReachTheLogMasked's child run: it builds
// an executor with the kubernetes driver against server, starts the
// driver's watches and passes once its log (on stdout) shows the
// reflector's "Failed to watch" from client-go.
func klogChild(t *testing.T, server string) {
	p := filepath.Join(t.TempDir(), "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"" + server + "\"\n" +
		"users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Driver = DriverKubernetes
	cfg.Kubernetes.Kubeconfig = p
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
