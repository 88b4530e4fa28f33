package allinone_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
)

// blockAt makes cfg's start stop before step: the hook hands over where
// the system listens on the returned channel, then waits for release,
// whose error (nil: go on) fails the step.
func blockAt(cfg *allinone.Config, step string) (reached <-chan allinone.System, release chan<- error) {
	r, rel := make(chan allinone.System, 1), make(chan error, 1)
	allinone.SetBuildHook(cfg, func(s string, sys allinone.System) error {
		if s != step {
			return nil
		}
		r <- sys
		select {
		case err := <-rel:
			return err
		case <-time.After(60 * time.Second):
			return errors.New("the test never released the step")
		}
	})
	return r, rel
}

// runAsync runs the all-in-one; started's System arrives on up and Run's
// error on done.
func runAsync(t *testing.T, cfg allinone.Config) (up <-chan *allinone.System, done <-chan error, cancel context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	u, d := make(chan *allinone.System, 1), make(chan error, 1)
	go func() { d <- allinone.Run(ctx, cfg, natstest.Log(t), func(s *allinone.System) { u <- s }) }()
	return u, d, cancel
}

// TestAddressInUseRefusedFirst: an HTTP or ops address already in use is
// refused before the embedded NATS server starts: no start step runs and
// the data folder is left untouched.
func TestAddressInUseRefusedFirst(t *testing.T) {
	for _, which := range []string{"http", "ops"} {
		t.Run(which, func(t *testing.T) {
			busy, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			cfg := allinone.DefaultConfig()
			cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", filepath.Join(t.TempDir(), "data")
			if which == "http" {
				cfg.HTTPAddr = busy.Addr().String()
			} else {
				cfg.OpsAddr = busy.Addr().String()
			}
			var steps []string
			allinone.SetBuildHook(&cfg, func(step string, _ allinone.System) error {
				steps = append(steps, step)
				return nil
			})
			err = allinone.Run(context.Background(), cfg, natstest.Log(t), func(*allinone.System) { t.Error("started") })
			if err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
				t.Fatalf("start on %s in use: %v, want a refusal naming the address", busy.Addr(), err)
			}
			if len(steps) > 0 {
				t.Errorf("start steps %v ran before the address in use was found", steps)
			}
			if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data folder %s: %v, want it untouched (not created)", cfg.DataDir, err)
			}
		})
	}
}

// TestProbesWhileStarting: while a part is still being built, /healthz
// answers 200 and /readyz 503 naming the step, the dashboard's routes
// answer 503 "starting" (not 404, not a half-built mux), and started is
// not called; once the build goes on, started is called and /readyz
// turns 200 as before. With -ops.addr, the probes are on the ops listener
// from the start and 404 on http.addr as always.
func TestProbesWhileStarting(t *testing.T) {
	for _, ops := range []bool{false, true} {
		t.Run(fmt.Sprintf("ops=%v", ops), func(t *testing.T) {
			cfg := testConfig(t, time.Now().UTC().Truncate(time.Minute), 1)
			cfg.Collector.Backfill = time.Hour
			cfg.Without = map[string]bool{"forecaster": true, "anomaly": true, "decider": true, "executor": true}
			if ops {
				cfg.OpsAddr = "127.0.0.1:0"
			}
			// The gateway (the dashboard) is built; the collector is not.
			reached, release := blockAt(&cfg, "collector")
			up, done, cancel := runAsync(t, cfg)
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("all-in-one stopped with %v", err)
				}
			}()
			var sys allinone.System
			select {
			case sys = <-reached:
			case err := <-done:
				t.Fatalf("all-in-one returned before building the collector: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("the collector's build not reached in 30s")
			}
			probes := sys.HTTPAddr
			if ops {
				probes = sys.OpsAddr
			}
			if code, body, err := get("http://" + probes + "/healthz"); err != nil || code != http.StatusOK {
				t.Errorf("/healthz while starting: %d %q %v, want 200", code, body, err)
			}
			if code, body, err := get("http://" + probes + "/readyz"); err != nil || code != http.StatusServiceUnavailable ||
				!strings.Contains(body, "starting: building collector") {
				t.Errorf("/readyz while starting: %d %q %v, want 503 naming the step", code, body, err)
			}
			for _, p := range []string{"/", "/api/v1/apps", "/no-such-route"} {
				if code, body, err := get("http://" + sys.HTTPAddr + p); err != nil || code != http.StatusServiceUnavailable ||
					!strings.Contains(body, "starting") {
					t.Errorf("%s while starting: %d %q %v, want 503 starting", p, code, body, err)
				}
			}
			if ops {
				if code, _, err := get("http://" + sys.HTTPAddr + "/healthz"); err != nil || code != http.StatusNotFound {
					t.Errorf("/healthz on http.addr with -ops.addr while starting: %d %v, want 404", code, err)
				}
			}
			select {
			case <-up:
				t.Fatal("started called while the collector is still being built")
			default:
			}
			release <- nil
			select {
			case <-up:
			case err := <-done:
				t.Fatalf("all-in-one returned after the build: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("started not called 30s after the build went on")
			}
			natstest.Eventually(t, 30*time.Second, func() error {
				if code, body, err := get("http://" + probes + "/readyz"); err != nil || code != http.StatusOK {
					return fmt.Errorf("/readyz %d %q %v", code, body, err)
				}
				return nil
			})
			if code, _, err := get("http://" + sys.HTTPAddr + "/api/v1/apps"); err != nil || code != http.StatusOK {
				t.Errorf("/api/v1/apps once built: %d %v, want 200", code, err)
			}
			if code, _, err := get("http://" + sys.HTTPAddr + "/no-such-route"); err != nil || code != http.StatusOK && code != http.StatusNotFound {
				t.Errorf("/no-such-route once built: %d %v, want the dashboard's answer", code, err)
			}
		})
	}
}

