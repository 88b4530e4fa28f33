package bus

import (
	"errors"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// A reader refused a stream by the server's permissions (the all-in-one's
// observer and the DLQ) learns it only from an asynchronous error on the
// connection; its consumer-create request itself just times out. These
// remember each such refusal by stream.

// ConsumerRefusal returns the server's refusal of a consumer on stream to
// this user on this connection, or nil: a permissions violation on the
// stream's consumer-create subject (a reader refused a stream, as the
// all-in-one's observer is refused the DLQ); the request itself only times
// out. Every stream refused is remembered with its own error, not only the
// connection's last, so streams refused at once are each told apart from a
// request that failed for another reason. The connection's last error is
// read too: nats.go sets it as it reads the server's refusal but runs the
// error handler that remembers it later, from a queue, so a caller whose
// request failed may look before the newest refusal is remembered.
func (b *Bus) ConsumerRefusal(stream string) error {
	if err := b.refused.of(stream); err != nil {
		return err
	}
	if err := b.nc.LastError(); refusedStream(err) == stream && stream != "" {
		return err
	}
	return nil
}

// consumerRefusals holds the server's refusals of consumers on the
// connection, by stream, from its asynchronous permission errors: at most
// one entry per stream name the user tried.
type consumerRefusals struct {
	mu      sync.Mutex
	streams map[string]error
}

// consumerCreate is the subject prefix of a consumer-create request; the
// stream's name is its next token.
const consumerCreate = "$JS.API.CONSUMER.CREATE."

// refusedStream is the stream whose consumer creation err refuses, or "":
// a permissions violation on its consumer-create subject.
func refusedStream(err error) string {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return ""
	}
	msg := err.Error()
	i := strings.Index(msg, consumerCreate)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(consumerCreate):]
	end := strings.IndexAny(rest, ".\" ")
	if end <= 0 {
		return ""
	}
	return rest[:end]
}

func (c *consumerRefusals) see(err error) {
	stream := refusedStream(err)
	if stream == "" {
		return
	}
	c.mu.Lock()
	c.streams[stream] = err
	c.mu.Unlock()
}

func (c *consumerRefusals) of(stream string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[stream]
}
