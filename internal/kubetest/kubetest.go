// Package kubetest runs a real Kubernetes control plane for tests, without
// containers: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and KWOK (fake nodes whose pods become ready after a delay the pod asks
// for), each a process on loopback ports, in a temporary directory removed
// at the end of the test.
//
// The binaries come from a cache directory filled by build.sh
// (HEADROOM_KUBE_CACHE, default ~/.cache/headroom/kube/bin) and etcd from
// PATH (Debian's etcd-server). When they are missing, Start skips the test,
// or fails it when CI=true.
package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ReadyDelayAnnotation on a pod (set it in a workload's pod template) is how
// long KWOK keeps the pod unready after it is scheduled, as a Go duration
// ("90s"); without it the pod is ready at once.
const ReadyDelayAnnotation = "kubetest.headroom.dev/ready-delay"

// NodeLabel is set on every KWOK node ("kwok"), for node selectors.
const NodeLabel = "kubetest.headroom.dev/node"

// Binaries are the paths of the control-plane programs.
type Binaries struct {
	Etcd, APIServer, ControllerManager, Scheduler, Kwok string
}

// CacheDir is where build.sh puts the binaries: $HEADROOM_KUBE_CACHE/bin,
// by default ~/.cache/headroom/kube/bin.
func CacheDir() string {
	if d := os.Getenv("HEADROOM_KUBE_CACHE"); d != "" {
		return filepath.Join(d, "bin")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "headroom", "kube", "bin")
}

// Find locates the binaries; the error names every missing one and how to
// get it.
func Find() (Binaries, error) {
	dir := CacheDir()
	b := Binaries{APIServer: filepath.Join(dir, "kube-apiserver"), ControllerManager: filepath.Join(dir, "kube-controller-manager"),
		Scheduler: filepath.Join(dir, "kube-scheduler"), Kwok: filepath.Join(dir, "kwok")}
	var missing []string
	for _, p := range []string{b.APIServer, b.ControllerManager, b.Scheduler, b.Kwok} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	etcd, err := exec.LookPath("etcd")
	if err != nil {
		missing = append(missing, "etcd on PATH (apt-get install etcd-server)")
	}
	b.Etcd = etcd
	if len(missing) > 0 {
		return b, fmt.Errorf("kubetest: missing %s; run internal/kubetest/build.sh", strings.Join(missing, ", "))
	}
	return b, nil
}

// Options change what Start runs.
type Options struct {
	// Nodes is the number of KWOK nodes (default 1).
	Nodes int
	// Timeout bounds the whole start-up (default 3 minutes).
	Timeout time.Duration
}

// Cluster is a running control plane.
type Cluster struct {
	// Dir holds the certificates, configuration, data and logs.
	Dir string
	// Kubeconfig is an admin kubeconfig file (group system:masters).
	Kubeconfig string
	// URL is the API server's address.
	URL string
	// Config and Client are the admin's.
	Config *rest.Config
	Client kubernetes.Interface
	// Timeline records when each component became ready, from the start.
	Timeline []string

	tb    testing.TB
	start time.Time
	mu    sync.Mutex
	procs []*process
}

// Start runs the control plane and waits until it serves and its nodes are
// Ready. It skips tb when the binaries are missing, unless CI=true, then it
// fails. Everything stops, and the directory is removed, when tb ends.
func Start(tb testing.TB, opt Options) *Cluster {
	tb.Helper()
	bins, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	if opt.Nodes <= 0 {
		opt.Nodes = 1
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), opt.Timeout)
	defer cancel()
	c := &Cluster{Dir: tb.TempDir(), tb: tb, start: time.Now()}
	tb.Cleanup(c.stop)
	if err := c.run(ctx, bins, opt); err != nil {
		c.dumpLogs()
		tb.Fatalf("kubetest: %v", err)
	}
	return c
}

func (c *Cluster) mark(what string) {
	c.Timeline = append(c.Timeline, fmt.Sprintf("%6.1fs %s", time.Since(c.start).Seconds(), what))
}

