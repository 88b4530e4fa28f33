package proto

import (
	"fmt"
	"time"
)

// DeadLetter wraps a message a service could not handle. Published by any
// service on <prefix>.dlq.<service>; recorded in DLQ. Payload is the original
// bytes, untouched, so the message can be inspected and re-published.
type DeadLetter struct {
	V       int    `msgpack:"v"`
	ID      string `msgpack:"id"`
	TS      int64  `msgpack:"ts"`
	Service string `msgpack:"service"`
	// Subject, Stream and Seq locate the original message.
	Subject string `msgpack:"subject"`
	Stream  string `msgpack:"stream"`
	Seq     uint64 `msgpack:"seq"`
	// Error says why the message was rejected.
	Error   string `msgpack:"error"`
	Payload []byte `msgpack:"payload"`
}

// DeadLetterID is the deterministic id of the dead letter for a stream message.
func DeadLetterID(service, stream string, seq uint64) string {
	return fmt.Sprintf("x.%s.%s.%d", service, stream, seq)
}

// MsgID returns the message id.
func (d *DeadLetter) MsgID() string { return d.ID }

// EventTime returns when the message was stored in its stream (dead letters
// have no event time of their own).
func (d *DeadLetter) EventTime() time.Time { return Time(d.TS) }

// Validate checks the field rules.
func (d *DeadLetter) Validate() error {
	if err := checkHeader(d.V, d.ID, d.TS); err != nil {
		return err
	}
	if err := CheckToken("service", d.Service); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if d.Error == "" {
		return fmt.Errorf("%w: empty error", ErrInvalid)
	}
	return nil
}
