package gateway_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// storeBig stores n messages of 64 KiB on apm.metrics.big.web, far more
// than a connection's socket buffers hold: a client that stops reading
// during their history holds its replays' slots.
func storeBig(t *testing.T, e *env, n int) {
	t.Helper()
	js := natstest.JetStream(t, e.bus)
	payload := make([]byte, 64<<10)
	for i := range n {
		m := nats.NewMsg("apm.metrics.big.web")
		m.Data = payload
		m.Header.Set(bus.HeaderEventTime, strconv.FormatInt(millis(0), 10))
		m.Header.Set("Nats-Msg-Id", "big"+strconv.Itoa(i))
		if _, err := js.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("big messages not stored")
	}
}

// hog dials with header h, stops reading and subscribes n times to the
// big history: every replay it may run blocks on its socket.
func hog(t *testing.T, e *env, h http.Header, n int) *wsClient {
	t.Helper()
	c, _, err := dial(t, e.srv.URL, "", h)
	if err != nil {
		t.Fatal(err)
	}
	if f := c.next(t); f.Type != gateway.FrameHello {
		t.Fatalf("first frame %+v, want hello", f)
	}
	c.stopReading()
	for i := range n {
		c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "h" + strconv.Itoa(i), Subjects: []string{"apm.metrics.big.*"}, Since: millis(0)})
	}
	return c
}

// historyWithin checks that a client dialled with header h gets the
// history of the shop's ticks within d while the hogs hold their slots.
func historyWithin(t *testing.T, e *env, h http.Header, d time.Duration, ticks int) {
	t.Helper()
	c, _, err := dial(t, e.srv.URL, "", h)
	if err != nil {
		t.Fatal(err)
	}
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "b", Subjects: []string{"apm.metrics.shop.web"}, Since: millis(0)})
	deadline := time.After(d)
	got := 0
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				t.Fatal("connection closed")
			}
			switch f.Type {
			case gateway.FrameMsg:
				got++
			case gateway.FrameHistoryDone:
				if got != ticks || f.Count != ticks {
					t.Fatalf("history of %d ticks (history_done says %d), want %d", got, f.Count, ticks)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no history_done in %v: another client holds every history slot (queued: %v)", d,
				metricstest.ByLabel(t, e.reg, "headroom_gateway_history_queued_total", "bound"))
		}
	}
}

// waitQueued waits until bound's count of queued replays reaches n.
func waitQueued(t *testing.T, e *env, bound string, n float64) {
	t.Helper()
	natstest.Eventually(t, 20*time.Second, func() error {
		if got := metricstest.ByLabel(t, e.reg, "headroom_gateway_history_queued_total", "bound")[bound]; got < n {
			return fmt.Errorf("%v replays queued on bound %s, want %v", got, bound, n)
		}
		return nil
	})
}

// hogConfig is the gateway's default configuration with its slow-client
// cuts out of the way: the hogs hold their slots for the whole test.
func hogConfig() gateway.Config {
	cfg := gateway.DefaultConfig()
	cfg.WriteTimeout = 2 * time.Minute
	cfg.PingInterval = 2 * time.Minute
	return cfg
}

// TestConnectionCannotTakeEveryHistorySlot: a connection that sends more
// history subscribes than the gateway has replay slots, and reads none of
// them, holds at most gateway.history-per-client slots; its other
// subscribes wait for its own replays (counted, bound connection), and
// another connection's history is served meanwhile.
func TestConnectionCannotTakeEveryHistorySlot(t *testing.T) {
	cfg := hogConfig()
	e := startEnv(t, cfg)
	const ticks = 30
	for i := range ticks {
		publish(t, e.bus, tick("shop", "web", i, 1))
	}
	storeBig(t, e, 600)
	hog(t, e, nil, cfg.HistoryConcurrency+2)
	natstest.Eventually(t, 20*time.Second, func() error {
		if metricValue(t, e.reg, "headroom_gateway_history_messages_total") == 0 {
			return fmt.Errorf("the hog's history not started")
		}
		return nil
	})
	historyWithin(t, e, nil, 20*time.Second, ticks)
	waitQueued(t, e, "connection", float64(cfg.HistoryConcurrency+2-cfg.HistoryPerClient))
}

// TestAddressCannotTakeEveryHistorySlot: with gateway.history-per-addr
// set, one client address (here named by a trusted proxy) opening a
// connection per slot holds at most that many; its other replays wait
// (counted, bound address) and a client of another address is served.
// Once they hang up, the address holds no entry any more.
func TestAddressCannotTakeEveryHistorySlot(t *testing.T) {
	cfg := hogConfig()
	cfg.TrustedProxies = []string{"127.0.0.1"}
	cfg.HistoryPerAddr = cfg.HistoryConcurrency - 1
	e := startEnv(t, cfg)
	const ticks = 30
	for i := range ticks {
		publish(t, e.bus, tick("shop", "web", i, 1))
	}
	storeBig(t, e, 600)
	from := func(a string) http.Header { return http.Header{"X-Forwarded-For": {a}} }
	var hogs []*wsClient
	for range cfg.HistoryConcurrency {
		hogs = append(hogs, hog(t, e, from("192.0.2.7"), 1))
	}
	waitQueued(t, e, "address", 1)
	historyWithin(t, e, from("198.51.100.9"), 20*time.Second, ticks)
	for _, h := range hogs {
		_ = h.conn.Close()
	}
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := gateway.HistoryAddrs(e.gw); n != 0 {
			return fmt.Errorf("%d addresses hold history slots after their clients hung up (the other one is live)", n)
		}
		return nil
	})
}
