package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestHistoryOutrunByLive: a client whose history is delayed while the feed
// runs far past what it may hold is not cut. The live messages it could not
// hold are read from the stream after its history, and every tick arrives
// exactly once, in order.
func TestHistoryOutrunByLive(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.HistoryConcurrency = 1 // one replay at a time: the blocker delays ours
	cfg.ClientBuffer = 64      // it may hold 256 live messages
	cfg.FlushInterval = 0      // the reading client keeps up with the publisher once live
	cfg.WriteTimeout = time.Minute
	e := startEnv(t, cfg)
	for i := range 100 {
		publish(t, e.bus, tick("shop", "web", i, 1))
	}
	// The blocker: a client that stops reading during a long history of
	// large payloads holds the only replay slot.
	js := natstest.JetStream(t, e.bus)
	payload := make([]byte, 64<<10)
	const big = 600
	for i := range big {
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
	case <-time.After(10 * time.Second):
		t.Fatal("big messages not stored")
	}
	blocker := mustDial(t, e.srv.URL)
	blocker.stopReading()
	blocker.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "b", Subjects: []string{"apm.metrics.big.*"}, Since: millis(0)})
	natstest.Eventually(t, 10*time.Second, func() error {
		if metricValue(t, e.reg, "headroom_gateway_history_messages_total") == 0 {
			return fmt.Errorf("blocker's history not started")
		}
		return nil
	})

	c := mustDial(t, e.srv.URL)
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "r", Subjects: []string{"apm.metrics.shop.web"}, Since: millis(0)})
	if f := c.next(t); f.Type != gateway.FrameSubscribed {
		t.Fatalf("got %+v, want subscribed", f)
	}
	stop := make(chan struct{})
	pubDone := make(chan int)
	held := make(chan struct{}) // closed once far more ticks than it may hold are stored
	const overflow = 600
	go func() {
		i := 100
		defer func() { pubDone <- i }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := e.bus.Publish(context.Background(), tick("shop", "web", i, 1)); err != nil {
				t.Error(err)
				return
			}
			i++
			if i == 100+overflow {
				close(held)
			}
		}
	}()
	// Far more live ticks than the subscription may hold arrive before its
	// history can start; the publisher goes on meanwhile.
	select {
	case <-held:
	case <-time.After(2 * time.Minute):
		t.Fatal("publisher too slow")
	}
	natstest.Eventually(t, time.Minute, func() error {
		if n := metricValue(t, e.reg, "headroom_gateway_live_messages_total"); n < big+overflow {
			return fmt.Errorf("%v live messages dispatched so far", n)
		}
		return nil
	})
	_ = blocker.conn.Close() // frees the replay slot; the publisher runs on
	frames := c.until(t, gateway.FrameHistoryDone)
	close(stop)
	last := <-pubDone
	for frames[len(frames)-1].TS != millis(last-1) {
		frames = append(frames, c.next(t))
	}
	want := 0
	for _, f := range frames {
		if f.Type != gateway.FrameMsg {
			continue
		}
		if f.TS != millis(want) {
			t.Fatalf("tick at %d, want minute %d (gap or duplicate)", f.TS, want)
		}
		want++
	}
	if want != last {
		t.Fatalf("got %d ticks, want %d", want, last)
	}
	if n := metricValue(t, e.reg, "headroom_gateway_slow_clients_total"); n != 0 {
		t.Fatalf("%v clients cut as slow, want 0", n)
	}
	if n := metricValue(t, e.reg, "headroom_gateway_history_catchups_total"); n < 1 {
		t.Fatalf("no catch-up pass counted")
	}
	t.Logf("%d ticks, %v catch-up passes", last, metricValue(t, e.reg, "headroom_gateway_history_catchups_total"))
}
