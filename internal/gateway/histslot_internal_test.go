package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestHistorySlotGivesBackWhereverItWaits: a replay waiting for a history
// slot at any of its bounds (its connection's, its address's, the
// gateway's) and ended there, by an unsubscribe or a replacement (its
// subscription canceled) or by its client leaving (the connection's
// context), gives back every place it took and its address entry; served
// instead, once the holder in its way ends, it gives them back on
// release. Nothing is left held and the address map drains either way.
func TestHistorySlotGivesBackWhereverItWaits(t *testing.T) {
	for _, bound := range []string{boundConnection, boundAddress, boundGateway} {
		for _, end := range []string{"unsubscribe", "disconnect", "served"} {
			t.Run(bound+"/"+end, func(t *testing.T) {
				reg := prometheus.NewRegistry()
				m, err := newMetrics(reg)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cfg := DefaultConfig()
				cfg.HistoryConcurrency, cfg.HistoryPerClient, cfg.HistoryPerAddr = 2, 1, 1
				g := &Gateway{metrics: m, prefix: "apm", cfg: cfg, runCtx: ctx, histSem: make(chan struct{}, cfg.HistoryConcurrency)}
				x, y, z := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("203.0.113.1")
				var clients []*client
				newC := func(a netip.Addr) *client {
					c := newClient(g, nil, g.log, false, a)
					clients = append(clients, c)
					return c
				}
				take := func(c *client, id string) func() {
					t.Helper()
					release, ok := g.historySlot(newSubscription(c, subSpec{id: id}))
					if !ok {
						t.Fatalf("holder %s got no slot", id)
					}
					return release
				}
				// Two holders fill the gateway, their connections and
				// their addresses.
				cx, cy := newC(x), newC(y)
				releaseX, releaseY := take(cx, "hx"), take(cy, "hy")
				var wc *client
				blocker, other := releaseX, releaseY
				switch bound {
				case boundConnection:
					wc = cx
				case boundAddress:
					wc = newC(x)
				case boundGateway:
					wc, blocker, other = newC(z), releaseY, releaseX
				}
				w := newSubscription(wc, subSpec{id: "w"})
				type result struct {
					release func()
					ok      bool
				}
				done := make(chan result, 1)
				go func() {
					release, ok := g.historySlot(w)
					done <- result{release, ok}
				}()
				natstest.Eventually(t, 10*time.Second, func() error {
					if metricstest.ByLabel(t, reg, "headroom_gateway_history_queued_total", "bound")[bound] < 1 {
						return fmt.Errorf("the replay never waited on bound %s", bound)
					}
					return nil
				})
				switch end {
				case "unsubscribe":
					w.cancel()
				case "disconnect":
					wc.cancel(errors.New("gone"))
				case "served":
					blocker()
				}
				var r result
				select {
				case r = <-done:
				case <-time.After(10 * time.Second):
					t.Fatalf("the replay waiting on bound %s did not return once %s", bound, end)
				}
				if r.ok != (end == "served") {
					t.Fatalf("waiting on bound %s, then %s: ok %v", bound, end, r.ok)
				}
				if end != "served" {
					blocker()
				}
				other()
				if r.ok {
					r.release()
				}
				if n := len(g.histSem); n != 0 {
					t.Errorf("%d gateway slots still held", n)
				}
				for i, c := range clients {
					if n := len(c.histSem); n != 0 {
						t.Errorf("client %d: %d connection slots still held", i, n)
					}
				}
				if n := g.histAddrs.len(); n != 0 {
					t.Errorf("%d addresses still hold an entry", n)
				}
			})
		}
	}
}

// TestHistorySlotRefusesEndedSubscription: a subscription already ended
// (unsubscribed, replaced, its client gone) before its replay asks for a
// slot starts no replay, even with every place free, and holds nothing.
func TestHistorySlotRefusesEndedSubscription(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := DefaultConfig()
	cfg.HistoryPerAddr = 1
	g := &Gateway{metrics: m, prefix: "apm", cfg: cfg, runCtx: ctx, histSem: make(chan struct{}, cfg.HistoryConcurrency)}
	c := newClient(g, nil, g.log, false, netip.MustParseAddr("192.0.2.1"))
	for i := range 100 { // a select with both ready picks either
		s := newSubscription(c, subSpec{id: "s"})
		s.cancel()
		if release, ok := g.historySlot(s); ok {
			release()
			t.Fatalf("try %d: an ended subscription got a history slot", i)
		}
		if len(g.histSem) != 0 || len(c.histSem) != 0 || g.histAddrs.len() != 0 {
			t.Fatalf("try %d: refused, yet holds places (gateway %d, connection %d, addresses %d)", i, len(g.histSem), len(c.histSem), g.histAddrs.len())
		}
	}
}
