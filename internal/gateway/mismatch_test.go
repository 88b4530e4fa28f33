package gateway_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestForgedMessageNotForwarded stores a tick whose payload names app
// "victim" on shop's subject, then a genuine tick: a live client gets the
// genuine one first and never the forgery, a history replay holds only the
// genuine one, and the gateway counts the forgery (it may not publish to a
// dead-letter queue).
func TestForgedMessageNotForwarded(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	c := mustDial(t, e.srv.URL)
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "live", Subjects: []string{"apm.metrics.>"}})
	if f := c.next(t); f.Type != gateway.FrameSubscribed || f.Sub != "live" {
		t.Fatalf("got %+v, want subscribed", f)
	}
	forged := bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"),
		Msg: proto.NewMetrics("victim", "web", base, 2, proto.Floats{"rps": 666})}
	publish(t, e.bus, forged, tick("shop", "web", 1, 1))
	// The stream holds the forgery before the genuine tick, and the live
	// feed is in stream order: the first frame would be the forgery.
	f := c.next(t)
	var m proto.Metrics
	if err := proto.Decode(f.Data, &m); err != nil || f.Type != gateway.FrameMsg || m.App != "shop" || f.TS != millis(1) {
		t.Fatalf("first live frame %s on %s: payload app %q at %d (%v), want shop's tick at minute 1", f.Type, f.Subject, m.App, f.TS, err)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		if v, _ := metricstest.Sum(t, e.reg, "headroom_gateway_mismatched_messages_total", "reader", "live"); v != 1 {
			return fmt.Errorf("headroom_gateway_mismatched_messages_total{reader=live} = %v, want 1", v)
		}
		return nil
	})
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "hist", Subjects: []string{"apm.metrics.shop.web"}, Since: millis(-1)})
	if f := c.next(t); f.Type != gateway.FrameSubscribed || f.Sub != "hist" {
		t.Fatalf("got %+v, want subscribed", f)
	}
	hist := c.until(t, gateway.FrameHistoryDone)
	if len(hist) != 2 || hist[0].TS != millis(1) || hist[1].Count != 1 {
		t.Fatalf("history %+v, want shop's tick at minute 1 alone", hist)
	}
}
