package proto

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// SchemaVersion is the version written in field "v" of every message. A
// decoder rejects other versions with ErrUnknownVersion rather than guess.
const SchemaVersion = 1

// ErrUnknownVersion reports a message whose schema version this build does not know.
var ErrUnknownVersion = errors.New("unknown schema version")

// ErrInvalid reports a message that decoded but breaks a field rule.
var ErrInvalid = errors.New("invalid message")

// Message is implemented by every payload type. Validate checks the field
// rules of the README; MsgID is the deterministic id sent as Nats-Msg-Id;
// EventTime is the time of the data.
type Message interface {
	Validate() error
	MsgID() string
	EventTime() time.Time
}

// Millis converts a time to Unix milliseconds, the wire form of every time.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Time converts Unix milliseconds back to a UTC time.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// header holds the fields every message starts with.
func checkHeader(v int, id string, ts int64) error {
	if v != SchemaVersion {
		return fmt.Errorf("%w: v=%d, this build reads v=%d", ErrUnknownVersion, v, SchemaVersion)
	}
	if id == "" {
		return fmt.Errorf("%w: empty id", ErrInvalid)
	}
	if ts <= 0 {
		return fmt.Errorf("%w: ts=%d is not a positive Unix millisecond time", ErrInvalid, ts)
	}
	return nil
}

func checkAppTier(app, tier string) error {
	if err := CheckToken("app", app); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := CheckToken("tier", tier); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func checkFinite(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%w: %s is not finite", ErrInvalid, field)
	}
	return nil
}