func (c *Cluster) run(ctx context.Context, bins Binaries, opt Options) error {
	p, err := newPKI(c.Dir)
	if err != nil {
		return err
	}
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	if err := c.spawn("etcd", bins.Etcd, nil,
		"--name=kubetest", "--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster=kubetest=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--log-level=warn"); err != nil {
		return err
	}
	if err := c.waitHTTP(ctx, http.DefaultClient, etcdURL+"/health", "etcd"); err != nil {
		return c.died(err)
	}
	c.mark("etcd healthy")

	c.URL = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	// --watch-cache=false: the API server's watch cache moves its resource
	// version on only with etcd's progress requests, which Debian's etcd 3.4
	// lacks; it then answers watches and consistent lists with "Too large
	// resource version", every informer (controllers, scheduler, KWOK, our
	// driver) falls back to relisting with backoff, and a pod's readiness
	// reached its Deployment 10-13 s late. Served from etcd directly, a pod
	// that boots in 2 s is counted ready by its Deployment 2.3 s after it
	// is created.
	if err := c.spawn("kube-apiserver", bins.APIServer, nil,
		"--etcd-servers="+etcdURL, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort), "--cert-dir="+filepath.Join(c.Dir, "apiserver"),
		"--tls-cert-file="+p.servingCert, "--tls-private-key-file="+p.servKey, "--client-ca-file="+p.caCert,
		"--service-account-key-file="+p.saPub, "--service-account-signing-key-file="+p.saKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.0.0.0/24", "--authorization-mode=RBAC",
		"--enable-priority-and-fairness=false", "--endpoint-reconciler-type=none", "--watch-cache=false", "--v=1"); err != nil {
		return err
	}
	c.Kubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, p.kubeconfig(c.URL), 0o600); err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	cert, err := tls.X509KeyPair(p.adminCertPEM, p.adminKeyPEM)
	if err != nil {
		return err
	}
	admin := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	if err := c.waitHTTP(ctx, admin, c.URL+"/readyz", "kube-apiserver"); err != nil {
		return c.died(err)
	}
	c.mark("kube-apiserver ready")
	c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	c.Config.QPS, c.Config.Burst = 100, 200
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}

	// The HPA controller is left out: the tests' HPAs are objects that must
	// block Headroom, not autoscalers that act (there is no metrics API).
	if err := c.spawn("kube-controller-manager", bins.ControllerManager, nil,
		"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(kcmPort), "--cert-dir="+filepath.Join(c.Dir, "kcm"),
		"--root-ca-file="+p.caCert,
		"--controllers=*,-horizontal-pod-autoscaler-controller,-node-ipam-controller", "--concurrent-deployment-syncs=10", "--v=1"); err != nil {
		return err
	}
	if err := c.spawn("kube-scheduler", bins.Scheduler, nil,
		"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(schedPort), "--cert-dir="+filepath.Join(c.Dir, "scheduler"), "--v=1"); err != nil {
		return err
	}
	kwokConfig := filepath.Join(c.Dir, "kwok.yaml")
	if err := os.WriteFile(kwokConfig, []byte(kwokStages), 0o600); err != nil {
		return err
	}
	// Debian's etcd 3.4 cannot serve the streaming lists client-go asks for
	// by default; KWOK falls back to plain list+watch with this gate off.
	if err := c.spawn("kwok", bins.Kwok, []string{"KUBE_FEATURE_WatchListClient=false"},
		"--kubeconfig="+c.Kubeconfig, "--config="+kwokConfig,
		"--manage-all-nodes=false", "--manage-nodes-with-label-selector="+NodeLabel+"=kwok",
		"--node-lease-duration-seconds=40", "--cidr=10.244.0.0/16", "--node-ip=10.243.0.1",
		"--server-address=127.0.0.1:"+strconv.Itoa(kwokPort)); err != nil {
		return err
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, w := range []struct{ name, url string }{
		{"kube-controller-manager", "https://127.0.0.1:" + strconv.Itoa(kcmPort) + "/healthz"},
		{"kube-scheduler", "https://127.0.0.1:" + strconv.Itoa(schedPort) + "/healthz"},
	} {
		if err := c.waitHTTP(ctx, insecure, w.url, w.name); err != nil {
			return c.died(err)
		}
		c.mark(w.name + " healthy")
	}
	if err := c.waitHTTP(ctx, http.DefaultClient, "http://127.0.0.1:"+strconv.Itoa(kwokPort)+"/healthz", "kwok"); err != nil {
		return c.died(err)
	}
	c.mark("kwok healthy")
	for i := range opt.Nodes {
		if err := c.addNode(ctx, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return c.died(err)
		}
	}
	c.mark(fmt.Sprintf("%d kwok node(s) Ready", opt.Nodes))
	return nil
}

// addNode registers a fake node for KWOK and waits until it is Ready.
func (c *Cluster) addNode(ctx context.Context, name string) error {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{NodeLabel: "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}}}
	if _, err := c.Client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	return Until(ctx, "node "+name+" Ready", func() (bool, error) {
		n, err := c.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return len(n.Spec.Taints) == 0, nil
			}
		}
		return false, nil
	})
}

// Until calls cond every 100 ms until it reports true, it fails, or ctx
// ends; the error then says what was awaited.
func Until(ctx context.Context, what string, cond func() (bool, error)) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		var stop errStop
		if errors.As(err, &stop) {
			return fmt.Errorf("waiting for %s: %w", what, stop.err)
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Cluster) waitHTTP(ctx context.Context, client *http.Client, url, what string) error {
	return Until(ctx, what+" at "+url, func() (bool, error) {
		if err := c.exited(); err != nil {
			return false, errStop{err}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		return true, nil
	})
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is one running component.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func (c *Cluster) spawn(name, bin string, env []string, args ...string) error {
	logPath := filepath.Join(c.Dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return nil
}

// errStop, returned by a condition, ends Until at once.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

// exited reports the first component that has exited, if any.
func (c *Cluster) exited() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v (log: %s)", p.name, p.err, p.log)
		default:
		}
	}
	return nil
}

// died adds to err which components have exited, if any.
func (c *Cluster) died(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		select {
		case <-p.done:
			err = fmt.Errorf("%w; %s exited: %v", err, p.name, p.err)
		default:
		}
	}
	return err
}

// stop ends the components in reverse order: SIGTERM to each process
// group, SIGKILL after 10 s (on systems without process groups, each
// process is killed at once: see proc_other.go).
func (c *Cluster) stop() {
	if c.tb.Failed() {
		c.dumpLogs()
	}
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		terminateGroup(p.cmd)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			killGroup(p.cmd)
			<-p.done
		}
	}
}

// dumpLogs logs the last lines of each component's log.
func (c *Cluster) dumpLogs() {
	c.mu.Lock()
	procs := append([]*process(nil), c.procs...)
	c.mu.Unlock()
	for _, p := range procs {
		c.tb.Logf("---- last lines of %s ----\n%s", p.name, tail(p.log, 40))
	}
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// Logs returns the last n lines of a component's log ("kwok", "etcd", …).
func (c *Cluster) Logs(name string, n int) (string, error) {
	path := filepath.Join(c.Dir, name+".log")
	if _, err := os.Stat(path); err != nil {
		return "", errors.New("kubetest: no log for " + name)
	}
	return tail(path, n), nil
}
