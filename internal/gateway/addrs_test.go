package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestTooManyClientsPerAddr: past MaxClientsPerAddr a WebSocket from the
// same address is refused with 429 naming the flag, before the upgrade and
// well under MaxClients, and counted as addr_limit; the slot frees when one
// of its clients leaves, and the count forgets an address with none open.
func TestTooManyClientsPerAddr(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxClients, cfg.MaxClientsPerAddr = 10, 2
	e := startEnv(t, cfg)
	first, second := mustDial(t, e.srv.URL), mustDial(t, e.srv.URL)
	_, resp, err := dial(t, e.srv.URL, "", nil)
	if err == nil {
		t.Fatal("third client from 127.0.0.1 accepted past MaxClientsPerAddr 2")
	}
	if resp == nil {
		t.Fatalf("third client: %v, no HTTP answer", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "too many clients from 127.0.0.1/32: at most 2 per address (gateway.max-clients-per-addr)") {
		t.Fatalf("third client: %d %q, want 429 naming the address and gateway.max-clients-per-addr", resp.StatusCode, body)
	}
	if got := metricstest.ByLabel(t, e.reg, "headroom_gateway_connections_total", "result"); got["accepted"] != 2 || got["addr_limit"] != 1 {
		t.Fatalf("headroom_gateway_connections_total by result %v, want accepted 2, addr_limit 1", got)
	}
	if v := metricValue(t, e.reg, "headroom_gateway_clients"); v != 2 {
		t.Fatalf("headroom_gateway_clients %v, want 2", v)
	}
	_ = first.conn.Close()
	natstest.Eventually(t, 10*time.Second, func() error {
		c, _, err := dial(t, e.srv.URL, "", nil)
		if err != nil {
			return err
		}
		if f := c.next(t); f.Type != gateway.FrameHello {
			t.Fatalf("got %+v, want hello", f)
		}
		_ = c.conn.Close()
		return nil
	})
	_ = second.conn.Close()
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := gateway.AddrsOpen(e.gw); n != 0 {
			return fmt.Errorf("%d addresses still counted with no client open", n)
		}
		return nil
	})
}

// TestAddrKey: IPv4 addresses count alone, IPv6 ones with their /64
// (zones and IPv4 mapping dropped), and an address that does not parse is
// not counted.
func TestAddrKey(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.1:5000", "192.0.2.1/32"},
		{"[::ffff:192.0.2.1]:5000", "192.0.2.1/32"},
		{"[2001:db8:1:2::1]:5000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::9]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:5000", "fe80::/64"},
		{"192.0.2.7", "192.0.2.7/32"},
		{"@", ""},
		{"", ""},
	} {
		k, ok := gateway.AddrKey(c.remote)
		if got := map[bool]string{true: k.String(), false: ""}[ok]; got != c.want {
			t.Errorf("%q: %q, want %q", c.remote, got, c.want)
		}
	}
}
