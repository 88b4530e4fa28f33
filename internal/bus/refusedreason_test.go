package bus

import (
	"errors"
	"fmt"
	"testing"
)

// TestRefusedMessageReasonNotEncodable: a message Publish could not encode
// (publish.go marks it refusedMsg) is refused for itself, and says so, not
// as too large: no test server refuses it, as the client never sends it.
func TestRefusedMessageReasonNotEncodable(t *testing.T) {
	err := fmt.Errorf("publish: %w", refusedMsg{errors.New("encode apm.decision.a.web d.a.web.1: unsupported value")})
	if got := RefusedMessageReason(err); got != RefusedNotEncodable {
		t.Errorf("RefusedMessageReason(%v) = %q, want %q", err, got, RefusedNotEncodable)
	}
	if !IsRefusedMessage(err) {
		t.Errorf("IsRefusedMessage(%v) = false", err)
	}
}