// TestBuildFailureClosesListeners: the listeners answer during the build;
// when a part's build fails, Run returns that error and both listeners
// are closed. Until they close, after the buses and NATS have (the
// "failed" hook), /readyz says the start failed, at which step and why,
// rather than "starting" or the closed NATS connection; /healthz stays
// 200 and the dashboard's routes answer 503 "failed to start".
func TestBuildFailureClosesListeners(t *testing.T) {
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.OpsAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Without = map[string]bool{"forecaster": true, "anomaly": true, "collector": true, "gateway": true}
	reached, release := blockAt(&cfg, "decider")
	blocking := cfg
	var probed []string // what the probes answered in the "failed" hook; read once Run returned
	allinone.SetBuildHook(&cfg, func(step string, sys allinone.System) error {
		if step != "failed" {
			return allinone.BuildHook(blocking)(step, sys)
		}
		for _, p := range []string{sys.OpsAddr + "/healthz", sys.OpsAddr + "/readyz", sys.HTTPAddr + "/api/v1/apps"} {
			code, body, err := get("http://" + p)
			probed = append(probed, fmt.Sprintf("%s %d %q %v", p[strings.Index(p, "/"):], code, body, err))
		}
		return nil
	})
	up, done, cancel := runAsync(t, cfg)
	defer cancel()
	var sys allinone.System
	select {
	case sys = <-reached:
	case err := <-done:
		t.Fatalf("all-in-one returned before building the decider: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the decider's build not reached in 30s")
	}
	if code, body, err := get("http://" + sys.OpsAddr + "/readyz"); err != nil || code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "building decider") {
		t.Errorf("/readyz while building the decider: %d %q %v, want 503 naming it", code, body, err)
	}
	boom := errors.New("boom")
	release <- boom
	select {
	case err := <-done:
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "decider") {
			t.Fatalf("Run: %v, want the decider's failure", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30s after a build failed")
	}
	select {
	case <-up:
		t.Error("started called though a build failed")
	default:
	}
	want := []string{
		`/healthz 200 "ok\n" <nil>`,
		`/readyz 503 "not ready: starting: failed: building decider: decider: boom\n" <nil>`,
		`/api/v1/apps 503 "failed to start\n" <nil>`,
	}
	if !slices.Equal(probed, want) {
		t.Errorf("the probes once the buses and NATS closed after the failure:\n%s\nwant\n%s", strings.Join(probed, "\n"), strings.Join(want, "\n"))
	}
	for _, addr := range []string{sys.HTTPAddr, sys.OpsAddr} {
		if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after a failed start", addr)
		}
	}
}

