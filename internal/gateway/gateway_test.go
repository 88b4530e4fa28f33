package gateway_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

func millis(minute int) int64 { return base.Add(time.Duration(minute) * time.Minute).UnixMilli() }

// TestHistoryThenLive: history is selected by event time, comes first and
// ends with history_done; live messages follow without gap or duplicate.
func TestHistoryThenLive(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	for i := range 6 {
		publish(t, e.bus, tick("shop", "web", i, float64(i)))
	}
	publish(t, e.bus, tick("shop", "db", 4, 1), tick("other", "web", 4, 1))
	c := mustDial(t, e.srv.URL)
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "s1", Subjects: []string{"apm.metrics.shop.web"}, Since: millis(3)})
	if f := c.next(t); f.Type != gateway.FrameSubscribed || f.Sub != "s1" {
		t.Fatalf("got %+v, want subscribed", f)
	}
	hist := c.until(t, gateway.FrameHistoryDone)
	done := hist[len(hist)-1]
	hist = hist[:len(hist)-1]
	if len(hist) != 3 || done.Count != 3 || done.Truncated {
		t.Fatalf("history %d frames, done %+v; want 3 (minutes 3..5)", len(hist), done)
	}
	for i, f := range hist {
		if f.Type != gateway.FrameMsg || f.TS != millis(3+i) || f.Stream != "METRICS" || f.Subject != "apm.metrics.shop.web" {
			t.Fatalf("history[%d] = %+v", i, f)
		}
		var m proto.Metrics
		if err := proto.Decode(f.Data, &m); err != nil || m.Values["rps"] != float64(3+i) {
			t.Fatalf("history[%d] payload %+v, %v", i, m, err)
		}
	}
	publish(t, e.bus, tick("shop", "db", 6, 1), tick("shop", "web", 6, 6))
	if f := c.next(t); f.Type != gateway.FrameMsg || f.TS != millis(6) || f.Subject != "apm.metrics.shop.web" || f.Seq <= hist[2].Seq {
		t.Fatalf("live frame %+v", f)
	}
	c.send(t, gateway.Request{Op: gateway.OpUnsubscribe, ID: "s1"})
	c.send(t, gateway.Request{Op: gateway.OpPing})
	if f := c.next(t); f.Type != gateway.FramePong {
		t.Fatalf("got %+v, want pong", f)
	}
	// The pong proves the unsubscribe was handled: nothing more for s1.
	publish(t, e.bus, tick("shop", "web", 7, 7))
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "s2", Subjects: []string{"apm.metrics.shop.web"}})
	if f := c.next(t); f.Type != gateway.FrameSubscribed || f.Sub != "s2" {
		t.Fatalf("got %+v, want subscribed s2", f)
	}
	publish(t, e.bus, tick("shop", "web", 8, 8))
	// Minute 7 may reach s2 if the fan-out handles it after s2 began; s1
	// must get nothing.
	for {
		f := c.next(t)
		if f.Type != gateway.FrameMsg || f.Sub != "s2" || (f.TS != millis(7) && f.TS != millis(8)) {
			t.Fatalf("got %+v, want minute 7 or 8 on s2 only", f)
		}
		if f.TS == millis(8) {
			break
		}
	}
}

// TestHistoryLiveRace publishes continuously while subscribing: every
// sequence must arrive exactly once and in order.
func TestHistoryLiveRace(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	for i := range 200 {
		publish(t, e.bus, tick("shop", "web", i, 1))
	}
	stop := make(chan struct{})
	pubDone := make(chan int)
	go func() {
		i := 200
		for {
			select {
			case <-stop:
				pubDone <- i
				return
			default:
			}
			if err := e.bus.Publish(context.Background(), tick("shop", "web", i, 1)); err != nil {
				t.Error(err)
			}
			i++
		}
	}()
	c := mustDial(t, e.srv.URL)
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "r", App: "shop", Kinds: []string{"metrics"}, Since: millis(0)})
	frames := c.until(t, gateway.FrameHistoryDone)
	close(stop)
	last := <-pubDone // minutes 0..last-1 are published, stream seqs 1..last
	for frames[len(frames)-1].TS != millis(last-1) {
		frames = append(frames, c.next(t))
	}
	want := uint64(1)
	for _, f := range frames {
		if f.Type != gateway.FrameMsg {
			continue
		}
		if f.Seq != want {
			t.Fatalf("seq %d, want %d (gap or duplicate between history and live)", f.Seq, want)
		}
		want++
	}
	if want != uint64(last)+1 {
		t.Fatalf("got %d messages, want %d", want-1, last)
	}
}

