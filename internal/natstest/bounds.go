package natstest

import (
	"fmt"
	"strings"
	"testing"
)

// ClientBounds are the per-client bounds a server configuration sets, and
// who tests them: Connect are the CONNECT fields of a client (user and
// pass, or none for an anonymous one) allowed to publish on Subject and to
// subscribe below Inbox.
//
// AccountConnections, when set, is the bound on the connections of
// Connect's account, below MaxConnections: the flood of connections is
// then refused at it, with the account's reason, rather than at the
// server's.
type ClientBounds struct {
	MaxConnections, MaxSubscriptions, MaxPayload int
	AccountConnections                           int
	Connect                                      map[string]any
	Subject, Inbox                               string
}

// RefusesFloods shows the server at serverURL refusing, with its reason,
// a message over b.MaxPayload, a subscription past b.MaxSubscriptions on
// one connection, and a connection past b.MaxConnections (or
// b.AccountConnections). It fails the
// test for each bound that lets more through.
func RefusesFloods(t *testing.T, serverURL string, b ClientBounds) {
	t.Run("oversized message", func(t *testing.T) {
		c, refused := DialClient(t, serverURL, b.Connect)
		if c == nil {
			t.Fatalf("connection refused: %s", refused)
		}
		// The server answers the PUB line itself, before any payload, and
		// closes the connection.
		c.Send(t, fmt.Sprintf("PUB %s %d\r\n", b.Subject, b.MaxPayload+1))
		if got := c.Line(t); !strings.Contains(got, "Maximum Payload") {
			t.Fatalf("a %d-byte message: server said %q, want a payload violation", b.MaxPayload+1, got)
		}
	})

	t.Run("subscriptions", func(t *testing.T) {
		c, refused := DialClient(t, serverURL, b.Connect)
		if c == nil {
			t.Fatalf("connection refused: %s", refused)
		}
		var w strings.Builder
		for i := range b.MaxSubscriptions + 1 {
			fmt.Fprintf(&w, "SUB %s.flood.%d %d\r\n", b.Inbox, i, i+1)
		}
		c.Send(t, w.String())
		got := strings.Join(c.UntilPong(t), "\n")
		if !strings.Contains(strings.ToLower(got), "maximum subscriptions exceeded") {
			t.Fatalf("subscription %d: server said %q, want it refused", b.MaxSubscriptions+1, got)
		}
	})

	t.Run("connections", func(t *testing.T) {
		// Other connections may be open (the test's own, the other
		// subtests' until they are closed): fill up to the bound, whatever
		// is already counted, and expect the refusal within a few more.
		const others = 16
		bound, reason := b.MaxConnections, "maximum connections exceeded"
		if b.AccountConnections > 0 {
			bound, reason = b.AccountConnections, "maximum account active connections exceeded"
		}
		var refusal string
		for i := 0; i < bound+others && refusal == ""; i++ {
			if c, refused := DialClient(t, serverURL, b.Connect); c == nil {
				refusal = refused
				if i < bound-others {
					t.Fatalf("connection %d refused (%q), before the bound of %d", i+1, refused, bound)
				}
			}
		}
		if !strings.Contains(strings.ToLower(refusal), reason) {
			t.Fatalf("%d connections: last answer %q, want %q past %d", bound+others, refusal, reason, bound)
		}
	})
}
