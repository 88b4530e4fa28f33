package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestStartsBeyondLoopbackWithToken: run as docker-compose.yml and
// deploy/kubernetes run it (HEADROOM_HTTP_ADDR on every interface,
// HEADROOM_GATEWAY_TOKEN set in its environment), the gateway is not
// refused: it starts, /readyz answers 200, and /api/v1/apps answers the
// token only.
func TestStartsBeyondLoopbackWithToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	url := natstest.RunJetStream(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	env := map[string]string{"HEADROOM_NATS_URL": url, "HEADROOM_HTTP_ADDR": "0.0.0.0:" + port, "HEADROOM_GATEWAY_TOKEN": token}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-nats.provision"}, func(k string) string { return env[k] }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after its stop: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run still going 15s after its stop")
		}
	})
	base := "http://127.0.0.1:" + port
	get := func(path, bearer string) (int, error) {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			return 0, err
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	natstest.Eventually(t, 20*time.Second, func() error {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("run ended before it served: %v", err)
		default:
		}
		status, err := get("/readyz", "")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("/readyz %d", status)
		}
		return err
	})
	for _, c := range []struct {
		bearer string
		want   int
	}{{"", http.StatusUnauthorized}, {token, http.StatusOK}} {
		if status, err := get("/api/v1/apps", c.bearer); err != nil || status != c.want {
			t.Errorf("/api/v1/apps, token sent %v: %d %v, want %d", c.bearer != "", status, err, c.want)
		}
	}
}
