package natstest

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Raw is a NATS connection spoken by hand, so a test sees exactly what the
// server answers: nats.go would refuse an oversized publish itself, before
// the server could, and hides the server's errors behind its own.
type Raw struct {
	conn    net.Conn
	r       *bufio.Reader
	greeted bool // the server's first INFO was read
}

// DialRaw opens a TCP connection to serverURL's host, closed when the test
// ends. The connection lives at most 20 seconds: a read or write after
// that fails.
func DialRaw(tb testing.TB, serverURL string) *Raw {
	tb.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	return &Raw{conn: conn, r: bufio.NewReader(conn)}
}

// DialClient connects to serverURL as a client with the given CONNECT
// fields (user and pass, or none for an anonymous one) and waits for the
// PONG to its first PING: the connection is then authenticated and
// counted. When the server answers otherwise, it returns nil and the
// answer ("" if it closed the connection).
func DialClient(tb testing.TB, serverURL string, connect map[string]any) (*Raw, string) {
	tb.Helper()
	c := DialRaw(tb, serverURL)
	if info := c.Line(tb); !strings.HasPrefix(info, "INFO ") {
		return nil, info
	}
	fields := map[string]any{"verbose": false, "pedantic": false, "protocol": 1, "headers": true, "lang": "raw"}
	for k, v := range connect {
		fields[k] = v
	}
	body, err := json.Marshal(fields)
	if err != nil {
		tb.Fatal(err)
	}
	// A refused connection may be closed before this write lands: the
	// server's reason is still there to read.
	_, _ = c.conn.Write([]byte("CONNECT " + string(body) + "\r\nPING\r\n"))
	if l := c.Line(tb); l != "PONG" {
		return nil, l
	}
	return c, ""
}

// Line reads one protocol line, without its CRLF, skipping the INFO
// updates a server sends after the first and answering its PINGs (a slow
// test must not read the server's keep-alive as its answer). A closed
// connection reads as ""; no answer within the deadline fails the test.
func (c *Raw) Line(tb testing.TB) string {
	tb.Helper()
	for {
		l, err := c.r.ReadString('\n')
		if err != nil && l == "" {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tb.Fatalf("no answer from the server: %v", err)
			}
			return ""
		}
		l = strings.TrimRight(l, "\r\n")
		switch {
		case !c.greeted:
			c.greeted = true
			return l
		case l == "PING":
			_, _ = c.conn.Write([]byte("PONG\r\n"))
		case !strings.HasPrefix(l, "INFO "):
			return l
		}
	}
}

// Send writes s as it is.
func (c *Raw) Send(tb testing.TB, s string) {
	tb.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		tb.Fatal(err)
	}
}

// UntilPong sends PING and returns every line the server sent before its
// PONG (or before it closed the connection).
func (c *Raw) UntilPong(tb testing.TB) []string {
	tb.Helper()
	c.Send(tb, "PING\r\n")
	var lines []string
	for {
		l := c.Line(tb)
		if l == "PONG" || l == "" {
			return lines
		}
		lines = append(lines, l)
	}
}
