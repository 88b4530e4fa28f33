package service_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// rawGet sends a GET for path on c and returns the status code, failing
// with a timeout error if no answer comes within limit.
func rawGet(c net.Conn, path string, limit time.Duration) (int, error) {
	if err := c.SetDeadline(time.Now().Add(limit)); err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// dialGet opens a connection to addr and GETs path on it.
func dialGet(addr, path string, limit time.Duration) (int, error) {
	c, err := net.DialTimeout("tcp", addr, limit)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return rawGet(c, path, limit)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestProbesSurviveAConnectionFlood runs a service with -http.max-conns 2
// and -ops.addr (from HEADROOM_OPS_ADDR) and holds two keep-alive
// connections open on -http.addr: a new request there waits unanswered
// in the kernel's backlog, while /healthz and /readyz on the ops listener
// answer within the same deadline. NATS is unreachable on purpose: the
// probes answer before it does.
func TestProbesSurviveAConnectionFlood(t *testing.T) {
	httpAddr, opsAddr, natsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env := map[string]string{"HEADROOM_OPS_ADDR": opsAddr}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- service.Main(ctx, service.Spec{Name: "probe", Build: func(context.Context, service.Deps) (service.Runner, error) {
			return nil, fmt.Errorf("must not be built without NATS")
		}}, []string{"-http.addr", httpAddr, "-http.max-conns", "2", "-nats.url", "nats://" + natsAddr},
			func(k string) string { return env[k] })
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Main: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Main did not return after cancel")
		}
	}()
	natstest.Eventually(t, 10*time.Second, func() error {
		code, err := dialGet(opsAddr, "/healthz", time.Second)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("ops /healthz %d %v", code, err)
		}
		return nil
	})
	// Fill the cap: each held connection has been answered once, so the
	// server has accepted it and keeps it open, idle.
	for i := range 2 {
		c, err := net.Dial("tcp", httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// 503: the service is not built without NATS (Servers.Starting).
		if code, err := rawGet(c, "/anything", 5*time.Second); err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("held connection %d: %d %v, want an answer (503 starting)", i, code, err)
		}
	}
	const deadline = 2 * time.Second
	// A probe as it was before -ops.addr, on the main listener: unanswered.
	if code, err := dialGet(httpAddr, "/healthz", deadline); !isTimeout(err) {
		t.Fatalf("main listener at its cap answered %d %v within %v, want no answer (the flood this guards against)", code, err, deadline)
	}
	if code, err := dialGet(opsAddr, "/healthz", deadline); err != nil || code != http.StatusOK {
		t.Fatalf("ops /healthz during the flood: %d %v, want 200 within %v", code, err, deadline)
	}
	if code, err := dialGet(opsAddr, "/readyz", deadline); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("ops /readyz during the flood: %d %v, want 503 (NATS unreachable) within %v", code, err, deadline)
	}
}

// TestOpsAddrSameAsHTTPAddr: an ops address that is the HTTP address is
// refused at start, naming both flags.
func TestOpsAddrSameAsHTTPAddr(t *testing.T) {
	addr := freeAddr(t)
	err := service.Main(context.Background(), service.Spec{Name: "probe", Build: func(context.Context, service.Deps) (service.Runner, error) {
		return nil, fmt.Errorf("must not be built")
	}}, []string{"-http.addr", addr, "-ops.addr", addr}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "ops.addr") || !strings.Contains(err.Error(), "http.addr") {
		t.Fatalf("Main: %v, want a refusal naming ops.addr and http.addr", err)
	}
}

func TestCheckOpsAddr(t *testing.T) {
	for _, c := range []struct {
		http, ops string
		ok        bool
	}{
		{"127.0.0.1:8080", "", true},
		{":8080", ":9090", true},
		{"127.0.0.1:8080", "127.0.0.2:8080", true},
		{"127.0.0.1:0", "127.0.0.1:0", true}, // two ephemeral ports
		{":8080", ":8080", false},
		{"127.0.0.1:8080", "127.0.0.1:8080", false},
		{":8080", "127.0.0.1:8080", false},
		{"0.0.0.0:9090", "10.0.0.1:9090", false},
	} {
		if err := service.CheckOpsAddr(c.http, c.ops); (err == nil) != c.ok {
			t.Errorf("CheckOpsAddr(%q, %q) = %v, want ok=%v", c.http, c.ops, err, c.ok)
		}
	}
}

