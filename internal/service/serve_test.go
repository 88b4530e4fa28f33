package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestUnreachableNATS: a service whose NATS server does not answer still
// serves /healthz (alive) and /readyz (503, saying why), and stops cleanly:
// Main returns nil, so the process exits 0.
func TestUnreachableNATS(t *testing.T) {
	httpAddr, natsAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	built := false
	go func() {
		done <- service.Main(ctx, service.Spec{Name: "probe", Build: func(context.Context, service.Deps) (service.Runner, error) {
			built = true
			return nil, fmt.Errorf("must not be built without NATS")
		}}, []string{"-http.addr", httpAddr, "-nats.url", "nats://" + natsAddr}, func(string) string { return "" })
	}()
	get := func(path string) (int, string, error) {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		code, _, err := get("/healthz")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("healthz %d %v", code, err)
		}
		return nil
	})
	code, body, err := get("/readyz")
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "nats: not connected to nats://"+natsAddr) {
		t.Fatalf("readyz %d %q %v, want 503 naming the unreachable server", code, body, err)
	}
	// A route the service has not added yet says it is starting, not 404.
	if code, body, err := get("/api/v1/apps"); err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "starting: waiting for nats") {
		t.Errorf("a service route before the build: %d %q %v, want 503 starting", code, body, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main stopped with %v, want nil (a stop asked is not a failure)", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
	if built {
		t.Fatal("the service was built without NATS")
	}
}

// stopRunner fails when run on an ended context, as a part does whose
// Run begins by reading a stream.
type stopRunner struct{ ran chan struct{} }

func (r stopRunner) Run(ctx context.Context) error {
	close(r.ran)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stream METRICS: %w", err)
	}
	<-ctx.Done()
	return nil
}

// TestStopDuringBuild: a stop asked while the runner is being built is a
// normal stop: Main does not run what it built and returns nil, so the
// process exits 0, as it does for a stop while it waits for NATS.
func TestStopDuringBuild(t *testing.T) {
	url := natstest.RunJetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := stopRunner{ran: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- service.Main(ctx, service.Spec{Name: "probe", Build: func(context.Context, service.Deps) (service.Runner, error) {
			cancel() // SIGTERM while building
			return r, nil
		}}, []string{"-http.addr", "127.0.0.1:0", "-nats.url", url, "-nats.provision"}, func(string) string { return "" })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Main stopped during the build with %v, want nil (a stop asked is not a failure)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Main did not return 30s after a stop during the build")
	}
	select {
	case <-r.ran:
		t.Error("the runner ran though the stop came during its build")
	default:
	}
}

// TestReadyzNamesMissingStreams: a service connected to NATS whose
// streams are not provisioned yet says so on /readyz (and on its routes),
// not that it is still waiting for NATS.
func TestReadyzNamesMissingStreams(t *testing.T) {
	url := natstest.RunJetStream(t) // no streams: nobody provisioned them
	httpAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- service.Main(ctx, service.Spec{Name: "probe", Build: func(context.Context, service.Deps) (service.Runner, error) {
			return nil, fmt.Errorf("must not be built without the streams")
		}}, []string{"-http.addr", httpAddr, "-nats.url", url}, func(string) string { return "" })
	}()
	get := func(path string) (int, string, error) {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	const want = "starting: waiting for the streams"
	natstest.Eventually(t, 10*time.Second, func() error {
		if code, body, err := get("/readyz"); err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
			return fmt.Errorf("readyz %d %q %v, want 503 %q", code, body, err, want)
		}
		return nil
	})
	if code, body, err := get("/api/v1/apps"); err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
		t.Errorf("a service route while the streams are missing: %d %q %v, want 503 %q", code, body, err, want)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main stopped with %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
}

// TestCheckBeforeNATS: a service whose settings fail its Check stops at
// once with that error, before it listens or waits for NATS (here one that
// never answers), and Check sees the loaded configuration file.
func TestCheckBeforeNATS(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/headroom.yaml"
	if err := os.WriteFile(path, []byte("apps:\n  shop:\n    source: sim\n    tiers:\n      - name: web\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		file bool
	}{
		{"no file", nil, false},
		{"with file", []string{"-config", path}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			httpAddr, natsAddr := freeAddr(t), freeAddr(t)
			bad := errors.New("bad setting")
			var sawFile bool
			var sawAddr string
			done := make(chan error, 1)
			go func() {
				done <- service.Main(context.Background(), service.Spec{Name: "probe",
					Check: func(f *config.File, addr string) error { sawFile, sawAddr = f != nil, addr; return bad },
					Build: func(context.Context, service.Deps) (service.Runner, error) {
						return nil, fmt.Errorf("must not be built")
					}}, append([]string{"-http.addr", httpAddr, "-nats.url", "nats://" + natsAddr}, tc.args...), func(string) string { return "" })
			}()
			select {
			case err := <-done:
				if !errors.Is(err, bad) {
					t.Fatalf("Main returned %v, want the check's error", err)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("Main did not fail at once on a bad setting: it waits for NATS")
			}
			if sawFile != tc.file {
				t.Errorf("Check saw a file %v, want %v", sawFile, tc.file)
			}
			if sawAddr != httpAddr {
				t.Errorf("Check saw -http.addr %q, want %q", sawAddr, httpAddr)
			}
			if ln, err := net.Listen("tcp", httpAddr); err != nil {
				t.Errorf("-http.addr was opened: %v", err)
			} else {
				ln.Close()
			}
		})
	}
}

// flushRunner runs until its context ends; at Flush it reports whether
// the HTTP server at addr still accepted connections.
type flushRunner struct {
	addr    string
	flushed chan bool // whether the server still listened at Flush
}

func (r flushRunner) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (r flushRunner) Flush() {
	c, err := net.DialTimeout("tcp", r.addr, time.Second)
	if err == nil {
		c.Close()
	}
	r.flushed <- err == nil
}

// TestFlushAfterHTTPStops: a runner that is a service.Flusher (the
// gateway, whose handlers count refusals after its Run returned) is
// flushed once, after the HTTP server has stopped, so that nothing its
// handlers counted is left unwritten.
func TestFlushAfterHTTPStops(t *testing.T) {
	t.Run("stopped while running", func(t *testing.T) { testFlushAfterHTTPStops(t, false) })
	// A stop asked while the runner is built (the CI once cancelled
	// between the build and the check after it): the runner never runs,
	// but its handlers served until the HTTP server stopped.
	t.Run("stopped while building", func(t *testing.T) { testFlushAfterHTTPStops(t, true) })
}

func testFlushAfterHTTPStops(t *testing.T, stopInBuild bool) {
	url := natstest.RunJetStream(t)
	httpAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := flushRunner{addr: httpAddr, flushed: make(chan bool, 2)}
	built := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- service.Main(ctx, service.Spec{Name: "probe", Build: func(context.Context, service.Deps) (service.Runner, error) {
			if stopInBuild {
				cancel()
			}
			close(built)
			return r, nil
		}}, []string{"-http.addr", httpAddr, "-nats.url", url, "-nats.provision"}, func(string) string { return "" })
	}()
	select {
	case <-built:
	case <-time.After(30 * time.Second):
		t.Fatal("the runner was not built in 30s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main stopped with %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Main did not return 30s after cancel")
	}
	select {
	case listening := <-r.flushed:
		if listening {
			t.Error("the runner was flushed while the HTTP server still listened")
		}
	default:
		t.Fatal("the runner was not flushed: what its handlers counted after Run is never written")
	}
	if len(r.flushed) != 0 {
		t.Error("the runner was flushed more than once")
	}
}
