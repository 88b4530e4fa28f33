package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestTooManyClients: past MaxClients a WebSocket is refused with 503 "too
// many clients" before the upgrade, and the slot frees when a client leaves.
func TestTooManyClients(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxClients = 1
	e := startEnv(t, cfg)
	first := mustDial(t, e.srv.URL)
	_, resp, err := dial(t, e.srv.URL, "", nil)
	if err == nil {
		t.Fatal("second client accepted past MaxClients 1")
	}
	if resp == nil {
		t.Fatalf("second client: %v, no HTTP answer", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "too many clients") {
		t.Fatalf("second client: %d %q, want 503 \"too many clients\"", resp.StatusCode, body)
	}
	if v := metricValue(t, e.reg, "headroom_gateway_clients"); v != 1 {
		t.Fatalf("headroom_gateway_clients %v, want 1", v)
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
		return nil
	})
}

// TestTooManySubscriptions: past MaxSubscriptions a subscribe gets a
// "limit" error frame naming it and the connection stays; a repeated id
// replaces its subscription instead of counting twice, and an unsubscribe
// frees a slot.
func TestTooManySubscriptions(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxSubscriptions = 2
	e := startEnv(t, cfg)
	c := mustDial(t, e.srv.URL)
	sub := func(id string) gateway.Request {
		return gateway.Request{Op: gateway.OpSubscribe, ID: id, App: "shop", Kinds: []string{"metrics"}}
	}
	for _, id := range []string{"s1", "s2", "s1"} {
		c.send(t, sub(id))
		if f := c.next(t); f.Type != gateway.FrameSubscribed || f.Sub != id {
			t.Fatalf("subscribe %s: got %+v, want subscribed", id, f)
		}
	}
	c.send(t, sub("s3"))
	f := c.next(t)
	if f.Type != gateway.FrameError || f.Code != gateway.CodeLimit || f.Sub != "s3" || !strings.Contains(f.Message, "too many subscriptions") {
		t.Fatalf("third subscription: got %+v, want a limit error", f)
	}
	c.send(t, gateway.Request{Op: gateway.OpUnsubscribe, ID: "s2"})
	c.send(t, sub("s3"))
	if f := c.next(t); f.Type != gateway.FrameSubscribed || f.Sub != "s3" {
		t.Fatalf("after unsubscribe: got %+v, want subscribed s3", f)
	}
}

// TestMaxHistoryBytes: a replay stops before the message that would pass
// MaxHistoryBytes; history_done says it was truncated by that cap.
func TestMaxHistoryBytes(t *testing.T) {
	one, err := proto.Encode(tick("shop", "web", 0, 1).Msg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := gateway.DefaultConfig()
	cfg.MaxHistoryBytes = int64(3*len(one) + len(one)/2) // room for three messages, not four
	e := startEnv(t, cfg)
	for i := range 10 {
		publish(t, e.bus, tick("shop", "web", i, 1))
	}
	c := mustDial(t, e.srv.URL)
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "h", Subjects: []string{"apm.metrics.shop.web"}, Since: millis(0)})
	frames := c.until(t, gateway.FrameHistoryDone)
	done := frames[len(frames)-1]
	var n int
	for _, f := range frames {
		if f.Type == gateway.FrameMsg {
			if len(f.Data) != len(one) {
				t.Fatalf("payload of %d bytes, want %d", len(f.Data), len(one))
			}
			n++
		}
	}
	if n != 3 || done.Count != 3 || !done.Truncated || done.Reason != "max_history_bytes" {
		t.Fatalf("%d messages, done %+v; want 3, truncated by max_history_bytes", n, done)
	}
}

