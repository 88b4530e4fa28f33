package gateway_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headroomhq/headroom/internal/gateway"
)

// TestOversizedRequestCut: a client frame past the request cap (8 KiB) is
// not read whole: a message of twice that (sent in fragments, and small
// enough to be written whole before the gateway's refusal) and a frame
// whose header alone declares 2^62 bytes each end the connection with
// close code 1009 (message too big), the first bytes past the cap the
// last the gateway reads of it.
func TestOversizedRequestCut(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	for _, c := range []struct {
		name string
		send func(*websocket.Conn) error
	}{
		{"a message of 16 KiB", func(conn *websocket.Conn) error {
			return conn.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte(" "), 16<<10))
		}},
		{"a header declaring 2^62 bytes", func(conn *websocket.Conn) error {
			// FIN, text; masked, 64-bit length; the mask; a few bytes.
			hdr := []byte{0x81, 0x80 | 127}
			hdr = binary.BigEndian.AppendUint64(hdr, 1<<62)
			hdr = append(hdr, 1, 2, 3, 4, 'x', 'y')
			_, err := conn.NetConn().Write(hdr)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := mustDial(t, e.srv.URL)
			if err := c.send(cl.conn); err != nil {
				t.Fatal(err)
			}
			deadline := time.After(10 * time.Second)
			for {
				select {
				case _, ok := <-cl.frames:
					if ok {
						continue
					}
					err := <-cl.closed
					var ce *websocket.CloseError
					if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
						t.Fatalf("connection ended with %v, want close code 1009", err)
					}
					return
				case <-deadline:
					t.Fatal("connection still open 10s after an oversized request")
				}
			}
		})
	}
}
