package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/internal/clientaddr"
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
		a, _ := clientaddr.Parse(c.remote)
		k, ok := gateway.AddrKey(a)
		if got := map[bool]string{true: k.String(), false: ""}[ok]; got != c.want {
			t.Errorf("%q: %q, want %q", c.remote, got, c.want)
		}
	}
}

// TestDefaultNoPerAddrLimit: by default the clients of one address are not
// bounded apart from MaxClients. Behind a reverse proxy or an ingress (as
// deploy/kubernetes serves the dashboard) every viewer has the proxy's
// address, here 127.0.0.1: a default of 100 per address would refuse the
// 101st viewer of a healthy dashboard with 429, well under MaxClients.
func TestDefaultNoPerAddrLimit(t *testing.T) {
	cfg := gateway.DefaultConfig()
	if cfg.MaxClientsPerAddr != 0 {
		t.Errorf("DefaultConfig().MaxClientsPerAddr = %d, want 0 (off)", cfg.MaxClientsPerAddr)
	}
	e := startEnv(t, cfg)
	const viewers = 101
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws"
	for i := range viewers {
		conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Fatalf("viewer %d of %d from one address refused (%d): %v", i+1, viewers, status, err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f frame
		_, data, err := conn.ReadMessage()
		if err == nil {
			err = msgpack.Unmarshal(data, &f)
		}
		if err != nil || f.Type != gateway.FrameHello {
			t.Fatalf("viewer %d: first frame %+v, %v, want hello", i+1, f, err)
		}
	}
	if got := metricstest.ByLabel(t, e.reg, "headroom_gateway_connections_total", "result"); got["accepted"] != viewers || got["addr_limit"] != 0 {
		t.Fatalf("headroom_gateway_connections_total by result %v, want accepted %d, addr_limit 0", got, viewers)
	}
}

// TestPerAddrCountForgotten: the per-address count is given back on every
// way a connection ends: a request the upgrader refuses (no WebSocket
// handshake) leaves no count behind, so the one slot of the address stays
// free, and the gateway's shutdown, which ends its clients, forgets the
// address.
func TestPerAddrCountForgotten(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxClientsPerAddr = 1
	e := startEnv(t, cfg)
	for i := range 3 {
		resp, err := http.Get(e.srv.URL + "/ws")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain GET %d of /ws: %d, want the upgrader's 400, not 429 from a count left behind", i+1, resp.StatusCode)
		}
	}
	if n := gateway.AddrsOpen(e.gw); n != 0 {
		t.Fatalf("%d addresses counted after refused upgrades, want 0", n)
	}
	c := mustDial(t, e.srv.URL)
	if n := gateway.AddrsOpen(e.gw); n != 1 {
		t.Fatalf("%d addresses counted with a client open, want 1", n)
	}
	e.stop()
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("client still open 10s after the gateway stopped")
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := gateway.AddrsOpen(e.gw); n != 0 {
			return fmt.Errorf("%d addresses still counted after shutdown", n)
		}
		return nil
	})
}