func TestOriginAndToken(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.Token = "s3cret-0123456789abcdef"
	cfg.AllowedOrigins = []string{"https://dash.example.com"}
	e := startEnv(t, cfg)
	cases := []struct {
		name   string
		query  string
		header http.Header
		status int
	}{
		{"no token", "", nil, http.StatusUnauthorized},
		{"wrong token", "?token=nope", nil, http.StatusUnauthorized},
		{"query token", "?token=s3cret-0123456789abcdef", nil, http.StatusSwitchingProtocols},
		{"bearer", "", http.Header{"Authorization": {"Bearer s3cret-0123456789abcdef"}}, http.StatusSwitchingProtocols},
		{"foreign origin", "?token=s3cret-0123456789abcdef", http.Header{"Origin": {"https://evil.example.com"}}, http.StatusForbidden},
		{"allowed origin", "?token=s3cret-0123456789abcdef", http.Header{"Origin": {"https://dash.example.com"}}, http.StatusSwitchingProtocols},
		{"same host", "?token=s3cret-0123456789abcdef", http.Header{"Origin": {e.srv.URL}}, http.StatusSwitchingProtocols},
		// An opaque origin (a sandboxed frame, a file:// page), another
		// port of the same host (another local web app), a look-alike
		// name: each a foreign page.
		{"null origin", "?token=s3cret-0123456789abcdef", http.Header{"Origin": {"null"}}, http.StatusForbidden},
		{"same host, another port", "?token=s3cret-0123456789abcdef", http.Header{"Origin": {otherPort(t, e.srv.URL)}}, http.StatusForbidden},
		{"allowed origin as a prefix", "?token=s3cret-0123456789abcdef", http.Header{"Origin": {"https://dash.example.com.evil.example"}}, http.StatusForbidden},
		{"allowed origin, another scheme", "?token=s3cret-0123456789abcdef", http.Header{"Origin": {"http://dash.example.com"}}, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, resp, err := dial(t, e.srv.URL, c.query, c.header)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, c.status, err)
			}
		})
	}
	resp, err := http.Get(e.srv.URL + "/api/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("apps without token: %d", resp.StatusCode)
	}
	// An accepted connection is counted once the upgrade's answer is
	// written, so the last one may be counted just after the dial returns.
	natstest.Eventually(t, 5*time.Second, func() error {
		if got := metricValue(t, e.reg, "headroom_gateway_connections_total"); got != float64(len(cases)) {
			return fmt.Errorf("counted %v connection attempts, want %d", got, len(cases))
		}
		return nil
	})
}

// TestShutdownClosesClients: when Run ends, clients get close code 1001 and
// the history consumers it created are gone.
func TestShutdownClosesClients(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	publish(t, e.bus, tick("shop", "web", 1, 1))
	c := mustDial(t, e.srv.URL)
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "s", App: "shop", Since: millis(0)})
	c.until(t, gateway.FrameHistoryDone)
	s, err := e.bus.Reader(context.Background(), proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		cs, err := s.Consumers(context.Background(), "")
		if err != nil {
			return err
		}
		if len(cs) != 2 { // the live and the digest's ordered consumers only
			return fmt.Errorf("%d consumers on METRICS, want 2", len(cs))
		}
		return nil
	})
	e.stop()
	select {
	case err := <-c.closed:
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("closed with %v, want 1001", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client not closed on shutdown")
	}
}

// otherPort is base (http://host:port) with another port.
func otherPort(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	port := "1"
	if u.Port() == port {
		port = "2"
	}
	return "http://" + net.JoinHostPort(u.Hostname(), port)
}
