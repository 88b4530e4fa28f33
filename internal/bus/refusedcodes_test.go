package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/bus"
)

// TestIsRefusedMessageCodes reads the publish acknowledgement errors of
// nats-server v2.15.2 (server/jetstream_errors_generated.go, stream.go) as
// nats.go v1.55.0 returns them, wrapped as bus.Publish wraps them: the
// header over 64 KiB (10097) and the file store's size limit (10077
// "message too large") are not reachable with a decision on a test
// server, so TestIsRefusedMessage cannot see them; the store errors under
// the same code 10077 that say the stream is full, or the store failed,
// must not drop a decision.
func TestIsRefusedMessageCodes(t *testing.T) {
	api := func(code int, errCode jetstream.ErrorCode, desc string) error {
		return fmt.Errorf("publish decisions.x %s: %w", "id", fmt.Errorf("nats: %w",
			&jetstream.APIError{Code: code, ErrorCode: errCode, Description: desc}))
	}
	for _, tc := range []struct {
		name   string
		err    error
		reason string // "" for no refusal of the message
	}{
		{"stream max message size (10054)", api(400, 10054, "message size exceeds maximum allowed"), bus.RefusedStreamMaxSize},
		{"header over 64k (10097)", api(400, 10097, "header size exceeds maximum allowed of 64k"), bus.RefusedHeaderSize},
		{"file store size limit (10077)", api(503, 10077, "message too large"), bus.RefusedStoreSize},
		{"client max_payload", fmt.Errorf("publish: %w", nats.ErrMaxPayload), bus.RefusedMaxPayload},
		{"full: maximum messages (10077)", api(503, 10077, "maximum messages exceeded"), ""},
		{"full: maximum bytes (10077)", api(503, 10077, "maximum bytes exceeded"), ""},
		{"full: maximum messages per subject (10077)", api(503, 10077, "maximum messages per subject exceeded"), ""},
		{"store closed (10077)", api(503, 10077, "store is closed"), ""},
		{"insufficient resources (10023)", api(503, 10023, "insufficient resources"), ""},
		{"account resources exceeded (10002)", api(400, 10002, "resource limits exceeded for account"), ""},
		{"no leader (10008)", api(503, 10008, "JetStream system temporarily unavailable"), ""},
		{"stream sealed (10109)", api(400, 10109, "invalid operation on sealed stream"), ""},
		{"no responders", fmt.Errorf("publish: %w", jetstream.ErrNoStreamResponse), ""},
		{"timeout", fmt.Errorf("publish: %w", context.DeadlineExceeded), ""},
		{"connection closed", fmt.Errorf("publish: %w", nats.ErrConnectionClosed), ""},
		{"plain", errors.New("message too large"), ""},
	} {
		if got := bus.IsRefusedMessage(tc.err); got != (tc.reason != "") {
			t.Errorf("%s: IsRefusedMessage(%v) = %v, want %v", tc.name, tc.err, got, tc.reason != "")
		}
		if got := bus.RefusedMessageReason(tc.err); got != tc.reason {
			t.Errorf("%s: RefusedMessageReason(%v) = %q, want %q", tc.name, tc.err, got, tc.reason)
		}
	}
}
