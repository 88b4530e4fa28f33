package bus

import (
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// permanent marks an error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that no retry can fix (an undecodable or invalid
// message): the consumer sends the message to the dead-letter queue with err
// as the reason and terminates it. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// later marks an error whose retry should wait at least after.
type later struct {
	err   error
	after time.Duration
}

func (l later) Error() string { return l.err.Error() }
func (l later) Unwrap() error { return l.err }

// RetryAfter marks err as transient with a retry due no sooner than after
// (a wait on something another process holds): the consumer redelivers
// the message after the longer of after and its own delay. It counts as a
// delivery like any failure, but its retry is logged at info, not as a
// warning: the wait is expected. RetryAfter(nil, …) is nil.
func RetryAfter(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return later{err, after}
}

// retryDelay returns the longer of base and the wait err asks for
// (RetryAfter).
func retryDelay(err error, base time.Duration) time.Duration {
	var l later
	if errors.As(err, &l) && l.after > base {
		return l.after
	}
	return base
}

// retryLevel is the level a retry's log line takes: a wait another process
// asked for (RetryAfter: another executor member's lease during a
// hand-over) is expected and logged at info; any other failure at warn.
func retryLevel(err error) zerolog.Level {
	var l later
	if errors.As(err, &l) {
		return zerolog.InfoLevel
	}
	return zerolog.WarnLevel
}

// refusedMsg marks a message this client cannot send as it is: its
// encoding failed.
type refusedMsg struct{ err error }

func (r refusedMsg) Error() string { return r.err.Error() }
func (r refusedMsg) Unwrap() error { return r.err }

// IsRefusedMessage reports whether a publish failed for the message itself,
// so that sending it again can never store it: it could not be encoded; it
// is larger than the server's max_payload (the client refuses it); or the
// stream refused it for its size (over the stream's max message size, a
// header over 64 KiB, or over what its file store can hold). Any other
// error, such as a timeout, no responders, a stream without a leader or
// full (maximum messages or bytes with DiscardNew), or insufficient
// resources, says the store is unavailable for now, for every message
// alike: a retry may store it. RefusedMessageReason says which refused it.
func IsRefusedMessage(err error) bool { return RefusedMessageReason(err) != "" }

// The refusals RefusedMessageReason names.
const (
	RefusedNotEncodable  = "not encodable"
	RefusedMaxPayload    = "over the server's max_payload"
	RefusedStreamMaxSize = "over the stream's max message size"
	RefusedHeaderSize    = "a header over 64 KiB"
	RefusedStoreSize     = "over the stream's file store size limit"
)

// RefusedMessageReason names what refused a publish for the message itself
// (see IsRefusedMessage), one of the Refused constants, and is "" for any
// other error: a caller that drops such a message says why it could not
// be stored, which is not always its size.
func RefusedMessageReason(err error) string {
	if err == nil {
		return ""
	}
	var r refusedMsg
	if errors.As(err, &r) {
		return RefusedNotEncodable
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		return RefusedMaxPayload
	}
	var api *jetstream.APIError
	if !errors.As(err, &api) {
		return ""
	}
	switch api.ErrorCode {
	case jetstream.JSErrCodeStreamMessageExceedsMaximum:
		return RefusedStreamMaxSize
	case jsErrCodeStreamHeaderExceedsMaximum:
		return RefusedHeaderSize
	case jsErrCodeStreamStoreFailed:
		// The same code says the stream is full (maximum messages or
		// bytes with DiscardNew), which is no fault of the message; only
		// its file store's own size limit is.
		if api.Description == "message too large" {
			return RefusedStoreSize
		}
	}
	return ""
}

// The nats-server's error codes (server/jetstream_errors_generated.go)
// that nats.go does not name.
const (
	// jsErrCodeStreamHeaderExceedsMaximum: "header size exceeds maximum
	// allowed of 64k".
	jsErrCodeStreamHeaderExceedsMaximum jetstream.ErrorCode = 10097
	// jsErrCodeStreamStoreFailed: "{err}", the store's error.
	jsErrCodeStreamStoreFailed jetstream.ErrorCode = 10077
)
