package bus

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestRefusedSubscription: the subject of the server's refusal of a
// subscription (with or without a queue), "" for anything else; an inbox
// refusal is kept only under the client's own prefix.
func TestRefusedSubscription(t *testing.T) {
	sub := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{nats.ErrPermissionViolation}, args...)...)
	}
	for _, tc := range []struct {
		err     error
		subject string
	}{
		{sub("Permissions Violation for Subscription to %q", "_INBOX.abc.*"), "_INBOX.abc.*"},
		{sub("Permissions Violation for Subscription to %q using queue %q", "apm.x", "q"), "apm.x"},
		{sub("Permissions Violation for Publish to %q", "_INBOX.abc"), ""},
		{sub("Permissions Violation for Subscription to _INBOX.abc"), ""}, // unquoted: not the server's
		{errors.New(`Permissions Violation for Subscription to "_INBOX.abc"`), ""},
		{nil, ""},
	} {
		if got := refusedSubscription(tc.err); got != tc.subject {
			t.Errorf("refusedSubscription(%v) = %q, want %q", tc.err, got, tc.subject)
		}
	}
	r := &inboxRefusals{prefix: Config{}.inboxPrefix() + "."}
	r.see(sub("Permissions Violation for Subscription to %q", "_INBOX_other.x"))
	r.see(sub("Permissions Violation for Subscription to %q", "apm.>"))
	if err := r.get(); err != nil {
		t.Fatalf("kept a refusal outside the inbox: %v", err)
	}
	for _, subject := range []string{"_INBOX.abc.*", "_INBOX.def"} {
		in := sub("Permissions Violation for Subscription to %q", subject)
		r.see(in)
		if err := r.get(); err != in {
			t.Fatalf("inbox refusal: got %v, want the newest, %v", err, in)
		}
	}
}
