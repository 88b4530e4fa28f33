package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestSlowClientCut: a client that stops reading is cut and counted while a
// reading client gets every message and the publisher never waits.
func TestSlowClientCut(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.ClientBuffer = 16
	e := startEnv(t, cfg)
	fast := mustDial(t, e.srv.URL)
	fast.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "f", Subjects: []string{"apm.metrics.>"}})
	fast.next(t) // subscribed
	slow, _, err := dial(t, e.srv.URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	slow.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "s", Subjects: []string{"apm.metrics.>"}})
	// The slow client reads nothing more: its socket buffers fill, then its
	// queue. Large raw payloads fill the buffers quickly.
	natstest.Eventually(t, 5*time.Second, func() error {
		if metricValue(t, e.reg, "headroom_gateway_subscriptions") != 2 {
			return context.DeadlineExceeded
		}
		return nil
	})
	slow.stopReading()
	payload := make([]byte, 64<<10)
	const n = 320
	js := natstest.JetStream(t, e.bus)
	start := time.Now()
	// Publish in steps of 8 and let the reading client catch up after each,
	// so it never holds more than its buffer while the stuck one piles up.
	for i := 0; i < n; i += 8 {
		for j := i; j < i+8; j++ {
			m := nats.NewMsg("apm.metrics.shop.web")
			m.Data = payload
			m.Header.Set(bus.HeaderEventTime, "1000")
			m.Header.Set("Nats-Msg-Id", strconv.Itoa(j))
			if _, err := js.PublishMsgAsync(m); err != nil {
				t.Fatal(err)
			}
		}
		for j := i; j < i+8; j++ {
			f := fast.next(t)
			if f.Type != gateway.FrameMsg || f.Seq != uint64(j+1) || len(f.Data) != len(payload) {
				t.Fatalf("fast client frame %d: %s seq %d", j, f.Type, f.Seq)
			}
		}
	}
	took := time.Since(start)
	natstest.Eventually(t, 10*time.Second, func() error {
		if v := metricValue(t, e.reg, "headroom_gateway_slow_clients_total"); v != 1 {
			return context.DeadlineExceeded
		}
		return nil
	})
	natstest.Eventually(t, 10*time.Second, func() error {
		if v := metricValue(t, e.reg, "headroom_gateway_clients"); v != 1 {
			return context.DeadlineExceeded
		}
		return nil
	})
	t.Logf("published %d x 64 KiB in %v with one stuck client", n, took)
}

// TestHistoryWindows covers the cap, history-only replays (until), thinning
// and messages whose event time runs ahead of their stored time.
func TestHistoryWindows(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	for i := range 30 {
		publish(t, e.bus, tick("shop", "web", i, float64(i)))
	}
	// Event time three hours ahead of the wall clock (an accelerated
	// simulation): beyond the default one-hour slack, found through the
	// measured skew.
	future := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
	fm := proto.NewMetrics("shop", "cache", future, 1, proto.Floats{"rps": 1})
	publish(t, e.bus, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "cache"), Msg: fm})

	cases := []struct {
		name      string
		req       gateway.Request
		wantTS    []int64
		truncated bool
	}{
		{"cap", gateway.Request{Subjects: []string{"apm.metrics.shop.web"}, Since: millis(10), Max: 5},
			[]int64{millis(10), millis(11), millis(12), millis(13), millis(14)}, true},
		{"until", gateway.Request{Subjects: []string{"apm.metrics.shop.web"}, Since: millis(20), Until: millis(23)},
			[]int64{millis(20), millis(21), millis(22)}, false},
		{"step", gateway.Request{Subjects: []string{"apm.metrics.shop.web"}, Since: millis(0), Until: millis(10), StepMS: 3 * 60000},
			[]int64{millis(0), millis(3), millis(6), millis(9)}, false},
		{"future", gateway.Request{Subjects: []string{"apm.metrics.shop.cache"}, Since: future.Add(-time.Minute).UnixMilli()},
			[]int64{future.UnixMilli()}, false},
	}
	c := mustDial(t, e.srv.URL)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Op, tc.req.ID = gateway.OpSubscribe, string(rune('a'+i))
			c.send(t, tc.req)
			frames := c.until(t, gateway.FrameHistoryDone)
			var got []int64
			for _, f := range frames {
				if f.Type == gateway.FrameMsg {
					got = append(got, f.TS)
				}
			}
			done := frames[len(frames)-1]
			if len(got) != len(tc.wantTS) || done.Count != len(got) || done.Truncated != tc.truncated {
				t.Fatalf("got %v (done %+v), want %v truncated=%v", got, done, tc.wantTS, tc.truncated)
			}
			for j := range got {
				if got[j] != tc.wantTS[j] {
					t.Fatalf("got %v, want %v", got, tc.wantTS)
				}
			}
		})
	}
}

func TestApps(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	publish(t, e.bus, tick("shop", "web", 1, 1), tick("shop", "db", 2, 1), tick("blog", "web", 3, 1))
	resp, err := http.Get(e.srv.URL + "/api/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got gateway.AppsResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Prefix != "apm" || len(got.Apps) != 2 || got.Apps[0].Name != "blog" || got.Apps[1].Name != "shop" ||
		len(got.Apps[1].Tiers) != 2 || got.Apps[1].Tiers[0] != "web" || got.Apps[1].LastTS != millis(2) {
		t.Fatalf("apps %+v", got)
	}
	page, err := http.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK || page.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("page: %d %v", page.StatusCode, page.Header)
	}
}

// TestBadRequests: invalid requests get an error frame and the connection stays.
func TestBadRequests(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	c := mustDial(t, e.srv.URL)
	if err := c.conn.WriteMessage(1, []byte(`{"op":"subscribe","id":"x","subjects":["nats.>"]}`)); err != nil {
		t.Fatal(err)
	}
	if f := c.next(t); f.Type != gateway.FrameError || f.Code != gateway.CodeInvalid || f.Sub != "x" {
		t.Fatalf("got %+v", f)
	}
	if err := c.conn.WriteMessage(2, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if f := c.next(t); f.Type != gateway.FrameError {
		t.Fatalf("binary request: got %+v", f)
	}
	c.send(t, gateway.Request{Op: gateway.OpPing})
	if f := c.next(t); f.Type != gateway.FramePong {
		t.Fatalf("got %+v", f)
	}
}
