package gateway_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/proto"
)

// TestHostAllowlist: a request whose Host is not loopback on the listening
// port, nor a configured name, is refused with 403 on the page, the feed and
// the apps API (DNS rebinding); allowed names pass.
func TestHostAllowlist(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.AllowedHosts = []string{"dash.example.com", "ops.example.com:9443"}
	e := startEnv(t, cfg)
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	cases := []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"LOCALHOST.:" + port, http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
		{"dash.example.com", http.StatusOK},
		{"dash.example.com:8443", http.StatusOK},
		{"ops.example.com:9443", http.StatusOK},
		{"ops.example.com:9444", http.StatusForbidden},
		{"evil.example:" + port, http.StatusForbidden},
		{"localhost:1", http.StatusForbidden},
		{"127.0.0.1", http.StatusForbidden},
		{"10.0.0.1:" + port, http.StatusForbidden},
	}
	for _, path := range []string{"/", "/api/v1/apps", "/static/app.js"} {
		for _, c := range cases {
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = c.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("GET %s Host %q: %d, want %d", path, c.host, resp.StatusCode, c.want)
			}
		}
	}
	// The WebSocket upgrade: a rebinding page sends its own name as Host
	// and as Origin, so the origin check alone would pass it.
	_, resp, err := dial(t, e.srv.URL, "", http.Header{"Host": {"evil.example:" + port}, "Origin": {"http://evil.example:" + port}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("websocket with a foreign Host: %v, %v; want 403", resp, err)
	}
	c, resp, err := dial(t, e.srv.URL, "", http.Header{"Host": {"localhost:" + port}})
	if err != nil {
		t.Fatalf("websocket on localhost: %v (%v)", err, resp)
	}
	if f := c.next(t); f.Type != gateway.FrameHello {
		t.Fatalf("got %+v, want hello", f)
	}
}

// TestHostAllowlistConfig: the flag's list is validated.
func TestHostAllowlistConfig(t *testing.T) {
	for _, bad := range []string{"http://x.example", "a b", "user@host"} {
		cfg := gateway.DefaultConfig()
		cfg.AllowedHosts = []string{bad}
		if err := cfg.Validate(); err == nil {
			t.Errorf("allowed host %q accepted", bad)
		}
	}
}

// TestGatewayTokenTooShort: a -gateway.token shorter than 16 bytes is
// refused at start, naming the flag and its variable, never the token.
func TestGatewayTokenTooShort(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.Token = "dash-pass"
	err := cfg.Validate()
	if !errors.Is(err, config.ErrWeakSecret) || !strings.Contains(err.Error(), "gateway.token (HEADROOM_GATEWAY_TOKEN): 9 bytes") {
		t.Fatalf("a 9-byte token: %v", err)
	}
	if strings.Contains(err.Error(), "dash-pass") {
		t.Fatalf("the error quotes the token: %v", err)
	}
	cfg.Token = "dash-pass-dash-pass"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a 19-byte token: %v", err)
	}
}

func deadLetter(minute int) bus.Out {
	ts := base.Add(time.Duration(minute) * time.Minute).UnixMilli()
	d := &proto.DeadLetter{V: proto.SchemaVersion, ID: proto.DeadLetterID("decider", "METRICS", uint64(minute+1)), TS: ts,
		Service: "decider", Subject: "apm.metrics.shop.web", Stream: "METRICS", Seq: uint64(minute + 1),
		Error: "secret-ish detail", Payload: []byte("raw")}
	return bus.Out{Subject: proto.DLQSubject("apm", "decider"), Msg: d}
}

// TestNoDeadLetters: dead letters never reach a browser. A filter naming
// them is refused; wildcard filters are narrowed, in history and live.
func TestNoDeadLetters(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	publish(t, e.bus, deadLetter(1), tick("shop", "web", 1, 1))
	c := mustDial(t, e.srv.URL)
	for i, subj := range []string{"apm.dlq.>", "apm.dlq.decider", "apm.dlq.*"} {
		id := "bad" + string(rune('a'+i))
		c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: id, Subjects: []string{subj}, Since: millis(0)})
		if f := c.next(t); f.Type != gateway.FrameError || f.Code != gateway.CodeInvalid || !strings.Contains(f.Message, "dead letters") {
			t.Fatalf("subscribe %s: got %+v, want an invalid error", subj, f)
		}
	}
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "all", Subjects: []string{"apm.>", "apm.*.decider", "apm.*.*"}, Since: millis(0)})
	check := func(f frame) {
		t.Helper()
		if strings.Contains(f.Subject, ".dlq.") {
			t.Fatalf("dead letter served: %+v", f)
		}
	}
	hist := c.until(t, gateway.FrameHistoryDone)
	for _, f := range hist {
		check(f)
	}
	if done := hist[len(hist)-1]; done.Count != 1 {
		t.Fatalf("history of %d messages, want the one tick", done.Count)
	}
	publish(t, e.bus, deadLetter(2), tick("shop", "web", 2, 2))
	for {
		f := c.next(t)
		check(f)
		if f.Type == gateway.FrameMsg && f.TS == millis(2) {
			break
		}
	}
}