// startServers listens on loopback (with an ops listener when ops), adds
// a catch-all route like the gateway's dashboard and a /app route, and
// runs the servers until the test ends.
func startServers(t *testing.T, ops bool) *service.Servers {
	t.Helper()
	opsAddr := ""
	if ops {
		opsAddr = "127.0.0.1:0"
	}
	srv, err := service.ListenServers("127.0.0.1:0", opsAddr, service.NewReady(), prometheus.NewRegistry(), zerolog.Nop(), service.DefaultTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	srv.Mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	srv.Mux.HandleFunc("GET /app", func(http.ResponseWriter, *http.Request) {})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return srv
}

// TestOpsRoutesMove: with an ops address, /healthz, /readyz and /metrics
// answer there and 404 on the HTTP address, even past a catch-all route;
// the service's routes stay on the HTTP address alone. Without one,
// everything answers on the HTTP address, as before.
func TestOpsRoutesMove(t *testing.T) {
	for _, c := range []struct {
		ops        bool
		path       string
		http, opsC int // 0: no ops listener
	}{
		{false, "/healthz", 200, 0},
		{false, "/readyz", 200, 0},
		{false, "/metrics", 200, 0},
		{false, "/app", 200, 0},
		{false, "/dashboard", 418, 0},
		{true, "/healthz", 404, 200},
		{true, "/readyz", 404, 200},
		{true, "/metrics", 404, 200},
		{true, "/app", 200, 404},
		{true, "/dashboard", 418, 404},
	} {
		t.Run(fmt.Sprintf("ops=%v%s", c.ops, c.path), func(t *testing.T) {
			srv := startServers(t, c.ops)
			if code, err := dialGet(srv.HTTP.Addr(), c.path, 5*time.Second); err != nil || code != c.http {
				t.Errorf("http %s: %d %v, want %d", c.path, code, err, c.http)
			}
			if !c.ops {
				if srv.Ops != nil || srv.OpsAddr() != "" {
					t.Fatalf("an ops listener at %q without an ops address", srv.OpsAddr())
				}
				return
			}
			if code, err := dialGet(srv.OpsAddr(), c.path, 5*time.Second); err != nil || code != c.opsC {
				t.Errorf("ops %s: %d %v, want %d", c.path, code, err, c.opsC)
			}
		})
	}
}

// TestOpsStopsLast: when the servers stop, the HTTP listener closes first
// and the ops listener keeps answering probes while the HTTP server waits
// for its open requests; once those end, both are gone.
func TestOpsStopsLast(t *testing.T) {
	srv, err := service.ListenServers("127.0.0.1:0", "127.0.0.1:0", service.NewReady(), prometheus.NewRegistry(), zerolog.Nop(), service.DefaultTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	srv.Mux.HandleFunc("GET /slow", func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	httpAddr, opsAddr := srv.HTTP.Addr(), srv.OpsAddr()
	slow := make(chan error, 1)
	go func() {
		_, err := dialGet(httpAddr, "/slow", 10*time.Second)
		slow <- err
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request did not arrive")
	}
	cancel()
	// The HTTP server is shutting down: its listener is closed, and it
	// waits for /slow.
	natstest.Eventually(t, 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", httpAddr, time.Second)
		if err == nil {
			c.Close()
			return errors.New("http listener still accepting")
		}
		return nil
	})
	if code, err := dialGet(opsAddr, "/healthz", 5*time.Second); err != nil || code != http.StatusOK {
		t.Fatalf("ops /healthz while the HTTP server drains: %d %v, want 200", code, err)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("slow request: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if c, err := net.DialTimeout("tcp", opsAddr, time.Second); err == nil {
		c.Close()
		t.Fatal("ops listener still open after Run returned")
	}
}