// TestStopWhileStarting: a stop asked while the all-in-one starts (ctx
// ends while NATS is about to start, while the first part or the last is
// being built) is a normal stop: Run returns nil at once, builds no
// further part, never calls started, and leaves nothing listening (the
// HTTP and ops listeners, and the NATS server once started, are closed;
// stopped before NATS, it never creates its store).
func TestStopWhileStarting(t *testing.T) {
	for _, at := range []string{"nats", "executor", "collector"} {
		t.Run(at, func(t *testing.T) {
			cfg := testConfig(t, time.Now().UTC().Truncate(time.Minute), 1)
			cfg.OpsAddr = "127.0.0.1:0"
			reached, release := make(chan allinone.System, 1), make(chan struct{})
			var after []string // steps begun after the stop; read once Run returned
			blocked := false
			allinone.SetBuildHook(&cfg, func(step string, sys allinone.System) error {
				if blocked {
					after = append(after, step)
				}
				if step == at {
					blocked = true
					reached <- sys
					<-release
				}
				return nil
			})
			up, done, cancel := runAsync(t, cfg)
			defer cancel()
			var sys allinone.System
			select {
			case sys = <-reached:
			case err := <-done:
				t.Fatalf("all-in-one returned before step %s: %v", at, err)
			case <-time.After(30 * time.Second):
				t.Fatalf("step %s not reached in 30s", at)
			}
			cancel()
			close(release)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run stopped during step %s: %v, want nil (a normal stop)", at, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("Run did not return 30s after a stop during step %s", at)
			}
			if len(after) > 0 {
				t.Errorf("steps %v ran after the stop during step %s", after, at)
			}
			select {
			case <-up:
				t.Errorf("started called though the stop came during step %s", at)
			default:
			}
			addrs := []string{sys.HTTPAddr, sys.OpsAddr}
			if sys.NATSURL != "" {
				addrs = append(addrs, strings.TrimPrefix(sys.NATSURL, "nats://"))
			}
			for _, addr := range addrs {
				if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
					c.Close()
					t.Errorf("%s still accepts connections after a stop during step %s", addr, at)
				}
			}
			if at == "nats" {
				if _, err := os.Stat(filepath.Join(cfg.DataDir, "jetstream")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the JetStream store: %v, want none (NATS not started after the stop)", err)
				}
			}
		})
	}
}

// TestNATSAddressInUse: with NATS's address in use the embedded server
// cannot listen, and the start fails at once, not after the 15 s readiness
// timeout (nor by nats-server's exit, its log shown): Run returns the
// listen error, without calling started, and closes its listeners; until
// then /readyz says the start failed, at that step and why.
func TestNATSAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.OpsAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", busy.Addr().String(), t.TempDir()
	cfg.NATSLogs = true
	var sys allinone.System
	var readyz string // what /readyz answered in the "failed" hook; read once Run returned
	allinone.SetBuildHook(&cfg, func(step string, s allinone.System) error {
		if step == "failed" {
			sys = s
			code, body, err := get("http://" + s.OpsAddr + "/readyz")
			readyz = fmt.Sprintf("%d %q %v", code, body, err)
		}
		return nil
	})
	up, done, cancel := runAsync(t, cfg)
	defer cancel()
	// Far below the 15 s readiness timeout.
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("Run with NATS's address in use: %v, want the listen error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return in 10s with NATS's address in use")
	}
	select {
	case <-up:
		t.Error("started called though NATS could not listen")
	default:
	}
	if !strings.HasPrefix(readyz, `503 "not ready: starting: failed: starting nats: nats server on `+cfg.NATSAddr+`: Error listening on port`) ||
		!strings.Contains(readyz, "address already in use") {
		t.Errorf("/readyz once NATS failed to listen: %s, want 503 naming the step and the listen error", readyz)
	}
	for _, addr := range []string{sys.HTTPAddr, sys.OpsAddr} {
		if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after NATS failed to start", addr)
		}
	}
}