// TestTooManyAPIRequests: with MaxAPIRequests requests to /api/v1/apps and
// /api/v1/fleet in flight, another is refused at once with 429, a
// Retry-After and a body naming the limit, and counted by route; a place
// frees when a request ends.
func TestTooManyAPIRequests(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.MaxAPIRequests = 2
	e := startEnv(t, cfg)
	entered, release := make(chan struct{}, 4), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // first: a failed test lets its held requests end
	gateway.SetAPIHook(e.gw, func(context.Context) { entered <- struct{}{}; <-release })
	// A refusal is immediate; a request let in past the cap would wait
	// on the hook until the client gives up.
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string, string) {
		resp, err := client.Get(e.srv.URL + path)
		if err != nil {
			t.Error(err)
			return 0, "", ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
	}
	held := make(chan int, 2)
	for _, path := range []string{"/api/v1/apps", "/api/v1/fleet"} {
		go func() { code, _, _ := get(path); held <- code }()
		<-entered // in flight, holding a place
	}
	for _, c := range []struct{ path, route string }{{"/api/v1/apps", "apps"}, {"/api/v1/fleet", "fleet"}} {
		code, retry, body := get(c.path)
		if code != http.StatusTooManyRequests || retry == "" || !strings.Contains(body, "gateway.max-api-requests") {
			t.Fatalf("%s with 2 in flight: %d, Retry-After %q, %q; want 429 naming gateway.max-api-requests", c.path, code, retry, body)
		}
		if v, _ := metricstest.Sum(t, e.reg, "headroom_gateway_api_refused_total", "route", c.route); v != 1 {
			t.Fatalf("headroom_gateway_api_refused_total{route=%s} %v, want 1", c.route, v)
		}
		if v, _ := metricstest.Sum(t, e.reg, "headroom_gateway_api_requests_total", "route", c.route, "result", "limit"); v != 1 {
			t.Fatalf("headroom_gateway_api_requests_total{route=%s,result=limit} %v, want 1", c.route, v)
		}
	}
	release <- struct{}{}
	if code := <-held; code != http.StatusOK {
		t.Fatalf("a held request ended %d, want 200", code)
	}
	// A place is free: the next request is let in (it reaches the hook).
	go func() { code, _, _ := get("/api/v1/apps"); held <- code }()
	<-entered
	free()
	for range 2 {
		if code := <-held; code != http.StatusOK {
			t.Fatalf("a held request ended %d, want 200", code)
		}
	}
}

// TestStreamFill: the gateway reports, per stream, the bytes it holds over
// its cap; a stream filled past its cap (which then drops its oldest
// messages) reads close to 1, the others near 0.
func TestStreamFill(t *testing.T) {
	url := natstest.RunJetStream(t)
	bc := bus.DefaultConfig()
	bc.URL, bc.Name = url, "test"
	bc.Streams.Memory = true
	bc.Streams.MaxBytes = 16 << 10
	b, err := bus.Connect(context.Background(), bc, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _, reg, stop := startGateway(t, b, gateway.DefaultConfig())
	t.Cleanup(stop)
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	// Twice the cap of METRICS, in ticks of a few hundred bytes.
	for i := range 200 {
		m := proto.NewMetrics("shop", "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(i), "cpu": 0.5})
		if err := b.Publish(context.Background(), bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m}); err != nil {
			t.Fatal(err)
		}
	}
	fill := metricstest.ByLabel(t, reg, "headroom_stream_fill_ratio", "stream")
	if len(fill) != len(proto.Kinds) {
		t.Fatalf("fill ratios %v, want one per stream (%d)", fill, len(proto.Kinds))
	}
	for _, k := range proto.Kinds {
		name := proto.StreamName("apm", k)
		v, ok := fill[name]
		switch {
		case !ok:
			t.Fatalf("no fill ratio for %s: %v", name, fill)
		case k == proto.KindMetrics && (v < 0.9 || v > 1):
			t.Fatalf("%s filled past its cap reads %v, want 0.9..1", name, v)
		case k != proto.KindMetrics && v != 0:
			t.Fatalf("%s, empty, reads %v", name, v)
		}
	}
}
