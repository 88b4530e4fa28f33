package allinone_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
)

// get returns the status and body of a GET of url, with a deadline.
func get(url string) (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestOpsAddr: with -ops.addr, the all-in-one serves /healthz, /readyz and
// /metrics there, and on -http.addr only the dashboard and its API (the
// three answer 404 there); without it, everything is on -http.addr.
func TestOpsAddr(t *testing.T) {
	for _, ops := range []bool{false, true} {
		t.Run(fmt.Sprintf("ops=%v", ops), func(t *testing.T) {
			cfg := testConfig(t, time.Now().UTC().Truncate(time.Minute), 1)
			cfg.Collector.Backfill = time.Hour
			cfg.Without = map[string]bool{"forecaster": true, "anomaly": true, "decider": true, "executor": true}
			if ops {
				cfg.OpsAddr = "127.0.0.1:0"
			}
			r := start(t, cfg)
			opsAddr := r.sys.HTTPAddr
			if ops {
				if r.sys.OpsAddr == "" || r.sys.OpsAddr == r.sys.HTTPAddr {
					t.Fatalf("ops listener at %q, http at %q: want one of its own", r.sys.OpsAddr, r.sys.HTTPAddr)
				}
				opsAddr = r.sys.OpsAddr
			} else if r.sys.OpsAddr != "" {
				t.Fatalf("ops listener at %q without -ops.addr", r.sys.OpsAddr)
			}
			natstest.Eventually(t, 30*time.Second, func() error {
				if code, body, err := get("http://" + opsAddr + "/readyz"); err != nil || code != http.StatusOK {
					return fmt.Errorf("/readyz %d %q %v", code, body, err)
				}
				return nil
			})
			if code, _, err := get("http://" + opsAddr + "/healthz"); err != nil || code != http.StatusOK {
				t.Errorf("/healthz on %s: %d %v, want 200", opsAddr, code, err)
			}
			if code, body, err := get("http://" + opsAddr + "/metrics"); err != nil || code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
				t.Errorf("/metrics on %s: %d %v, want 200 with the Go collector's series", opsAddr, code, err)
			}
			if code, _, err := get("http://" + r.sys.HTTPAddr + "/api/v1/apps"); err != nil || code != http.StatusOK {
				t.Errorf("/api/v1/apps on http.addr: %d %v, want 200", code, err)
			}
			if !ops {
				return
			}
			for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
				if code, _, err := get("http://" + r.sys.HTTPAddr + p); err != nil || code != http.StatusNotFound {
					t.Errorf("%s on http.addr with -ops.addr: %d %v, want 404", p, code, err)
				}
			}
			if code, _, err := get("http://" + opsAddr + "/api/v1/apps"); err != nil || code != http.StatusNotFound {
				t.Errorf("/api/v1/apps on ops.addr: %d %v, want 404", code, err)
			}
		})
	}
}