// TestFailedStartHidesCredentials: a part's setting that fails on a URL
// carrying credentials (the webhook driver's, user:password@) fails the
// start without the password: Run's error (the process's last log line)
// names the fault, not the secret. It is refused before the embedded NATS
// server starts (checkParts), so no start step runs and /readyz never
// answers a failed build for it.
func TestFailedStartHidesCredentials(t *testing.T) {
	const secret = "hunter2-do-not-print"
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Without = map[string]bool{"decider": true, "forecaster": true, "anomaly": true, "collector": true, "gateway": true}
	cfg.Executor.Driver = "webhook"
	cfg.Executor.Webhook.URL = "https://ops:" + secret + "@hooks.example:bad/scale"
	var readyz string // what /readyz answered in the "failed" hook; read once Run returned
	allinone.SetBuildHook(&cfg, func(step string, s allinone.System) error {
		if step == "failed" {
			code, body, err := get("http://" + s.HTTPAddr + "/readyz")
			readyz = fmt.Sprintf("%d %q %v", code, body, err)
		}
		return nil
	})
	_, done, cancel := runAsync(t, cfg)
	defer cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return in 30s with a bad webhook URL")
	}
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "executor.webhook.url") {
		t.Errorf("Run with a bad webhook URL: %v, want its fault without the password", err)
	}
	if readyz != "" {
		t.Errorf("/readyz once the start failed: %s, want the setting refused before any start step", readyz)
	}
}

// TestBadPartSettingRefusedFirst: a part's bad setting is refused before
// the embedded NATS server starts: no start step runs, the NATS address
// stays free and the data folder is left untouched.
func TestBadPartSettingRefusedFirst(t *testing.T) {
	for _, tc := range []struct {
		part string
		bad  func(*allinone.Config)
		want string
		also string // a second refusal the same error must name
	}{
		{"executor", func(c *allinone.Config) { c.Executor.Driver = "bogus" }, `executor: executor.driver "bogus"`, ""},
		{"decider", func(c *allinone.Config) { c.Decider.InputTimeout = 2 * time.Minute }, "decider: input timeout 2m0s", ""},
		{"forecaster", func(c *allinone.Config) { c.Forecaster.Horizon = 0 }, "forecaster: forecaster.horizon 0", ""},
		{"collector", func(c *allinone.Config) { c.Collector.Push.ForwardedHeader = "Bogus" }, `collector: -push.forwarded-header`, ""},
		{"collector's push API beyond loopback without a token", func(c *allinone.Config) { c.HTTPAddr = "0.0.0.0:0" }, "collector: the push API needs a token", ""},
		{"gateway's dashboard beyond loopback without a token", func(c *allinone.Config) {
			c.HTTPAddr, c.Collector.Push.Token = "0.0.0.0:0", "0123456789abcdef0123456789abcdef"
		}, "gateway: the dashboard needs a token: it listens on 0.0.0.0:0", ""},
		{"push API and dashboard beyond loopback without either token", func(c *allinone.Config) { c.HTTPAddr = "0.0.0.0:0" },
			"collector: the push API needs a token", "gateway: the dashboard needs a token: it listens on 0.0.0.0:0"},
		{"bus's per-series cap", func(c *allinone.Config) { c.Bus.Streams.MaxMsgsPerSeries = 5 }, "bus: stream.max-msgs-per-series=5", ""},
		{"bus's subject prefix", func(c *allinone.Config) { c.Bus.Prefix = "a.b" }, "bus: ", ""},
		{"gateway token too short and push API beyond loopback without a token", func(c *allinone.Config) {
			c.HTTPAddr, c.Gateway.Token = "0.0.0.0:0", "short"
		}, "gateway.token (HEADROOM_GATEWAY_TOKEN)", "collector: the push API needs a token"},
		{"gateway token too short and a bad executor driver", func(c *allinone.Config) {
			c.Gateway.Token, c.Executor.Driver = "short", "bogus"
		}, "gateway.token (HEADROOM_GATEWAY_TOKEN)", `executor: executor.driver "bogus"`},
		{"gateway's allowed hosts, named once", func(c *allinone.Config) { c.Gateway.AllowedHosts = []string{"http://x"} },
			`gateway.allowed-hosts: "http://x"`, ""},
		{"bus's subject prefix and a bad executor driver", func(c *allinone.Config) { c.Bus.Prefix, c.Executor.Driver = "a.b", "bogus" },
			"bus: ", `executor: executor.driver "bogus"`},
	} {
		t.Run(tc.part, func(t *testing.T) {
			natsAddr := freeLoopback(t)
			cfg := allinone.DefaultConfig()
			cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", natsAddr, filepath.Join(t.TempDir(), "data")
			tc.bad(&cfg)
			var steps []string
			allinone.SetBuildHook(&cfg, func(step string, _ allinone.System) error {
				steps = append(steps, step)
				return nil
			})
			done := make(chan error, 1)
			go func() {
				done <- allinone.Run(context.Background(), cfg, natstest.Log(t), func(*allinone.System) { t.Error("started") })
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.also) {
					t.Fatalf("start with a bad %s setting: %v, want an error containing %q and %q", tc.part, err, tc.want, tc.also)
				}
				// The refusals of what actSafely copies from the gateway
				// (its allowed hosts, to the push API) are the gateway's
				// alone: a setting nobody set is not named.
				if strings.Contains(err.Error(), "push allowed hosts") {
					t.Errorf("start with a bad %s setting: %v, names the push API's allowed hosts, copied from the gateway's", tc.part, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("a bad %s setting did not fail the start at once", tc.part)
			}
			if len(steps) > 0 {
				t.Errorf("start steps %v ran before the bad setting was found", steps)
			}
			if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data folder %s: %v, want it untouched (not created)", cfg.DataDir, err)
			}
			ln, err := net.Listen("tcp", natsAddr)
			if err != nil {
				t.Fatalf("NATS address %s was opened: %v", natsAddr, err)
			}
			ln.Close()
		})
	}
}

