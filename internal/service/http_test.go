package service_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/service"
)

var short = service.Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Write: 300 * time.Millisecond, Idle: 300 * time.Millisecond}

func serve(t *testing.T, h http.Handler, to service.Timeouts) string {
	t.Helper()
	srv, err := service.ListenTimeouts("127.0.0.1:0", h, zerolog.Nop(), to)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return srv.Addr()
}

// closedWithin reads from c until the server closes it, failing if that
// takes longer than limit.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", limit)
	}
}

// TestSlowHeadersAreCut: a client that never finishes its headers is
// disconnected after the read-header timeout.
func TestSlowHeadersAreCut(t *testing.T) {
	addr := serve(t, http.NotFoundHandler(), short)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, c, 5*time.Second)
}

// TestSlowBodiesAreCut: a body that stops arriving fails the handler's
// read after the read timeout, and the connection is closed.
func TestSlowBodiesAreCut(t *testing.T) {
	readErr := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), short)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npartial"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("body read ended with %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("body read not cut after 5s")
	}
	closedWithin(t, c, 5*time.Second)
}

// TestWebSocketOutlivesTimeouts: an upgraded WebSocket connection stays
// usable well past the read, write and idle timeouts, including after
// staying silent longer than all of them.
func TestWebSocketOutlivesTimeouts(t *testing.T) {
	up := websocket.Upgrader{}
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, data); err != nil {
				return
			}
		}
	}), short)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo := func(msg string) {
		t.Helper()
		if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, got, err := c.ReadMessage()
		if err != nil || string(got) != msg {
			t.Fatalf("echo of %q: %q, %v", msg, got, err)
		}
	}
	echo("first")
	// Silence longer than every server timeout: what is tested here is
	// the passing of time itself, so the test waits it out.
	time.Sleep(3 * short.Write)
	echo("after silence")
	end := time.Now().Add(3 * short.Read)
	for i := 0; time.Now().Before(end); i++ {
		echo(strings.Repeat("x", i%50+1))
	}
}

// TestPlainRequestsStillServed: ordinary requests and keep-alive reuse
// work under the timeouts.
func TestPlainRequestsStillServed(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }), short)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for range 3 {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Fatalf("body %q", body)
		}
	}
	if err := (service.Timeouts{}).Validate(); err == nil {
		t.Fatal("zero timeouts accepted")
	}
}

// TestConnectionCap: past MaxConns open connections the server accepts no
// more; a waiting client is served once an open one closes.
func TestConnectionCap(t *testing.T) {
	to := service.DefaultTimeouts()
	to.MaxConns = 1
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), to)
	get := func(c net.Conn, br *bufio.Reader, wait time.Duration) (string, error) {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, bufio.NewReader(c)
	}
	first, firstR := dial()
	if body, err := get(first, firstR, 10*time.Second); err != nil || body != "ok" {
		t.Fatalf("first connection: %q, %v", body, err)
	}
	// first stays open (keep-alive): second is not served.
	second, secondR := dial()
	var ne net.Error
	if body, err := get(second, secondR, 300*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("second connection past MaxConns 1: %q, %v; want no answer", body, err)
	}
	_ = first.Close()
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(secondR, nil)
	if err != nil {
		t.Fatalf("second connection once the first closed: %v", err)
	}
	resp.Body.Close()
}

// TestHeaderCap: a request whose headers pass MaxHeaderBytes is refused
// with 431 before any handler runs; the default is far below Go's 1 MiB.
func TestHeaderCap(t *testing.T) {
	if d := service.DefaultTimeouts().MaxHeaderBytes; d <= 0 || d > 64<<10 {
		t.Fatalf("default MaxHeaderBytes %d, want at most 64 KiB", d)
	}
	to := service.DefaultTimeouts()
	to.MaxHeaderBytes = 1 << 10
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), to)
	for _, c := range []struct {
		name  string
		bytes int
		want  int
	}{
		{"small", 512, http.StatusOK},
		// Go's server allows 4 KiB beyond MaxHeaderBytes.
		{"past the cap", 8 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Filler", strings.Repeat("a", c.bytes))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("%d header bytes: %d, want %d", c.bytes, resp.StatusCode, c.want)
			}
		})
	}
}

// TestUpgradeHeadersDoNotLiftTimeouts: asking for a WebSocket upgrade
// lifts no timeout by itself; only a connection the handler takes over
// (hijacks, as an accepted upgrade does) leaves them. A client adding
// "Upgrade: websocket" to a request a handler answers without upgrading
// (a refused /ws, the page, an API) is cut as any other: one whose body
// never comes after the read timeout, one that never reads its answer
// after the write timeout.
func TestUpgradeHeadersDoNotLiftTimeouts(t *testing.T) {
	const upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	t.Run("body never sent", func(t *testing.T) {
		addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
		}), short)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\n"+upgrade+"Content-Length: 1000\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		closedWithin(t, c, 5*time.Second)
	})
	t.Run("answer never read", func(t *testing.T) {
		writeErr := make(chan error, 1)
		addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			chunk := make([]byte, 64<<10)
			for range 1024 { // 64 MiB, far past any socket buffer
				if _, err := w.Write(chunk); err != nil {
					writeErr <- err
					return
				}
			}
			writeErr <- nil
		}), short)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"+upgrade+"\r\n"); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-writeErr:
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("write to a client that reads nothing ended with %v, want a timeout", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("write to a client that reads nothing not cut after 5s")
		}
	})
}