// freeLoopback returns a loopback address nothing listens on.
func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestFailedBuildHidesCredentials: a part that fails to build after the
// embedded NATS server started, on a URL carrying credentials (the
// kubernetes driver's kubeconfig server, user:password@, which the client
// refuses), fails the start without the password: neither Run's error (the
// process's last log line) nor /readyz's answer while the start fails
// prints it. (/readyz redacts user:password@ itself; Run's error relies on
// the part's own error hiding it.)
func TestFailedBuildHidesCredentials(t *testing.T) {
	const secret = "hunter2-do-not-print"
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \"https://ops:" + secret + "@kube.example:bad/\"\n" +
		"users:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Without = map[string]bool{"decider": true, "forecaster": true, "anomaly": true, "collector": true, "gateway": true}
	cfg.Executor.Driver = "kubernetes"
	cfg.Executor.Kubernetes.Kubeconfig = kubeconfig
	cfg.Executor.Kubernetes.Targets = map[string]executor.KubeTarget{"shop.web": {Namespace: "shop", Kind: executor.KindDeployment, Name: "web"}}
	var readyz string // what /readyz answered in the "failed" hook; read once Run returned
	allinone.SetBuildHook(&cfg, func(step string, s allinone.System) error {
		if step == "failed" {
			code, body, err := get("http://" + s.HTTPAddr + "/readyz")
			readyz = fmt.Sprintf("%d %q %v", code, body, err)
		}
		return nil
	})
	_, done, cancel := runAsync(t, cfg)
	defer cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return in 30s with a bad kubeconfig server")
	}
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "kubernetes client") {
		t.Errorf("Run with a bad kubeconfig server: %v, want its fault without the password", err)
	}
	if !strings.HasPrefix(readyz, "503 ") || strings.Contains(readyz, secret) || !strings.Contains(readyz, "kubernetes client") {
		t.Errorf("/readyz once the start failed: %s, want 503 with the fault, without the password", readyz)
	}
}

// TestStopJustAfterStarted: a stop asked the moment every part is built
// (started called, the parts not yet running: each starts on an ended
// context, the collector before it has opened the replica bucket) is a
// normal stop too: Run returns nil, not a part's "context canceled".
func TestStopJustAfterStarted(t *testing.T) {
	cfg := testConfig(t, time.Now().UTC().Truncate(time.Minute), 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- allinone.Run(ctx, cfg, natstest.Log(t), func(*allinone.System) { cancel() }) }()
	select {
	case err := <-done:
		if ctx.Err() == nil {
			t.Fatalf("Run returned before started was called: %v", err)
		}
		if err != nil {
			t.Errorf("Run stopped just after started: %v, want nil (a normal stop)", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return 60s after a stop just after started")
	}
}
